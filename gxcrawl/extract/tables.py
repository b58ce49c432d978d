"""Statistics tables of an annual report → long-format facts.

Input is the main content — an HTML fragment as a string, the parsed content element itself, or
None — and the clean text of a report. Real HTML ``<table>``s are read from their structure
(DOCX tables arrive the same way: ``attachments`` renders them as HTML); only when the HTML holds
no statistics table are the text renderings seen in the wild read: one cell per line (seed
000), pipe rows with colspan padding ``| ||`` (seeds 001, 003), whole rows on one line (PDF text).
Parsing is template-driven: the national formats fix every row and column, so labels are matched
to stable keys rather than trusted by position.

Templates (``Fact.template``)
    ``gb2019``        国办公开办函〔2019〕60号 format (reports for 2019 and 2020)
    ``gb2021``        国办公开办函〔2021〕30号 format (2021 onward)
    ``legacy_stats``  pre-2019 provincial 政府信息公开情况统计表 (indicator | unit | value)

Key scheme (``table`` / ``row_key`` / ``column_key``), shared by every report of a template
    第二十条 tables: ``art20_1`` rows ``rules`` (规章), ``normative`` (（行政）规范性文件);
        gb2019 columns ``new_made``, ``new_published``, ``total_published``;
        gb2021 columns ``issued``, ``repealed``, ``in_force``.
      ``art20_5`` rows ``licensing``, ``other_services``; ``art20_6`` rows ``penalty``,
        ``enforcement``; gb2019 columns ``prev_count``, ``change``, ``decisions``;
        gb2021 column ``decisions``.
      ``art20_8`` row ``fees``; gb2019 columns ``prev_count``, ``change``; gb2021 ``fee_amount``.
      ``art20_9`` (gb2019 only) row ``central_procurement``; columns ``procurement_count``,
        ``procurement_amount``.
    ``applications`` (申请 table; keys and template labels in ``table_keys``) columns
      ``person``, ``business``, ``research``, ``ngo``, ``law_firm``, ``org_other``, ``total``;
      rows ``new_received``, ``carried_over``, ``result.disclosed``, ``result.partly_disclosed``,
      ``result.withheld.{state_secret, law_prohibited, three_security, third_party,
      internal_affairs, process_info, law_enforcement_file, administrative_query}``,
      ``result.unavailable.{not_held, needs_creation, unclear_after_correction}``,
      ``result.not_processed.{petition_complaint, repeated, publication, excessive,
      confirmation}``, ``result.other`` (gb2019) or ``result.other.{overdue_correction,
      overdue_fee, other}`` (gb2021), ``result.total``, ``carry_forward``. A group
      label that itself carries numbers (a subtotal some agencies add) gets its group key,
      e.g. ``result.withheld``.
    ``appeals`` one row ``cases`` (row_label ``""``: the row has no printed label); columns
      ``{review, litigation_direct, litigation_after_review}.{upheld, corrected, other,
      pending, total}`` (``table_keys.APPEAL_COLUMNS``).
    ``legacy`` row key ``<section>/<indicator>`` built from the printed labels with numbering,
      ``其中：`` and parenthetical notes removed (e.g. ``依申请公开情况/当面申请数``; a section
      row that carries a number is keyed by itself); columns ``year`` (年度累计数 / 本年度) and
      ``cumulative`` (历年累计).

Labels are as printed, with line breaks and the spaces between two Chinese characters removed
(``商业 企业`` → ``商业企业``). ``row_label`` is the row's own cell; ``column_label`` is the header
path joined by ``/`` (``法人或其他组织/商业企业``, ``行政诉讼/复议后起诉/总计``).

Cells: ``ok`` (a number; int unless the text has a decimal point), ``blank`` (an empty cell:
missing, never zero; value None), ``unreadable`` (anything else printed where a number belongs —
``见说明``, ``—``, ``-``, ``/``, ``无``, prose — value None, ``raw_text`` as printed). A dash is
``unreadable`` in text renderings too: it was printed, so it is not a blank cell, and it is not
a number either.

HTML cells are read cell by cell from the expanded grid: the cells after a row's label (the last
cell naming a template row, else the last text before the first number) are its values, whatever
they say, and each goes to the column whose header cell sits above it — header cells are matched
to column keys by their labels, so a neighbour's value never shifts into another column and
padding columns wider than the block are ignored. A value cell spanning several named columns
cannot be split: each of them is ``unreadable`` (``blank`` if the cell is empty). A column the
header does not print is ``blank`` (a DOCX table of only 自然人 | 总计), or ``unreadable`` with
the row's unplaced text when the row prints values under no named header. When the header names
no column at all, values are taken in order. In text renderings a blank cell
leaves no trace, so a row whose value count differs from its column count cannot be placed cell
by cell: every cell of that row is ``unreadable`` and carries the row's values as ``raw_text``
(None when none survive).

Units: counts are ``件`` (the legacy table uses its unit column as printed); amounts take the
unit printed in their header (``本年收费金额（单位：万元）`` → ``万元``) or None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from operator import attrgetter
from typing import Any, NamedTuple, cast

import lxml.html
from lxml import etree

from gxcrawl.extract.table_keys import (
    APPEAL_COLUMNS,
    APPEAL_GROUPS,
    APPEAL_RESULTS,
    APPLICATION_COLUMNS,
    ART20_COLUMNS,
    ART20_ROWS,
)

__all__ = ["Fact", "TableResult", "parse_tables"]


@dataclass(frozen=True)
class Fact:
    template: str
    table: str
    row_key: str
    column_key: str
    row_label: str
    column_label: str
    value: float | int | None
    unit: str | None
    raw_text: str | None
    status: str  # "ok" | "blank" | "unreadable"

    def as_dict(self) -> dict[str, Any]:
        # A copy of the instance dict: the fields in order (both constructors set them so; a
        # test checks), without dataclasses.asdict's deep copy or a loop over dataclasses.fields
        # (a report has hundreds of facts).
        return self.__dict__.copy()


def _new_fact(
    template: str,
    table: str,
    row_key: str,
    column_key: str,
    row_label: str,
    column_label: str,
    value: float | int | None,
    unit: str | None,
    raw_text: str | None,
    status: str,
) -> Fact:
    """`Fact(...)` without the frozen dataclass's `object.__setattr__` per field (twice the
    time, and a report has hundreds of facts): the same instance state, fields in order; a test
    checks it against the constructor."""
    fact = object.__new__(Fact)
    object.__setattr__(fact, "__dict__", {
        "template": template, "table": table, "row_key": row_key, "column_key": column_key,
        "row_label": row_label, "column_label": column_label, "value": value, "unit": unit,
        "raw_text": raw_text, "status": status,
    })  # fmt: skip
    return fact


@dataclass
class TableResult:
    template: str | None
    facts: list[Fact] = field(default_factory=list)


# --------------------------------------------------------------------------- text helpers

_CJK = "\u3400-\u9fff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_WS = re.compile(r"\s+")
_HAS_WS = re.compile(r"\s").search


def _label(text: str) -> str:
    """A label as printed: line breaks and spaces between two Chinese characters removed."""
    if not _HAS_WS(text):  # most cells ("0", "自然人"): nothing to remove (one C-level scan)
        return str(text)
    return _WS.sub(" ", _CJK_GAP.sub("", text)).strip()


class _NfkcChars(dict[int, str | None]):
    """`str.translate` table for `_norm`, filled lazily: each char maps to its NFKC form when
    that is one char (a few NFKC mappings expand; those chars stay), whitespace to nothing.
    Computed once per distinct char, then the translation runs in C (`_norm` is called on
    every token of every report)."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        if ch.isspace():
            mapped: str | None = None
        else:
            n = unicodedata.normalize("NFKC", ch)
            mapped = n if len(n) == 1 else ch
        self[code] = mapped
        return mapped


_NFKC_CHARS = _NfkcChars()


# Short texts (cells, labels) repeat across every report and are normalised several times
# each; the translation costs a dict lookup per char, a cache hit one lookup. Longer texts
# (prose lines) are translated each time and never held.
_NORM_CACHE = 8192
_NORM_CACHE_CHARS = 64


def _translate(text: str) -> str:
    return text.translate(_NFKC_CHARS)


_translate_short = lru_cache(maxsize=_NORM_CACHE)(_translate)


def _norm(text: str) -> str:
    """Matching form: NFKC (full-width → half-width) char by char, whitespace removed.

    Char by char so that the result has one char per input char (a few NFKC mappings expand).
    """
    if len(text) > _NORM_CACHE_CHARS:
        return text.translate(_NFKC_CHARS)
    return _translate_short(text)


_NUMBERING = re.compile(r"^(?:[(\[]?[一二三四五六七八九十]+[)\]、.]|[(\[]?\d+[)\]、.])")
_NOTE = re.compile(r"\([^()]*\)")


def _strip_numbering(norm: str) -> str:
    norm = _NUMBERING.sub("", norm, count=1)
    return norm.removeprefix("其中:").removeprefix("其中")


_NUM = re.compile(r"^([+-]?\d{1,3}(?:,\d{3})+|[+-]?\d+)(\.\d+)?(件|条|项|个|次|万元|元)?$")
_PLACEHOLDER = re.compile(r"^(?:[-—–/\\]+|无)$")
# A value cell is never longer than this (“1,234,567万元”); longer lines are prose and skip the
# normalisation: crawls call this on every line of every report.
_MAX_VALUE_CHARS = 24
# Distinct cell texts remembered by `_names_row`: template labels repeat across every report,
# and the bound keeps a long crawl's memory flat.
_LABEL_CACHE = 4096
_MAX_LABEL = 60  # longest template label (2021 其他处理 sub-rows are ~40 chars) with margin
assert _MAX_LABEL <= _NORM_CACHE_CHARS  # `_norm` of a label takes its cached branch
# A table row printed on one line (PDF text): a long label plus its numbers; longer is prose.
_MAX_SPACED_ROW = _MAX_LABEL + 200


class _Cell(str):
    """An HTML table cell: its text, whether it sits in the value part of its row, and where it
    sits in its table's grid, so values are placed by column and not by count."""

    # Slots: a report has hundreds of cells, and a slot is set and read faster than an entry
    # of a per-instance dict (which would also be allocated for every cell).
    __slots__ = ("col", "span", "table", "value")
    value: bool  # in the value part of its row, whatever its text
    table: int  # which <table> of the fragment
    col: int  # first grid column, after rowspan/colspan expansion
    span: int  # grid columns covered

    def __getattr__(self, name: str) -> bool:
        # Only reached for a slot never set: `_grid_rows` sets them all, but a cell made
        # elsewhere (tests) and never marked is in the label part of its row.
        if name == "value":
            return False
        raise AttributeError(name)


def _looks_value(text: str) -> bool:
    """A printed value: a number or a dash / 无 placeholder."""
    if len(text) > _MAX_VALUE_CHARS:
        return False
    return _short_looks_value(str(text))


@lru_cache(maxsize=_NORM_CACHE)
def _short_looks_value(text: str) -> bool:
    n = _norm(text)
    return bool(_NUM.match(n) or _PLACEHOLDER.match(n))


def _is_value(token: str) -> bool:
    """A table value token: an HTML cell of a row's value part, or printed value text (the
    definition; `_tokens` works it out once per token into the stream the readers walk)."""
    if isinstance(token, _Cell):
        return token.value
    return token == "" or _looks_value(token)


_Parsed = tuple[float | int | None, str | None, str]  # (value, raw_text, status)


def _cell(raw: str | None) -> _Parsed:
    """(value, raw_text, status) of one printed cell: an empty cell is ``blank``; a number is
    ``ok``; anything else (``见说明``, ``—``, ``-``, ``/``, ``无``, prose) is ``unreadable``."""
    if raw is None:
        return None, None, "blank"
    if len(raw) <= _MAX_VALUE_CHARS:  # the usual cell: "0", "12", "—" repeat in every report
        return _short_cell(str(raw))
    return _parse_cell(raw)


def _parse_cell(raw: str) -> _Parsed:
    if raw.strip() == "":
        return None, None, "blank"
    text = raw.strip()
    m = _NUM.match(_norm(text))
    if m is None:
        return None, text, "unreadable"
    digits = m.group(1).replace(",", "")
    if m.group(2):
        return float(digits + m.group(2)), text, "ok"
    return int(digits), text, "ok"


_short_cell = lru_cache(maxsize=_NORM_CACHE)(_parse_cell)


# --------------------------------------------------------------------------- rows from input


class _Row(NamedTuple):  # a tuple: built for every line of every report with a table
    cells: list[str]
    html: bool  # from a real <table>: blank cells are present as ""
    start: int = 0  # an HTML row: where its value part starts (`_grid_rows`)


_row_html = attrgetter("html")  # (read in C)
# `_Row(cells, html, start)` without the Python-level `__new__` a NamedTuple has (one per row).
_new_row = cast("Callable[[type[_Row], tuple[list[str], bool, int]], _Row]", tuple.__new__)


def _text_rows(text: str) -> list[_Row]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            parts = [p.strip() for p in line.split("|")]
            if line.endswith("|"):
                parts = parts[:-1]  # every cell is followed by " |"
            if not any(parts):
                continue  # colspan padding / row separator
            rows.append(_Row(parts, html=False))
        else:
            rows.append(_Row(_split_spaced_row(line), html=False))
    return rows


_LABEL_BREAK = re.compile(
    r"\s+(?=[（(][一二三四五六七八九十]+[)）]|\d+[.、．]\D|[一二三四五六七八九十]+、)"
)


def _split_spaced_row(line: str) -> list[str]:
    """A whole table row on one line, cells separated by spaces (PDF text extraction):
    ``（三）不予公开 1.属于国家秘密 0 0 0 0 0 0 0`` → label cells + value cells."""
    if len(line) > _MAX_SPACED_ROW or not line[-1:].isdigit():
        return [line]
    parts = line.split()
    k = len(parts)
    while k and _NUM.match(_norm(parts[k - 1])):
        k -= 1
    label = " ".join(parts[:k])
    if k == len(parts) or (k == 0 and len(parts) < 2) or len(label) > _MAX_LABEL:
        return [line]
    return [*(p for p in _LABEL_BREAK.split(label) if p), *parts[k:]]


_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr",
    "td", "th", "section", "article", "blockquote", "pre", "dd", "dt", "dl", "center",
    "caption", "thead", "tbody", "tfoot",
}  # fmt: skip
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


# A style attribute is a handful of declarations repeated on every paragraph and row of a page:
# the search is remembered per distinct text (a bound keeps a long crawl's memory flat).
@lru_cache(maxsize=_LABEL_CACHE)
def _hidden_style(style: str) -> bool:
    return _HIDDEN.search(style) is not None


# Compiled once, as sanitize does (an .xpath() string is compiled on every call).
_TABLE_ROWS = etree.XPath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
_MAX_SPAN = 200  # a rowspan/colspan beyond any real table: a typo, not a 10,000-column grid


def _raw_cell_text(el: etree._Element) -> str:
    """The text of a cell with children as printed, before `_label` tidies it (a text-only
    cell's is its `.text`): every text and tail below it (a comment's too), not a script's
    or style's own text, a space before a line-breaking element's text."""
    parts: list[str] = []
    if (text := el.text) and el.tag not in _NO_TEXT:
        parts.append(text)  # the cell itself: nothing before it, so no space
    for node in el.iterdescendants():
        tag = node.tag  # read once (lxml builds the string on each access); a comment's is
        # a function, in neither set
        if tag in _BREAKS and parts:
            parts.append(" ")
        if (text := node.text) and tag not in _NO_TEXT:
            parts.append(text)
        if tail := node.tail:
            parts.append(tail)
    return "".join(parts)


_BREAKS = frozenset({"br", "p", "div"})
_NO_TEXT = frozenset({"script", "style"})


def _grid_rows(table: etree._Element, number: int) -> list[_Row]:
    """Expand rowspan/colspan; each row lists the cells that *start* in it, left to right, each
    with its grid column, and the cells of its value part marked.

    The value part starts after the last cell naming a template row; without one, after the
    last label before the first value (blank cells count for neither). It is worked out while
    the row is read, from each cell's cached `_cell_kind`, rather than in a pass of its own."""
    # row → grid columns taken by rowspans from rows above (a cell never overlaps the cells
    # before it in its own row: the column only moves right)
    spanned: dict[int, set[int]] = {}
    out: list[_Row] = []
    for r, tr in enumerate(_TABLE_ROWS(table)):
        style = tr.get("style")
        if style and _hidden_style(style):
            continue
        taken = spanned.pop(r, None) if spanned else None
        c = k = 0  # grid column, index in the row
        cells: list[_Cell] = []
        named_end = label_end = 0  # just past the last cell naming a row / the last label
        seen_value = False  # whether a value came before this cell
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue  # (plain iteration and this test beat lxml's tag-filtered iterator)
            if taken:
                while c in taken:
                    c += 1
            cs = 1
            if td.attrib:  # (most cells carry no attribute at all: two lookups saved)
                rowspan, colspan = td.get("rowspan"), td.get("colspan")
                if colspan and colspan != "1":
                    cs = _span(colspan)
                if rowspan and rowspan != "1" and (rs := _span(rowspan)) > 1:
                    for dr in range(1, rs):
                        spanned.setdefault(r + dr, set()).update(range(c, c + cs))
            raw = _raw_cell_text(td) if len(td) else td.text  # most cells: text only
            if raw is None:  # a blank cell (one in six)
                text, kind = "", _EMPTY
            elif len(raw) <= _MAX_LABEL:
                text, kind = _leaf_cell(raw)
            else:
                text = _label(raw)
                kind = _cell_kind(text)
            cell = _Cell(text)
            cell.value, cell.table, cell.col, cell.span = True, number, c, cs
            cells.append(cell)
            if kind == _NAMES_ROW:
                named_end = k + 1
            elif kind == _TEXT and not seen_value:
                label_end = k + 1
            elif kind == _VALUE:
                seen_value = True
            c += cs
            k += 1
        if cells:
            start = named_end or label_end
            for cell in cells[:start]:  # the label part: usually a cell or two
                cell.value = False
            out.append(_new_row(_Row, (cells, True, start)))  # type: ignore[arg-type]  # strs
    return out


@lru_cache(maxsize=_LABEL_CACHE)
def _leaf_cell(raw: str) -> tuple[str, int]:
    """(label, `_cell_kind`) of a cell's printed text: one cached call per cell for both (the
    same labels and numbers fill every report's tables)."""
    text = _label(raw)
    return text, _cell_kind(text)


@lru_cache(maxsize=256)  # "2", "3", …: a few distinct texts, parsed once each
def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), _MAX_SPAN))
    except ValueError:
        return 1


def _content_root(html: str | etree._Element) -> etree._Element | None:
    if not isinstance(html, str):
        return html
    if "<table" not in html.lower():
        return None
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


class _Walker:
    """The content as rows in document order: innermost tables as grid rows, the text between
    them as one-cell text rows (titles such as 第二十条第（一）项 often sit in a <p>)."""

    def __init__(self, leaves: list[etree._Element]) -> None:
        self.leaves = {leaf: n for n, leaf in enumerate(leaves)}
        self.rows: list[_Row] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        lines = "".join(self.buf).splitlines()
        # blank lines (one per block boundary) dropped by a filter in C
        self.rows += [
            _new_row(_Row, ([_label(line)], False, 0)) for line in filter(str.strip, lines)
        ]
        self.buf.clear()

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("script", "style"):
            return
        if _is_hidden(el):
            return
        if el in self.leaves:
            self.flush()
            self.rows.extend(_grid_rows(el, self.leaves[el]))
            return
        buf, leaves = self.buf, self.leaves
        block = tag in _BLOCK
        if block:
            buf.append("\n")
        # .text and .tail are decoded anew on each access: read once
        if tag and (text := el.text):
            buf.append(text)
        for child in el:
            ctag = child.tag
            if len(child) or not isinstance(ctag, str) or child in leaves:
                self.walk(child)
            elif ctag not in ("script", "style") and not (
                (style := child.get("style")) and _hidden_style(style)
            ):
                # what `walk` does for an element without children (most paragraphs), inline
                cblock = ctag in _BLOCK
                if cblock:
                    buf.append("\n")
                if text := child.text:
                    buf.append(text)
                if cblock:
                    buf.append("\n")
            if tail := child.tail:
                buf.append(tail)
        if block:
            buf.append("\n")


def _leaf_tables(root: etree._Element) -> list[etree._Element]:
    """The tables below `root` with no table inside (XPath ``.//table[not(.//table)]``, here as
    two tag-filtered walks in C: without the cost of setting up an XPath evaluation)."""
    return [
        t for t in root.iterdescendants("table") if next(t.iterdescendants("table"), None) is None
    ]


def _is_hidden(el: etree._Element) -> bool:
    style = el.get("style")
    return bool(style) and bool(_hidden_style(style))


def _html_rows(html: str | etree._Element) -> list[_Row] | None:
    """The content as rows in document order, or None when it holds no table."""
    root = _content_root(html)
    if root is None:
        return None
    leaves = _leaf_tables(root)
    if not leaves:
        return None
    walker = _Walker(leaves)
    walker.walk(root)
    walker.flush()
    return walker.rows


@lru_cache(maxsize=_LABEL_CACHE)
def _names_row(text: str) -> bool:
    """The cell names a template row (规章, （三）不予公开, 1.属于国家秘密, …). A bare 总计 or 其他
    does not count: both are also column headers."""
    if not text or len(text) > _MAX_LABEL:
        return False
    n = _norm(text)
    if n in ("总计", "其他") or _NUM.match(n):
        return False
    if any(rx.fullmatch(n) for rows in _ART20_ROWS_RX.values() for _, rx in rows):
        return True
    if _app_match(n, None) is not None:
        return True
    stripped = _strip_numbering(n)
    return bool(_SUB_NUMBERED.match(n)) and any(
        rx.search(stripped) for subs in _APP_SUB_RX.values() for rx, _ in subs
    )


# What a cell's text says about where its row's values start (`_grid_rows`).
_EMPTY, _TEXT, _VALUE, _NAMES_ROW = 0, 1, 2, 3


def _cell_kind(text: str) -> int:
    """`_NAMES_ROW` if the text names a template row, else `_VALUE` if it looks like a value,
    else `_TEXT` (or `_EMPTY`): both tests in one cached call per cell."""
    if not text:
        return _EMPTY
    if len(text) > _MAX_LABEL:  # too long to name a row or to be a value
        return _TEXT
    return _short_cell_kind(str(text))


@lru_cache(maxsize=_LABEL_CACHE)
def _short_cell_kind(text: str) -> int:
    if _names_row(text):
        return _NAMES_ROW
    return _VALUE if _looks_value(text) else _TEXT


class _Stream(NamedTuple):
    """The cell stream the readers walk, with what they ask of every token worked out once."""

    tokens: list[str]
    norms: list[str | None]  # a label token's matching form (`_is_label`), else None
    values: list[bool]  # `_is_value` of each token, then one False past the end (a sentinel:
    # a run of values ends at `values.index(False, i)`, a scan in C)


def _tokens(rows: Iterable[_Row]) -> _Stream:
    """Flatten rows into a cell stream for the national templates.

    Text renderings lose blank cells, so empty text cells are dropped. In an HTML row every
    cell from the value start on is a value — blank (a real blank cell) or text (an unreadable
    cell) — and is marked so (by `_grid_rows`) that the readers never take it for a label.
    """
    tokens: list[str] = []
    norms: list[str | None] = []
    values: list[bool] = []
    for cells, html, start in rows:
        if html:  # built by `_grid_rows`: its value part starts at `start`
            vals = cells
            if start:
                for c in cells[:start]:  # the label part (a cell or two): blank cells dropped
                    if c:
                        tokens.append(c)
                        # `_norm(c)`, its cached branch direct (a label is short)
                        norms.append(_translate_short(c) if len(c) <= _MAX_LABEL else None)
                        values.append(False)
                vals = cells[start:]
            # the value part, taken whole: the lists grow by slices, not by a call per cell
            tokens += vals
            n = len(vals)
            norms += [None] * n
            values += [True] * n
            continue
        for t in cells:
            if t:
                value = _looks_value(t)  # `_is_value`, `_is_label` of a text token
                tokens.append(t)
                norms.append(_norm(t) if not value and len(t) <= _MAX_LABEL else None)
                values.append(value)
    values.append(False)
    return _Stream(tokens, norms, values)


# --------------------------------------------------------------------------- template specs

_UNIT_IN_LABEL = re.compile(r"(?:单位[:：]\s*|[(（])(万元|元|件|条|个|项)[)）]?")

# item → template → [(column_key, pattern on the whitespace-free NFKC header, default unit)]
# How a printed header may shorten a template column label (matching form: NFKC, no spaces).
_ART20_COL_PATTERNS: dict[str, str] = {
    "new_made": r"(?:本年)?新?制作数量", "new_published": r"(?:本年)?新?公开数量",
    "total_published": r"对外公开总数量", "issued": r"(?:本年)?制发件数",
    "repealed": r"(?:本年)?废止件数", "in_force": r"现行有效件数",
    "prev_count": r"上一?年项目数量", "change": r"本年增/?减",
    "decisions": r"(?:本年)?处理决定数量",
    "fee_amount": r"(?:本年)?收费金额", "procurement_count": r"采购项目数量",
    "procurement_amount": r"采购总金额",
}  # fmt: skip
_AMOUNT_COLUMNS = frozenset({"fee_amount", "procurement_amount"})  # unit from the header only
_ART20_ROW_VARIANTS = {"normative": r"(?:行政)?规范性文件"}  # gb2021 adds 行政


def _art20_unit(key: str) -> str | None:
    return None if key in _AMOUNT_COLUMNS else "件"


def _art20_col_specs(table: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """template → [(column_key, header pattern, default unit)] of one 第二十条 table."""
    return {
        tpl: [(key, _ART20_COL_PATTERNS[key], _art20_unit(key)) for key in tables[table]]
        for tpl, tables in ART20_COLUMNS.items()
        if table in tables
    }


# item number (第二十条第（N）项) → its table's column specs and row patterns
_ART20_COLS = {t.removeprefix("art20_"): _art20_col_specs(t) for t in ART20_ROWS}
_ART20_ROWS: dict[str, list[tuple[str, str]]] = {
    t.removeprefix("art20_"): [
        (k, _ART20_ROW_VARIANTS.get(k, re.escape(lab))) for k, lab in rows.items()
    ]
    for t, rows in ART20_ROWS.items()
}
_ITEM_NUM = {"一": "1", "五": "5", "六": "6", "八": "8", "九": "9"}
_ART20_TITLE = re.compile(r"第二十条第?\(([一二三四五六七八九十])\)项")

_APP_GROUP = "法人或其他组织"
# A shortened header cell must keep more than this many chars of its label ("组织" is no
# column, "公益组织" is 社会公益组织).
_SHORT_LEAF = 2

# (pattern on the numbering-free label, key, kind); kinds: row | group | group_or_row
_APP_TOP: list[tuple[str, str, str]] = [
    (r"^本年新收", "new_received", "row"),
    (r"^上年结转", "carried_over", "row"),
    (r"^(?:本年度)?办理结果$", "result", "group"),
    (r"^予以公开", "result.disclosed", "row"),
    (r"^部分公开", "result.partly_disclosed", "row"),
    (r"^不予公开", "result.withheld", "group"),
    (r"^无法提供", "result.unavailable", "group"),
    (r"^不予处理", "result.not_processed", "group"),
    (r"^其他处理", "result.other", "group_or_row"),
    (r"^总计$", "result.total", "row"),
    (r"^结转下年", "carry_forward", "row"),
]
_APP_SUB: dict[str, list[tuple[str, str]]] = {
    "result.withheld": [
        (r"国家秘密", "state_secret"),
        (r"禁止公开", "law_prohibited"),
        (r"三安全一稳定", "three_security"),
        (r"第三方", "third_party"),
        (r"内部事务", "internal_affairs"),
        (r"过程性", "process_info"),
        (r"执法案卷", "law_enforcement_file"),
        (r"查询事项", "administrative_query"),
    ],
    "result.unavailable": [
        (r"不掌握", "not_held"),
        (r"另行制作", "needs_creation"),
        (r"不明确", "unclear_after_correction"),
    ],
    "result.not_processed": [
        (r"信访|举报|投诉", "petition_complaint"),
        (r"重复申请", "repeated"),
        (r"出版物", "publication"),
        (r"大量反复", "excessive"),
        (r"确认|重新出具", "confirmation"),
    ],
    "result.other": [
        (r"不补正", "overdue_correction"),
        (r"缴纳费用|收费通知", "overdue_fee"),
        (r"^其他$", "other"),
    ],
}
_SUB_NUMBERED = re.compile(r"^[(\[]?\d+[)\]、.]")

# The patterns above, compiled once (the readers try them on every label of every report).
_Rx = re.Pattern[str]
_ART20_COLS_RX: dict[str, dict[str, list[tuple[str, _Rx, str | None]]]] = {
    item: {tpl: [(k, re.compile(p), u) for k, p, u in specs] for tpl, specs in by_tpl.items()}
    for item, by_tpl in _ART20_COLS.items()
}
_ART20_ROWS_RX: dict[str, list[tuple[str, _Rx]]] = {
    item: [(k, re.compile(p)) for k, p in rows] for item, rows in _ART20_ROWS.items()
}
_APP_TOP_RX: list[tuple[_Rx, str, str]] = [(re.compile(p), k, kind) for p, k, kind in _APP_TOP]
_APP_SUB_RX: dict[str, list[tuple[_Rx, str]]] = {
    group: [(re.compile(p), sub) for p, sub in subs] for group, subs in _APP_SUB.items()
}

_APPEAL_GROUP_LABELS = frozenset(p for lab in APPEAL_GROUPS.values() for p in lab.split("/"))

_SECTION_HEAD = re.compile(r"^[一二三四五六七八九十]+、")
# How far the readers look; beyond these a table has ended or the text is prose.
_MAX_ART20_HEADER = 12  # header cells of a 第二十条 block: 信息内容 + 3 columns, split words
_MAX_HEADER = 40  # header cells of the application / appeals table (3 rows, notes, splits)
_MAX_TITLE = 20  # 第二十条第（一）项 with decoration; a longer line is a sentence citing it
_MAX_GROUP_LABEL = 10  # 行政复议 as a header cell, not a sentence starting with it
_APPEAL_LOOKAHEAD = 12  # the appeals header names 结果维持 / 总计 within this many cells
_TRIGGERS = ("第二十条", "申请人情况", "本年新收", "行政复议", "指标")


# --------------------------------------------------------------------------- segments


@dataclass
class _Seg:
    table: str
    header: list[str]
    rows: list[tuple[str, str, list[str]]]  # (key, printed label, printed values)
    html: bool
    item: str = ""


# A row's printed label: a label token is short (`_MAX_LABEL`) and the same row labels open
# every report's rows, so `_label` is remembered per text.
_row_label = lru_cache(maxsize=_LABEL_CACHE)(_label)


def _is_label(token: str) -> bool:
    """A label token: short, and not a value (the definition; `_tokens` works it out once per
    token into the stream the readers walk)."""
    if not token or len(token) > _MAX_LABEL:
        return False
    # not _is_value(token), inline
    return not token.value if isinstance(token, _Cell) else not _looks_value(token)


def _read_values(stream: _Stream, i: int) -> tuple[list[str], int]:
    j = stream.values.index(False, i)  # the sentinel stops it at the end
    return stream.tokens[i:j], j


@lru_cache(maxsize=_LABEL_CACHE)
def _art20_label(item: str, n: str) -> tuple[str | None, bool]:
    """(the row key this label names in the 第二十条 item's table, or None; whether it ends the
    table's header: a row label, a 第二十条 title or a section heading). Cached: the same
    labels fill every report's tables."""
    key = next((k for k, rx in _ART20_ROWS_RX[item] if rx.fullmatch(n)), None)
    return key, bool(key or _ART20_TITLE.search(n) or _SECTION_HEAD.match(n))


def _read_art20(stream: _Stream, i: int, item: str, html: bool) -> tuple[_Seg, int]:
    tokens, norms = stream.tokens, stream.norms
    end = len(tokens)
    header: list[str] = []
    while i < end and len(header) < _MAX_ART20_HEADER:
        tok = tokens[i]
        if tok == "":
            i += 1  # an empty header cell of a table wider than this block
            continue
        n = norms[i]
        if n is None or _art20_label(item, n)[1]:
            break
        header.append(tok)
        i += 1
    rows: list[tuple[str, str, list[str]]] = []
    while i < end:
        n = norms[i]
        key = None if n is None else _art20_label(item, n)[0]
        if key is None:
            break
        label = _row_label(tokens[i])
        vals, i = _read_values(stream, i + 1)
        rows.append((key, label, vals))
    return _Seg(f"art20_{item}", header, rows, html, item=item), i


@lru_cache(maxsize=_LABEL_CACHE)
def _app_match(norm: str, group: str | None) -> tuple[str, str] | None:
    stripped = _strip_numbering(norm)
    if group in _APP_SUB_RX and _SUB_NUMBERED.match(norm):
        for rx, sub in _APP_SUB_RX[group]:
            if rx.search(stripped):
                return f"{group}.{sub}", "row"
    for rx, key, kind in _APP_TOP_RX:
        if rx.search(stripped):
            return key, kind
    return None


def _read_applications(stream: _Stream, i: int, html: bool) -> tuple[_Seg | None, int]:
    tokens, norms = stream.tokens, stream.norms
    start, end = i, len(tokens)
    header: list[str] = []
    while i < end and len(header) < _MAX_HEADER:
        if (n := norms[i]) is not None:
            m = _app_match(n, None)
            if m and m[0] in ("new_received", "carried_over", "result"):
                break
            if _SECTION_HEAD.match(n) and i > start:
                return None, i
        header.append(tokens[i])
        i += 1
    rows: list[tuple[str, str, list[str]]] = []
    group: str | None = None
    pending: tuple[str, str] | None = None  # a group_or_row label waiting to see what follows
    while i < end and (n := norms[i]) is not None:
        tok = tokens[i]
        m = _app_match(n, group)
        if m is None:
            break
        key, kind = m
        vals, j = _read_values(stream, i + 1)
        if pending and not key.startswith(pending[0] + "."):
            rows.append((pending[0], pending[1], []))  # 2019 其他处理 whose cells were lost
        pending = None
        if kind == "row":
            rows.append((key, _row_label(tok), vals))
            if not key.startswith(f"{group}."):
                group = None
        elif vals:  # a group label carrying numbers: a subtotal row, sub-rows may follow
            rows.append((key, _row_label(tok), vals))
            group = key
        elif kind == "group_or_row":
            group, pending = key, (key, _row_label(tok))
        else:
            group = key
        i = j
    if pending:
        rows.append((pending[0], pending[1], []))
    if not rows:
        return None, i
    return _Seg("applications", header, rows, html), i


def _read_appeals(stream: _Stream, i: int, html: bool) -> tuple[_Seg, int]:
    tokens, norms = stream.tokens, stream.norms
    header: list[str] = []
    while i < len(tokens) and len(header) < _MAX_HEADER:
        n = norms[i]
        if n is None or (header and _SECTION_HEAD.match(n)):
            break
        header.append(tokens[i])
        i += 1
    vals, i = _read_values(stream, i)
    return _Seg("appeals", header, [("cases", "", vals)], html), i


class _Opening(NamedTuple):
    """What a label may open, from its text alone (cached: the same labels open every report)."""

    art20_item: str | None  # 第二十条第（N）项 title: the item number
    app_heading: bool  # 申请人情况 / 勾稽关系: the application table's header
    new_received: bool  # 本年新收…: its first row (opens it when a value follows)
    appeals_head: bool  # 行政复议 as a header cell: the appeals table, if its header follows


@lru_cache(maxsize=_LABEL_CACHE)
def _opening(n: str) -> _Opening:
    m = _ART20_TITLE.search(n)
    item = _ITEM_NUM.get(m.group(1)) if m and len(n) <= _MAX_TITLE else None
    return _Opening(
        item,
        "申请人情况" in n or "勾稽关系" in n,
        _strip_numbering(n).startswith("本年新收"),
        n.startswith("行政复议") and len(n) <= _MAX_GROUP_LABEL,
    )


def _segments(stream: _Stream, html: bool) -> list[_Seg]:
    tokens, norms = stream.tokens, stream.norms
    segs: list[_Seg] = []
    i, end = 0, len(tokens)
    while i < end:
        n = norms[i]
        if n is None:  # not a label
            i += 1
            continue
        opening = _opening(n)
        if opening.art20_item is not None:
            seg, i = _read_art20(stream, i + 1, opening.art20_item, html)
            segs.append(seg)
            continue
        starts_app = opening.app_heading
        if not starts_app and opening.new_received:
            starts_app = stream.values[i + 1]  # False past the last token
        if starts_app and not any(s.table == "applications" for s in segs):
            app, j = _read_applications(stream, i, html)
            if app is not None:
                segs.append(app)
                i = j
                continue
        if opening.appeals_head and any(
            "结果维持" in _norm(t) or _norm(t) == "总计" for t in tokens[i : i + _APPEAL_LOOKAHEAD]
        ):
            seg, i = _read_appeals(stream, i, html)
            segs.append(seg)
            continue
        i += 1
    return segs


# --------------------------------------------------------------------------- facts


_Cols = list[tuple[str, str, str | None]]  # [(column_key, printed label, unit)]


def _art20_columns(seg: _Seg, template: str) -> tuple[str | None, _Cols]:
    """(template matched by the header or None, [(column_key, printed label, unit)])."""
    # The same few headers open every report's 第二十条 tables, and the matching normalises
    # them char by char: cached by their text (a header is ≤ 12 labels of ≤ 60 chars).
    tpl, cols = _art20_columns_cached(seg.item, tuple(map(str, seg.header)), template)
    return tpl, list(cols)


def _art20_columns_of(
    item: str, header: tuple[str, ...], template: str
) -> tuple[str | None, tuple[tuple[str, str, str | None], ...]]:
    tpl, cols = _art20_columns_plain(_Seg(f"art20_{item}", list(header), [], True, item), template)
    return tpl, tuple(cols)


def _art20_columns_plain(seg: _Seg, template: str) -> tuple[str | None, _Cols]:
    chars = [
        (ch, _norm(ch)) for ch in "".join(_label(h).replace("信息内容", "") for h in seg.header)
    ]
    orig = "".join(c for c, n in chars if n)
    norm = "".join(n for _, n in chars if n)
    for tpl, specs in _ART20_COLS_RX[seg.item].items():
        found = [rx.search(norm) for _, rx, _ in specs]
        if all(found) and [f.start() for f in found if f] == sorted(f.start() for f in found if f):
            cols = []
            starts = [f.start() for f in found if f] + [len(norm)]
            for k, (key, _, unit) in enumerate(specs):
                label = orig[starts[k] : starts[k + 1]]
                um = _UNIT_IN_LABEL.search(_norm(label))
                cols.append((key, label, um.group(1) if um else unit))
            return tpl, cols
    table = f"art20_{seg.item}"
    options = [tpl for tpl, tables in ART20_COLUMNS.items() if table in tables]
    labels = ART20_COLUMNS[template if template in options else options[0]][table]
    cols = []
    for key, label in labels.items():  # the template's labels, for headers the rendering lost
        um = _UNIT_IN_LABEL.search(_norm(label))
        cols.append((key, label, um.group(1) if um else _art20_unit(key)))
    return None, cols


_art20_columns_cached = lru_cache(maxsize=_LABEL_CACHE)(_art20_columns_of)


_ColumnsOf = Callable[[list[str]], _Cols]


def _app_leaf_matches(leaf: str, norm: str) -> bool:
    """A printed header cell names this applicant column (``公益组织`` for ``社会公益组织``)."""
    return norm == leaf or (len(norm) > _SHORT_LEAF and leaf.endswith(norm))


def _app_columns(header: list[str]) -> list[tuple[str, str, str | None]]:
    labels = [_label(h) for h in header if h]
    # a header word may be split over two lines (商业 / 企业): try adjacent pairs too
    candidates = labels + [a + b for a, b in pairwise(labels)]
    normed = [(lab, _norm(lab)) for lab in candidates]
    group = next((lab for lab, n in normed if n == _APP_GROUP), _APP_GROUP)
    cols: list[tuple[str, str, str | None]] = []
    for key, path in APPLICATION_COLUMNS.items():
        leaf = path.rsplit("/", 1)[-1]
        found = next((lab for lab, n in normed if _app_leaf_matches(leaf, n)), leaf)
        cols.append((key, f"{group}/{found}" if "/" in path else found, "件"))
    return cols


def _appeal_columns(header: list[str]) -> list[tuple[str, str, str | None]]:
    labels = [_label(h) for h in header if h]
    leaves = [lab for lab in labels if _norm(lab) not in _APPEAL_GROUP_LABELS]
    printed_groups = {_norm(lab): lab for lab in labels if _norm(lab) in _APPEAL_GROUP_LABELS}
    cols: list[tuple[str, str, str | None]] = []
    for g, (gkey, glabel) in enumerate(APPEAL_GROUPS.items()):
        gpath = "/".join(printed_groups.get(part, part) for part in glabel.split("/"))
        for c, (ckey, clabel) in enumerate(APPEAL_RESULTS.items()):
            leaf = (
                leaves[g * len(APPEAL_RESULTS) + c]
                if len(leaves) == len(APPEAL_COLUMNS)
                else clabel
            )
            cols.append((f"{gkey}.{ckey}", f"{gpath}/{leaf}", "件"))
    return cols


# Header texts longer than this in all are not remembered (prose caught in a header).
_MAX_CACHED_HEADER = 2000


def _header_columns(columns: _ColumnsOf, header: list[str]) -> _Cols:
    """`columns(header)`, cached by the header's text: the same headers open every report's
    applications and appeals tables, and the labels are normalised one by one."""
    texts = tuple(map(str, header))  # plain strings: the cache holds no grid cells
    if sum(map(len, texts)) > _MAX_CACHED_HEADER:
        return columns(header)
    return list(_header_columns_cached(columns, texts))


@lru_cache(maxsize=_LABEL_CACHE)
def _header_columns_cached(
    columns: _ColumnsOf, texts: tuple[str, ...]
) -> tuple[tuple[str, str, str | None], ...]:
    return tuple(columns(list(texts)))


def _header_cells(seg: _Seg) -> list[_Cell]:
    return [h for h in seg.header if type(h) is _Cell and h]


def _header_names(seg: _Seg, key: str, norm: str) -> bool:
    """The header cell (matching form) names column `key` of this art20 or applications block."""
    if len(norm) > _NORM_CACHE_CHARS:  # prose caught in a header: not worth holding
        return _names_column(seg.table, seg.item, key, norm)
    return _names_column_cached(seg.table, seg.item, key, norm)


def _names_column(table: str, item: str, key: str, norm: str) -> bool:
    if table == "applications":
        return _app_leaf_matches(APPLICATION_COLUMNS[key].rsplit("/", 1)[-1], norm)
    return any(
        k == key and rx.search(norm) for specs in _ART20_COLS_RX[item].values()
        for k, rx, _ in specs
    )  # fmt: skip


_names_column_cached = lru_cache(maxsize=_LABEL_CACHE)(_names_column)  # cells × column keys


_Where = tuple[int, int] | None  # (table, grid column) of a header cell; None: not printed


def _grid_columns(seg: _Seg, keys: list[str]) -> list[_Where] | None:
    """Where each column key sits, resolved from the header cells' labels (None for a column
    the header does not name); None when no column is named (values are then taken in order)."""
    cells = _header_cells(seg)
    if not seg.html or not cells:
        return None
    found: list[_Where]
    texts = tuple(map(str, cells))  # plain strings: the cache holds no grid cells
    if sum(map(len, texts)) > _MAX_CACHED_HEADER:
        picks = _header_picks(seg.table, seg.item, texts, tuple(keys))
    else:
        picks = _header_picks_cached(seg.table, seg.item, texts, tuple(keys))
    if seg.table == "appeals":  # 15 leaves under three group headers, left to right
        leaves = sorted((cells[k] for k in picks if k is not None),
                        key=lambda h: (h.table, h.col))  # fmt: skip
        if len(leaves) != len(keys):
            return None
        found = [(h.table, h.col) for h in leaves]
    else:
        found = [(cells[k].table, cells[k].col) if k is not None else None for k in picks]
    named = [w for w in found if w is not None]
    if not named or len(set(named)) != len(named) or len({t for t, _ in named}) > 1:
        return None
    return found


def _header_picks(
    table: str, item: str, texts: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[int | None, ...]:
    """Which header cells (by index) `_grid_columns` places, from their texts alone: for the
    appeals table every leaf cell (not a group label), else for each column key the first
    cell naming it (None: not printed). Cached: the same headers open every report's tables,
    and matching them is a test per cell and key."""
    norms = [_norm(t) for t in texts]
    if table == "appeals":
        return tuple(k for k, n in enumerate(norms) if n not in _APPEAL_GROUP_LABELS)
    seg = _Seg(table, [], [], True, item)
    return tuple(
        next((k for k, n in enumerate(norms) if _header_names(seg, key, n)), None) for key in keys
    )


_header_picks_cached = lru_cache(maxsize=_LABEL_CACHE)(_header_picks)


_Named = frozenset[tuple[int, int]]  # the (table, grid column) of every named header column


def _covered_named(cell: _Cell, named: _Named) -> int:
    """How many named header columns the cell covers."""
    if cell.span == 1:
        return (cell.table, cell.col) in named
    return sum((cell.table, c) in named for c in range(cell.col, cell.col + cell.span))


def _grid_row(vals: list[str], grid: list[_Where], named: _Named) -> list[_Parsed]:
    """Values placed by grid column. A column the header does not name is blank when the row
    prints nothing outside the named columns, else unreadable with what it prints there."""
    if len(vals) == len(grid) == len(named):  # as many cells as distinct header columns
        for v, w in zip(vals, grid, strict=True):
            if type(v) is not _Cell or v.span != 1 or w is None or (v.table, v.col) != w:
                break
        else:
            # The usual row: one one-column cell at each header column's place, in order:
            # each column reads its own cell, nothing is stray.
            return [
                _short_cell(str(v)) if len(v) <= _MAX_VALUE_CHARS else _parse_cell(v) for v in vals
            ]
    # (table, column) → what the first value cell covering it reads as there (one pass over
    # the row instead of a scan of it per header column; each cell parsed once, no call per
    # header column for the usual one-column cell).
    under: dict[tuple[int, int], _Parsed] = {}
    stray: list[str] = []
    for v in vals:
        if isinstance(v, _Cell):
            if v.span == 1:  # the usual cell: no range to walk
                where = (v.table, v.col)
                if where in named:
                    if where not in under:  # `_cell(v)`, inline: run for every value cell
                        under[where] = (
                            _short_cell(str(v)) if len(v) <= _MAX_VALUE_CHARS else _parse_cell(v)
                        )
                    continue
            elif covered := _covered_named(v, named):
                placed = _placed((v, covered))
                for c in range(v.col, v.col + v.span):
                    under.setdefault((v.table, c), placed)
                continue
        if text := v.strip():
            stray.append(text)
    unnamed: _Parsed = (None, " ".join(stray), "unreadable") if stray else (None, None, "blank")
    return [under.get(w, _BLANK) if w is not None else unnamed for w in grid]


_BLANK: _Parsed = (None, None, "blank")  # the row draws no cell under that header column


def _placed(hit: tuple[str, int] | None) -> _Parsed:
    """The cell under one header column: the value cell covering that grid column. A cell
    covering several header columns cannot be split between them: unreadable in each."""
    if hit is None:
        return None, None, "blank"  # the row draws no cell there
    cell, covered = hit
    if covered > 1 and cell.strip():
        return None, cell.strip(), "unreadable"
    return _cell(cell)


def _row_cells(
    seg: _Seg, vals: list[str], width: int, grid: list[_Where] | None, named: _Named
) -> list[_Parsed]:
    """The row's cells, one per column: by grid column when the header resolved, else in order."""
    if grid is not None and vals:
        return _grid_row(vals, grid, named)
    if seg.html and len(vals) > width and not any(vals[width:]):
        vals = vals[:width]  # blank padding cells of a table wider than this block
    if len(vals) == width:
        return [_cell(v) for v in vals]
    # Values lost in rendering cannot be placed: the row is unreadable, the survivors kept.
    raw = " ".join(v for v in vals if v) or None
    return [(None, raw, "unreadable")] * width


def _row_facts(template: str, seg: _Seg, cols: list[tuple[str, str, str | None]]) -> list[Fact]:
    grid = _grid_columns(seg, [key for key, _, _ in cols])
    named = frozenset(w for w in grid or () if w is not None)
    facts: list[Fact] = []
    table = seg.table
    new, set_dict = object.__new__, object.__setattr__
    width = len(cols)
    for key, label, vals in seg.rows:
        if grid is not None and vals:  # `_row_cells`, its usual case inline
            cells = _grid_row(vals, grid, named)
        else:
            cells = _row_cells(seg, vals, width, grid, named)
        for (ckey, clabel, unit), (value, raw_text, status) in zip(cols, cells, strict=True):
            # `_new_fact(...)`, inline (hundreds of facts per report); a test checks it
            fact = new(Fact)
            set_dict(fact, "__dict__", {
                "template": template, "table": table, "row_key": key, "column_key": ckey,
                "row_label": label, "column_label": clabel, "value": value, "unit": unit,
                "raw_text": raw_text, "status": status,
            })  # fmt: skip
            facts.append(fact)
    return facts


# The rows `_read_applications` can key ``result.other.<sub>``: gb2021's 其他处理 sub-rows.
_OTHER_2021_KEYS = frozenset(f"result.other.{sub}" for _, sub in _APP_SUB["result.other"])


def _gb_template(segs: list[_Seg]) -> str:
    votes = {"gb2019": 0, "gb2021": 0}
    for seg in segs:
        if seg.table.startswith("art20_"):
            tpl, _ = _art20_columns(seg, "")
            if tpl:
                votes[tpl] += 1
            if seg.item == "9":
                votes["gb2019"] += 1
        elif seg.table == "applications":
            keys = {k for k, _, _ in seg.rows}
            if not keys.isdisjoint(_OTHER_2021_KEYS):  # a `result.other.*` row
                votes["gb2021"] += 1
            elif "result.other" in keys:
                votes["gb2019"] += 1
    return "gb2021" if votes["gb2021"] > votes["gb2019"] else "gb2019"


def _gb_facts(segs: list[_Seg]) -> tuple[str, list[Fact]]:
    template = _gb_template(segs)
    facts: list[Fact] = []
    for seg in segs:
        if seg.table.startswith("art20_"):
            _, cols = _art20_columns(seg, template)  # unnamed header: the template's columns
        elif seg.table == "applications":
            cols = _header_columns(_app_columns, seg.header)
        else:
            cols = _header_columns(_appeal_columns, seg.header)
        facts.extend(_row_facts(template, seg, cols))
    return template, facts


# --------------------------------------------------------------------------- legacy


def _legacy_slug(label: str) -> str:
    n = _strip_numbering(_norm(label))
    n = _NOTE.sub("", n)
    return n


def _legacy_facts(rows: list[_Row]) -> list[Fact]:
    start = next(
        (
            i
            for i, r in enumerate(rows)
            if len(r.cells) >= 3 and "指标" in _norm(r.cells[0]) and "单位" in _norm(r.cells[1])
        ),
        None,
    )
    if start is None:
        return []
    header = rows[start].cells
    value_cols: list[tuple[str, str]] = []
    for k, lab in enumerate(c for c in header[2:] if c):
        n = _norm(lab)
        key = "cumulative" if "历年" in n else ("year" if k == 0 else f"col{k + 1}")
        value_cols.append((key, _label(lab)))
    facts: list[Fact] = []
    section = ""
    seen: dict[str, int] = {}
    for row in rows[start + 1 :]:
        cells = row.cells + [""] * (2 + len(value_cols) - len(row.cells))
        label, unit_raw, values = cells[0], cells[1], cells[2 : 2 + len(value_cols)]
        if not label or (not unit_raw and not any(values)):
            break  # signature / footer lines end the table
        n = _norm(label)
        slug = _legacy_slug(label)
        if _SECTION_HEAD.match(n):
            section = slug
        if not any(values) and _PLACEHOLDER.match(_norm(unit_raw) or "-"):
            continue  # a section heading row: no cell of its own
        key = slug if _SECTION_HEAD.match(n) or not section else f"{section}/{slug}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        unit = None if _PLACEHOLDER.match(_norm(unit_raw) or "-") else unit_raw.strip()
        row_label = _label(label)
        for (ckey, clabel), raw in zip(value_cols, values, strict=True):
            value, raw_text, status = _cell(raw)
            facts.append(_new_fact("legacy_stats", "legacy", key, ckey, row_label, clabel, value,
                                   unit, raw_text, status))  # fmt: skip
    return facts


# --------------------------------------------------------------------------- entry point


def _parse_rows(rows: list[_Row]) -> tuple[str | None, list[Fact]]:
    segs = _segments(_tokens(rows), html=any(map(_row_html, rows)))
    if segs:
        return _gb_facts(segs)
    legacy = _legacy_facts(rows)
    return ("legacy_stats", legacy) if legacy else (None, [])


def _has_trigger(html: str | etree._Element | None, text: str) -> bool:
    """Cheap test run on every report: does any table word occur at all? An element is only
    searched inside its tables (a page of prose costs one walk over its tags)."""
    if any(t in text for t in _TRIGGERS):
        return True
    if html is None:
        return False
    if isinstance(html, str):
        return any(t in html for t in _TRIGGERS)
    outer = [t for t in html.iter("table") if next(t.iterancestors("table"), None) is None]
    content = "".join(s for table in outer for s in table.itertext())
    return any(t in content for t in (*_TRIGGERS, "信息内容"))  # 信息内容: a 第二十条 table


def parse_tables(html: str | etree._Element | None, text: str) -> TableResult:
    """Facts of every statistics table of a report (see the module docstring).

    `html` is the main-content fragment as a string, or the parsed content element itself (it
    is read, never modified or re-serialised), or None; `text` is the report's clean text, read
    when the HTML holds no statistics table.
    """
    if not _has_trigger(html, text or ""):
        return TableResult(None)  # the common case on crawls: no table at all, stay cheap
    if html is not None:
        rows = _html_rows(html)
        if rows is not None:
            template, facts = _parse_rows(rows)
            if facts:
                return TableResult(template, facts)
    template, facts = _parse_rows(_text_rows(text or ""))
    return TableResult(template if facts else None, facts)
