"""What spiders yield: one PageItem per response or failed request, raw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from gxcrawl.vocab import Disposition, DocumentKind


@dataclass
class PageItem:
    url: str  # the canonical form of the URL asked for: the document's identity
    kind: DocumentKind
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
    disposition: Disposition = Disposition.CONTENT
    reason: str | None = None
    conditional: bool = False
