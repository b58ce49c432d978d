"""Bytes to text: declarations (header, <meta>) are witnesses, checked against the bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gxcrawl.extract.encoding import declared_encoding, decode_html

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
TEXT = "衢江区机关事务保障中心2020年度政府信息公开工作年度报告"


def _page(meta: str, text: str = TEXT) -> str:
    return f"<html><head>{meta}<title>{text}</title></head><body><p>{text}</p></body></html>"


def test_gbk_bytes_under_a_utf8_meta_are_sniffed() -> None:
    body = _page('<meta charset="utf-8">').encode("gbk")
    for header in (None, "text/html"):
        text, encoding = decode_html(body, header)
        assert TEXT in text and "\ufffd" not in text
        assert encoding == "gb18030"


def test_utf8_bytes_under_a_gb_declaration_are_utf8() -> None:
    body = _page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode()
    for header in (None, "text/html"):
        text, encoding = decode_html(body, header)
        assert (TEXT in text, encoding) == (True, "utf-8")
    # The same lie in the header.
    text, encoding = decode_html(body, "text/html; charset=GBK")
    assert (TEXT in text, encoding) == (True, "utf-8")


@pytest.mark.parametrize(
    ("meta", "codec", "expected"),
    [
        ('<meta charset="gbk">', "gbk", "gb18030"),
        ('<meta charset="utf-8">', "utf-8", "utf-8"),
    ],
)
def test_truthful_meta_is_used(meta: str, codec: str, expected: str) -> None:
    text, encoding = decode_html(_page(meta).encode(codec), "text/html")
    assert (TEXT in text, encoding) == (True, expected)


def test_ascii_page_keeps_its_declared_encoding() -> None:
    body = b'<html><head><meta charset="gbk"></head><body>&#34892;</body></html>'
    assert decode_html(body, None)[1] == "gb18030"


def test_bom_beats_a_lying_meta() -> None:
    body = b"\xef\xbb\xbf" + _page('<meta charset="gbk">').encode()
    text, encoding = decode_html(body, None)
    assert TEXT in text and encoding == "utf-8"


def test_wrong_meta_charset_fixture_is_what_it_claims() -> None:
    body = (PAGES / "wrong_meta_charset.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert declared_encoding(body) == "utf-8"
    text, encoding = decode_html(body, "text/html")
    assert encoding == "gb18030"
    assert "广州市花都区人民政府办公室2021年政府信息公开工作年度报告" in text


def test_utf8_page_with_one_broken_byte_stays_utf8() -> None:
    body = ("<html><head><meta charset='utf-8'></head><body>"
            + "政府信息公开工作年度报告。" * 200 + "</body></html>").encode()  # fmt: skip
    body = body[:500] + b"\xe6" + body[500:]  # a truncated character in the middle
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert "政府信息公开工作年度报告" in text
