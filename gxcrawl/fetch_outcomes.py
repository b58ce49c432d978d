"""How a fetch ended, as pure functions: a response or an exception → disposition + reason.

The spider yields what these decide; the fetch log keeps the reason. Failures are classified by
exception class (Scrapy's download errors and the Twisted errors they wrap), never by matching
names or messages. The table of cases lives in `tests/test_fetch_outcomes.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import defer
from twisted.internet import error as txerror
from twisted.web._newclient import ResponseFailed
from twisted.web.http import _DataLoss

from gxcrawl.extract.blocks import REFUSAL_STATUSES, TITLE_THIN_CHARS, classify_fetch, own_text
from gxcrawl.extract.sanitize import MAX_ELEMENTS
from gxcrawl.textutil import remove_whitespace
from gxcrawl.vocab import Disposition, DocumentKind

MAX_REASON_CHARS = 300  # a fetch-log reason is a line for a person, not a traceback
GONE_STATUSES = (404, 410)
NOT_MODIFIED = 304
FIRST_ERROR_STATUS = 400  # 4xx and 5xx that are neither gone nor blocked are errors


class NotDue(IgnoreRequest):
    """The page was checked recently enough: no request this run."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already visited in the same chain."""


class RedirectLimit(IgnoreRequest):
    """A chain of redirects to ever new URLs longer than REDIRECT_MAX_TIMES."""


class RobotsDisallowed(IgnoreRequest):
    """robots.txt forbids the URL: never fetched, but the request is recorded."""


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host outside the portal's allowed domains: recorded as `redirected`."""

    def __init__(self, target: str) -> None:
        super().__init__(f"redirected to {target} (offsite: not fetched)")
        self.target = target


# Exceptions that end a request without a download but still leave a `fetches` row.
RECORDED_IGNORES: tuple[type[IgnoreRequest], ...] = (RedirectLoop, RedirectLimit, RobotsDisallowed)


class FailureReason(StrEnum):
    """The stable first word of a failed fetch's reason (and its `gxcrawl/errors/…` stat)."""

    TIMEOUT = "timeout"
    DNS = "dns"
    TRUNCATED = "truncated"
    REDIRECT_LOOP = "redirect_loop"
    TOO_LARGE = "too_large"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_LOST = "connection_lost"
    REDIRECT_LIMIT = "redirect_limit"
    ROBOTS_DISALLOWED = "robots_disallowed"
    LENGTH_MISMATCH = "length_mismatch"  # the body ended before the page did (Content-Length)
    SPIDER_ERROR = "spider_error"  # the spider's own parsing raised; the raw page is kept


# Exception classes → reason. Scrapy wraps Twisted's errors in its own (keeping the original as
# __cause__); both are listed so either spelling is classified.
_REASON_BY_CLASS: tuple[tuple[tuple[type[BaseException], ...], FailureReason], ...] = (
    (
        (DownloadTimeoutError, txerror.TimeoutError, txerror.TCPTimedOutError, defer.TimeoutError),
        FailureReason.TIMEOUT,
    ),
    ((CannotResolveHostError, txerror.DNSLookupError), FailureReason.DNS),
    ((ResponseDataLossError, _DataLoss), FailureReason.TRUNCATED),
    ((RedirectLoop,), FailureReason.REDIRECT_LOOP),
    ((RedirectLimit,), FailureReason.REDIRECT_LIMIT),
    ((RobotsDisallowed,), FailureReason.ROBOTS_DISALLOWED),
    # a compressed body that inflates past DOWNLOAD_MAXSIZE (a gzip bomb)
    ((_DecompressionMaxSizeExceeded,), FailureReason.TOO_LARGE),
    # DOWNLOAD_MAXSIZE cancels the download (Scrapy raises DownloadCancelledError)
    ((DownloadCancelledError, defer.CancelledError), FailureReason.TOO_LARGE),
    (
        (DownloadConnectionRefusedError, txerror.ConnectionRefusedError),
        FailureReason.CONNECTION_REFUSED,
    ),
    ((txerror.ConnectionLost,), FailureReason.CONNECTION_LOST),
    # a response that failed for a reason not named above: its body did not arrive whole
    ((ResponseFailed,), FailureReason.TRUNCATED),
)


class FailureAction(StrEnum):
    NOT_DUE = "not_due"  # skipped by the incremental middleware: nothing to record
    IGNORED = "ignored"  # robots.txt, offsite, …: never fetched, nothing to record
    RECORD = "record"  # a failed fetch: recorded with disposition `error` and a reason


@dataclass(frozen=True)
class FailureVerdict:
    action: FailureAction
    reason: str = ""  # "<FailureReason>: <Class>: <message>", or "<Class>: <message>"

    @property
    def stat_key(self) -> str:
        """The first word of the reason: a FailureReason, or the exception's class name."""
        return self.reason.split(":")[0]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the errors it wraps (ResponseFailed's reasons first), then its causes
    (`raise … from …`, as Scrapy wraps Twisted's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ResponseFailed):
            for inner in current.reasons:
                value = getattr(inner, "value", inner)
                if isinstance(value, BaseException):
                    yield value
        yield current
        current = current.__cause__


def _classified_cause(exc: BaseException) -> tuple[FailureReason, BaseException] | None:
    for cause in _causes(exc):
        for classes, reason in _REASON_BY_CLASS:
            if isinstance(cause, classes):
                return reason, cause
    return None


def failure_reason(exc: BaseException) -> FailureReason | None:
    found = _classified_cause(exc)
    return found[0] if found else None


# What an exception that says nothing means, by its reason (Scrapy cancels an oversize download
# with an empty DownloadCancelledError).
_SILENT_DETAIL = {FailureReason.TOO_LARGE: "download cancelled (over DOWNLOAD_MAXSIZE)"}


def classify_failure(exc: BaseException) -> FailureVerdict:
    """What a request's errback should do with `exc`, and the reason to record."""
    if isinstance(exc, NotDue):
        return FailureVerdict(FailureAction.NOT_DUE)
    found = _classified_cause(exc)
    if (
        isinstance(exc, IgnoreRequest)
        and not isinstance(exc, RECORDED_IGNORES)
        and (found is None or found[0] != FailureReason.TOO_LARGE)
    ):
        return FailureVerdict(FailureAction.IGNORED, str(exc))
    message = str(exc) or (_SILENT_DETAIL.get(found[0], "") if found else "")
    described = f"{type(exc).__name__}: {message}"
    if found is None:
        return FailureVerdict(FailureAction.RECORD, described[:MAX_REASON_CHARS])
    reason, cause = found
    if isinstance(cause, _DecompressionMaxSizeExceeded):
        described = f"decompressed: {described}"
    return FailureVerdict(FailureAction.RECORD, f"{reason}: {described}"[:MAX_REASON_CHARS])


def spider_error_reason(exc: BaseException) -> str:
    """The reason recorded when the spider's own callback raised on a response."""
    return f"{FailureReason.SPIDER_ERROR}: {type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]


@dataclass(frozen=True)
class ResponseVerdict:
    disposition: Disposition
    reason: str | None = None
    keep_text: bool = True  # the decoded text is worth following links in (or parsing)


def classify_response(
    status: int,
    kind: DocumentKind,
    *,
    replayed: bool = False,
    block: Disposition | None = None,
    redirected_to: str | None = None,
) -> ResponseVerdict:
    """The disposition of a response.

    `replayed`: a list page answered 304 and replayed from the store; `block`: the block-page
    verdict on the body (`extract.blocks.classify_fetch`); `redirected_to`: the final URL when a
    report was redirected away from its own path (see `redirected_away`).
    """
    if status == NOT_MODIFIED:
        return ResponseVerdict(Disposition.NOT_MODIFIED, keep_text=False)
    if status in GONE_STATUSES:
        return ResponseVerdict(Disposition.GONE, f"http_{status}", keep_text=False)
    if block is not None:
        return ResponseVerdict(block, f"{block}: HTTP {status}", keep_text=False)
    if status >= FIRST_ERROR_STATUS:
        return ResponseVerdict(Disposition.ERROR, f"http_{status}", keep_text=False)
    if kind != DocumentKind.LIST and redirected_to is not None:
        return ResponseVerdict(Disposition.REDIRECTED, f"redirected to {redirected_to}")
    if replayed:
        return ResponseVerdict(Disposition.NOT_MODIFIED)
    return ResponseVerdict(Disposition.CONTENT)


# `extract.blocks.own_text` drops these subtrees (keeping their tails) before reading the text;
# here their text is subtracted instead, so the caller's tree stays whole for its other uses.
_DROPPED_TAGS = ("script", "style", "noscript", "template", "a", "title")
_STRING = etree.XPath("string()")  # an element's text without its tail, as text_content()
_COUNT_ELEMENTS = etree.XPath("count(//*)")


def classify_page(
    status: int,
    headers: Mapping[str, str],
    text: str,
    root: lxml.html.HtmlElement | None = None,
) -> Disposition | None:
    """`extract.blocks.classify_fetch`, without its regex scans of the whole page when the
    page's own text alone rules every block and soft-404 verdict out.

    Every verdict of `classify_fetch` but a refusal status (403/429) needs own text (outside
    links) under TITLE_THIN_CHARS; a report has far more, so one parse settles it. Shorter
    pages (lists, message pages) get the full check. `root`: `text` as
    `platforms.base.parse_html` parsed it, when the caller has it (read, never changed)."""
    if status not in REFUSAL_STATUSES and _own_chars(text, root) >= TITLE_THIN_CHARS:
        return None
    return classify_fetch(status, headers, text)


def _own_chars(text: str, root: lxml.html.HtmlElement | None) -> int:
    """len(own_text(text)[1]), from the caller's tree when it is the one own_text would parse
    (own_text cuts a tree after MAX_ELEMENTS elements; parse_html does not)."""
    if root is None or _COUNT_ELEMENTS(root) > MAX_ELEMENTS:
        return len(own_text(text)[1])
    # whitespace is removed character by character, so the counts subtract
    return len(remove_whitespace(_STRING(root))) - _dropped_chars(root)


def _dropped_chars(root: lxml.html.HtmlElement) -> int:
    """Characters (whitespace removed) inside the subtrees own_text drops; one nested in
    another goes with it, as in `sanitize.drop_trees`."""
    doomed = list(root.iter(*_DROPPED_TAGS))
    members = set(doomed)
    return sum(
        len(remove_whitespace(_STRING(el)))
        for el in doomed
        if not any(a in members for a in el.iterancestors())
    )


def redirected_away(url: str, final: str, was_redirected: bool) -> bool:
    """A report URL that now redirects to a page outside its own path (often the home page)."""
    if not was_redirected:
        return False
    a, b = urlsplit(url), urlsplit(final)
    return (
        a.netloc != b.netloc
        or b.path in ("", "/")
        or not b.path.startswith(a.path.rsplit("/", 1)[0])
    )


# Set by gxcrawl.download on a response whose server sent more bytes than its Content-Length:
# the HTTP client stops at the declared length, so the page looks whole but is cut short.
EXTRA_BYTES_HEADER = "X-Gxcrawl-Extra-Bytes"


def length_mismatch(headers: dict[str, str]) -> str | None:
    """The `length_mismatch` reason of a response cut short by its Content-Length, or None."""
    lowered = {k.lower(): v for k, v in headers.items()}
    extra = lowered.get(EXTRA_BYTES_HEADER.lower())
    if not extra:
        return None
    declared = lowered.get("content-length", "?").strip()
    return (
        f"{FailureReason.LENGTH_MISMATCH}: {extra.strip()} bytes beyond Content-Length {declared}"
    )
