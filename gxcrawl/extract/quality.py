"""Quality measures researchers compute by hand, as pure functions of a report's data: which of
the six required parts are missing, who the reporter is and when its report was due, how late it
was, whether its carried-over applications match last year's, and which other report its prose
is nearest to (MinHash over character n-grams, LSH for candidates: datasketch's scheme, in numpy).

No Scrapy, no SQL: text and dates in, data out. `gxcrawl.store.quality` feeds it the store.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gxcrawl.extract.attachments import NEEDS_CONVERSION, NEEDS_OCR
from gxcrawl.extract.process import STUB_CHARS
from gxcrawl.extract.table_keys import APPEAL_GROUPS, APPEAL_RESULTS, APPLICATION_COLUMNS
from gxcrawl.textutil import remove_whitespace

# --- the six parts the regulation requires (国办公开办函〔2019〕60号 / 〔2021〕30号) -------------

SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六")
# Keywords of each part's heading; local wording varies ("…及整改措施", "概述", "依申请公开").
SECTION_KEYWORDS: dict[str, re.Pattern[str]] = {
    "一": re.compile(r"总体情况|基本情况|概述|概况"),
    "二": re.compile(r"主动公开"),
    "三": re.compile(r"申请"),  # 收到和处理…申请情况, 依申请公开情况, 政府信息公开申请情况
    "四": re.compile(r"复议|诉讼"),
    "五": re.compile(r"问题|不足|改进|整改"),
    "六": re.compile(r"其[他它]"),  # 其他需要报告的事项; sub-rows like （六）其他处理 never count
}
# A part heading is a short line: long lines are prose that merely mentions the words.
MAX_HEADING_CHARS = 40
# Top-level numbering "一、" (any numeral: reports renumber when they merge parts); a line with
# "（一）" or "1." is a sub-heading of another part and never counts.
_TOP_NUMBER = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*")
_SUB_NUMBER = re.compile(r"^[（(]|^\d+\s*[、.．]")
# A table row rendered in the clean text ("label | 0 | 0"): the table's own labels are not headings.
_TABLE_SEP = " | "
# A numbered heading run into its paragraph ("一、总体情况。2021年，…", common in PDF text) ends
# at the first sentence or clause mark.
_RUN_IN_END = re.compile(r"[。：:；;]")


def _heading_body(line: str) -> str | None:
    """The heading text of a part-heading line, or None when the line is not one: a short
    line, or the head of a line opening with top-level numbering."""
    line = line.strip()
    if not line or _TABLE_SEP in line or _SUB_NUMBER.match(line):
        return None
    numbered = _TOP_NUMBER.match(line)
    if numbered:
        return _RUN_IN_END.split(line[numbered.end() :], maxsplit=1)[0][:MAX_HEADING_CHARS]
    return line if len(line) <= MAX_HEADING_CHARS else None


def sections_present(text: str) -> list[str]:
    """The numerals (一…六) of the required parts whose heading appears in the clean text."""
    found: set[str] = set()
    for line in text.splitlines():
        body = _heading_body(line)
        if body is None:
            continue
        for numeral, pattern in SECTION_KEYWORDS.items():
            if pattern.search(body):
                found.add(numeral)
    return [n for n in SECTION_NUMERALS if n in found]


def sections_missing(text: str) -> list[str]:
    """The required parts absent from the text, in order; empty when the report is complete."""
    present = set(sections_present(text))
    return [n for n in SECTION_NUMERALS if n not in present]


def sections_missing_if_known(text: str, flags: Iterable[str]) -> list[str] | None:
    """`sections_missing`, or None when the text cannot tell: a stub page whose file was not
    read ("详见附件"), or a file still needing OCR or conversion."""
    if {NEEDS_OCR, NEEDS_CONVERSION} & set(flags) or len(text.strip()) < STUB_CHARS:
        return None
    return sections_missing(text)


# --- reporter type and deadline (政府信息公开条例 2019 第四十九条; 2007 第三十一条) ----------

GOVERNMENT = "government"  # 本级人民政府 itself (its report is the 本级政府 report)
GOVERNMENT_OFFICE = "government_office"  # 人民政府办公室/办公厅: a department of the government
DEPARTMENT = "department"  # 县级以上人民政府部门 (局, 委员会, 中心, …)
TOWNSHIP = "township"  # 乡镇人民政府, 街道办事处
OTHER = "other"
REPORTER_TYPES = (GOVERNMENT, GOVERNMENT_OFFICE, DEPARTMENT, TOWNSHIP, OTHER)

_TOWNSHIP = re.compile(r"(?:街道办事处|街道办|街道|苏木|[乡镇](?:人民)?政府|[乡镇])$")
_OFFICE = re.compile(r"政府办公[室厅]$|政府办$")
_GOVERNMENT = re.compile(r"政府$")  # 人民政府, or the short form 区政府
# Parts of a name that mean an agency of some kind rather than a bare place name.
_AGENCY_SUFFIX = re.compile(
    r"(?:局|委员会|委|厅|办公室|办|中心|所|院|队|站|会|部|处|署|馆|室|公司|管理区|开发区)$"
)

# The revised regulation applies to reports on 2019 onward (it took effect 2019-05-15).
REVISED_REGULATION_FIRST_YEAR = 2019
# Art. 49: departments publish by 31 January; the 本级政府 report by 31 March.
DEPARTMENT_DUE = (1, 31)
GOVERNMENT_DUE = (3, 31)
# 2007 regulation Art. 31: every administrative body by 31 March.
LEGACY_DUE = (3, 31)


def classify_reporter(agency: str | None) -> str:
    """The reporter type of an agency name; `other` when the name says nothing."""
    name = remove_whitespace(agency)
    if not name:
        return OTHER
    if _TOWNSHIP.search(name):
        return TOWNSHIP
    if _OFFICE.search(name):
        return GOVERNMENT_OFFICE
    if _GOVERNMENT.search(name):
        return GOVERNMENT
    if _AGENCY_SUFFIX.search(name):
        return DEPARTMENT
    return OTHER


def deadline(year: int | None, reporter_type: str) -> dt.date | None:
    """The last day the report on `year` may be published; None when the year is unknown."""
    if year is None:
        return None
    if year < REVISED_REGULATION_FIRST_YEAR:
        month, day = LEGACY_DUE
    elif reporter_type == GOVERNMENT:
        month, day = GOVERNMENT_DUE
    else:
        # Departments (and the office) by Art. 49; townships and other bodies report to the
        # county's competent department on the departments' timetable in local rules.
        month, day = DEPARTMENT_DUE
    return dt.date(year + 1, month, day)


def days_late(publish_date: dt.date | None, due: dt.date | None) -> int | None:
    """Publish date minus deadline in days (≤ 0 on time); None when either is unknown."""
    if publish_date is None or due is None:
        return None
    return (publish_date - due).days


# --- carry-forward across years -------------------------------------------------------------


def carry_forward_ok(
    last_year_carry_forward: Mapping[str, float | None],
    this_year_carried_over: Mapping[str, float | None],
) -> bool | None:
    """Last year's 结转下年度 against this year's 上年结转, column by column; None when no
    column has a number in both (no previous report, or blank tables)."""
    shared = [
        col
        for col, value in this_year_carried_over.items()
        if value is not None and last_year_carry_forward.get(col) is not None
    ]
    if not shared:
        return None
    return all(float(last_year_carry_forward[col] or 0) == float(this_year_carried_over[col] or 0)
               for col in shared)  # fmt: skip


# --- near-copies: template stripped, character n-grams, MinHash + LSH -------------------------

# Bump when prose(), shingles() or signature() change: stored signatures of older versions are
# then recomputed instead of reused.
SIMILARITY_VERSION = "2"
SHINGLE_CHARS = 5  # a 5-character n-gram is about two Chinese words: specific, not brittle
NUM_PERM = 256  # estimate error ≈ 1/sqrt(256) ≈ 0.06 at J=0.5, ≈ 0.014 at J=0.95
LSH_THRESHOLD = 0.5  # pairs below this Jaccard are not candidates: no near-copy to report
# Fewer distinct n-grams than this is too little prose to call anything a copy.
MIN_SHINGLES = 40
MINHASH_SEED = 1  # fixed so stored signatures stay comparable across runs
MINHASH_SCHEME = "affine64"  # named: datasketch refuses stored values of an unnamed scheme

# The template's fixed words: headings, table titles and the labels of every table cell.
_TEMPLATE_PHRASES = sorted(
    {
        "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        "本列数据的勾稽关系为",
        "申请人情况",
        "法人或其他组织",
        "信息内容",
        "政府信息公开工作年度报告",
        "政府信息公开年度报告",
        *(part for label in APPLICATION_COLUMNS.values() for part in label.split("/")),
        *APPEAL_GROUPS.values(),
        *APPEAL_RESULTS.values(),
        "未经复议直接起诉",
        "复议后起诉",
    },
    key=len,
    reverse=True,
)
_ANY_TEMPLATE_PHRASE = re.compile("|".join(map(re.escape, _TEMPLATE_PHRASES)))
_DIGITS = re.compile(r"[0-9０-９]+(?:[.,，][0-9０-９]+)*%?|[一二三四五六七八九〇○零]{4}(?=年)")
# Table titles printed on a line of their own (第二十条第（一）项 …).
_TEMPLATE_LINE = re.compile(r"^第二十条第[（(][一二三四五六七八九十]+[)）]项$")
_NOISE = re.compile(r"[\s\u3000|·•:：;；,，。、.（）()\[\]【】《》“”\"'‘’!！?？\-—–_/\\]+")


def prose(text: str) -> str:
    """The report's own words: table rows, part headings and the template's fixed labels
    removed, numbers reduced to one placeholder (a copy with new figures is still a copy),
    punctuation and spaces dropped."""
    kept: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or _TABLE_SEP in line or line.endswith(" |") or _TEMPLATE_LINE.match(line):
            continue
        body = _heading_body(line) if len(line) <= MAX_HEADING_CHARS else None
        if body is not None and any(p.search(body) for p in SECTION_KEYWORDS.values()):
            continue
        if _ANY_TEMPLATE_PHRASE.search(line):  # most prose lines hold none: skip the loop
            for phrase in _TEMPLATE_PHRASES:
                line = line.replace(phrase, "")
        kept.append(line)
    joined = _DIGITS.sub("#", "\n".join(kept))
    return _NOISE.sub("", joined)


def shingles(text: str, size: int = SHINGLE_CHARS) -> set[str]:
    """Distinct character n-grams of the report's prose."""
    body = prose(text)
    return {body[i : i + size] for i in range(len(body) - size + 1)}


# A signature is the NUM_PERM minimum hash values, computed exactly as datasketch's
# `MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)` does (SHA-1 64-bit hash,
# MurmurHash3 finalizer, affine permutations mod 2^64; tests check the two agree), in numpy:
# importing datasketch pulls in scipy, which costs more than the whole near-copy search.
Signature = npt.NDArray[np.uint64]
_MAX_HASH = np.uint64((1 << 64) - 1)
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_ROWS_PER_CHUNK = 4096  # bounds the (n-grams × NUM_PERM) intermediate of a long report


@functools.cache
def _permutations() -> tuple[Signature, Signature]:
    """datasketch's affine64 permutation parameters (a odd, b) for MINHASH_SEED."""
    gen = np.random.RandomState(MINHASH_SEED)
    a = gen.randint(0, 1 << 63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.randint(0, 1 << 64, NUM_PERM, dtype=np.uint64)
    return a, b


# Bounds a `signature` hash memo: reports share much wording, so within one refresh most n-grams
# recur, but a store's distinct n-grams are too many to keep them all. ~160 bytes an entry: at
# 200,000 the memo alone was most of the crawl's RSS growth from 1k to 20k pages (`make bench`).
MAX_MEMO_GRAMS = 20_000


def _hashes(grams: Iterable[str], memo: dict[str, bytes]) -> bytes:
    """datasketch's sha1_hash64 of each n-gram (the digest's first 8 bytes, little-endian),
    concatenated; looked up in `memo` first."""
    sha1 = hashlib.sha1
    out: list[bytes] = []
    for gram in grams:
        digest = memo.get(gram)
        if digest is None:
            digest = sha1(gram.encode("utf-8")).digest()[:8]
            if len(memo) >= MAX_MEMO_GRAMS:
                memo.clear()
            memo[gram] = digest
        out.append(digest)
    return b"".join(out)


def signature(grams: Iterable[str], memo: dict[str, bytes] | None = None) -> Signature:
    """The MinHash signature of a set of n-grams (all maximal for an empty set). Pass the same
    `memo` to sign many reports: their shared n-grams are then hashed once."""
    digests = _hashes(grams, {} if memo is None else memo)
    hv = np.frombuffer(digests, dtype="<u8").astype(np.uint64)
    shift, m1, m2 = _FMIX64
    with np.errstate(over="ignore"):  # wraparound is the intended arithmetic mod 2^64
        hv = hv ^ (hv >> shift)
        hv = hv * m1
        hv = hv ^ (hv >> shift)
        hv = hv * m2
        hv = hv ^ (hv >> shift)
        a, b = _permutations()
        out = np.full(NUM_PERM, _MAX_HASH, dtype=np.uint64)
        for start in range(0, len(hv), _ROWS_PER_CHUNK):
            chunk = hv[start : start + _ROWS_PER_CHUNK].reshape(-1, 1)
            np.minimum(out, (chunk * a + b).min(axis=0), out=out)
    return out


def signature_bytes(m: Signature) -> bytes:
    return np.asarray(m, dtype=np.uint64).tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    return np.frombuffer(data, dtype=np.uint64).copy()


def signature_view(data: bytes) -> Signature:
    """The signature stored in `data`, read-only and without a copy (a store's signatures are
    held once, as the bytes they are stored as)."""
    return np.frombuffer(data, dtype=np.uint64)


@dataclass(frozen=True)
class Nearest:
    other: int  # the key of the most similar other report
    similarity: float  # MinHash estimate of the Jaccard similarity of their n-gram sets


@dataclass(frozen=True)
class Owner:
    """Whose report a signature is: used only to break near-ties."""

    agency: str | None
    year: int | None


# Similarities this close to the best are a tie (MinHash error at J ≈ 0.95 is about 0.014):
# among ties the same agency's report wins, then the nearest year, earlier first, then the key.
TIE_TOLERANCE = 0.02


def _tie_rank(me: Owner, key: int, owner: Owner) -> tuple[int, int, int, int]:
    same = 0 if me.agency is not None and owner.agency == me.agency else 1
    if me.year is None or owner.year is None:
        return same, 1 << 16, 0, key
    return same, abs(owner.year - me.year), 1 if owner.year > me.year else 0, key


# LSH banding of datasketch's `MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)` (its
# optimal parameters for these two constants; a test checks them): two signatures are candidates
# when all LSH_ROWS values of at least one of the LSH_BANDS bands are equal.
LSH_BANDS = 42
LSH_ROWS = 6


def _rounded(count: int) -> float:
    return round(count / NUM_PERM, 4)


# Similarity of m equal values out of NUM_PERM, rounded as stored; and the fewest equal values
# still within TIE_TOLERANCE of a best of m (same float arithmetic as comparing the rounded values).
_SIMILARITY = [_rounded(m) for m in range(NUM_PERM + 1)]
_TIE_MIN_COUNT = np.array(
    [
        min(c for c in range(NUM_PERM + 1) if _SIMILARITY[c] >= _SIMILARITY[m] - TIE_TOLERANCE)
        for m in range(NUM_PERM + 1)
    ],
    dtype=np.int64,
)


def _column_codes(matrix: npt.NDArray[np.uint64]) -> npt.NDArray[np.unsignedinteger[Any]]:
    """Each value replaced by its rank among its column's distinct values: equal iff the values
    are, in 2 bytes instead of 8 (while there are fewer than 2^16 signatures), so comparing
    signatures moves a quarter of the memory."""
    dtype = np.uint16 if len(matrix) <= np.iinfo(np.uint16).max else np.uint32
    codes = np.empty(matrix.shape, dtype=dtype)
    for column in range(matrix.shape[1]):
        codes[:, column] = np.unique(matrix[:, column], return_inverse=True)[1].reshape(-1)
    return codes


def _band_labels(codes: npt.NDArray[np.unsignedinteger[Any]]) -> npt.NDArray[np.int64]:
    """Per signature and band, a label equal between two signatures iff the band's values are."""
    labels = np.empty((len(codes), LSH_BANDS), dtype=np.int64)
    for band in range(LSH_BANDS):
        rows = np.ascontiguousarray(codes[:, band * LSH_ROWS : (band + 1) * LSH_ROWS])
        _, inverse = np.unique(rows.view(f"V{rows.shape[1] * rows.itemsize}"), return_inverse=True)
        labels[:, band] = inverse.reshape(-1)
    return labels


def nearest_reports(
    signatures: Mapping[int, Signature | None], owners: Mapping[int, Owner] | None = None
) -> dict[int, Nearest]:
    """For each keyed signature, the most similar other one at or above LSH_THRESHOLD (near-ties
    resolved by `owners`: same agency, nearest year). Keys without a signature (too little
    prose) are neither matched nor found. Identical signatures are scored once, candidates and
    their equal-value counts are found with numpy, and only near-ties reach Python."""
    groups: dict[bytes, list[int]] = {}
    for key, m in signatures.items():
        if m is not None:
            groups.setdefault(signature_bytes(m), []).append(key)
    if not groups:
        return {}
    members = list(groups.values())
    codes = _column_codes(np.stack([np.frombuffer(sig, dtype=np.uint64) for sig in groups]))
    labels = _band_labels(codes)
    owners = owners or {}
    nobody = Owner(None, None)
    out: dict[int, Nearest] = {}
    for index, keys in enumerate(members):
        found = np.flatnonzero((labels == labels[index]).any(axis=1))
        counts = (codes[found] == codes[index]).sum(axis=1, dtype=np.int32)
        if len(keys) == 1:  # the only equal signature is the key's own: not a candidate
            others = found != index
            found, counts = found[others], counts[others]
            if not len(found):
                continue
            best = int(counts.max())
        else:
            best = NUM_PERM  # another key with the same signature
        tied = counts >= _TIE_MIN_COUNT[best]
        ties = [
            (_SIMILARITY[count], other)
            for g, count in zip(found[tied].tolist(), counts[tied].tolist(), strict=True)
            for other in members[g]
        ]
        for key in keys:
            me = owners.get(key, nobody)
            sim, other = min(
                (t for t in ties if t[1] != key),
                key=lambda t: _tie_rank(me, t[1], owners.get(t[1], nobody)),
            )
            out[key] = Nearest(other, sim)
    return out
