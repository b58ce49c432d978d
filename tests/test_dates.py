"""Chinese date forms to ISO."""

from __future__ import annotations

import pytest

from gxcrawl.extract.dates import find_dates, parse_date


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("二〇二一年一月六日", "2021-01-06"),
        ("二○二一年一月六日", "2021-01-06"),
        ("二零二一年十二月三十一日", "2021-12-31"),
        ("二〇二三年十月二十日", "2023-10-20"),
        ("2020.12.29", "2020-12-29"),
        ("2020/12/29", "2020-12-29"),
        ("2021-01-06 00:00:00", "2021-01-06"),
        ("2021年1月6日", "2021-01-06"),
        ("2021 年 1 月 6 日", "2021-01-06"),
        ("２０２１年１月６日", "2021-01-06"),
        ("２０２１－０１－０６", "2021-01-06"),
        ("填报日期:2020.12.29", "2020-12-29"),
        ("发布时间：2023-01-18 10:21", "2023-01-18"),
    ],
)
def test_parse_date_forms(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "",
        "无",
        "2021-02-30",
        "2021年13月1日",
        "二〇二一年二月三十日",
        "2021年1月",
        "第20条",
        "12345",
    ],
)
def test_parse_date_rejects_impossible_or_partial(text: str) -> None:
    assert parse_date(text) is None


def test_dateparser_fallback_reads_other_forms() -> None:
    # Not a fast-path form: day before month; dateparser (zh) handles it.
    assert parse_date("6 1月 2021") == "2021-01-06"


def test_find_dates_in_order() -> None:
    text = "统计期限自2019年1月1日起至二〇一九年十二月三十一日止，填报日期2020.01.05"
    assert find_dates(text) == ["2019-01-01", "2019-12-31", "2020-01-05"]
