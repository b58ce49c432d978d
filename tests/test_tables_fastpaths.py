"""The table parser's caches and shortcuts return what the general path returns.

Each fast path (bounded caches, inline text-only cells, the per-row rowspan occupancy, the
one-pass grid placement, the fact constructor, the inline walk of childless elements) is run
against the plain form it replaced, on inputs chosen to hit its edges.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import replace

import lxml.html
import pytest
from lxml import etree

from gxcrawl.extract import tables
from gxcrawl.extract.checks import APPLICANT_COLUMNS, check_consistency
from gxcrawl.extract.tables import Fact

TRICKY_TEXTS = [
    "", " ", "\u3000", "\xa0", "0", " 12 ", "１２", "1,234", "1,234.50万元", "12.0", "-", "—",
    "／", "无", "见说明", "自然人", "商业 企业", "商业\n企业", "商业\u3000企业", "a  b\tc",
    "（三）不予公开", "(三)不予公开", "1.属于国家秘密", "㈠", "ﬁ", "本年新收政府信息公开申请",
    "行政复议", "第二十条第（一）项", "第二十条第(五)项：主动公开情况", "申请人情况",
    "本年新制作数量", "处理决定数量", "本年收费金额（单位：万元）", "上一年项目数量", "公益组织",
    "组织", "商业企业", "其他", "总计", "对外公开总数量" * 10, "x" * 63, "x" * 64,
    "x" * 65, "１" * 70, "本年" * 40, " 1 2 ", "1 2",
]  # fmt: skip


def _cells_of(texts: list[str]) -> list[str]:
    """The texts as plain strings and as grid cells (str subclasses with attributes)."""
    out: list[str] = list(texts)
    for t in texts:
        cell = tables._Cell(t)
        cell.table, cell.col, cell.span = 0, 0, 1
        out.append(cell)
    return out


@pytest.mark.parametrize("text", _cells_of(TRICKY_TEXTS))
def test_cached_text_helpers_match_the_plain_forms(text: str) -> None:
    assert tables._norm(text) == text.translate(tables._NFKC_CHARS)
    assert tables._cell(text) == tables._parse_cell(text)
    n = tables._norm(text)
    plain_value = len(text) <= tables._MAX_VALUE_CHARS and bool(
        tables._NUM.match(n) or tables._PLACEHOLDER.match(n)
    )
    assert tables._looks_value(text) is plain_value
    label = tables._WS.sub(" ", tables._CJK_GAP.sub("", text)).strip()
    assert tables._label(text) == label and type(tables._label(text)) is str
    assert tables._app_match(n, None) == tables._app_match.__wrapped__(n, None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_cached_header_column_match_is_the_plain_match(text: str) -> None:
    n = tables._norm(text)
    for table, item, keys in [
        ("applications", "", list(tables.APPLICATION_COLUMNS)),
        *(("art20_" + item, item, [k for k, _, _ in specs[0][1]])
          for item, specs in ((i, list(t.items())) for i, t in tables._ART20_COLS.items())),
    ]:  # fmt: skip
        for key in keys:
            seg = tables._Seg(table, [], [], html=True, item=item)
            plain = tables._names_column(table, item, key, n)
            assert tables._header_names(seg, key, n) is plain
            assert tables._names_column_cached(table, item, key, n) is plain


@pytest.mark.parametrize("text", _cells_of(TRICKY_TEXTS))
@pytest.mark.parametrize("value", [False, True])
def test_is_label_is_a_short_non_value(text: str, value: bool) -> None:
    if isinstance(text, tables._Cell):
        text.value = value
    plain = bool(text) and len(text) <= tables._MAX_LABEL and not tables._is_value(text)
    assert tables._is_label(text) is plain


def test_cell_of_none_is_blank() -> None:
    assert tables._cell(None) == (None, None, "blank")


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_label_opening_matches_the_inline_tests(text: str) -> None:
    n = tables._norm(text)
    m = tables._ART20_TITLE.search(n)
    opening = tables._opening(n)
    item = tables._ITEM_NUM.get(m.group(1)) if m and len(n) <= tables._MAX_TITLE else None
    assert opening.art20_item == item
    assert opening.app_heading == ("申请人情况" in n or "勾稽关系" in n)
    assert opening.new_received == tables._strip_numbering(n).startswith("本年新收")
    assert opening.appeals_head == (n.startswith("行政复议") and len(n) <= tables._MAX_GROUP_LABEL)


# --------------------------------------------------------------------------- grid expansion


def _reference_cell_text(el: etree._Element) -> str:
    parts: list[str] = []
    for node in el.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("br", "p", "div") and parts:
            parts.append(" ")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return tables._WS.sub(" ", tables._CJK_GAP.sub("", "".join(parts))).strip()


def _reference_grid_rows(table: etree._Element) -> list[list[tuple[str, int, int]]]:
    """The (row, col) occupancy set the per-row occupancy replaced."""
    occupied: set[tuple[int, int]] = set()
    out = []
    for r, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
        if tables._HIDDEN.search(tr.get("style") or ""):
            continue
        c = 0
        cells = []
        for td in tr:
            if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                continue
            while (r, c) in occupied:
                c += 1
            rs, cs = tables._span(td.get("rowspan")), tables._span(td.get("colspan"))
            occupied.update((r + dr, c + dc) for dr in range(rs) for dc in range(cs))
            cells.append((_reference_cell_text(td), c, cs))
            c += cs
        if cells:
            out.append(cells)
    return out


_SPANS = ["", ' rowspan="2"', ' colspan="2"', ' rowspan="3" colspan="2"', ' rowspan="0"',
          ' colspan="x"', ' rowspan=""', ' colspan="-3"', ' rowspan="999"']  # fmt: skip
_TEXTS = ["", "0", "12", " 商业 企业 ", "a<br>b", "<p>本年</p><p>新收</p>", "<span>1</span>2",
          "<!-- c -->3", "<script>x</script>4", "\u3000自然人\n"]  # fmt: skip


def _random_table(rng: random.Random) -> str:
    rows = []
    for _ in range(rng.randint(1, 7)):
        style = ' style="display:none"' if rng.random() < 0.1 else ""
        cells = "".join(
            f"<{rng.choice(['td', 'th'])}{rng.choice(_SPANS)}>{rng.choice(_TEXTS)}</td>"
            for _ in range(rng.randint(0, 6))
        )
        rows.append(f"<tr{style}>{cells}<!-- x --></tr>")
    body = "".join(rows)
    head = f"<thead>{rows[0]}</thead>"
    return rng.choice(
        [f"<table>{body}</table>", f"<table><tbody>{body}</tbody></table>",
         f"<table>{head}<tbody>{body}</tbody></table>"]
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_grid_rows_match_the_occupancy_set(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(10):
        table = lxml.html.fragment_fromstring(_random_table(rng), create_parent="div")[0]
        got = [
            [(str(c), c.col, c.span) for c in row.cells]  # type: ignore[attr-defined]
            for row in tables._grid_rows(table, 0)
        ]
        assert got == _reference_grid_rows(table)


# --------------------------------------------------------------------------- grid placement


def _reference_grid_row(vals: list[str], grid: list[tables._Where]) -> list[tables._Parsed]:
    """The scan of the row per header column that the one-pass column map replaced."""

    def covers(cell: str, table: int, col: int) -> bool:
        return (
            isinstance(cell, tables._Cell)
            and cell.table == table
            and cell.col <= col < cell.col + cell.span
        )

    def placed(where: tuple[int, int], named: list[tuple[int, int]]) -> tables._Parsed:
        hit = next((v for v in vals if covers(v, *where)), None)
        if hit is None:
            return None, None, "blank"
        if sum(1 for w in named if covers(hit, *w)) > 1 and hit.strip():
            return None, hit.strip(), "unreadable"
        return tables._parse_cell(hit)

    named = [w for w in grid if w is not None]
    stray = [v.strip() for v in vals if v.strip() and not any(covers(v, *w) for w in named)]
    unnamed: tables._Parsed = (
        (None, " ".join(stray), "unreadable") if stray else (None, None, "blank")
    )
    return [placed(w, named) if w is not None else unnamed for w in grid]


@pytest.mark.parametrize("seed", range(60))
def test_grid_row_matches_the_scan_per_column(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        vals: list[str] = []
        for _ in range(rng.randint(0, 9)):
            text = rng.choice(["", " ", "0", "7", "1,2", "—", "见说明", " 3 "])
            if rng.random() < 0.15:
                vals.append(text)  # a text token among the cells
                continue
            cell = tables._Cell(text)
            cell.table, cell.col, cell.span = rng.choice([0, 0, 1]), rng.randint(0, 8), 1
            if rng.random() < 0.3:
                cell.span = rng.randint(2, 4)
            vals.append(cell)
        cols = rng.sample(range(10), rng.randint(1, 7))
        grid: list[tables._Where] = [(0, c) if rng.random() < 0.8 else None for c in cols]
        named = frozenset(w for w in grid if w is not None)
        assert tables._grid_row(vals, grid, named) == _reference_grid_row(vals, grid)


# --------------------------------------------------------------------------- facts and walk


def test_fast_fact_is_the_constructed_fact() -> None:
    args = ("gb2021", "applications", "result.total", "ngo", "（七）总计",
            "法人或其他组织/社会公益组织", 1.5, "件", "1.5", "ok")  # fmt: skip
    fast, made = tables._new_fact(*args), Fact(*args)
    assert fast == made and hash(fast) == hash(made) and repr(fast) == repr(made)
    assert list(fast.as_dict()) == [f.name for f in dataclasses.fields(Fact)]
    assert fast.as_dict() == made.as_dict() == dataclasses.asdict(made)
    assert replace(fast, value=2) == replace(made, value=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.value = 3  # type: ignore[misc]
    fast.as_dict()["value"] = 9  # the dict is a copy
    assert fast.value == 1.5


def _reference_walk_rows(root: etree._Element) -> list[list[str]]:
    """The recursive walk without the inline childless-element branch."""
    leaves = {leaf: n for n, leaf in enumerate(root.xpath(".//table[not(.//table)]"))}
    rows: list[list[str]] = []
    buf: list[str] = []

    def flush() -> None:
        for line in "".join(buf).splitlines():
            if line.strip():
                rows.append([tables._label(line)])
        buf.clear()

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("script", "style") or tables._HIDDEN.search(el.get("style") or ""):
            return
        if el in leaves:
            flush()
            rows.extend([str(c) for c in r.cells] for r in tables._grid_rows(el, leaves[el]))
            return
        block = tag in tables._BLOCK
        if block:
            buf.append("\n")
        if el.text and tag:
            buf.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            buf.append("\n")

    walk(root)
    flush()
    return rows


WALK_PAGES = [
    "<p>第二十条第（一）项</p><table><tr><td>规章</td><td>1</td></tr></table><p>after</p>",
    "a<span>b</span>c<br/>d<!-- note -->e<script>var x;</script>f<style>p{}</style>g",
    '<p style="display: none">hidden</p><p style="color:red">shown</p><i>i</i>tail',
    "<div><p>x<b>y</b></p><table></table>z<table><tr><td>1</td></tr></table></div>",
    '<table><tr><td><table><tr><td>inner</td></tr></table></td></tr></table><p style="">e</p>',
    "<ul><li>一、</li><li></li></ul><center>c</center><p>  </p><p>申请人情况</p>",
]


@pytest.mark.parametrize("html", WALK_PAGES)
def test_walk_matches_the_plain_recursion(html: str) -> None:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    rows = tables._html_rows(root)
    got = [[str(c) for c in r.cells] for r in rows] if rows is not None else None
    expected = _reference_walk_rows(root) if root.xpath(".//table") else None
    assert got == expected


def test_checks_use_the_last_fact_of_a_repeated_cell() -> None:
    # The checks' number map follows the facts map: a later fact of the same cell replaces the
    # earlier one, as a dict keyed by cell would.
    facts = [
        Fact("gb2021", "applications", "new_received", col, "一、本年新收", col, 1, "件", "1", "ok")
        for col in APPLICANT_COLUMNS
    ]
    stated = Fact("gb2021", "applications", "new_received", "total", "一、本年新收", "总计", 6,
                  "件", "6", "ok")  # fmt: skip
    broken = replace(stated, value=5, raw_text="5")
    assert not check_consistency([*facts, stated])
    assert check_consistency([*facts, broken]) and not check_consistency([*facts, broken, stated])
    blank = replace(stated, value=None, raw_text=None, status="blank")
    assert not check_consistency([*facts, broken, blank])


def test_text_only_and_nested_cells_read_alike() -> None:
    a = lxml.html.fragment_fromstring("<table><tr><td> 商业\n企业 </td></tr></table>")
    b = lxml.html.fragment_fromstring("<table><tr><td><span> 商业\n企业 </span></td></tr></table>")
    assert [str(c) for c in tables._grid_rows(a, 0)[0].cells] == ["商业企业"]
    assert [str(c) for c in tables._grid_rows(b, 0)[0].cells] == ["商业企业"]
    assert re.fullmatch(r"\S+", str(tables._grid_rows(a, 0)[0].cells[0]))


ART20_HEADERS = [
    [], [""], ["信息内容"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
    ["信息内容", "本年新 制作数量", "本年新\n公开数量", "对外公开总数量"],
    ["本年制发件数", "现行有效件数", "本年废止件数"],
    ["上一年项目数量", "本年增/减", "处理决定数量"],
    ["信息内容", "本年收费金额（单位：万元）"], ["信息内容", "上一年项目数量", "本年增/减"],
    ["采购项目数量", "采购总金额（元）"], ["ｘ\u3000信息内容", "１２", "本年 增减"],
]  # fmt: skip


@pytest.mark.parametrize("header", ART20_HEADERS)
@pytest.mark.parametrize("item", ["1", "5", "6", "8", "9"])
@pytest.mark.parametrize("template", ["", "gb2019", "gb2021"])
def test_cached_art20_columns_are_the_plain_columns(
    header: list[str], item: str, template: str
) -> None:
    for texts in (header, _cells_of(header)[len(header) :]):  # plain strings, grid cells
        seg = tables._Seg(f"art20_{item}", list(texts), [], True, item)
        expected = tables._art20_columns_plain(seg, template)
        assert tables._art20_columns(seg, template) == expected
        assert tables._art20_columns(seg, template) == expected  # a cache hit too
        assert all(type(label) is str for _, label, _ in expected[1])


def test_inline_facts_are_constructed_facts() -> None:
    seg = tables._Seg("art20_1", [], [("rules", "规章", ["1", "", "x"])], False, "1")
    cols = [("issued", "本年制发件数", "件"), ("repealed", "本年废止件数", "件"),
            ("in_force", "现行有效件数", None)]  # fmt: skip
    facts = tables._row_facts("gb2021", seg, cols)
    made = []
    for (key, label, unit), raw in zip(cols, ["1", "", "x"], strict=True):
        value, raw_text, status = tables._cell(raw)
        made.append(Fact("gb2021", "art20_1", "rules", key, "规章", label, value, unit, raw_text,
                         status))  # fmt: skip
    assert facts == made and [f.as_dict() for f in facts] == [m.as_dict() for m in made]
    assert [hash(f) for f in facts] == [hash(m) for m in made]


APP_HEADERS = [
    [], [""], ["申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织",
               "法律服务机构", "其他", "总计"],
    ["申请人情况", "自然人", "法人或 其他组织", "商业", "企业", "科研\n机构", "公益组织", "组织",
     "法律服务机构", "其他", "总计"],
    ["行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉", *["结果维持", "结果纠正",
     "其他结果", "尚未审结", "总计"] * 3],
    ["行政复议", "结果维持", "总计", "0", "１２", "见说明"], ["x" * 61] * 40,
]  # fmt: skip


@pytest.mark.parametrize("header", APP_HEADERS)
@pytest.mark.parametrize("columns", [tables._app_columns, tables._appeal_columns])
def test_cached_header_columns_are_the_plain_columns(header: list[str], columns: object) -> None:
    assert callable(columns)
    for texts in (header, _cells_of(header)[len(header) :]):  # plain strings, grid cells
        expected = columns(list(texts))
        assert tables._header_columns(columns, list(texts)) == expected
        assert tables._header_columns(columns, list(texts)) == expected  # a cache hit too


def test_checks_key_tables_are_the_spelled_out_keys() -> None:
    from gxcrawl.extract import checks

    for col in checks.APP_COLUMNS:
        assert checks._LEFT_KEYS[col] == (("new_received", col), ("carried_over", col))
        assert checks._RIGHT_KEYS[col] == (("result.total", col), ("carry_forward", col))
    for row in ("new_received", "result.withheld.state_secret", "odd row", ""):
        assert list(checks._applicant_keys(row)) == [(row, c) for c in APPLICANT_COLUMNS]


def test_legacy_facts_are_constructed_facts() -> None:
    from pathlib import Path

    seed = next(Path(__file__).parent.parent.joinpath("fixtures/seeds").glob("001_*.txt"))
    facts = tables.parse_tables(None, seed.read_text(encoding="utf-8")).facts
    assert facts and all(f.template == "legacy_stats" for f in facts)
    for f in facts:
        made = Fact(*f.as_dict().values())
        assert type(f) is Fact and f == made and f.as_dict() == dataclasses.asdict(made)
