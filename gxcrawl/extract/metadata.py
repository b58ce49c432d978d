"""Document metadata from every place a government page states it, merged by precedence.

Sources, from most to least trusted (a field takes the first source that has it):

1. **Key–value tables** — `table.xxgk_table` and any `<table>` whose cells pair known labels
   with values (th/td or td/td: `索引号` | `330803-042/2021-46930` | `公开方式` | `主动公开`).
   These are the CMS's own structured fields.
2. **Key–value text** — pipe rows (`索引号: | 330803-042/2021-46930 | …`) and inline `key：value`
   lines (`发布机构：区政府办公室  成文日期：2021-02-20`) in short lines of the page.
3. **`<meta>` tags** required by the national website guidelines — ArticleTitle → title,
   PubDate → publish_date, ContentSource → source (来源), ColumnName → category.
4. **The news-system header line** — `2021-01-06 00:00:00 来源:鲤城区-政府 评论:0 点击:` gives
   publish_date and source.
5. **The sign-off** at the end of the body — agency line and date line (Arabic or Chinese
   numerals); its date is the report's written_date (成文日期) when no label states one.
6. **Registry hints** (`PortalHints`) — only region_code here; the agency chain lives in page.py.

`publisher` comes only from 发布单位/发布机构/发布机关/发文机关/发文单位 labels; `source` (来源,
信息来源, 文章来源, the ContentSource `<meta>`, the header line's 来源) names a CMS column or site,
not the publishing body, so it is a field of its own and never fills `publisher`.
`region_code` is the registry hint unless the 索引号's division code agrees with it (equal, or a
division inside the hint's region: the more specific code is kept); a contradiction keeps the
registry's code and sets `region_conflict`; with no hint the 索引号's code is used. Empty
placeholders (无, —, /) count as absent. Dates are ISO `YYYY-MM-DD`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml.html import HtmlElement

from gxcrawl.extract.content import norm_space, text_of
from gxcrawl.extract.dates import find_dates, parse_date
from gxcrawl.textutil import remove_whitespace

DATE_FIELDS = frozenset({"written_date", "publish_date"})

# Label (without spaces and colon) → field.
KEY_FIELDS: dict[str, str] = {
    "索引号": "index_no",
    "索取号": "index_no",
    "发布单位": "publisher",
    "发布机构": "publisher",
    "发布机关": "publisher",
    "发文机关": "publisher",
    "发文单位": "publisher",
    "来源": "source",
    "信息来源": "source",
    "文章来源": "source",
    "成文日期": "written_date",
    "成文时间": "written_date",
    "发文日期": "written_date",
    "生成日期": "written_date",
    "发布日期": "publish_date",
    "发布时间": "publish_date",
    "公开日期": "publish_date",
    "公开时间": "publish_date",
    # Bare 时间/日期 labels print the publication time of news-system headers
    # ("来源：X 时间：2025-03-10 15:35"); they only count where a label may start.
    "时间": "publish_date",
    "日期": "publish_date",
    "文号": "doc_no",
    "文件编号": "doc_no",
    "发文字号": "doc_no",
    "发文文号": "doc_no",
    "公开方式": "disclosure_mode",
    "公开形式": "disclosure_mode",
    "有效性": "validity",
    "时效": "validity",
    "时效性": "validity",
    "效力状态": "validity",
    "分类": "category",
    "主题分类": "category",
    "信息分类": "category",
    "组配分类": "category",
    "所属主题": "category",
    "名称": "title",
    "标题": "title",
    "文件名称": "title",
    "信息名称": "title",
}
# Too common as column heads of a report's own tables to mark a table as a metadata block.
_WEAK_LABELS = frozenset({"时间", "日期"})
# Labels that are metadata but feed no field; they still end a value and mark a metadata block.
OTHER_KEYS = ("规范性文件登记", "登记号", "关键词", "主题词", "体裁分类", "服务对象", "失效时间")
_EMPTY_VALUES = frozenset({"", "无", "—", "——", "-", "--", "/", "暂无", "null", "none"})

# Labels of page furniture that end a value without being metadata (评论:0 点击:).
_STOP = (
    r"作者|责任编辑|编辑|审核|校对|供稿|评论|点击|浏览|阅读|访问|字号|字体|分享|"
    r"浏览次数|点击数|访问量"
)
_ALL_KEYS = sorted((*KEY_FIELDS, *OTHER_KEYS), key=len, reverse=True)
# Labels may be printed with spaces between characters (索 引 号).
_KEY_ALT = "|".join(r"\s*".join(map(re.escape, k)) for k in _ALL_KEYS)
# The first characters of the labels (and of the furniture labels), as a look-ahead that lets
# the engine reject a position with one class test instead of trying every alternative (it
# tries them one by one: no alternation here starts with a literal prefix it could skip by).
_KEY_START = "(?=[" + "".join(sorted({k[0] for k in _ALL_KEYS})) + "])"
_LABEL_START = "(?=[" + "".join(sorted({k[0] for k in (*_ALL_KEYS, *_STOP.split("|"))})) + "])"
# The end of a value: the next label (with its colon) or the end of the line.
_VALUE_END = rf"(?=\s*{_LABEL_START}(?:{_KEY_ALT}|{_STOP})\s*[:：]|\s*$)"
_INLINE = re.compile(
    rf"(?:^|(?<=[\s|【】\[\]])){_KEY_START}(?P<key>{_KEY_ALT})\s*[:：]\s*(?P<val>.*?){_VALUE_END}"
)
# Inside a line that already opened with a label, labels may follow a value with no space at
# all: templates that print `<label>索引号：</label><span>…</span><label>分类：</label>` render as
# "索引号：007029012/2023-00015分类：综合政务" (gkmlpt). Only such lines get this looser reading,
# so a label word glued inside prose never starts a pair.
_INLINE_GLUED = re.compile(rf"(?P<key>{_KEY_ALT})\s*[:：]\s*(?P<val>.*?){_VALUE_END}")
# A line that opens with a label (a field's or page furniture's: "作者：张三来源：X") is a label
# row, read with the glued pattern.
_OPENS_WITH_LABEL = re.compile(rf"^[【\[]?\s*{_LABEL_START}(?:{_KEY_ALT}|{_STOP})\s*[:：]")
_ANY_KEY = re.compile(_KEY_ALT)
_KEY_CELL = re.compile(rf"^{_KEY_START}(?P<key>{_KEY_ALT})\s*[:：]?$")

_REGION_PREFIX = re.compile(r"^\s*([1-8]\d{5})-")
# 18-character unified social credit code (GB 32100-2015) as the 索引号 prefix: characters 3-8
# are the administrative division where the body is registered; character 18 is a check code.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_PREFIX = re.compile(
    rf"^\s*([{_CREDIT_CHARS}]{{2}}([1-8]\d{{5}})[{_CREDIT_CHARS}]{{10}})(?:[/-]|$)"
)
_HEADER = re.compile(
    r"^(?:发布(?:时间|日期)[:：]\s*)?(?P<date>(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
    r"(?:.*?(?:来源|信息来源)[:：]\s*(?P<source>[^\s:：]+?))?"
    r"\s*(?:(?:作者|评论|点击|浏览|阅读|访问)(?:次数|量)?[:：].*)?$"
)
_AGENCY_SUFFIX = re.compile(
    r"(?:人民政府|政府|办公室|办公厅|办事处|委员会|管委会|局|厅|委|中心|署|院|所|站|处|室|部|"
    r"街道|镇|乡|县|区|市|队|馆|社|会)$"
)
_SENTENCE_PUNCT = re.compile(r"[，。；：,;:！？!?、（）()《》“”\"|]")


@dataclass
class Metadata:
    """Merged metadata plus, per field, the source it came from (for debugging/provenance)."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    signoff_agency: str | None = None
    region_code: str | None = None
    region_conflict: bool = False  # the 索引号's division code contradicts the registry's

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def _key_field(label: str) -> str | None:
    key = remove_whitespace(label).rstrip(":：")
    if key in KEY_FIELDS:
        return KEY_FIELDS[key]
    return "" if key in OTHER_KEYS else None


def _clean_value(name: str, value: str) -> str | None:
    value = norm_space(value).strip("|｜ 【】[]")
    if value.lower() in _EMPTY_VALUES:
        return None
    if name in DATE_FIELDS:
        return parse_date(value)
    return value


def pairs_from_cells(cells: list[str]) -> dict[str, str]:
    """Pair label cells with the value cell after them; also read `key：value` inside one cell."""
    found: dict[str, str] = {}
    i = 0
    while i < len(cells):
        cell = norm_space(cells[i])
        m = _KEY_CELL.match(cell)
        if m:
            name = _key_field(m.group("key"))
            nxt = norm_space(cells[i + 1]) if i + 1 < len(cells) else ""
            if nxt and _KEY_CELL.match(nxt):
                nxt = ""  # label followed by another label: the value is blank
            else:
                i += 1
            if name:
                value = _clean_value(name, nxt)
                if value is not None:
                    found.setdefault(name, value)
        else:
            for name, value in pairs_from_line(cell).items():
                found.setdefault(name, value)
        i += 1
    return found


def _has_colon(text: str) -> bool:
    """A colon, ASCII or full-width: what every `label：value` pattern requires. Most lines have
    none, and the substring tests cost far less than the label alternation's scan."""
    return ":" in text or "：" in text


def pairs_from_line(line: str) -> dict[str, str]:
    """Inline `key：value` pairs of one short line (pipe rows go through the cell pairing)."""
    if "|" in line:
        return pairs_from_cells(line.split("|"))
    found: dict[str, str] = {}
    if len(line) > 160 or not _has_colon(line):
        return found  # every label pattern ends in a colon
    pattern = _INLINE_GLUED if _OPENS_WITH_LABEL.match(line.strip()) else _INLINE
    for m in pattern.finditer(line.strip()):
        name = _key_field(m.group("key"))
        if name:
            value = _clean_value(name, m.group("val"))
            if value is not None:
                found.setdefault(name, value)
    return found


def is_metadata_line(line: str) -> bool:
    """True when a line is nothing but metadata labels and values (a kv row, not prose)."""
    if len(line) > 160:
        return False
    if "|" in line:
        cells = [c.strip() for c in line.split("|") if c.strip()]
        return bool(cells) and (
            _KEY_CELL.match(cells[0]) is not None or _INLINE.match(cells[0]) is not None
        )
    if not _has_colon(line):
        return False  # both patterns below need a label's colon
    text = line.strip()
    if _INLINE.match(text):
        return True
    return _OPENS_WITH_LABEL.match(text) is not None and bool(pairs_from_line(text))


def _label_kind(cell: str) -> str | None:
    """ "strong" for a cell naming a metadata field, "weak" for a bare 时间/日期, else None."""
    m = _KEY_CELL.match(cell) or _INLINE.match(cell)
    if m is None:
        return None
    return "weak" if remove_whitespace(m.group("key")) in _WEAK_LABELS else "strong"


def _field_label_possible(text: str) -> bool:
    r"""False when a table with this text (`text_of(table)`) cannot have a cell opening with a
    label other than a bare 时间/日期, so that it cannot be a key–value table.

    A cell's label is in the table's text: cells are contiguous in it, and the labels' `\s*`
    match the raw whitespace `norm_space` collapses (not the zero-width characters it turns into
    spaces: with those the answer is True). The labels found are non-overlapping, and no label
    starts inside a 时间/日期, so a 时间/日期 found never hides another label."""
    labels = [m.group() for m in _ANY_KEY.finditer(text)]
    if not labels:
        return False
    if "\u200b" in text or "\ufeff" in text:
        return True
    return any(remove_whitespace(label) not in _WEAK_LABELS for label in labels)


def table_pairs(table: HtmlElement) -> dict[str, str]:
    """Fields of a key–value table; {} unless it carries at least two known labels."""
    found: dict[str, str] = {}
    if not _field_label_possible(text_of(table)):
        return found  # statistics and layout tables: skip the per-cell work
    # Each cell's text once, whitespace collapsed (what `pairs_from_cells` makes of it too); a
    # childless cell is its own `.text`.
    rows = [
        [norm_space(text_of(c) if len(c) else c.text) for c in tr if c.tag in ("td", "th")]
        for tr in table.iter("tr")
    ]
    kinds = Counter(_label_kind(cell) for cells in rows for cell in cells)
    # Bare 时间/日期 count only beside a real label: alone they are a table's column heads.
    labels = kinds["strong"] + (kinds["weak"] if kinds["strong"] else 0)
    if labels < 2:
        return found  # not a key–value table: its pairs would be discarded
    for cells in rows:
        for name, value in pairs_from_cells(cells).items():
            found.setdefault(name, value)
    return found


def metadata_tables(root: HtmlElement) -> list[HtmlElement]:
    """Tables that are metadata blocks (not the report's statistics tables)."""
    return [table for table, _ in metadata_table_pairs(root)]


def metadata_table_pairs(root: HtmlElement) -> list[tuple[HtmlElement, dict[str, str]]]:
    """(table, `table_pairs(table)`) of each table that is a metadata block. (Tables nest in
    none of these: dropping one leaves the others' pairs as they are.)"""
    found: list[tuple[HtmlElement, dict[str, str]]] = []
    for table in root.iter("table"):
        if table.find(".//table") is None and (pairs := table_pairs(table)):
            found.append((table, pairs))
    return found


def meta_tags(root: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    names = {
        "articletitle": "title",
        "pubdate": "publish_date",
        "contentsource": "source",
        "columnname": "category",
    }
    for meta in root.iter("meta"):
        name = names.get((meta.get("name") or "").strip().lower())
        if name and name not in found:
            value = _clean_value(name, meta.get("content") or "")
            if value is not None:
                found[name] = value
    return found


_HEADER_COUNTER = re.compile(r"评论|点击|浏览|阅读|访问")
# What a header line opens with: 发布时间/发布日期, or a 19xx/20xx year.
_HEADER_FIRST = frozenset("发12")


def header_line(line: str) -> dict[str, str]:
    """publish_date and source from a news-system header line."""
    if line[:1] not in _HEADER_FIRST:
        return {}  # most lines: the pattern cannot start there
    m = _HEADER.match(line)
    if not m or ("来源" not in line and not _HEADER_COUNTER.search(line)):
        return {}
    found: dict[str, str] = {}
    date = parse_date(m.group("date"))
    if date:
        found["publish_date"] = date
    if m.group("source"):
        found["source"] = m.group("source")
    return found


# A website ("…门户网站", "…政府网") names where the page is, not who wrote it.
_WEBSITE_SUFFIX = re.compile(r"(?:网站|门户|网)$")


_DIGIT = re.compile(r"\d")


def looks_like_agency(line: str) -> bool:
    return (
        2 <= len(line) <= 40
        and not _SENTENCE_PUNCT.search(line)
        and not _DIGIT.search(line)
        and _AGENCY_SUFFIX.search(line) is not None
        and _WEBSITE_SUFFIX.search(line) is None
    )


_DATE_TEXT = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|"
    r"[〇○零OＯ0一二三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,3}\s*月"
    r"\s*[一二三四五六七八九十]{1,3}\s*[日号]"
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def date_only(line: str) -> str | None:
    """The date of a line that holds a date and nothing else."""
    dates = find_dates(line)
    if len(dates) != 1:
        return None
    rest = _DATE_TEXT.sub("", line.translate(_FULLWIDTH_DIGITS))
    return dates[0] if not rest.strip(" 　()（）") else None


_AGENCY_THEN_DATE = re.compile(r"^(\S{2,40}?)\s+(\S.*)$")


def signoff(lines: list[str]) -> tuple[str | None, str | None]:
    """(agency, ISO date) of the sign-off among the last lines of the body."""
    tail = lines[-5:]
    for idx in range(len(tail) - 1, -1, -1):
        line = tail[idx]
        date = date_only(line)
        if date is None:
            # "鲤城区人民政府 2021年1月6日" on one line
            m = _AGENCY_THEN_DATE.match(line)
            if m and looks_like_agency(m.group(1)) and date_only(m.group(2)):
                return m.group(1), date_only(m.group(2))
            continue
        agency = tail[idx - 1] if idx > 0 and looks_like_agency(tail[idx - 1]) else None
        return agency, date
    return None, None


def credit_code_ok(code: str) -> bool:
    """True when `code` is an 18-character unified social credit code with a valid check code."""
    code = code.upper()
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        return False
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


def region_from_index(index_no: str | None) -> str | None:
    """The 6-digit division code an 索引号 starts with: `330803-042/…`, or the division part of a
    unified credit code prefix (`113416230032458768/2020-00012` → 341623, check code verified so
    an arbitrary 18-character serial is not read as a region)."""
    m = _REGION_PREFIX.match(index_no or "")
    if m:
        return m.group(1)
    m = _CREDIT_PREFIX.match((index_no or "").upper())
    return m.group(2) if m and credit_code_ok(m.group(1)) else None


def merge(
    tables: Iterable[dict[str, str]],
    text_pairs: Iterable[dict[str, str]],
    meta: dict[str, str],
    headers: Iterable[dict[str, str]],
    signoff_pair: tuple[str | None, str | None],
    region_hint: str | None = None,
) -> Metadata:
    """Merge the sources in the documented precedence (first source with a value wins)."""
    md = Metadata()
    ordered: list[tuple[str, dict[str, str]]] = [("table", d) for d in tables]
    ordered += [("text", d) for d in text_pairs]
    ordered.append(("meta", meta))
    ordered += [("header", d) for d in headers]
    agency, date = signoff_pair
    ordered.append(("signoff", {"written_date": date} if date else {}))
    for source, pairs in ordered:
        for name, value in pairs.items():
            if name not in md.values:
                md.values[name] = value
                md.sources[name] = source
    md.signoff_agency = agency
    md.region_code, md.region_conflict = resolve_region(
        region_from_index(md.values.get("index_no")), region_hint
    )
    return md


# Division codes are two digits each for province, prefecture and county; a higher level's
# code ends in "00" pairs (440000 province, 440100 prefecture, 440103 county).
_LEVEL_PAD = "00"


def _region_prefix(code: str) -> str:
    while code.endswith(_LEVEL_PAD) and len(code) > len(_LEVEL_PAD):
        code = code[: -len(_LEVEL_PAD)]
    return code


def region_within(inner: str, outer: str) -> bool:
    """True when division `inner` is `outer` or lies inside it (440103 within 440100, 440000)."""
    return inner.startswith(_region_prefix(outer))


def resolve_region(from_index: str | None, hint: str | None) -> tuple[str | None, bool]:
    """(region code, conflict): the registry's code unless the 索引号's agrees with it."""
    if not hint or not from_index:
        return hint or from_index, False
    if region_within(from_index, hint):
        return from_index, False  # the 索引号 is as or more specific
    if region_within(hint, from_index):
        return hint, False
    return hint, True
