"""A local web server for fixture portals: behaves like a real government site, minus the network.

It serves one portal folder on 127.0.0.1 with the headers a crawler must cope with — charsets (also
missing or wrong ones), strong ETags, deterministic Last-Modified, 304 answers to conditional
requests — plus the platform quirks the spiders target (the Hanweb `dataproxy.jsp` POST) and
failure modes (challenge pages with odd statuses, redirects, loops, slow and truncated bodies).
An overlay folder can be switched in at runtime, on the same port, so recrawl tests see a site
that changed between runs. Every request is logged for tests to assert on.

Per-path behaviour comes from a `_site.toml` sidecar in the portal (and overlay) folder; its format
is documented in `fixtures/README.md`.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import html
import posixpath
import signal
import socket
import sys
import threading
import tomllib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

SIDECAR = "_site.toml"
HANWEB_DIR = "_hanweb"
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
# Fixed dates, not file mtimes: a fresh checkout must produce the same validators every time.
DEFAULT_LAST_MODIFIED = datetime(2021, 1, 1, tzinfo=UTC)
OVERLAY_LAST_MODIFIED = datetime(2022, 1, 1, tzinfo=UTC)
MAX_POST_BODY = 64 * 1024  # a jpage form is a few hundred bytes; more is a broken client
ETAG_HEX_CHARS = 32  # half a SHA-256: unique enough for one portal, short like real ETags
MIB = 1024 * 1024
STREAM_CHUNK = 256 * 1024  # generated bodies leave in pieces, never held whole in memory
GZIP_WBITS = 31  # zlib's wbits for a gzip container
CALENDAR_PAGE = "index_{n}.html"  # the generic pager's `index_N` pages, which 尾页 ranges fill

PATH_KEYS = {
    "charset",
    "header_charset",
    "status",
    "content_type",
    "headers",
    "redirect",
    "removed",
    "last_modified",
    "redirect_loop",
    "slow",
    "truncated",
    "query",
    # hostile modes (see `_Handler._hostile`)
    "gzip_bomb",
    "redirect_chain",
    "refresh_chain",
    "oversize",
    "oversize_unannounced",
    "short_length",
    "calendar",
}
DEFAULT_KEYS = {"charset", "last_modified"}

CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".txt": "text/plain",
    ".xml": "text/xml",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".wps": "application/vnd.ms-works",
    ".xls": "application/vnd.ms-excel",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
}
TEXT_TYPES = {"text/html", "text/plain", "text/xml", "text/css", "application/javascript"}
# Files that describe the fixture rather than belong to the site.
META_FILES = {
    "portal.toml",
    "expected.json",
    "expected_v2.json",
    "expected_fetches.json",
    "README.md",
}


class LoggedRequest(NamedTuple):
    method: str
    path: str  # request target as sent: path and query
    status: int
    bytes_sent: int  # body bytes sent (half the body for `truncated`, 0 for HEAD and 304)
    conditional: bool  # the request carried If-None-Match or If-Modified-Since


@dataclass(frozen=True)
class SiteConfig:
    """One folder's `_site.toml`: defaults plus per-path overrides."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    paths: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> SiteConfig:
        sidecar = folder / SIDECAR
        if not sidecar.is_file():
            return cls()
        with sidecar.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - {"defaults", "paths"}
        if unknown:
            raise ValueError(f"{sidecar}: unknown sections {sorted(unknown)}")
        defaults = data.get("defaults", {})
        if set(defaults) - DEFAULT_KEYS:
            raise ValueError(
                f"{sidecar}: unknown [defaults] keys {sorted(set(defaults) - DEFAULT_KEYS)}"
            )
        paths = data.get("paths", {})
        for key, entry in paths.items():
            if not key.startswith("/"):
                raise ValueError(f"{sidecar}: path {key!r} must start with '/'")
            bad = set(entry) - PATH_KEYS
            if bad:
                raise ValueError(f"{sidecar}: {key}: unknown keys {sorted(bad)}")
            query = entry.get("query", {})
            if not isinstance(query, Mapping) or not all(
                isinstance(f, str) and f.strip("/") for f in query.values()
            ):
                raise ValueError(f"{sidecar}: {key}: query must map query strings to file paths")
        return cls(defaults=defaults, paths=paths)


@dataclass(frozen=True)
class _Layers:
    """Base folder plus optional overlay, swapped as one object (requests see a consistent pair)."""

    root: Path
    base: SiteConfig
    overlay_root: Path | None = None
    overlay: SiteConfig = field(default_factory=SiteConfig)

    def entry(self, keys: list[str], from_overlay: bool) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for key in keys:
            base = dict(self.base.paths.get(key, {}))
            if from_overlay:
                base.pop("last_modified", None)  # the overlay's file is newer than the base's date
            merged.update(base)
            merged.update(self.overlay.paths.get(key, {}))
        return merged

    def default(self, name: str, from_overlay: bool) -> Any:
        if from_overlay and name in self.overlay.defaults:
            return self.overlay.defaults[name]
        if name == "last_modified" and from_overlay:
            return OVERLAY_LAST_MODIFIED
        return self.base.defaults.get(name)

    def find(self, rel: str) -> tuple[Path | None, bool]:
        """(file, came from overlay) for a relative path; overlay first."""
        if self.overlay_root is not None:
            candidate = _inside(self.overlay_root, rel)
            if candidate is not None and candidate.exists():
                return candidate, True
        return _inside(self.root, rel), False


def _inside(root: Path, rel: str) -> Path | None:
    candidate = (root / rel).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a date: {value!r}")


def _same_query(a: str, b: str) -> bool:
    """Query strings equal as parameter multisets: order and percent-encoding do not matter."""
    return sorted(parse_qsl(a, keep_blank_values=True)) == sorted(
        parse_qsl(b, keep_blank_values=True)
    )


def _query_file(entry: Mapping[str, Any], query: str) -> str | None:
    """The file (relative path) a path's `query` table maps this query string to."""
    for wanted, file in dict(entry.get("query", {})).items():
        if _same_query(str(wanted), query):
            return str(file).lstrip("/")
    return None


def _hidden(rel: str) -> bool:
    parts = [p for p in rel.split("/") if p]
    if not parts:
        return False
    if any(p.startswith("_") or p.startswith(".") for p in parts):
        return True
    return len(parts) == 1 and parts[0] in META_FILES


def _site_keys(path: str) -> tuple[str, str, list[str]]:
    """(normalised URL path, file path relative to the portal, `_site.toml` keys that apply)."""
    norm = posixpath.normpath(path)
    if path.endswith("/") and norm != "/":
        norm += "/"
    rel = norm.lstrip("/")
    if norm.endswith("/"):
        return norm, rel + "index.html", [norm, "/" + rel + "index.html"]
    return norm, rel, [norm]


@functools.lru_cache(maxsize=4)
def gzip_bomb(mib: int) -> bytes:
    """`mib` MiB of zeros, gzipped (about 1 KiB per MiB): a small answer that inflates hugely."""
    packer = zlib.compressobj(9, zlib.DEFLATED, GZIP_WBITS)
    zeros = bytes(MIB)
    parts = [packer.compress(zeros) for _ in range(mib)]
    return b"".join([*parts, packer.flush()])


def calendar_page(n: int, step: int) -> bytes:
    """List page `n` of a calendar-style trap: 下一页 to n+1 and a 尾页 that moves `step` ahead."""
    last = CALENDAR_PAGE.format(n=n + step)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>日历 第'
        f'{n}页</title></head><body><ul class="list"><li>{n}</li></ul>'
        f'<div class="page"><a href="index.html">首页</a> '
        f'<a href="{CALENDAR_PAGE.format(n=n + 1)}">下一页</a> <a href="{last}">尾页</a></div>'
        "</body></html>"
    ).encode()


def _calendar_number(name: str) -> int | None:
    """The page number of `index.html` (0) or `index_N.html` (N); None for other names."""
    if name in ("", "index.html"):
        return 0
    stem = name.removeprefix("index_").removesuffix(".html")
    return int(stem) if name.startswith("index_") and stem.isdigit() else None


def content_type(layers: _Layers, found: Path, entry: Mapping[str, Any], from_overlay: bool) -> str:
    """The Content-Type header served for `found` (per `_site.toml`: charsets, also wrong ones)."""
    if "content_type" in entry:
        return str(entry["content_type"])
    mime = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
    if mime not in TEXT_TYPES:
        return mime
    if "header_charset" in entry:
        charset = str(entry["header_charset"])
    else:
        charset = str(entry.get("charset") or layers.default("charset", from_overlay) or "utf-8")
    return f"{mime}; charset={charset}" if charset else mime


def served_file(root: Path, path: str) -> tuple[Path, str]:
    """(file, Content-Type) the server answers `path` of the portal folder `root` with."""
    root = Path(root).resolve()
    layers = _Layers(root=root, base=SiteConfig.load(root))
    _, file_rel, keys = _site_keys(path)
    found, from_overlay = layers.find(file_rel)
    if found is None or not found.is_file():
        raise FileNotFoundError(f"{path} is not a file of {root}")
    return found, content_type(layers, found, layers.entry(keys, from_overlay), from_overlay)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the servers Scrapy usually talks to
    server_version = "gxcrawl-fixtures/1"
    timeout = 30
    server: _Server

    # --- plumbing ---------------------------------------------------------------------------
    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.server.owner._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._unregister(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _log(self, status: int, sent: int) -> None:
        headers = getattr(self, "headers", None)
        conditional = bool(
            headers and (headers.get("If-None-Match") or headers.get("If-Modified-Since"))
        )
        target = getattr(self, "path", "") or ""
        if "://" in target:  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.server.owner._log(
            LoggedRequest(getattr(self, "command", None) or "-", target, status, sent, conditional)
        )
        self.log_message('"%s" %s %s', getattr(self, "requestline", ""), status, sent)

    def _respond(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        send_body: bool = True,
        slow: float = 0.0,
        truncated: bool = False,
    ) -> None:
        self.send_response(status)
        hdrs = dict(headers or {})
        if status != 304:
            hdrs.setdefault("Content-Length", str(len(body)))
        if truncated:
            hdrs["Connection"] = "close"
            self.close_connection = True
        for name, value in hdrs.items():
            self.send_header(name, value)
        with_body = send_body and status != 304 and self.command != "HEAD"
        payload = (body[: len(body) // 2] if truncated else body) if with_body else b""
        # Log before the response leaves: a client that has its answer finds it in the log.
        self._log(status, len(payload))
        self.end_headers()
        if payload:
            if slow > 0 and self.server.owner._stopping.wait(slow):
                return  # server stopping: drop the body
            self.wfile.write(payload)
        self.wfile.flush()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Replaces the stock error page so errors are logged and keep-alive stays correct.
        del explain  # the stock page's long explanation: not shown
        text = message or self.responses.get(code, ("Error",))[0]
        body = (
            f"<html><head><title>{code} {html.escape(text)}</title></head>"
            f"<body><h1>{code} {html.escape(text)}</h1></body></html>"
        ).encode()
        if code in (400, 414, 431, 505) or not getattr(self, "command", None):
            self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer garbage with a real status line
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if self.close_connection:
            headers["Connection"] = "close"
        with contextlib.suppress(OSError):
            self._respond(code, body, headers)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
        except Exception as exc:  # never let a bad request take the server down
            self.close_connection = True
            with contextlib.suppress(Exception):
                self.send_error(500, f"internal error: {type(exc).__name__}")

    # --- methods ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._serve_file()

    def do_HEAD(self) -> None:
        self._serve_file()

    def do_POST(self) -> None:
        target = self._target()
        if target is None:
            return
        path, query = target
        length_header = self.headers.get("Content-Length", "0") or "0"
        try:
            length = int(length_header)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        if length < 0 or length > MAX_POST_BODY:
            self.send_error(413 if length > 0 else 400, "bad request body")
            return
        body = self.rfile.read(length) if length else b""
        if path != DATAPROXY:
            self.send_error(405, "POST not supported here")
            return
        self._dataproxy(query, body.decode("utf-8", "replace"))

    def _method_not_allowed(self) -> None:
        self.send_error(405)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    # --- helpers ----------------------------------------------------------------------------
    def _target(self) -> tuple[str, str] | None:
        parts = urlsplit(self.path)
        try:
            path = unquote(parts.path, errors="strict") if parts.path else ""
        except UnicodeDecodeError:
            path = ""
        if not path.startswith("/") or "\x00" in path or "\\" in path:
            self.send_error(400, "bad request target")
            return None
        return path, parts.query

    def _serve_file(self) -> None:
        target = self._target()
        if target is None:
            return
        path, query = target
        if path == DATAPROXY:
            self.send_error(405, "dataproxy answers POST")
            return
        layers = self.server.owner._layers
        norm, file_rel, keys = _site_keys(path)
        found, from_overlay = layers.find(file_rel)
        entry = layers.entry(keys, from_overlay)
        # An API answering per query string: the mapped file is served in the path's place (it may
        # sit in a hidden `_` folder, since it is only reachable through this mapping).
        mapped = _query_file(entry, query) if query else None
        if mapped is not None:
            found, from_overlay = layers.find(mapped)
            entry = layers.entry(keys, from_overlay)
        if self._answered_without_file(entry, path, query) or self._calendar(layers, norm):
            return
        if (_hidden(file_rel) and mapped is None) or found is None:
            self.send_error(404)
        elif not norm.endswith("/") and found.is_dir():
            self._respond(301, b"", {"Location": path + "/" + (f"?{query}" if query else "")})
        elif not found.is_file():
            self.send_error(404)
        else:
            self._send_file(layers, found, entry, from_overlay)

    def _answered_without_file(self, entry: Mapping[str, Any], path: str, query: str) -> bool:
        """Sidecar behaviours that replace the file: removed pages, redirects, loops."""
        if entry.get("removed"):
            self.send_error(404)
        elif entry.get("redirect_loop"):
            self._respond(302, b"", {"Location": path + (f"?{query}" if query else "")})
        elif entry.get("redirect"):
            self._respond(302, b"", {"Location": str(entry["redirect"])})
        elif entry.get("redirect_chain"):
            self._redirect_onwards(path, query)
        elif entry.get("refresh_chain"):
            self._refresh_onwards(path, query)
        elif entry.get("gzip_bomb"):
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
            self._respond(200, gzip_bomb(int(entry["gzip_bomb"])), headers)
        elif entry.get("oversize"):
            self._stream_zeros(int(float(entry["oversize"]) * MIB))
        elif entry.get("oversize_unannounced"):
            self._stream_zeros(int(float(entry["oversize_unannounced"]) * MIB), announce=False)
        else:
            return False
        return True

    # --- hostile modes ------------------------------------------------------------------------
    def _redirect_onwards(self, path: str, query: str) -> None:
        """An endless chain of redirects, each to a URL not seen before (`?hop=N+1`)."""
        hop = parse_qs(query).get("hop", ["0"])[-1]
        following = int(hop) + 1 if hop.isdigit() else 1
        self._respond(302, b"", {"Location": f"{path}?hop={following}"})

    def _refresh_onwards(self, path: str, query: str) -> None:
        """The same endless chain, as 200 pages whose <meta http-equiv="refresh"> moves on."""
        hop = parse_qs(query).get("hop", ["0"])[-1]
        following = f"{path}?hop={int(hop) + 1 if hop.isdigit() else 1}"
        body = (
            '<html><head><meta http-equiv="refresh" content="0;url='
            f'{html.escape(following)}"></head><body></body></html>'
        ).encode()
        self._respond(200, body, {"Content-Type": "text/html; charset=utf-8"})

    def _stream_zeros(self, size: int, *, announce: bool = True) -> None:
        """A body of `size` bytes sent in chunks: announced in Content-Length, or ended only by
        closing the connection (the client learns the size as it reads)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header(
            "Content-Length" if announce else "Connection", str(size) if announce else "close"
        )
        self._log(200, size)
        self.end_headers()
        chunk = bytes(STREAM_CHUNK)
        with contextlib.suppress(OSError):  # the client hangs up once it has seen enough
            for start in range(0, size, STREAM_CHUNK):
                if self.server.owner._stopping.is_set():
                    break
                self.wfile.write(chunk[: min(STREAM_CHUNK, size - start)])
        self.close_connection = True

    def _calendar(self, layers: _Layers, norm: str) -> bool:
        """Answer a page of a `calendar` folder: generated, every page number exists."""
        folder, _, name = norm.rpartition("/")
        step = layers.entry([folder + "/"], False).get("calendar")
        number = _calendar_number(name) if step else None
        if number is None or step is None:
            return False
        self._respond(200, calendar_page(number, int(step)), {"Content-Type": "text/html"})
        return True

    def _send_file(
        self, layers: _Layers, found: Path, entry: Mapping[str, Any], from_overlay: bool
    ) -> None:
        body = found.read_bytes()
        status = int(entry.get("status", 200))
        headers = {"Content-Type": content_type(layers, found, entry, from_overlay)}
        if self.server.owner.validators and status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:ETAG_HEX_CHARS] + '"'
            modified = _as_datetime(
                entry.get("last_modified")
                or layers.default("last_modified", from_overlay)
                or DEFAULT_LAST_MODIFIED
            )
            headers["ETag"] = etag
            headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
            if self._not_modified(etag, modified):
                self._respond(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
                return
        for name, value in dict(entry.get("headers", {})).items():
            headers[str(name)] = str(value)
        if entry.get("short_length"):  # the header says half; the whole body follows anyway
            self._send_short_length(status, body, headers)
            return
        self._respond(
            status,
            body,
            headers,
            slow=float(entry.get("slow", 0.0)),
            truncated=bool(entry.get("truncated", False)),
        )

    def _send_short_length(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """A Content-Length of half the body, then the whole body and a closed connection."""
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body) // 2)}.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.close_connection = True
        self._log(status, len(body))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False  # an unreadable date is ignored, as real servers do
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return modified.replace(microsecond=0) <= since
        return False

    def _dataproxy(self, query: str, form_body: str) -> None:
        """Answer Hanweb's jpage list proxy the way the platform does: an XML datastore."""
        fields: dict[str, str] = {}
        for source in (query, form_body):
            for key, values in parse_qs(source, keep_blank_values=True).items():
                fields[key] = values[-1]
        try:
            start = int(fields["startrecord"])
            end = int(fields["endrecord"])
            int(fields.get("perpage", "15"))
        except (KeyError, ValueError):
            self.send_error(400, "startrecord/endrecord/perpage must be integers")
            return
        column = fields.get("columnid", "")
        if start < 1 or end < start or not column.isdigit():
            self.send_error(400, "bad record range or columnid")
            return
        layers = self.server.owner._layers
        records_file, _ = layers.find(f"{HANWEB_DIR}/{column}.records.html")
        if records_file is None or not records_file.is_file():
            self.send_error(404, "unknown column")
            return
        records = [
            line.strip()
            for line in records_file.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        chosen = records[start - 1 : end]
        nextgroup = (
            f'<a href="{DATAPROXY}?page=1&webid={fields.get("webid", "1")}&path=/'
            f"&columnid={column}&unitid={fields.get('unitid', '')}&webname="
            f'&permissiontype={fields.get("permissiontype", "0")}"></a>'
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><datastore>'
            f"<nextgroup><![CDATA[{nextgroup}]]></nextgroup><recordset>"
            + "".join(f"<record><![CDATA[{r}]]></record>" for r in chosen)
            + "</recordset></datastore>"
        )
        self._respond(200, xml.encode("utf-8"), {"Content-Type": "text/xml; charset=UTF-8"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FixtureServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects are normal in failure tests; anything else is worth one line.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            sys.stderr.write(f"fixtureserver: error from {client_address}: {exc!r}\n")


class FixtureServer:
    """A running fixture server; use `serve()` to build one. Also a context manager."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        validators: bool = True,
        overlay: Path | None = None,
        verbose: bool = False,
    ) -> None:
        root = Path(root).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"portal folder not found: {root}")
        self.root = root
        self.validators = validators
        self.verbose = verbose
        self._layers = _Layers(root=root, base=SiteConfig.load(root))
        self._lock = threading.Lock()
        self._requests: list[LoggedRequest] = []
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        if overlay is not None:
            self.set_overlay(overlay)
        for entry in self._layers.base.paths.values():  # built now, not within a client's timeout
            if entry.get("gzip_bomb"):
                gzip_bomb(int(entry["gzip_bomb"]))
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fixtureserver:{self.port}",
            daemon=True,
        )

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash: append absolute paths)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        if not self._thread.is_alive() and not self._stopping.is_set():
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- content ----------------------------------------------------------------------------
    def set_overlay(self, path: Path | None) -> None:
        """Switch the overlay folder (or drop it with None); the port stays the same."""
        if path is None:
            self._layers = _Layers(root=self.root, base=self._layers.base)
            return
        overlay = Path(path).resolve()
        if not overlay.is_dir():
            raise FileNotFoundError(f"overlay folder not found: {overlay}")
        self._layers = _Layers(
            root=self.root,
            base=self._layers.base,
            overlay_root=overlay,
            overlay=SiteConfig.load(overlay),
        )

    # --- request log ------------------------------------------------------------------------
    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of every request answered so far, in order."""
        with self._lock:
            return list(self._requests)

    def clear_log(self) -> None:
        with self._lock:
            self._requests.clear()

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._requests.append(entry)

    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)


def serve(
    root: Path,
    *,
    port: int = 0,
    validators: bool = True,
    overlay: Path | None = None,
    host: str = "127.0.0.1",
    verbose: bool = False,
) -> FixtureServer:
    """Start serving `root` in a background thread and return the running server."""
    server = FixtureServer(
        root, host=host, port=port, validators=validators, overlay=overlay, verbose=verbose
    )
    return server.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gxcrawl.testing.fixtureserver", description="Serve a fixture portal folder."
    )
    parser.add_argument("portal_dir", type=Path)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--overlay", type=Path, default=None)
    parser.add_argument("--no-validators", action="store_true", help="no ETag/Last-Modified/304")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def _on_signal(*_signal: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        server = serve(
            args.portal_dir,
            port=args.port,
            validators=not args.no_validators,
            overlay=args.overlay,
            host=args.host,
            verbose=args.verbose,
        )
    except (OSError, ValueError) as exc:
        print(f"fixtureserver: {exc}", file=sys.stderr)
        return 2
    print(f"serving {args.portal_dir} at {server.base_url}/", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
    print("fixtureserver stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
