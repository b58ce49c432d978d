"""Whitespace helpers shared by extraction, the platforms and the commands. Pure: str in, str
out. (The one tolerant HTML parse is `gxcrawl.extract.sanitize.parse_document`.)"""

from __future__ import annotations

import re

__all__ = ["collapse_whitespace", "remove_whitespace"]

# Unicode whitespace (full-width and no-break spaces included) and the zero-width characters
# Word exports and CMS editors scatter through Chinese text.
_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")


def collapse_whitespace(text: str | None) -> str:
    """Runs of whitespace (full-width spaces and line breaks too) as one space, ends trimmed."""
    return _WHITESPACE.sub(" ", text or "").strip()


def remove_whitespace(text: str | None) -> str:
    """All whitespace removed: for comparing Chinese labels and counting visible characters."""
    return _WHITESPACE.sub("", text or "")
