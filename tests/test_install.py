"""An installed package works without the checkout (issue 14): the wheel carries the Alembic
migrations, the registry and the settings entry point, so a crawl from any directory creates a
new database and opens an existing one. Built and installed offline from this source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import FAST_CRAWL, FIXTURES, ROOT

DEMO = FIXTURES / "portals" / "demo"
# What a build needs from the checkout (the rest — tests, fixtures — is not shipped).
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md", "scrapy.cfg")
PROJECT_DIRS = ("gxcrawl", "migrations")
BUILD_TIMEOUT = 180  # seconds


def copy_project(target: Path) -> Path:
    """A copy of the buildable project, so builds leave nothing behind in the checkout."""
    target.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    return target


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this tree, installed into a folder of its own (no checkout there)."""
    work = tmp_path_factory.mktemp("install")
    source = copy_project(work / "src")
    pip = [sys.executable, "-m", "pip"]
    wheels = work / "wheels"
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels),
          str(source)])  # fmt: skip
    site = work / "site"
    wheel = next(wheels.glob("gxcrawl-*.whl"))
    _run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)])
    return site


def _env(site: Path, db_url: str) -> dict[str, str]:
    # The installed copy comes first on the path; SCRAPY_SETTINGS_MODULE replaces scrapy.cfg.
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "SCRAPY_SETTINGS_MODULE": "gxcrawl.settings",
        "GXCRAWL_DATABASE_URL": db_url,
    }


def test_the_wheel_ships_migrations_and_finds_them(installed: Path, tmp_path: Path) -> None:
    code = "import gxcrawl.store.db as d; print(d.__file__); print(d.migrations_dir())"
    out = _run([sys.executable, "-c", code], cwd=tmp_path, env=_env(installed, "")).stdout
    module, migrations = out.split()
    assert Path(module).is_relative_to(installed)  # not the checkout
    assert Path(migrations) == installed / "gxcrawl" / "_migrations"
    assert (Path(migrations) / "versions").is_dir()


def test_installed_package_crawls_new_and_existing_databases(
    installed: Path, pg_url: str, tmp_path: Path
) -> None:
    db_url = pg_url
    elsewhere = tmp_path / "elsewhere"  # no scrapy.cfg, no checkout
    elsewhere.mkdir()
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "annual_reports",
        "-a", f"registry={DEMO / 'portal.toml'}", *FAST_CRAWL,
    ]  # fmt: skip
    with serve(DEMO) as server:
        for _ in ("new database", "existing database"):
            _run([*cmd, "-a", f"base_url={server.base_url}"], cwd=elsewhere,
                 env=_env(installed, db_url))  # fmt: skip
    engine = make_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT status FROM crawl_runs ORDER BY id")).scalars().all()
        reports = conn.execute(text("SELECT COUNT(*) FROM report_documents")).scalar()
    engine.dispose()
    assert runs == ["finished", "finished"]
    expected = json.loads((DEMO / "expected.json").read_text("utf-8"))["reports"]
    assert reports == len(expected)
