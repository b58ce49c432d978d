"""Scrapy Responses from saved pages: the raw bytes and the headers a server sent, never a
re-encoding (GBK bodies behind missing or wrong charsets stay as they are).

    response = portal_response(Path("fixtures/portals/trs"), "/xxgk/ndbg/", "http://p.example",
                               meta={"kind": "list", "portal": "fixture-trs"})
    items = list(spider.parse_list(response))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from gxcrawl.testing.fixtureserver import served_file

HEADERS_SIDECAR = ".headers.json"  # NAME.html + NAME.headers.json, the format of fixtures/pages


def file_response(
    path: Path,
    url: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    status: int = 200,
    meta: dict[str, Any] | None = None,
) -> Response:
    """A Response holding the file's bytes. URL and headers default to the `NAME.headers.json`
    beside the file (`{"url": …, "headers": {…}}`); the Response class follows the headers."""
    path = Path(path)
    saved = _sidecar(path)
    url = url or saved.get("url")
    if not url:
        raise ValueError(f"no URL for {path}: pass url= or save {path.stem}{HEADERS_SIDECAR}")
    headers = dict(headers if headers is not None else saved.get("headers", {}))
    return _response(url, path.read_bytes(), headers, status, meta)


def portal_response(
    portal_dir: Path,
    path: str,
    base_url: str,
    *,
    status: int = 200,
    meta: dict[str, Any] | None = None,
) -> Response:
    """The Response the fixture server would give for `path` of a fixture portal folder."""
    found, content_type = served_file(portal_dir, path)
    return _response(
        base_url + path, found.read_bytes(), {"Content-Type": content_type}, status, meta
    )


def _sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_name(path.stem + HEADERS_SIDECAR)
    if not sidecar.is_file():
        return {}
    data = json.loads(sidecar.read_text("utf-8"))
    return data if isinstance(data, dict) else {}


def _response(
    url: str, body: bytes, headers: dict[str, str], status: int, meta: dict[str, Any] | None
) -> Response:
    raw_headers = Headers(headers)
    cls = responsetypes.from_args(headers=raw_headers, url=url, body=body)
    return cls(url, status=status, body=body, headers=raw_headers, request=Request(url, meta=meta))
