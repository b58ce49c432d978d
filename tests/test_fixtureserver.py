"""The fixture web server behaves like a real portal: headers, validators, overlays, quirks."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gxcrawl.extract.encoding import decode_html
from gxcrawl.testing.fixtureserver import FixtureServer, serve

ROOT = Path(__file__).resolve().parents[1]
PORTALS = ROOT / "fixtures" / "portals"


def _trs_odd_header(value: str) -> str:
    """The TRS report page whose sidecar sets header_charset to `value`."""
    sidecar = tomllib.loads((PORTALS / "trs" / "_site.toml").read_text("utf-8"))["paths"]
    (path,) = [
        p for p, e in sidecar.items() if e.get("header_charset") == value and p.endswith(".htm")
    ]
    return path


TRS_MISSING = _trs_odd_header("")  # header has no charset
TRS_WRONG = _trs_odd_header("utf-8")  # header claims utf-8, body is GBK
DEMO_GBK = "/xxgk/ndbg/202101/t20210106_1001.html"


def request(
    server: FixtureServer,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A tiny portal exercising every sidecar option."""
    root = tmp_path / "site"
    (root / "col").mkdir(parents=True)
    (root / "index.html").write_text("<html><title>首页</title></html>", "utf-8")
    (root / "col" / "index.html").write_text("<html>列表</html>", "utf-8")
    (root / "page.html").write_text("<html><h1>旧的内容</h1></html>", "utf-8")
    (root / "gone.html").write_text("<html>将被删除</html>", "utf-8")
    (root / "big.html").write_bytes(b"<html>" + b"x" * 5000 + b"</html>")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", "utf-8")
    (root / "_site.toml").write_text(
        """
[defaults]
last_modified = 2021-03-01T08:00:00Z

[paths."/page.html"]
headers = { "X-Fixture" = "yes" }

[paths."/moved.html"]
redirect = "/"

[paths."/loop.html"]
redirect_loop = true

[paths."/big.html"]
truncated = true

[paths."/slow.html"]
slow = 0.4

[paths."/challenge.html"]
status = 412
""",
        "utf-8",
    )
    (root / "slow.html").write_text("<html>慢</html>", "utf-8")
    (root / "challenge.html").write_text("<script>$_ts={}</script>", "utf-8")
    overlay = tmp_path / "v2"
    overlay.mkdir()
    (overlay / "page.html").write_text("<html><h1>新的内容</h1></html>", "utf-8")
    (overlay / "new.html").write_text("<html>新增</html>", "utf-8")
    (overlay / "_site.toml").write_text('[paths."/gone.html"]\nremoved = true\n', "utf-8")
    return root


@pytest.fixture
def server(site: Path) -> Iterator[FixtureServer]:
    with serve(site) as srv:
        yield srv


def test_content_type_charset_gbk_missing_and_wrong() -> None:
    with serve(PORTALS / "trs") as srv:
        status, headers, body = request(srv, "GET", "/xxgk/ndbg/")
        assert status == 200 and headers["content-type"] == "text/html; charset=gbk"
        assert "政府信息公开年报" in body.decode("gbk")
        _, headers, body = request(srv, "GET", TRS_MISSING)
        assert headers["content-type"] == "text/html"
        text, _ = decode_html(body, headers["content-type"])
        assert "张村镇2019年度信息公开工作报告" in text
        _, headers, body = request(srv, "GET", TRS_WRONG)
        assert headers["content-type"] == "text/html; charset=utf-8"
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        _, headers, _ = request(srv, "GET", "/robots.txt")
        assert headers["content-type"] == "text/plain"
    with serve(PORTALS / "demo") as srv:
        _, headers, body = request(srv, "GET", DEMO_GBK)
        assert headers["content-type"] == "text/html; charset=gbk"
        assert "临江街道办事处2020年" in body.decode("gbk")
        _, headers, _ = request(srv, "GET", "/xxgk/ndbg/")
        assert headers["content-type"] == "text/html; charset=utf-8"
        _, headers, _ = request(srv, "GET", "/xxgk/ndbg/202301/P020230117580112.pdf")
        assert headers["content-type"] == "application/pdf"


def test_etag_and_if_none_match(server: FixtureServer) -> None:
    status, headers, body = request(server, "GET", "/page.html")
    assert status == 200 and headers["etag"].startswith('"') and headers["x-fixture"] == "yes"
    again = request(server, "GET", "/page.html")[1]
    assert again["etag"] == headers["etag"]  # stable: from the content
    status, headers304, body304 = request(
        server, "GET", "/page.html", {"If-None-Match": headers["etag"]}
    )
    assert status == 304 and body304 == b"" and headers304["etag"] == headers["etag"]
    assert request(server, "GET", "/page.html", {"If-None-Match": '"other"'})[0] == 200
    # If-None-Match wins over a matching If-Modified-Since
    mismatch = {"If-None-Match": '"other"', "If-Modified-Since": headers["last-modified"]}
    assert request(server, "GET", "/page.html", mismatch)[0] == 200
    log = server.requests
    assert [r.status for r in log] == [200, 200, 304, 200, 200]
    assert [r.conditional for r in log] == [False, False, True, True, True]
    assert log[0].bytes_sent == len(body) and log[2].bytes_sent == 0


def test_last_modified_and_if_modified_since(server: FixtureServer) -> None:
    _, headers, _ = request(server, "GET", "/page.html")
    assert headers["last-modified"] == "Mon, 01 Mar 2021 08:00:00 GMT"  # from the sidecar
    same = {"If-Modified-Since": headers["last-modified"]}
    assert request(server, "GET", "/page.html", same)[0] == 304
    later = {"If-Modified-Since": "Tue, 01 Jun 2021 00:00:00 GMT"}
    assert request(server, "GET", "/page.html", later)[0] == 304
    earlier = {"If-Modified-Since": "Mon, 01 Feb 2021 00:00:00 GMT"}
    assert request(server, "GET", "/page.html", earlier)[0] == 200
    assert request(server, "GET", "/page.html", {"If-Modified-Since": "garbage"})[0] == 200


def test_last_modified_default_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("x", "utf-8")
    os.utime(tmp_path / "a.html", (1_700_000_000, 1_700_000_000))
    with serve(tmp_path) as srv:
        assert request(srv, "GET", "/a.html")[1]["last-modified"] == "Fri, 01 Jan 2021 00:00:00 GMT"


def test_no_validators_mode(site: Path) -> None:
    with serve(site, validators=False) as srv:
        status, headers, body = request(srv, "GET", "/page.html")
        assert status == 200 and "etag" not in headers and "last-modified" not in headers
        cond = {"If-None-Match": "*", "If-Modified-Since": "Tue, 01 Jun 2100 00:00:00 GMT"}
        status, _, body2 = request(srv, "GET", "/page.html", cond)
        assert status == 200 and body2 == body


def test_overlay_switch_keeps_port(server: FixtureServer, site: Path) -> None:
    port = server.port
    _, h1, old = request(server, "GET", "/page.html")
    assert request(server, "GET", "/new.html")[0] == 404
    assert request(server, "GET", "/gone.html")[0] == 200
    server.set_overlay(site.parent / "v2")
    assert server.port == port
    status, h2, new = request(server, "GET", "/page.html")
    assert status == 200 and "新的内容" in new.decode() and h2["etag"] != h1["etag"]
    assert h2["last-modified"] > "" and h2["last-modified"] != h1["last-modified"]
    # the old validators no longer match: an edited page is downloaded again
    assert request(server, "GET", "/page.html", {"If-None-Match": h1["etag"]})[0] == 200
    assert (
        request(server, "GET", "/page.html", {"If-Modified-Since": h1["last-modified"]})[0] == 200
    )
    assert request(server, "GET", "/gone.html")[0] == 404
    assert request(server, "GET", "/new.html")[0] == 200
    assert request(server, "GET", "/")[0] == 200  # untouched files still served from the base
    server.set_overlay(None)
    assert request(server, "GET", "/page.html")[2] == old
    assert request(server, "GET", "/gone.html")[0] == 200


def test_demo_overlay_v2() -> None:
    with serve(PORTALS / "demo") as srv:
        import json

        gold = json.loads((PORTALS / "demo_v2" / "expected_v2.json").read_text("utf-8"))
        edited, removed, added = gold["edited"][0], gold["removed"][0], gold["added"][0]
        before = request(srv, "GET", edited)[2]
        assert request(srv, "GET", removed)[0] == 200
        assert request(srv, "GET", added)[0] == 404
        srv.set_overlay(PORTALS / "demo_v2")
        after = request(srv, "GET", edited)[2]
        assert before != after and "151条" in after.decode() and "148条" in before.decode()
        assert request(srv, "GET", removed)[0] == 404
        assert request(srv, "GET", added)[0] == 200
        assert added in request(srv, "GET", "/xxgk/ndbg/")[2].decode()


def test_redirects_and_loop(server: FixtureServer) -> None:
    status, headers, _ = request(server, "GET", "/moved.html")
    assert status == 302 and headers["location"] == "/"
    status, headers, _ = request(server, "GET", "/loop.html?x=1")
    assert status == 302 and headers["location"] == "/loop.html?x=1"
    status, headers, _ = request(server, "GET", "/col")
    assert status == 301 and headers["location"] == "/col/"
    assert request(server, "GET", "/col/")[2].decode() == "<html>列表</html>"


def test_truncated_and_slow(server: FixtureServer) -> None:
    with pytest.raises(http.client.IncompleteRead):
        request(server, "GET", "/big.html")
    entry = server.requests[-1]
    assert entry.status == 200 and entry.bytes_sent < 5013
    # A client that gives up sooner than the server's delay gets the headers, then times out.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=0.05)
    try:
        conn.request("GET", "/slow.html")
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(TimeoutError):
            resp.read()
    finally:
        conn.close()
    assert request(server, "GET", "/slow.html")[2].decode() == "<html>慢</html>"


def test_challenge_status_and_no_validators(server: FixtureServer) -> None:
    status, headers, body = request(server, "GET", "/challenge.html")
    assert status == 412 and "etag" not in headers and b"$_ts" in body


def test_generic_portal_challenge_and_waf() -> None:
    import json

    gold = json.loads((PORTALS / "generic" / "expected.json").read_text("utf-8"))
    with serve(PORTALS / "generic") as srv:
        statuses = {p: request(srv, "GET", p) for p in gold["blocked"]}
    codes = sorted(s for s, _, _ in statuses.values())
    assert codes == [200, 412]
    for status, _, body in statuses.values():
        text = body.decode()
        if status == 412:
            assert "$_ts" in text and "<script" in text and 'src="/' in text
        else:
            assert "您的访问被拦截" in text


def test_hanweb_dataproxy_post() -> None:
    records_file = PORTALS / "hanweb" / "_hanweb" / "1229.records.html"
    lines = [ln for ln in records_file.read_text("utf-8").splitlines() if ln.strip()]
    form = b"col=1&appid=1&webid=1&path=%2F&columnid=1229&unitid=5472&permissiontype=0"
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
    with serve(PORTALS / "hanweb") as srv:
        path = "/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15"
        status, headers, body = request(srv, "POST", path, hdrs, form)
        text = body.decode("utf-8")
        assert status == 200 and headers["content-type"].startswith("text/xml")
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><datastore><nextgroup>')
        assert text.count("<record><![CDATA[") == 15
        assert f"<record><![CDATA[{lines[15]}]]></record>" in text
        assert lines[14] not in text and lines[30] not in text
        n = len(lines)
        last = f"/module/web/jpage/dataproxy.jsp?startrecord={n - 4}&endrecord={n + 10}&perpage=15"
        text = request(srv, "POST", last, hdrs, form)[2].decode()
        assert text.count("<record>") == 5  # clipped at the column's last record
        bad = "/module/web/jpage/dataproxy.jsp?startrecord=x&endrecord=30&perpage=15"
        assert request(srv, "POST", bad, hdrs, form)[0] == 400
        reversed_range = "/module/web/jpage/dataproxy.jsp?startrecord=30&endrecord=16&perpage=15"
        assert request(srv, "POST", reversed_range, hdrs, form)[0] == 400
        assert request(srv, "POST", path, hdrs, form.replace(b"1229", b"9999"))[0] == 404
        assert request(srv, "GET", path)[0] == 405
        assert [r.method for r in srv.requests][:2] == ["POST", "POST"]
        assert srv.requests[0].path == path


def test_query_mapped_answers(tmp_path: Path) -> None:
    """A JSON list API: one path, a different body per query string (order-insensitive)."""
    root = tmp_path / "api"
    (root / "_api").mkdir(parents=True)
    (root / "_api" / "p1.json").write_text('{"page": 1}', "utf-8")
    (root / "_api" / "p2.json").write_text('{"page": 2}', "utf-8")
    (root / "list.html").write_text("<html>静态</html>", "utf-8")
    (root / "_site.toml").write_text(
        """
[paths."/api/all/7"]
query = { "page=1&sid=3" = "/_api/p1.json", "page=2&sid=3" = "_api/p2.json" }

[paths."/list.html"]
query = { "page=2" = "_api/p2.json" }
content_type = "application/json; charset=utf-8"
""",
        "utf-8",
    )
    with serve(root) as srv:
        status, headers, body = request(srv, "GET", "/api/all/7?page=1&sid=3")
        assert (status, body) == (200, b'{"page": 1}')
        assert headers["content-type"] == "application/json"
        assert request(srv, "GET", "/api/all/7?sid=3&page=2")[2] == b'{"page": 2}'
        assert request(srv, "GET", "/api/all/7?page=%32&sid=3")[2] == b'{"page": 2}'
        assert request(srv, "GET", "/api/all/7?page=9&sid=3")[0] == 404  # unmapped query
        assert request(srv, "GET", "/api/all/7")[0] == 404  # no file at the path itself
        assert request(srv, "GET", "/_api/p1.json")[0] == 404  # the answers stay hidden
        # a real file at the path answers every unmapped query, as before
        assert request(srv, "GET", "/list.html?page=1")[2] == "<html>静态</html>".encode()
        status, headers, body = request(srv, "GET", "/list.html?page=2")
        assert body == b'{"page": 2}'
        assert headers["content-type"] == "application/json; charset=utf-8"
        etag = headers["etag"]
        assert request(srv, "GET", "/list.html?page=2", {"If-None-Match": etag})[0] == 304
        assert request(srv, "GET", "/list.html?page=1", {"If-None-Match": etag})[0] == 200
    (root / "_site.toml").write_text('[paths."/x"]\nquery = { "a=1" = 3 }\n', "utf-8")
    with pytest.raises(ValueError, match="query must map"):
        serve(root)


def test_head_404_hidden_and_log(server: FixtureServer) -> None:
    _, get_headers, body = request(server, "GET", "/page.html")
    status, headers, head_body = request(server, "HEAD", "/page.html")
    assert status == 200 and head_body == b""
    assert headers["content-length"] == str(len(body)) == get_headers["content-length"]
    assert server.requests[-1].bytes_sent == 0 and server.requests[-1].method == "HEAD"
    assert request(server, "GET", "/nope.html")[0] == 404
    assert request(server, "GET", "/_site.toml")[0] == 404
    assert request(server, "GET", "/../../etc/passwd")[0] in (400, 404)
    assert request(server, "GET", "/robots.txt")[2].startswith(b"User-agent")
    assert request(server, "DELETE", "/page.html")[0] == 405
    server.clear_log()
    assert server.requests == []


def test_malformed_requests_get_400_and_server_survives(server: FixtureServer) -> None:
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET /x HTTP/9.9\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\r\n\r\n",
    ):
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(raw)
            reply = sock.recv(200)
        assert reply.split(b" ")[1] in (b"400", b"505"), reply
    bad_len = {"Content-Length": "abc"}
    assert request(server, "POST", "/module/web/jpage/dataproxy.jsp", bad_len)[0] == 400
    assert request(server, "GET", "/%ff%fe.html")[0] == 400
    assert request(server, "GET", "/")[0] == 200


def test_requests_log_is_thread_safe(server: FixtureServer) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: request(server, "GET", "/page.html"), range(40)))
    assert len(server.requests) == 40 and {r.status for r in server.requests} == {200}


PORT_0 = ["--port", "0"]  # any free port


def test_cli_starts_prints_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gxcrawl.testing.fixtureserver", str(PORTALS / "demo"), *PORT_0],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving {PORTALS / 'demo'} at http://127.0.0.1:")
        url = line.split(" at ")[1].strip()
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/xxgk/ndbg/")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
