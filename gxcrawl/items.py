"""What spiders yield: one PageItem per response or failed request, raw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class PageItem:
    url: str  # the canonical form of the URL asked for: the document's identity
    kind: str  # list | report | attachment
    portal_id: str | None
    method: str = "GET"
    requested_url: str | None = None  # as asked, before canonicalisation and redirects
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    encoding: str | None = None  # what the body was decoded with (HTML only)
    fetched_at: dt.datetime | None = None
    link_title: str | None = None
    parent_url: str | None = None
    # content | not_modified | blocked | soft_404 | gone | redirected | error
    disposition: str = "content"
    reason: str | None = None
    conditional: bool = False
