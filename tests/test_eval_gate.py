"""Evaluation gate: every fixture page, from raw bytes + headers, scored against its gold file.

Fields are scored one by one, the clean text line by line (`must_contain` kept, `must_not_contain`
gone). Scores may only go up: a drop below `fixtures/pages/baseline.json` fails. After a real
improvement, refresh the baseline with `python tests/test_eval_gate.py --write-baseline`.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow running this file as a script
    sys.path.insert(0, str(ROOT))

from gxcrawl.extract.encoding import decode_html  # noqa: E402
from gxcrawl.extract.page import extract_page  # noqa: E402
from gxcrawl.extract.types import PageResult, PortalHints  # noqa: E402

PAGES = ROOT / "fixtures" / "pages"
BASELINE = PAGES / "baseline.json"
TEXT_KEYS = ("flags", "must_contain", "must_not_contain")
NAMES = sorted(p.name.removesuffix(".gold.json") for p in PAGES.glob("*.gold.json"))


@cache
def run(name: str) -> tuple[PageResult, dict[str, Any]]:
    meta = json.loads((PAGES / f"{name}.headers.json").read_text(encoding="utf-8"))
    gold = json.loads((PAGES / f"{name}.gold.json").read_text(encoding="utf-8"))
    body = (PAGES / f"{name}.html").read_bytes()
    html, _ = decode_html(body, meta["headers"].get("Content-Type"))
    result = extract_page(html, meta["url"], PortalHints(**meta.get("hints", {})))
    return result, gold


def score(result: PageResult, gold: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """Per-category hit counts and a readable list of misses."""
    data = result.to_json_dict()
    misses: list[str] = []
    fields = 0
    for key, want in gold.items():
        if key in TEXT_KEYS:
            continue
        if data[key] == want:
            fields += 1
        else:
            misses.append(f"field {key}: got {data[key]!r}, want {want!r}")
    flags = sum(1 for f in gold["flags"] if f in result.flags)
    misses += [f"flag missing: {f}" for f in gold["flags"] if f not in result.flags]
    kept = sum(1 for s in gold["must_contain"] if s in result.text)
    misses += [f"text lost: {s[:60]}" for s in gold["must_contain"] if s not in result.text]
    clean = sum(1 for s in gold["must_not_contain"] if s not in result.text)
    misses += [f"text leaked: {s}" for s in gold["must_not_contain"] if s in result.text]
    return {"fields": fields, "flags": flags, "kept": kept, "clean": clean}, misses


def full_score(gold: dict[str, Any]) -> dict[str, int]:
    return {
        "fields": sum(1 for k in gold if k not in TEXT_KEYS),
        "flags": len(gold["flags"]),
        "kept": len(gold["must_contain"]),
        "clean": len(gold["must_not_contain"]),
    }


def test_corpus_is_complete() -> None:
    seeds = [n for n in NAMES if n.startswith("seed")]
    assert len(seeds) == 5, seeds
    assert {"variant_gbk", "variant_meta_only", "variant_cn_signoff", "variant_hidden_spam"} <= set(
        NAMES
    )
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(baseline) == set(NAMES), "every fixture needs a baseline entry"


@pytest.mark.parametrize("name", NAMES)
def test_no_drop_below_baseline(name: str) -> None:
    result, gold = run(name)
    got, misses = score(result, gold)
    pinned = json.loads(BASELINE.read_text(encoding="utf-8"))[name]
    drops = {k: (got[k], pinned[k]) for k in pinned if got[k] < pinned[k]}
    assert not drops, f"{name} dropped {drops}:\n" + "\n".join(misses)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("seed")])
def test_seed_fixtures_score_full(name: str) -> None:
    """Acceptance: seed pages give the gold values, keep every body line, leak no chrome/spam."""
    result, gold = run(name)
    got, misses = score(result, gold)
    assert got == full_score(gold), "\n".join(misses)


def test_hacked_page_acceptance() -> None:
    result, _ = run("seed004_hacked")
    assert "spam_injected" in result.flags
    assert "bet365" not in result.text
    assert result.agency and "bet365" not in result.agency and "官网" not in result.agency
    assert any(r.kind == "spam" and "bet365" in r.text for r in result.removed)


def test_gbk_fixture_is_really_gbk() -> None:
    body = (PAGES / "variant_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    result, gold = run("variant_gbk")
    assert result.title == gold["title"]


def write_baseline() -> None:
    data = {name: score(*run(name))[0] for name in NAMES}
    BASELINE.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--write-baseline" in sys.argv:
        write_baseline()
    for n in NAMES:
        s, m = score(*run(n))
        print(n, s, "full" if s == full_score(run(n)[1]) else "\n  " + "\n  ".join(m))
