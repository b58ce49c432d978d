"""Change classification as a pure function: a document's prior state + one fetch → a decision.

The store persists what `classify_change` decides (state, content hash, outcome, change row); it
decides nothing itself. The table of cases lives in `tests/test_changes.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from gxcrawl.vocab import ChangeKind, Disposition, DocumentKind, DocumentState, Outcome


@dataclass(frozen=True)
class PriorState:
    """What the store knew about the document before this fetch."""

    kind: DocumentKind
    state: DocumentState
    content_sha256: str | None  # None: never fetched with content
    latest_body_sha256: str | None = None  # body of the newest snapshot; None: no snapshot yet
    has_snapshot: bool = False

    @property
    def had_content(self) -> bool:
        return self.content_sha256 is not None


@dataclass(frozen=True)
class FetchFacts:
    """The part of one fetch that decides its classification."""

    disposition: Disposition
    body_sha256: str | None = None  # None for failures without a body and for 304s


@dataclass(frozen=True)
class ChangeDecision:
    outcome: Outcome
    change: ChangeKind | None  # the change row to write, if any
    state: DocumentState  # the document's state after this fetch
    new_content: bool = False  # the body becomes the document's content (hash, last changed)
    reuse_latest_snapshot: bool = False  # this fetch is the newest snapshot's version
    recheck: bool = True  # schedule the next check; failures are retried next run instead


def classify_change(prior: PriorState, fetch: FetchFacts) -> ChangeDecision:
    """Classify one fetch of a document. List pages never record a change: they change whenever
    an item is added (versions, not news)."""
    decision = _BY_DISPOSITION[fetch.disposition](prior, fetch)
    if decision.change is not None and prior.kind == DocumentKind.LIST:
        return replace(decision, change=None)
    return decision


def _error(prior: PriorState, _fetch: FetchFacts) -> ChangeDecision:
    state = prior.state if prior.had_content else DocumentState.ERROR
    return ChangeDecision(Outcome.ERROR, None, state, recheck=False)


def _blocked(prior: PriorState, _fetch: FetchFacts) -> ChangeDecision:
    state = prior.state if prior.had_content else DocumentState.BLOCKED
    return ChangeDecision(Outcome.BLOCKED, None, state, recheck=False)


def _reappeared(prior: PriorState) -> ChangeKind | None:
    """A document that was gone or redirected answers with its content again."""
    if prior.state in (DocumentState.GONE, DocumentState.REDIRECTED):
        return ChangeKind.REAPPEARED
    return None


def _not_modified(prior: PriorState, _fetch: FetchFacts) -> ChangeDecision:
    return ChangeDecision(
        Outcome.UNCHANGED,
        _reappeared(prior),
        DocumentState.LIVE,
        reuse_latest_snapshot=prior.has_snapshot,
    )


def _gone(prior: PriorState, fetch: FetchFacts) -> ChangeDecision:
    change = ChangeKind.GONE if prior.had_content and prior.state != DocumentState.GONE else None
    outcome = Outcome.SOFT_404 if fetch.disposition == Disposition.SOFT_404 else Outcome.GONE
    return ChangeDecision(outcome, change, DocumentState.GONE)


def _redirected(prior: PriorState, _fetch: FetchFacts) -> ChangeDecision:
    moved = prior.had_content and prior.state != DocumentState.REDIRECTED
    change = ChangeKind.REDIRECTED if moved else None
    return ChangeDecision(Outcome.REDIRECTED, change, DocumentState.REDIRECTED)


def _content(prior: PriorState, fetch: FetchFacts) -> ChangeDecision:
    if fetch.body_sha256 is None:
        raise ValueError("a content fetch carries a body")
    if fetch.body_sha256 == prior.content_sha256 and prior.has_snapshot:
        return ChangeDecision(
            Outcome.UNCHANGED,
            _reappeared(prior),
            DocumentState.LIVE,
            reuse_latest_snapshot=prior.latest_body_sha256 == fetch.body_sha256,
        )
    if prior.state == DocumentState.GONE:
        change = ChangeKind.REAPPEARED
    elif not prior.had_content:
        change = ChangeKind.NEW
    elif prior.kind == DocumentKind.ATTACHMENT:
        change = ChangeKind.ATTACHMENT_CHANGED
    else:
        change = ChangeKind.EDITED
    outcome = Outcome.CHANGED if prior.had_content else Outcome.NEW
    return ChangeDecision(outcome, change, DocumentState.LIVE, new_content=True)


_BY_DISPOSITION: dict[Disposition, Callable[[PriorState, FetchFacts], ChangeDecision]] = {
    Disposition.ERROR: _error,
    Disposition.BLOCKED: _blocked,
    Disposition.NOT_MODIFIED: _not_modified,
    Disposition.GONE: _gone,
    Disposition.SOFT_404: _gone,
    Disposition.REDIRECTED: _redirected,
    Disposition.CONTENT: _content,
}
