"""`scrapy export` never overwrites without --force and never writes through a symlink out of
its folder (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gxcrawl.store.db import Database

from .conftest import run_scrapy


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'gx.db'}"
    Database(url).close()  # migrated, no rows: every view exports as an empty file
    return url


def export(db: str, out: Path, *extra: str) -> tuple[int, str, str]:
    proc = run_scrapy(["export", "--format", "csv", "--out", str(out), "--quiet", *extra], db)
    return proc.returncode, proc.stdout, proc.stderr


def test_second_export_refuses_with_one_line_and_exit_2(empty_store: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert export(empty_store, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "reports.csv").write_text("mine", "utf-8")
    code, stdout, stderr = export(empty_store, out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "--force" in lines[0] and "already has" in lines[0], stderr
    assert stdout == ""
    assert (out / "reports.csv").read_text("utf-8") == "mine"
    assert {p.name for p in out.iterdir()} == set(before)  # no staging folder left behind


def test_force_overwrites(empty_store: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "reports.csv").write_text("old", "utf-8")
    code, _, stderr = export(empty_store, out, "--force")
    assert code == 0, stderr
    assert (out / "reports.csv").read_text("utf-8").startswith("report_id,")


def test_a_symlink_is_never_written_through(empty_store: str, tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.csv"
    out.mkdir()
    outside.write_text("precious", "utf-8")
    (out / "reports.csv").symlink_to(outside)
    assert export(empty_store, out)[0] == 2  # a symlink counts as an existing file
    code, _, stderr = export(empty_store, out, "--force")
    assert code == 0, stderr
    assert outside.read_text("utf-8") == "precious"
    assert not (out / "reports.csv").is_symlink()  # the link itself was replaced
    assert (out / "reports.csv").read_text("utf-8").startswith("report_id,")
