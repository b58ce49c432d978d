"""Scrapy's HTTP/1.1 download handler, noticing a body longer than its Content-Length.

Twisted's HTTP client reads exactly Content-Length bytes and drops whatever the server sent
beyond them, so a server whose Content-Length is smaller than its page hands the crawler half a
page that looks whole. The connection's protocol sees those extra bytes as they arrive with the
end of the body; it marks the response with a header (`EXTRA_BYTES_HEADER`) that the spider turns
into a `length_mismatch` failure. Extra bytes that arrive only later, on an idle connection, are
not seen (Twisted closes that connection).

Relies on the private classes Scrapy's own handler uses (`_LenientHTTP11ClientFactory`), as
pinned in pyproject.toml; enabled through DOWNLOAD_HANDLERS in settings.py.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
)

from gxcrawl.fetch_outcomes import EXTRA_BYTES_HEADER


class _LengthCheckingProtocol(_LenientHTTP11ClientProtocol):
    def _finishResponse_WAITING(self, rest: bytes) -> None:
        # `rest`: bytes the parser received past the response's declared end.
        parser = self._parser
        response = getattr(parser, "response", None) if parser is not None else None
        if rest and response is not None:
            response.headers.setRawHeaders(EXTRA_BYTES_HEADER.encode(), [str(len(rest)).encode()])
        super()._finishResponse_WAITING(rest)


class _LengthCheckingFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _LengthCheckingProtocol:
        del addr  # Twisted's signature; the protocol does not need the peer's address
        return _LengthCheckingProtocol(self._quiescentCallback)


class LengthCheckingDownloadHandler(HTTP11DownloadHandler):
    """HTTP11DownloadHandler whose connections mark bodies longer than their Content-Length."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._pool._factory = _LengthCheckingFactory
