"""classify_failure / classify_response: how a fetch ended, by exception class and status. The
reasons are those the README promises in the fetch log (`timeout: …`, `truncated: …`,
`redirect_loop: …`, `http_500`, …)."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as txerror
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from gxcrawl.fetch_outcomes import (
    MAX_REASON_CHARS,
    FailureAction,
    NotDue,
    RedirectLoop,
    classify_failure,
    classify_response,
    redirected_away,
)
from gxcrawl.vocab import Disposition, DocumentKind


def wrapped(outer: Exception, inner: BaseException) -> Exception:
    """`outer` raised `from inner`, as Scrapy wraps Twisted's errors."""
    outer.__cause__ = inner
    return outer


def lost_response() -> ResponseFailed:
    return ResponseFailed([Failure(txerror.ConnectionLost("gone mid-body"))])


FAILURES = [
    ("scrapy timeout", DownloadTimeoutError("Getting x took longer than 30 seconds."), "timeout"),
    ("twisted timeout", txerror.TimeoutError("User timeout caused connection failure."), "timeout"),
    ("tcp timeout", txerror.TCPTimedOutError(), "timeout"),
    ("scrapy dns", CannotResolveHostError("no such host"), "dns"),
    ("twisted dns", txerror.DNSLookupError("no such host"), "dns"),
    ("data loss", ResponseDataLossError(), "truncated"),
    ("redirect loop", RedirectLoop("redirect loop: 302 a -> a"), "redirect_loop"),
    ("maxsize", DownloadCancelledError("Cancelling download of x: expected size"), "too_large"),
    ("refused", DownloadConnectionRefusedError("Connection was refused"), "connection_refused"),
    ("twisted refused", txerror.ConnectionRefusedError(), "connection_refused"),
    (
        "lost inside a failed response",
        wrapped(DownloadFailedError("x"), lost_response()),
        "connection_lost",
    ),
    ("failed response", ResponseFailed([Failure(ValueError("bad chunk"))]), "truncated"),
    ("wrapped timeout", wrapped(DownloadFailedError("x"), txerror.TimeoutError()), "timeout"),
]


@pytest.mark.parametrize(("case", "exc", "reason"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failure_reason_by_class(case: str, exc: Exception, reason: str) -> None:
    verdict = classify_failure(exc)
    assert verdict.action == FailureAction.RECORD
    assert verdict.reason.startswith(f"{reason}: {type(exc).__name__}: "), case
    assert verdict.stat_key == reason


def test_names_and_messages_do_not_decide() -> None:
    # A message that merely mentions a timeout is no timeout: the class decides.
    verdict = classify_failure(ValueError("timeout in the maxsize of a dnslookup"))
    assert verdict.reason == "ValueError: timeout in the maxsize of a dnslookup"
    assert verdict.stat_key == "ValueError"


def test_reason_is_bounded() -> None:
    verdict = classify_failure(DownloadTimeoutError("x" * 5000))
    assert len(verdict.reason) == MAX_REASON_CHARS


def test_not_due_and_ignored_are_not_recorded() -> None:
    assert classify_failure(NotDue("not due before …")).action == FailureAction.NOT_DUE
    ignored = classify_failure(IgnoreRequest("Forbidden by robots.txt"))
    assert (ignored.action, ignored.reason) == (FailureAction.IGNORED, "Forbidden by robots.txt")
    # a redirect loop is an IgnoreRequest too, but a failure worth recording
    assert classify_failure(RedirectLoop("loop")).action == FailureAction.RECORD


R, L = DocumentKind.REPORT, DocumentKind.LIST
D = Disposition
HOME = "http://x.gov.cn/"
# (case, status, kind, replayed, block verdict, redirected to, disposition, reason, keep text)
# fmt: off
RESPONSES = [
    ("page", 200, R, False, None, None, D.CONTENT, None, True),
    ("304", 304, R, False, None, None, D.NOT_MODIFIED, None, False),
    ("list replayed from the store", 200, L, True, None, None, D.NOT_MODIFIED, None, True),
    ("404", 404, R, False, None, None, D.GONE, "http_404", False),
    ("410", 410, R, False, None, None, D.GONE, "http_410", False),
    ("404 that looks blocked", 404, R, False, D.BLOCKED, None, D.GONE, "http_404", False),
    ("challenge 412", 412, R, False, D.BLOCKED, None, D.BLOCKED, "blocked: HTTP 412", False),
    ("soft 404", 200, R, False, D.SOFT_404, None, D.SOFT_404, "soft_404: HTTP 200", False),
    ("500", 500, R, False, None, None, D.ERROR, "http_500", False),
    ("403", 403, R, False, None, None, D.ERROR, "http_403", False),
    ("report moved home", 200, R, False, None, HOME, D.REDIRECTED, f"redirected to {HOME}", True),
    ("list moved home", 200, L, False, None, HOME, D.CONTENT, None, True),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "status", "kind", "replayed", "block", "to", "disposition", "reason", "keep"),
    RESPONSES,
    ids=[r[0] for r in RESPONSES],
)
def test_response_table(
    case: str,
    status: int,
    kind: DocumentKind,
    replayed: bool,
    block: Disposition | None,
    to: str | None,
    disposition: Disposition,
    reason: str | None,
    keep: bool,
) -> None:
    verdict = classify_response(status, kind, replayed=replayed, block=block, redirected_to=to)
    assert (verdict.disposition, verdict.reason, verdict.keep_text) == (disposition, reason, keep)


@pytest.mark.parametrize(
    ("url", "final", "redirected", "away"),
    [
        ("http://a.gov.cn/ndbg/t1.html", "http://a.gov.cn/", True, True),
        ("http://a.gov.cn/ndbg/t1.html", "http://b.gov.cn/ndbg/t1.html", True, True),
        ("http://a.gov.cn/ndbg/t1.html", "http://a.gov.cn/other/t1.html", True, True),
        ("http://a.gov.cn/ndbg/t1.html", "http://a.gov.cn/ndbg/t1_new.html", True, False),
        ("http://a.gov.cn/ndbg/t1.html", "http://a.gov.cn/", False, False),
    ],
)
def test_redirected_away(url: str, final: str, redirected: bool, away: bool) -> None:
    assert redirected_away(url, final, redirected) is away
