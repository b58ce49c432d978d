"""Canonical document URLs."""

from __future__ import annotations

import pytest

from gxcrawl.urls import canonical_url


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://EX.example/nb/?b=2&a=1", "http://ex.example/nb/?a=1&b=2"),
        ("http://ex.example/nb/t1.html#top", "http://ex.example/nb/t1.html"),
        ("http://ex.example/年报/", "http://ex.example/%E5%B9%B4%E6%8A%A5/"),
    ],
)
def test_spellings_of_one_page_are_one_document(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_post_bodies_are_separate_documents() -> None:
    url = "http://ex.example/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90"
    one = canonical_url(url, "POST", b"columnid=1&unitid=2")
    two = canonical_url(url, "POST", b"columnid=3&unitid=2")
    assert one != two and one.startswith(canonical_url(url) + "#post-")
    assert canonical_url(url, "POST", b"columnid=1&unitid=2") == one
