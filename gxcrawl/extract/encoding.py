"""Turn raw response bytes into text, the way a browser would.

Chinese government sites often serve GB2312/GBK with a missing or wrong charset header, so the
header is only one witness: BOM, then header, then `<meta charset>`, then content sniffing
(w3lib's `html_to_unicode` implements that order and maps gb2312/gbk to the gb18030 superset).
A declaration (header or `<meta>`) that does not fit the bytes is distrusted: templates get copied
between sites, so a GBK page saying `<meta charset="utf-8">` is common.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    read_bom,
    resolve_encoding,
)

_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312"})


def _strict_ok(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _nearly_ok(body: bytes, encoding: str) -> bool:
    """Decodes with at most a stray bad byte sequence per 2,000 characters.

    Real pages carry the odd broken byte (a truncated character in a CMS excerpt); a wrong
    encoding breaks nearly every non-ASCII character instead.
    """
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        return False
    # (The latin-1 reading of the bytes once subtracted here as a baseline never holds one.)
    bad = text.count("\ufffd")
    return bad <= max(2, len(text) // 2000)


def _fits(body: bytes, encoding: str) -> bool:
    """Does a declared `encoding` plausibly describe `body`?

    It must decode the bytes (bar a stray broken sequence). A GB label on non-ASCII bytes that
    are (nearly) valid UTF-8 is a mislabel too: GB18030 decodes almost any byte string, but real
    GBK text is essentially never valid UTF-8, so valid UTF-8 is the stronger witness.
    """
    if not _nearly_ok(body, encoding):
        return False
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return not (name in _GB_FAMILY and not body.isascii() and _nearly_ok(body, "utf-8"))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used).

    A charset header that does not fit the body (a GBK page labelled UTF-8) is distrusted in
    favour of the page's own `<meta>` declaration; a `<meta>` declaration that does not fit
    either gives way to sniffing.
    """
    header = content_type or ""
    if header and "charset" in header.lower():
        declared = resolve_encoding(header.lower().split("charset=")[-1].split(";")[0].strip())
        if declared and not _fits(body, declared):
            header = ""  # the header lies; fall back to meta / sniffing
    if "charset" not in header.lower() and read_bom(body)[0] is None:
        meta = html_body_declared_encoding(body)
        meta_enc = resolve_encoding(meta) if meta else None
        if meta_enc and not _fits(body, meta_enc):
            sniffed = _sniff(body)
            if sniffed:  # the meta declaration lies as well: go by the bytes
                return body.decode(sniffed), codecs.lookup(sniffed).name
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
