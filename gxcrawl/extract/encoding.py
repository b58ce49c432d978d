"""Turn raw response bytes into text, the way a browser would.

Chinese government sites often serve GB2312/GBK with a missing or wrong charset header, so the
header is only one witness: BOM, then header, then `<meta charset>`, then content sniffing
(w3lib's `html_to_unicode` implements that order and maps gb2312/gbk to the gb18030 superset).
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding


def _strict_ok(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used).

    A charset header that does not decode the body cleanly (a GBK page labelled UTF-8) is
    distrusted in favour of the page's own `<meta>` declaration or, failing that, sniffing.
    """
    header = content_type or ""
    if header and "charset" in header.lower():
        declared = resolve_encoding(header.lower().split("charset=")[-1].split(";")[0].strip())
        if declared and not _strict_ok(body, declared):
            header = ""  # the header lies; fall back to meta / sniffing
    encoding, text = html_to_unicode(header or None, body, auto_detect_fun=_sniff)
    return text, codecs.lookup(encoding).name


def _sniff(body: bytes) -> str | None:
    for candidate in ("utf-8", "gb18030"):
        if _strict_ok(body, candidate):
            return candidate
    return None


def declared_encoding(body: bytes) -> str | None:
    """The encoding a page declares in its own markup, if any."""
    return html_body_declared_encoding(body)
