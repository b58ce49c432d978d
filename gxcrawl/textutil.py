"""Text helpers shared by the platforms, the block-page check and extraction: whitespace
normalisation and a tolerant HTML parse. Pure: str in, str or tree out."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

__all__ = [
    "collapse_whitespace",
    "parse_html_document",
    "remove_whitespace",
    "strip_xml_declaration",
]

_WHITESPACE = re.compile(r"\s+")
# lxml refuses str input that carries an XML encoding declaration (XHTML pages, Hanweb feeds).
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def collapse_whitespace(text: str | None) -> str:
    """Runs of whitespace (full-width spaces and line breaks too) as one space, ends trimmed."""
    return _WHITESPACE.sub(" ", text or "").strip()


def remove_whitespace(text: str | None) -> str:
    """All whitespace removed: for comparing Chinese labels and counting visible characters."""
    return _WHITESPACE.sub("", text or "")


def strip_xml_declaration(html: str) -> str:
    return _XML_DECLARATION.sub("", html, count=1)


def parse_html_document(html: str | None) -> lxml.html.HtmlElement | None:
    """Tolerant parse of a whole document; None for empty or unparsable input."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(strip_xml_declaration(html))
    except (etree.ParserError, ValueError):
        return None
