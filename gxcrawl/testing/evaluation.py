"""The evaluation gate: pages with hand-written gold files, run through the one extraction entry
point and scored field by field. Every page must score full: there is no baseline to lower.

A corpus folder holds, per page `NAME`:
- `NAME.html` (or `.docx`, `.pdf`): the raw body as served;
- `NAME.headers.json`: `{"url", "headers", "hints"?, "kind"?, "link_title"?}`;
- `NAME.gold.json`: the expected contract fields (`null` = must be absent), `flags` (the exact set),
  `must_contain` / `must_not_contain` (substrings of the clean text), and optionally `template`,
  `tables` (the long-format facts, or the name of a `*.facts.json` file beside the page or in a
  sibling `tables/` folder) and `findings`.
Real pages kept outside the repository are scored from a `gold.json` list
(`{"file", "url", "fields", "keep", "drop"}`), the shape of `shared/realpages/`.

`score()` returns the misses, each naming the field; an empty list is a full score.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.extract.types import PortalHints

__all__ = ["Case", "load_cases", "load_realpages", "load_table_cases", "run_case", "score"]

TEXT_KEYS = frozenset({"flags", "must_contain", "must_not_contain", "tables", "findings", "note"})
# What identifies a finding; `detail` is prose and may be reworded without changing the finding.
FINDING_KEYS = ("check", "table", "row_key", "column_key", "expected", "actual")
BODY_SUFFIXES = (".html", ".htm", ".docx", ".pdf")


@dataclass(frozen=True)
class Case:
    name: str
    doc: RawDocument
    gold: dict[str, Any]


def _facts_file(name: str, folder: Path) -> list[dict[str, Any]]:
    for candidate in (
        folder / f"{name}.facts.json",
        folder.parent / "tables" / f"{name}.facts.json",
    ):
        if candidate.exists():
            return list(json.loads(candidate.read_text(encoding="utf-8")))
    raise FileNotFoundError(f"gold facts file {name}.facts.json not found near {folder}")


def _body_path(folder: Path, name: str) -> Path:
    for suffix in BODY_SUFFIXES:
        if (folder / f"{name}{suffix}").exists():
            return folder / f"{name}{suffix}"
    raise FileNotFoundError(f"no body file for {name} in {folder}")


def load_cases(folder: Path) -> list[Case]:
    """Every page of a corpus folder that has a gold file."""
    cases = []
    for gold_path in sorted(folder.glob("*.gold.json")):
        name = gold_path.name.removesuffix(".gold.json")
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if isinstance(gold.get("tables"), str):
            gold["tables"] = _facts_file(gold["tables"], folder)
        meta_path = folder / f"{name}.headers.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        cases.append(Case(f"{folder.name}/{name}", _document(folder, name, meta), gold))
    return cases


def _document(folder: Path, name: str, meta: dict[str, Any]) -> RawDocument:
    body = _body_path(folder, name)
    return RawDocument(
        body=body.read_bytes(),
        url=meta.get("url") or f"http://fixtures.example/{folder.name}/{body.name}",
        headers=meta.get("headers") or {},
        kind=meta.get("kind", "attachment" if body.suffix in (".docx", ".pdf") else "report"),
        link_title=meta.get("link_title"),
        hints=PortalHints(**meta.get("hints", {})),
    )


def load_table_cases(folder: Path) -> list[Case]:
    """Report pages (or files) whose gold is their statistics tables: `NAME.facts.json` beside
    `NAME.html`/`.docx` (facts of text renderings without a page are not cases)."""
    cases = []
    for facts_path in sorted(folder.glob("*.facts.json")):
        name = facts_path.name.removesuffix(".facts.json")
        if not any((folder / f"{name}{suffix}").exists() for suffix in BODY_SUFFIXES):
            continue
        meta_path = folder / f"{name}.headers.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        gold = {"is_report": True, "tables": json.loads(facts_path.read_text(encoding="utf-8"))}
        cases.append(Case(f"{folder.name}/{name}", _document(folder, name, meta), gold))
    return cases


def load_realpages(folder: Path) -> list[Case]:
    """Real pages scored by a `gold.json` list: fields, strings kept, strings dropped."""
    cases = []
    for entry in json.loads((folder / "gold.json").read_text(encoding="utf-8")):
        body = (folder / entry["file"]).read_bytes()
        doc = RawDocument(body=body, url=entry["url"], headers=entry.get("headers") or {})
        gold = {
            **entry.get("fields", {}),
            "must_contain": list(entry.get("keep", [])),
            "must_not_contain": list(entry.get("drop", [])),
        }
        cases.append(Case(f"realpages/{entry['file']}", doc, gold))
    return cases


def run_case(
    case: Case, extract: Callable[[RawDocument], Any] = extract_document
) -> dict[str, Any]:
    return dict(extract(case.doc).to_json_dict())


def _finding_ids(findings: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(f.get(k) for k in FINDING_KEYS) for f in findings), key=repr)


def _cell_misses(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    def key(fact: dict[str, Any]) -> tuple[str, str, str]:
        return (fact["table"], fact["row_key"], fact["column_key"])

    got_by, want_by = {key(f): f for f in got}, {key(f): f for f in want}
    misses = [f"table cell {'/'.join(k)}: missing" for k in want_by if k not in got_by]
    misses += [f"table cell {'/'.join(k)}: not in the gold" for k in got_by if k not in want_by]
    for k, fact in want_by.items():
        other = got_by.get(k)
        if other is None:
            continue
        diff = {f: (other.get(f), v) for f, v in fact.items() if other.get(f) != v}
        if diff:
            misses.append(f"table cell {'/'.join(k)}: " + ", ".join(
                f"{f} got {g!r} want {w!r}" for f, (g, w) in diff.items()
            ))  # fmt: skip
    return misses


def score(data: dict[str, Any], gold: dict[str, Any]) -> list[str]:
    """Misses of one extraction result against its gold; [] is a full score."""
    misses = [
        f"field {key}: got {data.get(key)!r}, want {want!r}"
        for key, want in gold.items()
        if key not in TEXT_KEYS and data.get(key) != want
    ]
    if "flags" in gold and sorted(set(data.get("flags") or [])) != sorted(set(gold["flags"])):
        misses.append(f"flags: got {sorted(data.get('flags') or [])}, want {sorted(gold['flags'])}")
    text = data.get("text") or ""
    misses += [f"text lost: {s[:60]!r}" for s in gold.get("must_contain", []) if s not in text]
    misses += [f"text leaked: {s[:60]!r}" for s in gold.get("must_not_contain", []) if s in text]
    if "tables" in gold:
        misses += _cell_misses(list(data.get("tables") or []), gold["tables"])
    if "findings" in gold and _finding_ids(data.get("findings") or []) != _finding_ids(
        gold["findings"]
    ):
        misses.append(f"findings: got {_finding_ids(data.get('findings') or [])}")
    return misses
