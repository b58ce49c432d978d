"""Canonical document URLs: the identity of a document in the store.

Two spellings of one page (query parameters in another order, a `#fragment`, an upper-case host,
a default port) are one document. POST feeds (Hanweb's dataproxy) keep one document per form body,
marked in the fragment, since their URL alone does not say which page was asked for.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from w3lib.url import canonicalize_url

# A fetched URL is canonicalised three times on its way (conditional middleware, due check,
# item); w3lib's canonicalisation is the slow part. Bounded: memory stays flat over a crawl.
_CANONICAL_CACHE = 2048


def canonical_url(url: str, method: str = "GET", body: bytes = b"") -> str:
    canonical = _canonical(url)
    if method.upper() == "POST":
        canonical += "#post-" + hashlib.sha256(body).hexdigest()[:16]
    return canonical


@lru_cache(maxsize=_CANONICAL_CACHE)
def _canonical(url: str) -> str:
    return canonicalize_url(url, keep_fragments=False)
