"""What spiders yield: one PageItem per response or failed request, raw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class PageItem:
    url: str  # the URL asked for: the document's identity
    kind: str  # list | report | attachment
    portal_id: str | None
    method: str = "GET"
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    fetched_at: dt.datetime | None = None
    link_title: str | None = None
    parent_url: str | None = None
    # content | not_modified | blocked | soft_404 | gone | redirected | error
    disposition: str = "content"
    reason: str | None = None
    conditional: bool = False
