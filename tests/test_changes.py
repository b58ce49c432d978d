"""classify_change: a document's prior state + one fetch → outcome, change, new state. The table
is written from the README's rules (raw first; edits, deletions, redirects and returns are
changes; failures never overwrite what a document was), not from the function's output."""

from __future__ import annotations

import pytest

from gxcrawl.changes import ChangeDecision, FetchFacts, PriorState, classify_change
from gxcrawl.vocab import ChangeKind, Disposition, DocumentKind, DocumentState, Outcome

K, S, D, Out, C = DocumentKind, DocumentState, Disposition, Outcome, ChangeKind


def prior(
    kind: DocumentKind = K.REPORT,
    state: DocumentState = S.LIVE,
    content: str | None = "aaa",
    latest_body: str | None = "aaa",
) -> PriorState:
    return PriorState(kind, state, content, latest_body, has_snapshot=latest_body is not None)


NEVER_FETCHED = prior(content=None, latest_body=None)

# (case, prior state, disposition, body hash, outcome, change, state after)
# fmt: off
CASES = [
    ("first content", NEVER_FETCHED, D.CONTENT, "aaa", Out.NEW, C.NEW, S.LIVE),
    ("same content", prior(), D.CONTENT, "aaa", Out.UNCHANGED, None, S.LIVE),
    ("edited report", prior(), D.CONTENT, "bbb", Out.CHANGED, C.EDITED, S.LIVE),
    ("file changed", prior(K.ATTACHMENT), D.CONTENT, "b", Out.CHANGED, C.ATTACHMENT_CHANGED, S.LIVE),  # noqa: E501
    ("list page edited", prior(K.LIST), D.CONTENT, "bbb", Out.CHANGED, None, S.LIVE),
    ("new list page", prior(K.LIST, content=None, latest_body=None), D.CONTENT, "a", Out.NEW, None, S.LIVE),  # noqa: E501
    ("back, edited", prior(state=S.GONE), D.CONTENT, "bbb", Out.CHANGED, C.REAPPEARED, S.LIVE),
    ("back, same", prior(state=S.GONE), D.CONTENT, "aaa", Out.UNCHANGED, C.REAPPEARED, S.LIVE),
    ("back from redirect", prior(state=S.REDIRECTED), D.CONTENT, "aaa", Out.UNCHANGED, C.REAPPEARED, S.LIVE),  # noqa: E501
    ("304", prior(), D.NOT_MODIFIED, None, Out.UNCHANGED, None, S.LIVE),
    ("304 after gone", prior(state=S.GONE), D.NOT_MODIFIED, None, Out.UNCHANGED, C.REAPPEARED, S.LIVE),  # noqa: E501
    ("deleted", prior(), D.GONE, "err", Out.GONE, C.GONE, S.GONE),
    ("still deleted", prior(state=S.GONE), D.GONE, "err", Out.GONE, None, S.GONE),
    ("soft 404", prior(), D.SOFT_404, "err", Out.SOFT_404, C.GONE, S.GONE),
    ("dead link, never seen", NEVER_FETCHED, D.GONE, None, Out.GONE, None, S.GONE),
    ("moved", prior(), D.REDIRECTED, "home", Out.REDIRECTED, C.REDIRECTED, S.REDIRECTED),
    ("still moved", prior(state=S.REDIRECTED), D.REDIRECTED, "home", Out.REDIRECTED, None, S.REDIRECTED),  # noqa: E501
    ("blocked, known", prior(), D.BLOCKED, "waf", Out.BLOCKED, None, S.LIVE),
    ("blocked, never seen", NEVER_FETCHED, D.BLOCKED, "waf", Out.BLOCKED, None, S.BLOCKED),
    ("error, known", prior(state=S.GONE), D.ERROR, None, Out.ERROR, None, S.GONE),
    ("error, never seen", NEVER_FETCHED, D.ERROR, None, Out.ERROR, None, S.ERROR),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "before", "disposition", "body", "outcome", "change", "after"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_change_table(
    case: str,
    before: PriorState,
    disposition: Disposition,
    body: str | None,
    outcome: Outcome,
    change: ChangeKind | None,
    after: DocumentState,
) -> None:
    decision = classify_change(before, FetchFacts(disposition, body))
    assert (decision.outcome, decision.change, decision.state) == (outcome, change, after), case


def test_only_new_content_moves_the_content_hash() -> None:
    assert classify_change(prior(), FetchFacts(D.CONTENT, "bbb")).new_content
    assert not classify_change(prior(), FetchFacts(D.CONTENT, "aaa")).new_content
    for disposition in (D.GONE, D.SOFT_404, D.REDIRECTED, D.BLOCKED, D.ERROR):
        assert not classify_change(prior(), FetchFacts(disposition, "x")).new_content


def test_failures_are_retried_next_run_not_scheduled() -> None:
    for disposition in (D.ERROR, D.BLOCKED):
        assert not classify_change(prior(), FetchFacts(disposition, None)).recheck
    for disposition in (D.CONTENT, D.NOT_MODIFIED, D.GONE, D.SOFT_404, D.REDIRECTED):
        assert classify_change(prior(), FetchFacts(disposition, "aaa")).recheck


def test_unchanged_content_reuses_the_snapshot_only_when_it_holds_that_body() -> None:
    # The newest snapshot is an error page stored after the content: the content gets a new one.
    after_error_page = prior(latest_body="error-page")
    decision = classify_change(after_error_page, FetchFacts(D.CONTENT, "aaa"))
    assert decision.outcome == Out.UNCHANGED and not decision.reuse_latest_snapshot
    assert classify_change(prior(), FetchFacts(D.CONTENT, "aaa")).reuse_latest_snapshot
    assert classify_change(prior(), FetchFacts(D.NOT_MODIFIED)).reuse_latest_snapshot


def test_content_without_body_is_refused() -> None:
    with pytest.raises(ValueError, match="body"):
        classify_change(prior(), FetchFacts(D.CONTENT, None))


def test_every_disposition_is_classified() -> None:
    for disposition in Disposition:
        assert isinstance(classify_change(prior(), FetchFacts(disposition, "x")), ChangeDecision)
