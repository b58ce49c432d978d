"""The fast near-copy search of `gxcrawl.extract.quality` (numpy MinHash, LSH banding, integer
match counts) against straightforward references: datasketch's own MinHash and MinHashLSH, and
an all-pairs Python search, on random signatures with identical copies, near-ties and gaps."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from gxcrawl.extract import quality as q


def _datasketch_signature(grams: set[str]) -> np.ndarray:
    m = MinHash(num_perm=q.NUM_PERM, seed=q.MINHASH_SEED, scheme=q.MINHASH_SCHEME)
    m.update_batch([g.encode("utf-8") for g in grams])
    return np.asarray(m.hashvalues, dtype=np.uint64)


@pytest.mark.parametrize("size", [0, 1, 40, 5000])  # 5000 spans two chunks of rows
def test_signature_is_datasketchs_minhash(size: int) -> None:
    rng = random.Random(size)
    alphabet = "政府信息公开年度报告abc#１２"
    grams = {"".join(rng.choice(alphabet) for _ in range(5)) for _ in range(size)}
    ours = q.signature(grams)
    assert ours.dtype == np.uint64
    assert np.array_equal(ours, _datasketch_signature(grams))
    assert np.array_equal(q.signature_from_bytes(q.signature_bytes(ours)), ours)


def test_lsh_bands_are_datasketchs_optimal_parameters() -> None:
    lsh = MinHashLSH(threshold=q.LSH_THRESHOLD, num_perm=q.NUM_PERM)
    assert (lsh.b, lsh.r) == (q.LSH_BANDS, q.LSH_ROWS)


def _reference(
    signatures: dict[int, np.ndarray | None], owners: dict[int, q.Owner]
) -> tuple[dict[int, q.Nearest], int]:
    """All pairs in plain Python: candidates share a whole band (checked against datasketch's
    MinHashLSH), similarity is the rounded share of equal values, near-ties go to `_tie_rank`.
    Also how many keys a near-tie sent to a less similar report."""
    usable = {k: [int(v) for v in m] for k, m in signatures.items() if m is not None}
    lsh = MinHashLSH(threshold=q.LSH_THRESHOLD, num_perm=q.NUM_PERM)
    for k, values in usable.items():
        lsh.insert(k, MinHash(hashvalues=np.array(values, dtype=np.uint64), scheme="affine64"))
    nobody = q.Owner(None, None)
    out: dict[int, q.Nearest] = {}
    tie_wins = 0
    for key, mine in usable.items():
        candidates = []
        for other, theirs in usable.items():
            bands = range(0, q.LSH_BANDS * q.LSH_ROWS, q.LSH_ROWS)
            if any(mine[b : b + q.LSH_ROWS] == theirs[b : b + q.LSH_ROWS] for b in bands):
                candidates.append(other)
        probe = MinHash(hashvalues=np.array(mine, dtype=np.uint64), scheme="affine64")
        assert sorted(candidates) == sorted(lsh.query(probe))
        scored = [
            (round(sum(a == b for a, b in zip(mine, usable[o], strict=True)) / q.NUM_PERM, 4), o)
            for o in candidates
            if o != key
        ]
        if not scored:
            continue
        best = max(sim for sim, _ in scored)
        ties = [(sim, o) for sim, o in scored if sim >= best - q.TIE_TOLERANCE]
        me = owners.get(key, nobody)
        sim, other = min(ties, key=lambda t: q._tie_rank(me, t[1], owners.get(t[1], nobody)))
        out[key] = q.Nearest(other, sim)
        tie_wins += sim < best
    return out, tie_wins


def _random_store(seed: int) -> tuple[dict[int, np.ndarray | None], dict[int, q.Owner]]:
    """A few families of signatures: variants of one base differing in k random positions
    (k = 0 makes identical copies, neighbouring k near-ties), unrelated ones, and gaps."""
    rng = np.random.default_rng(seed)
    signatures: dict[int, np.ndarray | None] = {}
    keys = iter(rng.permutation(10_000).tolist())  # keys in no particular order
    for _ in range(6):
        base = rng.integers(0, 2**64, q.NUM_PERM, dtype=np.uint64)
        signatures[next(keys)] = base
        signatures[next(keys)] = base.copy()  # an identical copy
        for _ in range(int(rng.integers(1, 12))):
            variant = base.copy()
            changed = int(rng.choice([0, 0, 1, 2, 3, 5, 6, 8, 20, 60, 120, 200]))
            where = rng.choice(q.NUM_PERM, changed, replace=False)
            variant[where] = rng.integers(0, 2**64, changed, dtype=np.uint64)
            signatures[next(keys)] = variant
    for _ in range(5):
        signatures[next(keys)] = rng.integers(0, 2**64, q.NUM_PERM, dtype=np.uint64)
        signatures[next(keys)] = None
    agencies = ["甲局", "乙局", "丙局", None]
    owners = {
        k: q.Owner(
            agencies[int(rng.integers(4))], [2019, 2020, 2021, 2022, None][int(rng.integers(5))]
        )
        for k in signatures
        if rng.random() < 0.9  # some keys have no owner at all
    }
    return signatures, owners


@pytest.mark.parametrize("seed", range(12))
def test_nearest_reports_is_the_all_pairs_reference(seed: int) -> None:
    signatures, owners = _random_store(seed)
    expected, _ = _reference(signatures, owners)
    assert q.nearest_reports(signatures, owners) == expected
    assert q.nearest_reports(signatures) == _reference(signatures, {})[0]
    assert len(expected) < sum(1 for m in signatures.values() if m is not None)  # loners


def test_the_random_stores_exercise_near_ties() -> None:
    assert sum(_reference(*_random_store(seed))[1] for seed in range(12)) > 10


def test_nearest_reports_of_nothing() -> None:
    assert q.nearest_reports({}) == {}
    assert q.nearest_reports({1: None, 2: None}) == {}
    lone = np.arange(q.NUM_PERM, dtype=np.uint64)
    assert q.nearest_reports({1: lone, 2: None}) == {}


def test_rounding_table_is_exact() -> None:
    for count in range(q.NUM_PERM + 1):
        assert q._SIMILARITY[count] == round(float(np.mean(np.arange(q.NUM_PERM) < count)), 4)


def test_template_phrase_prefilter_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    phrases = q._TEMPLATE_PHRASES
    lines = [
        "本局认真落实政府信息公开工作",
        phrases[0] + "其后文字",
        "前文" + phrases[-1] + phrases[3] + "后文",
        # removing the inner phrase joins the outer one: replaced in turn, not in one pass
        phrases[-1][:1] + phrases[0] + phrases[-1][1:] + "尾",
        "申请人情况法人或其他组织信息内容",
    ]
    text = "\n".join(lines)
    fast = q.prose(text)
    monkeypatch.setattr(q, "_ANY_TEMPLATE_PHRASE", re.compile(""))  # every line: the full loop
    assert fast == q.prose(text)


@pytest.mark.parametrize("limit", [3, 200_000])  # 3: the memo is cleared again and again
def test_signature_memo_changes_nothing(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(q, "MAX_MEMO_GRAMS", limit)
    rng = random.Random(limit)
    sets = [
        {"".join(rng.choice("公开申请abc") for _ in range(3)) for _ in range(60)} for _ in range(8)
    ]
    memo: dict[str, bytes] = {}
    for grams in sets:
        assert np.array_equal(q.signature(grams, memo), _datasketch_signature(grams))
    assert len(memo) <= max(limit, 60)
