"""Property-based fuzzing of the extraction entry point (bounded: well under a minute in all).

Whatever bytes arrive, `extract_document` returns a result, never raises, keeps no character lxml
could not store, and finishes in bounded time. `make fuzz` runs the same idea at 100,000 inputs.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gxcrawl.extract import sanitize, spam
from gxcrawl.extract.content import norm_space
from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.extract.types import PageResult

URL = "http://www.example.gov.cn/zwgk/ndbg/2023/t20240115_1.html"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = sorted((FIXTURES / "pages").glob("*.html"))
PAGE_SECONDS = 5.0  # per page; fixture-sized pages take ~10 ms, so only a hang trips it
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# No example database (it would write .hypothesis/ into the checkout) and no per-example
# deadline (a loaded CI box is slow; the time bound is asserted explicitly instead).
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SNIPPETS = [
    "<!--", "<!", "<!x", "<![CDATA[", "<script>", "<style>", "</html>", "<table>", "<td>", "</div>",
    "<div>" * 300, "<b>" * 300, "博彩 " + "a" * 61, "bet365", "<a href=#>x</a>\x0b", "\x00",
    "<?xml version='1.0' encoding='gbk'?>", "&#0;&#xD800;&#11;&#xFFFF;", "<p style='display:none'>",
    "<div class=content>", "\ufeff", "\ud800", "\uffff", "<style>.h{display:none}</style>",
]  # fmt: skip


def extract(body: bytes) -> PageResult:
    start = time.perf_counter()
    result = extract_document(RawDocument(body, URL)).result
    assert time.perf_counter() - start < PAGE_SECONDS
    assert isinstance(result, PageResult)
    assert not _XML_BAD.search(result.text)
    assert not any(_XML_BAD.search(r.text) for r in result.removed)
    return result


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes(body: bytes) -> None:
    extract(body)


@FUZZ
@given(st.lists(st.sampled_from(SNIPPETS) | st.text(max_size=30), max_size=40))
def test_hostile_snippets(parts: list[str]) -> None:
    html = "<html><head><title>2023年政府信息公开工作年度报告</title></head><body>"
    extract((html + "".join(parts)).encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),  # where in the page
            st.integers(0, 200),  # how many bytes to delete there
            st.sampled_from(SNIPPETS).map(lambda s: s.encode("utf-8", "surrogatepass"))
            | st.binary(max_size=20),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_fixture_pages(seed: Path, edits: list[tuple[float, int, bytes]]) -> None:
    data = seed.read_bytes()
    for where, cut, insert in edits:
        i = int(where * len(data))
        data = data[:i] + insert + data[i + cut :]
    extract(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/!-abdp =\"'\x0b\x00博彩x\n")), max_size=300))
def test_parse_document_never_raises(text: str) -> None:
    root, flags = sanitize.parse_document(text)
    assert root.tag == "html"
    assert set(flags) <= {sanitize.MARKUP_TOO_DEEP, sanitize.MARKUP_UNPARSABLE}
    for el in root.iter():  # the tree can be edited: no string lxml would refuse
        if el.getparent() is not None and isinstance(el.tag, str):
            el.drop_tree()


PIECES = [
    "<div>", "</div>", "<a href='http://x.com/'>", "</a>", " ", "\u3000", "\n", "葡京", "abc",
    "<!-- c -->", "<span>", "</span>", "<p>", "\u200b", "<script>x</script>", "<br>", "&nbsp;",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_link_farm_lengths_equal_norm_space(pieces: list[str]) -> None:
    """The one-pass link-farm evidence measures text exactly as `norm_space` would."""
    html = "<html><body>" + "<a href=#>a</a>" * 5 + "".join(pieces) + "</body></html>"
    root = lxml.html.document_fromstring(html)
    found = spam._farm_evidence(root, "www.example.gov.cn")
    for el, farm in found.items():
        assert farm.text.stripped() == len(norm_space(el.text_content()))
        assert farm.anchors == sum(1 for a in el.iter("a") if norm_space(a.text_content()))
