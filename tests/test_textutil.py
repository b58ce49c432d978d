"""Shared text helpers: one whitespace rule, one tolerant parse for every caller."""

from __future__ import annotations

from gxcrawl.textutil import (
    collapse_whitespace,
    parse_html_document,
    remove_whitespace,
    strip_xml_declaration,
)


def test_whitespace_rules() -> None:
    assert collapse_whitespace("  政府信息\u3000公开\n\t年报  ") == "政府信息 公开 年报"
    assert collapse_whitespace(None) == ""
    assert remove_whitespace(" 索 引\u3000号：\n") == "索引号："


def test_xml_declaration_is_stripped_once_and_only_at_the_start() -> None:
    html = '<?XML version="1.0" encoding="gbk"?>\n<html><body><p>a <?xml ?></p></body></html>'
    assert strip_xml_declaration(html).startswith("\n<html>")
    assert "<?xml ?>" in strip_xml_declaration(html)


def test_parse_accepts_declared_encodings_and_refuses_nothing() -> None:
    root = parse_html_document('<?xml version="1.0" encoding="UTF-8"?><html><p>年报</p></html>')
    assert root is not None and root.text_content() == "年报"
    assert parse_html_document("") is None
    assert parse_html_document("   \n") is None
    assert parse_html_document(None) is None
