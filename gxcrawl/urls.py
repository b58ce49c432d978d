"""Canonical document URLs: the identity of a document in the store.

Two spellings of one page (query parameters in another order, a `#fragment`, an upper-case host,
a default port) are one document. POST feeds (Hanweb's dataproxy) keep one document per form body,
marked in the fragment, since their URL alone does not say which page was asked for.
"""

from __future__ import annotations

import hashlib

from w3lib.url import canonicalize_url


def canonical_url(url: str, method: str = "GET", body: bytes = b"") -> str:
    canonical = canonicalize_url(url, keep_fragments=False)
    if method.upper() == "POST":
        canonical += "#post-" + hashlib.sha256(body).hexdigest()[:16]
    return canonical
