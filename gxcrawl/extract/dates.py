"""Chinese date strings to ISO `YYYY-MM-DD`.

Pages print dates as `2021-01-06 00:00:00`, `2021年1月6日`, `2020.12.29`, `2020/12/29`, in
full-width digits, and in sign-offs as Chinese numerals (`二〇二一年一月六日`, with either of
the two look-alike zero characters). A regex fast path handles all of these without dateparser,
which is slow (~ms per call) and returns None for Chinese-numeral years; dateparser stays as the
fallback for whatever else a page prints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import lru_cache

# Full-width digits and separators to ASCII so one regex covers both.
_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．：", "0123456789-/.:")
_HAS_FULLWIDTH = re.compile("[０１２３４５６７８９－／．：]")

# 〇 and ○ (and 零, Latin O, full-width Ｏ) all stand for zero in written years.
_CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "O": 0, "Ｏ": 0, "0": 0,
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_DIGIT_CLASS = "〇○零OＯ0一二三四五六七八九"

_NUMERIC = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)"
)
_YEAR_LED = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*(?:[-/.]|年)\s*\d")
_CHINESE = re.compile(
    rf"([{_CN_DIGIT_CLASS}]{{4}})\s*年\s*([一二三四五六七八九十]{{1,3}})\s*月"
    rf"\s*([一二三四五六七八九十]{{1,3}})\s*[日号]"
)


_DIGIT = re.compile(r"\d")


def _cn_small(text: str) -> int | None:
    """一 … 三十一 (month/day numerals) to int."""
    if "十" not in text:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
    return value + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _iso(year: int, month: int | None, day: int | None) -> str | None:
    if month is None or day is None:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:  # 2021-02-30 and the like: never return an impossible date
        return None


def _fast(text: str) -> Iterator[tuple[int, str]]:
    """(position, iso) for every date the regexes find."""
    # `translate` costs a dict look-up per character: only when there is something to map.
    norm = text.translate(_FULLWIDTH) if _HAS_FULLWIDTH.search(text) else text
    # Substring tests first: each pattern needs its century digits or its 年, and most texts
    # hold neither.
    if "19" in norm or "20" in norm:
        for m in _NUMERIC.finditer(norm):
            iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if iso:
                yield m.start(), iso
    if "年" not in norm:
        return
    for m in _CHINESE.finditer(norm):
        year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        iso = _iso(year, _cn_small(m.group(2)), _cn_small(m.group(3)))
        if iso:
            yield m.start(), iso


def find_dates(text: str) -> list[str]:
    """Every date in `text` found by the fast path, in order of appearance."""
    return [iso for _, iso in sorted(_fast(text))]


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO `YYYY-MM-DD`, or None.

    Fast path first; dateparser (Chinese) only for short strings the regexes do not read, and only
    when it yields a complete day-month-year.
    """
    if not text:
        return None
    found = find_dates(text)
    if found:
        return found[0]
    stripped = text.strip()
    norm = stripped.translate(_FULLWIDTH)
    # A year-led numeric form the fast path rejected is malformed (2021年13月1日): dateparser
    # would "repair" it into a wrong date.
    if len(norm) > 40 or not _DIGIT.search(norm) or _YEAR_LED.search(norm):
        return None
    return _dateparser(norm)


@lru_cache(maxsize=1024)
def _dateparser(text: str) -> str | None:
    import dateparser  # imported lazily: slow to load and rarely needed

    parsed = dateparser.parse(
        text,
        languages=["zh"],
        settings={"REQUIRE_PARTS": ["day", "month", "year"], "STRICT_PARSING": True},
    )
    if parsed is None or not 1900 <= parsed.year <= 2100:
        return None
    return parsed.date().isoformat()
