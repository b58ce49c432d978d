"""Is this title a 政府信息公开工作年度报告? Pure string rules, no I/O.

Real titles vary a lot (年/年度, 年报, 工作报告, 政务公开年度报告, Chinese-numeral years, agency
before or after the year, （图解）/（PDF） suffixes, site names appended by `<title>`), and the
look-alikes share most of their words: notices about compiling/submitting the reports, 政府工作报告,
工作要点, 统计公报, budgets. So the classifier first rules out the look-alikes by their own
markers, then requires a year next to a disclosure-report phrase.

`reason` is machine-readable: "report" for positives; a specific reason for negatives that look
like a report; exactly "unrelated" when the title has no report-like word at all (the spider
counts every other negative as a rejected look-alike).
"""

from __future__ import annotations

import re
import unicodedata

from gxcrawl.extract.types import TitleVerdict
from gxcrawl.textutil import collapse_whitespace

__all__ = ["classify_title", "is_candidate", "normalize_title", "parse_year"]

_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "o": 0,
    "0": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_YEAR_CHARS = "0-9〇○零Oo一二三四五六七八九"
_YEAR = rf"(?P<year>[{_YEAR_CHARS}]{{4}})"
_YEAR_UNIT = r"(?:年度|年)"

# 政府信息公开 / 政务公开 / 信息公开 + optional 工作/情况/年度 + 报告/年报.
_DISCLOSURE = r"(?:政府信息|政务信息|政务|信息)公开"
_PHRASE = rf"{_DISCLOSURE}(?:工作)?(?:情况)?的?(?:年度)?(?:工作)?(?:情况)?的?(?:报告|年报)"
_PHRASE_RE = re.compile(_PHRASE)

# <agency><year>年(度)<maybe agency><phrase>
_YEAR_FIRST = re.compile(
    rf"^(?P<pre>.*?){_YEAR}{_YEAR_UNIT}(?P<mid>.{{0,30}}?)(?P<phrase>{_PHRASE})"
)
# <agency><phrase>(<year>年度)
_YEAR_LAST = re.compile(rf"^(?P<pre>.*?)(?P<phrase>{_PHRASE})[(\[【]?{_YEAR}{_YEAR_UNIT}?[)\]】]?$")

# What may follow the phrase: a year or a publication date, "(2021年度)", "（2021年1月）".
_DATE_TAIL = re.compile(r"[(\[【]?\d{4}[年./-]?(?:度|\d{1,2}[月./-]?(?:\d{1,2}日?)?)?[)\]】]?")

# "…年度报告-鲤城区人民政府": a site name glued on by the page's <title>.
_SITE_TAIL = re.compile(r"^[-—–_|｜]+\S*(?:政府|门户|网站|网|局|委|办|厅|部|院|中心|街道|镇|乡)$")

# Decorations that do not change what the document is.
_DECOR_SUFFIX = re.compile(
    r"(?:[(\[【](?:图解|图文|PDF版?|pdf版?|WORD版?|word版?|DOCX?|docx?|WPS|wps|全文|附件|文字版|"
    r"正式版)[)\]】]|\.(?:pdf|docx?|wps|html?|shtml)|(?<![.。…])[.。…]+)$"
)
_DECOR_PREFIX = re.compile(
    r"^(?:[(\[【](?:图解|图文|PDF|pdf|附件|最新|置顶|新)[)\]】]|图解[:：]|附件\d*[:：])"
)

# A report revised or re-published in place is still the report: 修订稿, 更正版, (更新), 第二版,
# 重新发布, … in brackets anywhere, or plain right before/after the title. "的" before the word
# ("…年度报告的更正") makes it a statement *about* the report, which the notice markers catch.
_REVISION_WORD = (
    r"(?:(?:已|再次)?(?:修订|修正|更正|更新|调整|修改|勘误)(?:后|稿|版|本)?|重新发布|再次发布|"
    r"重新公开|重发|第[二三四五六七八九2-9]版|新版|最新版|终稿|定稿|正式稿|修订稿)"
)
_REVISION_DATE = r"(?:\d{4}(?:年|[./-])?(?:\d{1,2}(?:月|[./-])?(?:\d{1,2}日?)?)?)?"
_REVISION_BRACKET = re.compile(
    rf"[(\[【〔]{_REVISION_DATE}{_REVISION_WORD}{_REVISION_DATE}[)\]】〕]"
)
_REVISION_SUFFIX = re.compile(rf"(?<!的)[-—_]?{_REVISION_WORD}$")
# Plain prefixes only with a colon, or words that cannot start an agency name.
_REVISION_PREFIX = re.compile(
    rf"^(?:{_REVISION_WORD}[:：]|(?:修订稿|修订版|更正版|更正稿|重新发布|再次发布)(?=\S))"
)

# Look-alike markers, checked in order; the first hit names the reason.
_INTERPRETATION = re.compile(r"解读|一图读懂|图读|读懂|问答")
_EVALUATION = re.compile(r"评估|考核|测评|检查|抽查|排名|督查|评议|核查|第三方")
_NOTICE = re.compile(
    r"通知|通报|公告|公示|的函|函$|意见|批复|说明|更正|编制|报送|上报|提交|填报|发布工作|"
    r"做好|审核|格式|模板|范本|样本|培训|会议|部署|征集|调查|问卷|要求|提醒"
)
_REPORTISH = re.compile(r"报告|年报|报表|公报|要点|总结|预算|决算")
_NEGATIVE_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("government_work_report", re.compile(r"政府工作报告|政府工作的报告")),
    ("work_points", re.compile(r"要点")),
    ("work_summary", re.compile(r"总结")),
    ("statistical_bulletin", re.compile(r"公报")),
    ("budget", re.compile(r"预算|决算|三公经费")),
    ("rule_of_law_report", re.compile(r"法治政府|依法行政")),
    ("website_report", re.compile(r"报表")),
)

# `<title>` often appends the site: "…年度报告_鲤城区人民政府" or "… - XX市人民政府".
_SEGMENT_SPLIT = re.compile(r"\s*[_|｜]\s*|\s+[-–—]{1,2}\s+")
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_TRUNCATION = re.compile(r"(?:\.{2,}|…+|。{2,})$")


def normalize_title(title: str) -> str:
    """NFKC (full-width digits and brackets to ASCII), no spaces next to CJK, trimmed."""
    text = unicodedata.normalize("NFKC", title or "")
    text = collapse_whitespace(text)
    return _CJK_SPACE.sub("", text)


def parse_year(token: str) -> int | None:
    """'2020' or '二〇二〇' → 2020; None outside 1990–2099 (not a report year)."""
    if len(token) != 4:
        return None
    try:
        value = int("".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS else c for c in token))
    except (KeyError, ValueError):
        return None
    return value if 1990 <= value <= 2099 else None


def _strip_decorations(text: str) -> str:
    text = _REVISION_BRACKET.sub("", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = _DECOR_SUFFIX.sub("", text).strip()
        text = _DECOR_PREFIX.sub("", text).strip()
        text = _REVISION_SUFFIX.sub("", text).strip()
        text = _REVISION_PREFIX.sub("", text).strip()
    return text


_ABOUT_SUFFIX = re.compile(r"关于$")
_YEAR_WITH_UNIT = re.compile(rf"{_YEAR}{_YEAR_UNIT}")
_OTHER_DISCLOSURE = re.compile(r"环境信息公开|企业年报|企业年度报告|社会责任")


def _clean_agency(raw: str) -> str | None:
    agency = raw.strip(" :：,，、-—_()[]【】")
    agency = _ABOUT_SUFFIX.sub("", agency).strip()
    if agency.endswith("人民"):  # the phrase ate the 政府 of 人民政府
        agency += "政府"
    return agency or None


def _any_year(text: str) -> int | None:
    for match in _YEAR_WITH_UNIT.finditer(text):
        year = parse_year(match.group("year"))
        if year is not None:
            return year
    return None


def _match_report(text: str) -> tuple[int, str | None] | None:
    """(year, agency) when the whole segment is a report title, else None."""
    for match in _YEAR_FIRST.finditer(text):
        year = parse_year(match.group("year"))
        if year is None:
            continue
        tail = text[match.end() :]
        if tail and not (_DATE_TAIL.fullmatch(tail) or _SITE_TAIL.match(tail)):
            return None  # something follows the phrase: not a bare report title
        pre, mid = match.group("pre"), match.group("mid")
        # "2020年XX局政府信息公开…" puts the agency after the year; words like 工作总结 there
        # ("2020年工作总结和…报告") mean this is not a bare report title.
        if _REPORTISH.search(mid):
            return None
        agency = _clean_agency(pre) or _clean_agency(mid)
        return year, agency
    last = _YEAR_LAST.match(text)
    if last:
        year = parse_year(last.group("year"))
        if year is not None:
            return year, _clean_agency(last.group("pre"))
    return None


def _classify_segment(segment: str) -> TitleVerdict:
    text = _strip_decorations(segment)
    year = _any_year(text)
    reportish = bool(_REPORTISH.search(text))
    about_report = bool(_PHRASE_RE.search(text)) or "年度报告" in text or "年报" in text
    if not reportish:
        return TitleVerdict(False, year, None, "unrelated")
    if _INTERPRETATION.search(text):
        return TitleVerdict(False, year, None, "interpretation")
    if about_report and _EVALUATION.search(text):
        return TitleVerdict(False, year, None, "evaluation")
    if about_report and _NOTICE.search(text):
        return TitleVerdict(False, year, None, "notice_about_report")
    if _OTHER_DISCLOSURE.search(text):
        return TitleVerdict(False, year, None, "other_report")  # enterprise disclosures
    found = _match_report(text)
    if found is not None:
        return TitleVerdict(True, found[0], found[1], "report")
    if _PHRASE_RE.search(text) and year is None:
        return TitleVerdict(False, None, None, "no_year")
    for reason, pattern in _NEGATIVE_KINDS:
        if pattern.search(text):
            return TitleVerdict(False, year, None, reason)
    return TitleVerdict(False, year, None, "other_report")


# Real titles (with a site name glued on) stay under ~120 characters; past this a "title" is a
# paragraph or an injected blob, and reading only its start keeps the rules linear.
MAX_TITLE_CHARS = 300
_SPACES = re.compile(r"\s+")


def classify_title(title: str) -> TitleVerdict:
    """Classify a page or link title. Negatives carry the year when one is visible, never an
    agency."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", title or "")[:MAX_TITLE_CHARS])
    segments = [s for s in _SEGMENT_SPLIT.split(text) if s]
    verdicts = [_classify_segment(normalize_title(s)) for s in segments] or [
        TitleVerdict(False, None, None, "unrelated")
    ]
    for verdict in verdicts:
        if verdict.is_report:
            return verdict
    for verdict in verdicts:
        if verdict.reason != "unrelated":
            return verdict
    return verdicts[0]


# Prefixes a truncated anchor text may stop in the middle of.
_PHRASE_PREFIX_TARGETS = (
    "政府信息公开工作年度报告",
    "政务公开工作年度报告",
    "信息公开工作年度报告",
)
_CLEAR_LOOKALIKE = {
    "interpretation",
    "evaluation",
    "notice_about_report",
    "government_work_report",
    "work_points",
    "work_summary",
    "statistical_bulletin",
    "budget",
    "rule_of_law_report",
    "website_report",
}


def is_candidate(title: str) -> bool:
    """Looser test for following a list link whose anchor text may be truncated.

    True for reports, for report titles without a visible year (the detail page decides), and for
    truncated titles that stop inside the report phrase ("…2020年政府信息公..."); False for clear
    look-alikes and unrelated links.
    """
    verdict = classify_title(title)
    if verdict.is_report:
        return True
    if verdict.reason in _CLEAR_LOOKALIKE:
        return False
    text = normalize_title(title[:MAX_TITLE_CHARS])
    truncated = bool(_TRUNCATION.search(text))
    text = _strip_decorations(_TRUNCATION.sub("", text))
    if verdict.reason == "no_year" or (_PHRASE_RE.search(text) and not _NOTICE.search(text)):
        return True
    if not truncated:
        return False
    if re.search(_DISCLOSURE, text):
        return True
    # Cut right after the year or inside the phrase: "…2020年度政府信".
    match = re.search(rf"{_YEAR}{_YEAR_UNIT}(?P<tail>[^0-9]*)$", text)
    if match and parse_year(match.group("year")) is not None:
        tail = match.group("tail")
        return any(target.startswith(tail) for target in _PHRASE_PREFIX_TARGETS)
    return False
