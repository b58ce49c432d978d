"""Whitespace helpers shared by extraction, the platforms and the commands. Pure: str in, str
out. (The one tolerant HTML parse is `gxcrawl.extract.sanitize.parse_document`.)"""

from __future__ import annotations

import re

__all__ = ["collapse_whitespace", "remove_whitespace"]

# Unicode whitespace (full-width and no-break spaces included) and the zero-width characters
# Word exports and CMS editors scatter through Chinese text. The functions below split on
# `str.split()`'s whitespace, which is exactly `\s` here (same Unicode table): this pattern is
# the definition they are tested against, and several times slower than the split.
_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")
_ZERO_WIDTH = ("\u200b", "\ufeff")


def _spaced(text: str) -> str:
    """`text` with the zero-width characters as spaces, so that `str.split()` sees them."""
    if _ZERO_WIDTH[0] in text or _ZERO_WIDTH[1] in text:
        return text.replace(_ZERO_WIDTH[0], " ").replace(_ZERO_WIDTH[1], " ")
    return text


def collapse_whitespace(text: str | None) -> str:
    """Runs of whitespace (full-width spaces and line breaks too) as one space, ends trimmed."""
    return " ".join(_spaced(text).split()) if text else ""


def remove_whitespace(text: str | None) -> str:
    """All whitespace removed: for comparing Chinese labels and counting visible characters."""
    return "".join(_spaced(text).split()) if text else ""
