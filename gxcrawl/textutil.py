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


def collapse_whitespace(text: str | None) -> str:
    """Runs of whitespace (full-width spaces and line breaks too) as one space, ends trimmed."""
    if not text:
        return ""
    if "\u200b" in text or "\ufeff" in text:  # zero-width: spaces for `str.split()`
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def remove_whitespace(text: str | None) -> str:
    """All whitespace removed: for comparing Chinese labels and counting visible characters."""
    if not text:
        return ""
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", "").replace("\ufeff", "")
    return "".join(text.split())
