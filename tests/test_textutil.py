"""Shared text helpers: one whitespace rule for every caller."""

from __future__ import annotations

from gxcrawl.extract.content import norm_space
from gxcrawl.textutil import collapse_whitespace, remove_whitespace


def test_whitespace_rules() -> None:
    assert collapse_whitespace("  政府信息\u3000公开\n\t年报  ") == "政府信息 公开 年报"
    assert collapse_whitespace(None) == ""
    assert remove_whitespace(" 索 引\u3000号：\n") == "索引号："


def test_zero_width_and_no_break_spaces_count_as_whitespace() -> None:
    assert collapse_whitespace("年度\u200b报告\ufeff\u00a0全文") == "年度 报告 全文"
    assert norm_space("\u200b 公开\u00a0\u00a0年报 ") == collapse_whitespace("公开 年报")
