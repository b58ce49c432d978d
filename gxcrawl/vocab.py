"""The status vocabularies of the crawl, one StrEnum each.

Members are `str`s whose values are exactly what the database stores and the stats keys name
(`gxcrawl/outcome/<Outcome>`), so they compare equal to the plain strings read back from SQL and
format as their value in f-strings. Spell a status through these, never as a bare string.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """What a URL is to the crawl (`documents.kind`, a request's `meta["kind"]`)."""

    LIST = "list"  # a 年报 column page: followed for links, versioned, never parsed
    REPORT = "report"  # a report page (or a look-alike checked by its body)
    ATTACHMENT = "attachment"  # a file linked from a report page (PDF, DOC, …)
    OTHER = "other"  # seen, but none of the above


class Disposition(StrEnum):
    """What a response (or a failed request) turned out to be (`snapshots.disposition`)."""

    CONTENT = "content"
    NOT_MODIFIED = "not_modified"  # a 304, or a list page replayed from the store
    BLOCKED = "blocked"  # anti-bot challenge or WAF page
    SOFT_404 = "soft_404"  # a 200 that says "page not found"
    GONE = "gone"  # 404 / 410
    REDIRECTED = "redirected"  # a report URL that now redirects away (often to the home page)
    ERROR = "error"  # timeout, DNS, truncated body, HTTP 5xx, …


class Outcome(StrEnum):
    """The fetch log's verdict on one request (`fetches.outcome`)."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    GONE = "gone"
    SOFT_404 = "soft_404"
    BLOCKED = "blocked"
    REDIRECTED = "redirected"
    ERROR = "error"


class DocumentState(StrEnum):
    """Where a document stands after its latest fetch (`documents.state`)."""

    LIVE = "live"
    GONE = "gone"
    REDIRECTED = "redirected"
    BLOCKED = "blocked"  # never fetched with content: only block pages so far
    ERROR = "error"  # never fetched with content: only failures so far


class ChangeKind(StrEnum):
    """A classified change of a document (`changes.kind`)."""

    NEW = "new"
    EDITED = "edited"
    ATTACHMENT_CHANGED = "attachment_changed"
    REDIRECTED = "redirected"
    GONE = "gone"
    REAPPEARED = "reappeared"
    # A new version of a known report that extraction no longer calls a report, or that raised:
    # recorded so the views never show a stale version as current without saying so.
    NO_LONGER_REPORT = "no_longer_report"
    PARSE_FAILED = "parse_failed"


class ParseOutcome(StrEnum):
    """What extracting a stored snapshot made of it (`gxcrawl/parsed/<outcome>` stats)."""

    REPORT = "report"
    NOT_A_REPORT = "not_a_report"
    ATTACHMENT = "attachment"  # a file's text, stored; the page that links it is the report
    SKIPPED = "skipped"  # not a report page or a file (list pages are never parsed)
    FAILED = "failed"  # extraction raised; the raw snapshot is kept


def outcome_stat(outcome: Outcome) -> str:
    """The crawl-stats key counting fetches with this outcome (`scrapy runs` reads them back)."""
    return f"gxcrawl/outcome/{outcome}"


class RunStatus(StrEnum):
    """A crawl run's status (`crawl_runs.status`)."""

    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM, or the process vanished (kill -9)
    FAILED = "failed"
    UNHEALTHY = "unhealthy"  # finished, but a health check failed (reasons in its stats)
