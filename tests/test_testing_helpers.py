"""gxcrawl.testing.responses: Responses from saved pages keep the raw bytes and the headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from gxcrawl.testing.responses import file_response, portal_response

from .conftest import FIXTURES

PAGE = FIXTURES / "pages" / "wrong_meta_charset"
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def test_file_response_reads_the_headers_sidecar() -> None:
    saved = json.loads(PAGE.with_suffix(".headers.json").read_text("utf-8"))
    resp = file_response(PAGE.with_suffix(".html"), meta={"kind": "report"})
    assert isinstance(resp, HtmlResponse)
    assert resp.url == saved["url"]
    assert resp.body == PAGE.with_suffix(".html").read_bytes()  # not re-encoded
    assert resp.headers.get("Content-Type").decode() == saved["headers"]["Content-Type"]
    assert resp.meta["kind"] == "report"


def test_file_response_binary_file_is_not_html(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(PDF_BYTES)
    resp = file_response(
        pdf, "http://x.gov.cn/report.pdf", headers={"Content-Type": "application/pdf"}
    )

    # the class Scrapy's downloader would pick for these headers and bytes; never HTML
    assert not isinstance(resp, HtmlResponse) and resp.body == PDF_BYTES


def test_file_response_without_url_says_how_to_give_one(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(b"<html></html>")
    with pytest.raises(ValueError, match=r"headers\.json"):
        file_response(page)


def test_portal_response_sends_what_the_server_sends() -> None:
    resp = portal_response(FIXTURES / "portals" / "trs", "/xxgk/ndbg/index_2.html", "http://p.x")
    assert resp.url == "http://p.x/xxgk/ndbg/index_2.html"
    assert resp.headers.get("Content-Type") == b"text/html"  # _site.toml: no charset sent
    assert resp.body == (FIXTURES / "portals/trs/xxgk/ndbg/index_2.html").read_bytes()
    with pytest.raises(FileNotFoundError):
        portal_response(FIXTURES / "portals" / "trs", "/no/such/page.html", "http://p.x")
