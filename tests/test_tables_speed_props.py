"""The table stage's faster forms return what the forms they replaced returned.

Each test puts a fast piece next to a plain reference copy of what it replaced (kept here,
written as it was) and compares them on random input: the value start read with the row,
the token stream with its precomputed label forms and value flags, leaf tables found without
XPath, header cells placed by a cached match, the aligned-row shortcut, the cached style and
span tests, and the consistency checks' reordered work.
"""

from __future__ import annotations

import random
from dataclasses import replace

import lxml.html
import pytest

from gxcrawl.extract import checks, tables
from gxcrawl.extract.checks import Finding, check_consistency
from gxcrawl.extract.table_keys import APPLICATION_ROWS
from gxcrawl.extract.tables import Fact
from tests.test_tables_fastpaths import TRICKY_TEXTS, _random_table, _reference_grid_row

# Cell texts of every kind a row holds: row labels, group labels, headers, numbers, dashes,
# blanks, prose.
CELL_TEXTS = [
    *TRICKY_TEXTS, "规章", "行政规范性文件", "（一）予以公开", "1.属于国家秘密",
    "一、本年新收政府信息公开申请数量", "三、本年度办理结果", "（七）总计",
    "四、结转下年度继续办理",
    "其他", "总计", "自然人", "0", "12", "1,234", "—", "/", "无", "", "", "", "见说明", "本年新收",
    "申请人情况", "行政复议",
]  # fmt: skip


def _reference_value_start(cells: list[str]) -> int:
    """`_value_start` as it was: from the cell texts, one test per cell."""
    named = [i for i, c in enumerate(cells) if tables._names_row(c)]
    if named:
        return named[-1] + 1
    first_num = next((i for i, c in enumerate(cells) if c and tables._looks_value(c)), len(cells))
    return max((i for i in range(first_num) if cells[i]), default=-1) + 1


@pytest.mark.parametrize("seed", range(300))
def test_value_start_read_with_the_row_is_the_cell_scan(seed: int) -> None:
    rng = random.Random(seed)
    texts = [rng.choice(CELL_TEXTS) for _ in range(rng.randint(1, 10))]
    cells = "".join(f"<td>{t.replace('<', '')}</td>" for t in texts)
    table = lxml.html.fragment_fromstring(f"<table><tr>{cells}</tr></table>")
    (row,) = tables._grid_rows(table, 0)
    assert row.start == _reference_value_start(row.cells)
    assert [c.value for c in row.cells] == [i >= row.start for i in range(len(row.cells))]  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [*CELL_TEXTS, " 自然人 ", "商业\n企业", "x" * 61, " 0 "])
def test_leaf_cell_is_the_label_and_its_kind(text: str) -> None:
    label = tables._label(text)
    assert tables._leaf_cell(text) == (label, tables._cell_kind(label))
    assert tables._cell_kind(label) == (
        tables._EMPTY if not label
        else tables._NAMES_ROW if tables._names_row(label)
        else tables._VALUE if tables._looks_value(label)
        else tables._TEXT
    )  # fmt: skip


def _stat_table(rng: random.Random) -> str:
    """A random table whose cells are template labels, numbers and blanks (some spanning)."""
    rows = []
    for _ in range(rng.randint(1, 6)):
        cells = []
        for _ in range(rng.randint(1, 8)):
            span = rng.choice(["", "", "", ' colspan="2"', ' rowspan="2"'])
            text = rng.choice(CELL_TEXTS).replace("<", "")
            wrap = rng.choice(["{}", "{}", "<p><span>{}</span></p>", "{}<br>"])
            cells.append(f"<td{span}>{wrap.format(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{''.join(rows)}</table>"


def _random_content(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        parts.append(rng.choice([_stat_table(rng), _random_table(rng)]))
        parts.append(f"<p>{rng.choice(CELL_TEXTS)}</p>")
    return "".join(parts)


def _reference_tokens(rows: list[tables._Row]) -> list[str]:
    """`_tokens` as it was: the flat list, blank text cells and blank label cells dropped."""
    out: list[str] = []
    for row in rows:
        if not row.html:
            out.extend(c for c in row.cells if c)
            continue
        start = _reference_value_start(row.cells)
        out.extend(c for c in row.cells[:start] if c)
        out.extend(row.cells[start:])
    return out


@pytest.mark.parametrize("seed", range(120))
def test_grid_rows_mark_the_value_part_and_the_stream_holds_what_readers_asked(seed: int) -> None:
    rng = random.Random(seed)
    root = lxml.html.fragment_fromstring(_random_content(rng), create_parent="div")
    rows = tables._html_rows(root) or []
    text_rows = [tables._Row([t], False) for t in rng.sample(CELL_TEXTS, 5)]
    rows = rows + text_rows
    for row in rows:
        if row.html:
            start = _reference_value_start(row.cells)
            assert row.start == start
            assert [c.value for c in row.cells] == [i >= start for i in range(len(row.cells))]  # type: ignore[attr-defined]
    stream = tables._tokens(rows)
    tokens = _reference_tokens(rows)
    assert stream.tokens == tokens and [type(t) for t in stream.tokens] == [type(t) for t in tokens]
    assert stream.values == [tables._is_value(t) for t in tokens] + [False]
    assert stream.norms == [tables._norm(t) if tables._is_label(t) else None for t in tokens]


@pytest.mark.parametrize("seed", range(60))
def test_leaf_tables_are_the_xpath_leaves(seed: int) -> None:
    rng = random.Random(seed)
    html = "<div>"
    for _ in range(rng.randint(0, 5)):
        inner = rng.choice(["", "<table><tr><td>x</td></tr></table>", _random_table(rng)])
        html += rng.choice([
            f"<table><tr><td>{inner}</td></tr></table>", inner, f"<p>{inner}</p>",
            f"<table><tr><td>a</td></tr></table><div>{inner}</div>",
        ])  # fmt: skip
    root = lxml.html.fragment_fromstring(html + "</div>")
    assert tables._leaf_tables(root) == root.xpath(".//table[not(.//table)]")
    for table in root.iter("table"):  # a table itself as the root: only tables below it
        assert tables._leaf_tables(table) == table.xpath(".//table[not(.//table)]")


def _reference_grid_columns(seg: tables._Seg, keys: list[str]) -> list[tables._Where] | None:
    """`_grid_columns` as it was: every header cell matched against every key, uncached."""
    cells = tables._header_cells(seg)
    if not seg.html or not cells:
        return None
    found: list[tables._Where]
    if seg.table == "appeals":
        leaves = sorted((h for h in cells if tables._norm(h) not in tables._APPEAL_GROUP_LABELS),
                        key=lambda h: (h.table, h.col))  # fmt: skip
        if len(leaves) != len(keys):
            return None
        found = [(h.table, h.col) for h in leaves]
    else:
        names = tables._names_column
        hits = [
            next((h for h in cells if names(seg.table, seg.item, k, tables._norm(h))), None)
            for k in keys
        ]
        found = [(h.table, h.col) if h is not None else None for h in hits]
    named = [w for w in found if w is not None]
    if not named or len(set(named)) != len(named) or len({t for t, _ in named}) > 1:
        return None
    return found


HEADER_TEXTS = [
    "信息内容", "本年制发件数", "本年废止件数", "现行有效件数", "本年新制作数量", "本年新公开数量",
    "对外公开总数量", "上一年项目数量", "本年增/减", "处理决定数量", "本年收费金额（单位：万元）",
    "采购项目数量", "采购总金额", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构",
    "其他", "总计", "法人或其他组织", "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉",
    "结果维持", "结果纠正", "其他结果", "尚未审结", "公益组织", "", "x",
]  # fmt: skip
SEG_KINDS = [
    ("applications", "", list(tables.APPLICATION_COLUMNS)),
    ("appeals", "", list(tables.APPEAL_COLUMNS)),
    *((f"art20_{item}", item, [k for k, _, _ in next(iter(specs.values()))])
      for item, specs in tables._ART20_COLS.items()),
]  # fmt: skip


@pytest.mark.parametrize("seed", range(150))
def test_cached_header_placement_is_the_scan(seed: int) -> None:
    rng = random.Random(seed)
    table, item, keys = rng.choice(SEG_KINDS)
    header: list[str] = []
    for _ in range(rng.randint(0, 18)):
        text = rng.choice(HEADER_TEXTS)
        if rng.random() < 0.2:
            header.append(text)  # a text line among the header cells
            continue
        cell = tables._Cell(text)
        cell.table, cell.col, cell.span = rng.choice([0, 0, 0, 1]), rng.randint(0, 20), 1
        header.append(cell)
    seg = tables._Seg(table, header, [], html=rng.random() < 0.9, item=item)
    assert tables._grid_columns(seg, keys) == _reference_grid_columns(seg, keys)


@pytest.mark.parametrize("seed", range(150))
def test_aligned_rows_read_as_the_placement_does(seed: int) -> None:
    # Rows built to hit the aligned shortcut, and rows one step off it (a wider cell, a cell
    # in another table or column, a text token, an unnamed header column, a missing cell). A
    # header naming one column twice is not among them: `_grid_columns` never returns one.
    rng = random.Random(seed)
    width = rng.randint(1, 8)
    cols = sorted(rng.sample(range(12), width))
    grid: list[tables._Where] = [(0, c) for c in cols]
    vals: list[str] = []
    for c in cols:
        cell = tables._Cell(rng.choice(["0", "12", "", "—", "见说明", "1,234", "x" * 30]))
        cell.table, cell.col, cell.span = 0, c, 1
        vals.append(cell)
    change = rng.choice(["none", "span", "table", "col", "text", "unnamed", "short"])
    k = rng.randrange(width)
    if change == "span":
        vals[k].span = 2  # type: ignore[attr-defined]
    elif change == "table":
        vals[k].table = 1  # type: ignore[attr-defined]
    elif change == "col":
        vals[k].col += 1  # type: ignore[attr-defined]
    elif change == "text":
        vals[k] = str(vals[k])
    elif change == "unnamed":
        grid[k] = None
    elif change == "short":
        vals.pop(k)
    named = frozenset(w for w in grid if w is not None)
    assert tables._grid_row(vals, grid, named) == _reference_grid_row(vals, grid)


@pytest.mark.parametrize("style", [
    "display:none", "DISPLAY : NONE", "color:red", "visibility:hidden", "visibility: visible",
    "di\u017fplay:none", "display:\u3000none", "", "display:nonesuch", "VISIBILITY:\tHIDDEN;",
])  # fmt: skip
def test_cached_style_and_span_tests_are_the_plain_ones(style: str) -> None:
    assert tables._hidden_style(style) == (tables._HIDDEN.search(style) is not None)
    for value in ("1", "2", "0", "-3", "x", "", "999", "１２", " 3 "):
        assert tables._span(value) == tables._span.__wrapped__(value)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- checks


def _reference_check_consistency(facts: list[Fact]) -> list[Finding]:
    """`check_consistency` as it was: every sum computed, labels looked up for every column."""
    by_table: dict[str, checks._Cells] = {}
    for f in facts:
        if f.table not in checks._CHECKED:
            continue
        cells = by_table.setdefault(f.table, checks._Cells())
        key = (f.row_key, f.column_key)
        cells[key] = f
        if f.status == "ok" and f.value is not None:
            cells.nums[key] = float(f.value)
        else:
            cells.nums.pop(key, None)
    out: list[Finding] = []
    if "applications" in by_table:
        out.extend(_reference_applications(by_table["applications"]))
    if "appeals" in by_table:
        out.extend(checks._appeals(by_table["appeals"]))
    return out


def _reference_applications(cells: checks._Cells) -> list[Finding]:
    num, fmt, labels = checks._num, checks._fmt, checks._labels
    out: list[Finding] = []
    rows = list(dict.fromkeys(r for r, _ in cells))
    other = checks._OTHER_2021 if any(r in rows for r in checks._OTHER_2021) else ("result.other",)
    outcome_rows = (*checks._OUTCOME_FIXED, *other)
    for col in checks.APP_COLUMNS:
        col_label = labels(cells, "result.total", col)[1]
        left = checks._sum(cells, checks._LEFT_KEYS[col])
        right = checks._sum(cells, checks._RIGHT_KEYS[col])
        if left is not None and right is not None and checks._differs(left, right):
            parts_l = [fmt(num(cells, r, col) or 0) for r in ("new_received", "carried_over")]
            parts_r = [fmt(num(cells, r, col) or 0) for r in ("result.total", "carry_forward")]
            out.append(Finding(
                "balance", "applications", col, left, right,
                f"{col_label}: 一+二 = {'+'.join(parts_l)} = {fmt(left)} ≠ "
                f"三（七）+四 = {'+'.join(parts_r)} = {fmt(right)}",
            ))  # fmt: skip
        parts = checks._sum(cells, [(r, col) for r in outcome_rows])
        stated = num(cells, "result.total", col)
        if parts is not None and stated is not None and checks._differs(parts, stated):
            nonzero = [f"{labels(cells, r, col)[0]} {fmt(v)}" for r in outcome_rows
                       if (v := num(cells, r, col))]  # fmt: skip
            out.append(Finding(
                "outcomes", "applications", col, parts, stated,
                f"{col_label}: sum of outcome rows = {' + '.join(nonzero) or '0'} = "
                f"{fmt(parts)} ≠ 三（七）总计 = {fmt(stated)}",
            ))  # fmt: skip
    for row in rows:
        parts = checks._sum(cells, [(row, c) for c in checks.APPLICANT_COLUMNS])
        stated = num(cells, row, "total")
        if parts is not None and stated is not None and checks._differs(parts, stated):
            out.append(Finding(
                "row_total", "applications", "total", parts, stated,
                f"{labels(cells, row, 'total')[0]}: sum of applicant columns = {fmt(parts)} ≠ "
                f"总计 = {fmt(stated)}",
                row_key=row,
            ))  # fmt: skip
    return out


def _random_facts(rng: random.Random) -> list[Fact]:
    app_rows = rng.sample(list(checks.APPLICATION_ROWS), rng.randint(1, 12))
    facts = [
        Fact("gb2021", "applications", row, col, f"label {row}", f"col {col}",
             rng.choice([0, 1, 2, 5, 1.5]), "件", "x", "ok")
        for row in app_rows for col in checks.APP_COLUMNS
    ]  # fmt: skip
    facts += [
        Fact("gb2021", "appeals", "cases", col, "", f"col {col}", rng.choice([0, 1, 3]), "件",
             "x", "ok")
        for col in tables.APPEAL_COLUMNS
    ]  # fmt: skip
    facts += [Fact("gb2021", "art20_1", "rules", "issued", "规章", "", 1, "件", "1", "ok")]
    for _ in range(rng.randint(0, 30)):  # blanks, unreadable cells, repeats, new values
        k = rng.randrange(len(facts))
        f = facts[k]
        change = rng.choice(["blank", "unreadable", "value", "repeat", "none"])
        if change == "blank":
            facts[k] = replace(f, value=None, raw_text=None, status="blank")
        elif change == "unreadable":
            facts[k] = replace(f, value=None, raw_text="—", status="unreadable")
        elif change == "value":
            facts[k] = replace(f, value=rng.choice([0, 7, 2.25, 100]))
        elif change == "repeat":
            facts.insert(rng.randrange(len(facts) + 1), replace(f, value=rng.choice([0, 9])))
        else:
            facts[k] = replace(f, status="ok", value=None)
    if rng.random() < 0.3:
        rng.shuffle(facts)  # tables interleaved
    return facts


@pytest.mark.parametrize("seed", range(150))
def test_checks_find_what_the_plain_checks_found(seed: int) -> None:
    facts = _random_facts(random.Random(seed))
    got = [f.as_dict() for f in check_consistency(facts)]
    assert got == [f.as_dict() for f in _reference_check_consistency(facts)]


@pytest.mark.parametrize("item", ["1", "5", "6", "8", "9"])
@pytest.mark.parametrize("text", [*CELL_TEXTS, *HEADER_TEXTS, "第二十条第(五)项", "二、主动公开"])
def test_cached_art20_label_is_the_plain_tests(item: str, text: str) -> None:
    n = tables._norm(text)
    key = next((k for k, rx in tables._ART20_ROWS_RX[item] if rx.fullmatch(n)), None)
    ends = bool(key or tables._ART20_TITLE.search(n) or tables._SECTION_HEAD.match(n))
    assert tables._art20_label(item, n) == (key, ends)


def test_the_2021_other_rows_are_the_result_other_sub_rows() -> None:
    # `_gb_template` votes gb2021 for any of these; they are every ``result.other.*`` row key
    sub_rows = {k for k in APPLICATION_ROWS if k.startswith("result.other.")}
    assert sub_rows == tables._OTHER_2021_KEYS
