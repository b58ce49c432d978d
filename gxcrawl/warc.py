"""`scrapy export --format warc`: the raw snapshots as a gzipped WARC/1.1 file (warcio), one
`response` record per stored version of every document, readable by standard tools (warcio,
pywb, ia-hadoop-tools). Bodies are stored decoded, so transfer and content encodings and the
wire length are dropped from the recorded headers and the length is set to the stored body's.
"""

from __future__ import annotations

import datetime as dt
import http
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gxcrawl.store.workbench import RawSnapshot

WARC_FILENAME = "snapshots.warc.gz"
SOFTWARE = "gxcrawl"
# Headers that described the bytes on the wire, not the decoded body we kept.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def _warc_date(when: dt.datetime) -> str:
    stamp = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _http_headers(snap: RawSnapshot) -> StatusAndHeaders:
    pairs: list[tuple[str, str]] = []
    for name, value in snap.headers.items():
        if name.lower() in _WIRE_HEADERS:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(item)))
    pairs.append(("Content-Length", str(len(snap.body))))
    return StatusAndHeaders(_status_line(snap.status), pairs, protocol="HTTP/1.1")


def write_warc(snapshots: Iterable[RawSnapshot], out_dir: Path) -> tuple[Path, int]:
    """Write every snapshot as a response record; the file and the number of records."""
    path = out_dir / WARC_FILENAME
    count = 0
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(
            writer.create_warcinfo_record(
                WARC_FILENAME, {"software": SOFTWARE, "format": "WARC/1.1"}
            )
        )
        for snap in snapshots:
            record = writer.create_warc_record(
                snap.final_url or snap.url,
                "response",
                payload=BytesIO(snap.body),
                length=len(snap.body),
                http_headers=_http_headers(snap),
                warc_headers_dict={
                    "WARC-Date": _warc_date(snap.fetched_at),
                    # The document's canonical URL and version in the store, for provenance.
                    "WARC-gxcrawl-Document-URL": snap.url,
                    "WARC-gxcrawl-Version": str(snap.version),
                    "WARC-gxcrawl-Kind": snap.kind,
                    "WARC-gxcrawl-Disposition": snap.disposition,
                },
            )
            writer.write_record(record)
            count += 1
    return path, count
