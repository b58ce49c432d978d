"""The fixture portals are consistent with their gold: everything expected exists and is linked."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import tomllib
import urllib.robotparser
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from benchmarks.benchportal import generate
from gxcrawl.extract.encoding import decode_html
from gxcrawl.testing.fixtureserver import FixtureServer, serve

from .test_fixtureserver import request

ROOT = Path(__file__).resolve().parents[1]
PORTALS = ROOT / "fixtures" / "portals"
NAMES = ["demo", "generic", "trs", "tree", "hanweb"]
HREF = re.compile(r"""href\s*=\s*["']([^"'#]+)["']""", re.I)
CREATE_PAGE = re.compile(r'createPageHTML\((\d+),\s*(\d+),\s*"(\w+)",\s*"(\w+)"\)')
RECORD = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
DATAPROXY = "/module/web/jpage/dataproxy.jsp"


def gold(name: str) -> dict[str, Any]:
    return json.loads((PORTALS / name / "expected.json").read_text("utf-8"))


def registry(name: str) -> dict[str, Any]:
    with (PORTALS / name / "portal.toml").open("rb") as fh:
        entries = tomllib.load(fh)["portal"]
    assert len(entries) == 1
    return dict(entries[0])


class Walk:
    """A minimal crawl of a served portal that follows every on-site link the way a spider can:
    plain hrefs, TRS createPageHTML pagination and Hanweb datastores (inline + dataproxy POST)."""

    def __init__(self, server: FixtureServer, starts: list[str]) -> None:
        self.server = server
        self.status: dict[str, int] = {}
        self.links: dict[str, set[str]] = {}  # target → pages linking it
        self.offsite: set[str] = set()
        robots = urllib.robotparser.RobotFileParser()
        robots.parse(request(server, "GET", "/robots.txt")[2].decode().splitlines())
        self.robots = robots
        queue = deque(starts)
        seen = set(starts)
        while queue:
            url = queue.popleft()
            for target in self._visit(url):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)

    def _link(self, source: str, href: str) -> str | None:
        target = urljoin(source, html.unescape(href))
        parts = urlsplit(target)
        if parts.scheme in ("http", "https") and parts.netloc:
            self.offsite.add(target)
            return None
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None  # javascript:, mailto:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.links.setdefault(path, set()).add(source)
        if path.startswith(DATAPROXY):
            return None  # the <nextgroup> link inside the datastore: data, not a page to GET
        if not self.robots.can_fetch("*", path) or path.endswith((".pdf", ".docx")):
            return None
        return path

    def _visit(self, url: str) -> list[str]:
        if url.startswith("POST "):
            status, _, body = request(
                self.server,
                "POST",
                url[5:],
                {"Content-Type": "application/x-www-form-urlencoded"},
                b"col=1&appid=1&webid=1&path=/&columnid=1229&unitid=5472&permissiontype=0",
            )
        else:
            status, _, body = request(self.server, "GET", url)
        self.status[url] = status
        if status != 200:
            return []
        text, _ = decode_html(body, None)
        found = [self._link(url, h) for h in HREF.findall(text)]
        for total, _current, base, ext in CREATE_PAGE.findall(text):
            for i in range(int(total)):
                found.append(self._link(url, f"{base}_{i}.{ext}") if i else None)
        m = re.search(r"<totalrecord>(\d+)</totalrecord>", text)
        if m and '<script type="text/xml">' in text:
            per = int(re.search(r"perPage:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
            group = int(re.search(r"groupSize:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
            total, window = int(m.group(1)), per * group
            assert len(RECORD.findall(text)) == window  # the page inlines the first group
            for start in range(window + 1, total + 1, window):
                end = start + window - 1  # like jpage: not clipped at the total
                found.append(f"POST {DATAPROXY}?startrecord={start}&endrecord={end}&perpage={per}")
        for rec in RECORD.findall(text) if url.startswith("POST ") else []:
            found += [self._link(url, h) for h in HREF.findall(rec)]
        return [f for f in found if f]


@pytest.fixture(scope="module", params=NAMES)
def walked(request: pytest.FixtureRequest) -> Any:
    name = request.param
    with serve(PORTALS / name) as server:
        walk = Walk(server, registry(name)["start_urls"])
        yield name, walk, server


def test_portal_toml_is_a_valid_relative_registry_entry() -> None:
    for name in NAMES:
        entry = registry(name)
        assert entry["id"] == f"fixture-{name}" and entry["level"] == "fixture"
        assert entry["platform"] in ("generic", "trs", "tree", "hanweb")
        assert re.fullmatch(r"\d{6}", entry["region_code"]) and entry["enabled"] is True
        assert all(u.startswith("/") for u in [entry["homepage"], *entry["start_urls"]])
        assert entry["allowed_domains"] == []


def test_everything_expected_exists_and_is_linked(walked: Any) -> None:
    name, walk, _ = walked
    g = gold(name)
    for page in g["list_pages"]:
        assert walk.status.get(page) == 200, page
    for rep in g["reports"]:
        assert rep["path"] in walk.links, rep["path"]
        if rep["kind"] == "html":
            assert walk.status[rep["path"]] == 200
    for path in g["lookalikes"]:
        assert walk.status.get(path) == 200 and path in walk.links
    for path in g["blocked"]:
        assert path in walk.links and walk.status[path] in (200, 412)
    for path in g["soft_404"]:
        assert walk.status.get(path) == 200 and path in walk.links
    for att in g["attachments"]:
        assert att["path"] in walk.links and att["report"] in walk.links[att["path"]]
    for never in g["never_requested"]:
        if never.startswith("http"):
            assert never in walk.offsite
        else:  # linked, but robots.txt forbids it
            assert never in walk.links and never not in walk.status


def test_reports_carry_their_title(walked: Any) -> None:
    name, _walk, server = walked
    for rep in gold(name)["reports"]:
        if rep["kind"] != "html":
            continue
        _, headers, body = request(server, "GET", rep["path"])
        text, _ = decode_html(body, headers.get("content-type"))
        title = html.escape(rep.get("page_title", rep["title"]), quote=False)
        assert re.search(rf"<title>{re.escape(title)}", text), rep["path"]
        assert re.search(rf"<h1[^>]*>{re.escape(title)}</h1>|<div class=\"article-title\">", text)
        assert str(rep["year"]) in rep["title"] or "〇" in rep["title"]


def test_lists_are_deep_enough(walked: Any) -> None:
    name, _walk, server = walked
    pages = gold(name)["list_pages"]
    assert len(pages) >= (3 if name == "demo" else 5)
    if name in ("generic", "trs", "hanweb"):
        for page in pages:
            if page.startswith("POST "):
                n = len(RECORD.findall(walk_body(server, page)))
            else:
                n = walk_body(server, page).count("<li><a ")
                n = n or walk_body(server, page).count("<record>")
            most = 45 if name == "hanweb" else 20  # Hanweb: one group of 3 pages of 15
            assert 10 <= n <= most or page == pages[-1], (page, n)


def walk_body(server: FixtureServer, page: str) -> str:
    if page.startswith("POST "):
        body = request(server, "POST", page[5:], {}, b"columnid=1229")[2]
    else:
        body = request(server, "GET", page)[2]
    return decode_html(body, None)[0]


def test_expected_sets_are_disjoint_and_classified() -> None:
    for name in NAMES:
        g = gold(name)
        reports = {r["path"] for r in g["reports"]}
        others = [set(g["lookalikes"]), set(g["blocked"]), set(g["soft_404"])]
        for group in others:
            assert not reports & group
        assert len(reports) == len(g["reports"])
    families = [gold(n) for n in NAMES[1:]]
    assert any(
        r["kind"] == "attachment" and r["path"].endswith(".pdf")
        for g in families
        for r in g["reports"]
    )
    assert any(
        r["kind"] == "attachment" and r["path"].endswith(".docx")
        for g in families
        for r in g["reports"]
    )
    assert sum(len(g["blocked"]) for g in families) >= 2
    assert sum(len(g["soft_404"]) for g in families) >= 1


def test_gbk_report_pages_decode_to_their_title() -> None:
    trs = gold("trs")
    sidecar = tomllib.loads((PORTALS / "trs" / "_site.toml").read_text("utf-8"))["paths"]
    odd = {p for p, e in sidecar.items() if "header_charset" in e and p.endswith(".htm")}
    titles = {r["path"]: r["title"] for r in trs["reports"]}
    assert len(odd & set(titles)) == 2  # one missing and one wrong header, both on reports
    with serve(PORTALS / "trs") as server:
        for path in sorted(odd & set(titles)):
            _, headers, body = request(server, "GET", path)
            with pytest.raises(UnicodeDecodeError):
                body.decode("utf-8")
            text, encoding = decode_html(body, headers["content-type"])
            assert titles[path] in text and encoding in ("gb18030", "gbk")


def test_attachments_are_real_files() -> None:
    import docx
    import pdfplumber

    texts = {}
    for name in NAMES:
        for path in sorted((PORTALS / name).rglob("*")):
            if path.suffix == ".pdf":
                with pdfplumber.open(path) as pdf:
                    texts[path] = "".join(p.extract_text() or "" for p in pdf.pages)
            elif path.suffix == ".docx":
                texts[path] = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    pdfs = [t for p, t in texts.items() if p.suffix == ".pdf"]
    assert any("Annual Report" in t for t in pdfs)
    assert any(t.strip() == "" for t in pdfs)  # the scanned, image-only report
    docxs = [t for p, t in texts.items() if p.suffix == ".docx"]
    assert docxs and all("政府信息公开" in t for t in docxs)


def test_demo_has_seed_chrome_spam_metadata_and_tables() -> None:
    demo = PORTALS / "demo"
    pages = {p: p.read_bytes() for p in (demo / "xxgk" / "ndbg").rglob("t*.html")}
    texts = [b.decode("gbk") if "1001" in p.name else b.decode("utf-8") for p, b in pages.items()]
    joined = "\n".join(texts)
    for needle in (
        "分享到",
        "[收藏] [打印] [关闭]",
        "用微信扫描二维码分享至好友和朋友圈",
        "330803-042/2021-46930",
        "<table",
        "rowspan",
        "bet365亚洲官网",
        "display:none",
    ):
        assert needle in joined, needle
    titles = [r["title"] for r in gold("demo")["reports"]]
    assert len(titles) >= 6
    look = {p.split("/")[-1] for p in gold("demo")["lookalikes"]}
    assert len(look) >= 4


def test_demo_v2_overlay_gold() -> None:
    v2 = PORTALS / "demo_v2"
    g = json.loads((v2 / "expected_v2.json").read_text("utf-8"))
    sidecar = tomllib.loads((v2 / "_site.toml").read_text("utf-8"))["paths"]
    assert [p for p, e in sidecar.items() if e.get("removed")] == g["removed"]
    (edited,) = g["edited"]
    assert (v2 / edited.lstrip("/")).read_bytes() != (
        PORTALS / "demo" / edited.lstrip("/")
    ).read_bytes()
    (added,) = g["added"]
    assert (v2 / added.lstrip("/")).exists() and not (PORTALS / "demo" / added.lstrip("/")).exists()
    assert added in (v2 / "xxgk/ndbg/index.html").read_text("utf-8")
    base = {r["path"] for r in gold("demo")["reports"]}
    assert {r["path"] for r in g["reports"]} == (base - set(g["removed"])) | {added}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def test_bench_portal_is_large_and_deterministic(tmp_path: Path) -> None:
    counts = generate(tmp_path / "a", pages=2000, seed=0)
    again = generate(tmp_path / "b", pages=2000, seed=0)
    assert counts == again and _digest(tmp_path / "a") == _digest(tmp_path / "b")
    html_files = list((tmp_path / "a").rglob("*.html"))
    assert counts["pages"] == len(html_files) >= 2000
    assert counts["reports"] >= 100 and counts["list_pages"] >= 50
    assert generate(tmp_path / "c", pages=2000, seed=1)["bytes"] != counts["bytes"]
    exp = json.loads((tmp_path / "a" / "expected.json").read_text("utf-8"))
    with serve(tmp_path / "a") as server:
        last = exp["list_pages"][-1]
        assert request(server, "GET", last)[0] == 200
        page = request(server, "GET", exp["list_pages"][0])[2].decode()
        assert "下一页" in page and exp["list_pages"][1] in page
        report = request(server, "GET", exp["reports"][0]["path"])[2].decode()
        assert "<table" in report and len(report.encode()) > 6000
    assert tomllib.loads((tmp_path / "a" / "portal.toml").read_text("utf-8"))["portal"][0][
        "start_urls"
    ]


def test_pdf_builder_output_is_parseable() -> None:
    import pdfplumber

    from fixtures.build_portals import make_pdf  # type: ignore[import-not-found]

    with pdfplumber.open(io.BytesIO(make_pdf(["Hello (fixture) report 2021"]))) as pdf:
        assert "Hello (fixture) report 2021" in pdf.pages[0].extract_text()
