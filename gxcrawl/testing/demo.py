"""`make demo`: serve a fixture portal, crawl it into the store, print what was found.

The server listens on a fixed port (GXCRAWL_DEMO_PORT, default 8391) so that a second demo run
sees the same URLs and shows an incremental recrawl instead of a new portal. Any portal folder
works (`--portal-dir`), so a contributor can try the crawl on pages saved from their own portal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from gxcrawl.store.db import database_url
from gxcrawl.testing import checkout_fixtures, scrapy_env
from gxcrawl.testing.fixtureserver import serve

DEFAULT_PORT = 8391  # fixed, so a second demo run recrawls the same URLs
EXIT_NO_PORT = 2  # the port is taken: a usage problem, not a crawl failure
DEMO_CRAWL_SETTINGS = [
    "-s", "AUTOTHROTTLE_ENABLED=False",  # a local server needs no politeness
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "LOG_LEVEL=INFO",
]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--portal", default="demo", help="portal folder name under --fixtures")
    parser.add_argument(
        "--portal-dir", type=Path, help="a portal folder anywhere (overrides --portal)"
    )
    fixtures = checkout_fixtures()
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=fixtures / "portals" if fixtures else None,
        help="folder of fixture portals (default: the checkout's fixtures/portals)",
    )
    port = int(os.environ.get("GXCRAWL_DEMO_PORT", DEFAULT_PORT))
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--database-url", default=database_url())
    parser.add_argument("--logfile", type=Path, default=Path("data") / "demo-crawl.log")
    return parser


def _portal_folder(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path:
    if args.portal_dir is not None:
        folder = Path(args.portal_dir)
    elif args.fixtures is not None:
        folder = Path(args.fixtures) / args.portal
    else:
        parser.error("no fixtures folder next to this installation: pass --portal-dir")
    if not (folder / "portal.toml").exists():
        parser.error(f"{folder} is not a fixture portal (no portal.toml)")
    return folder


def _crawl(folder: Path, base_url: str, logfile: Path, env: dict[str, str]) -> int:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "annual_reports",
        "-a", f"registry={folder / 'portal.toml'}", "-a", f"base_url={base_url}",
        *DEMO_CRAWL_SETTINGS, "--logfile", str(logfile),
    ]  # fmt: skip
    return subprocess.run(cmd, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    folder = _portal_folder(parser, args)
    args.logfile.parent.mkdir(parents=True, exist_ok=True)
    env = scrapy_env(args.database_url)
    try:
        server = serve(folder, port=args.port)
    except OSError as exc:
        print(f"demo: cannot listen on 127.0.0.1:{args.port} ({exc}); set GXCRAWL_DEMO_PORT")
        return EXIT_NO_PORT
    with server:
        print(f"demo: serving {folder} at {server.base_url}", flush=True)
        crawled = _crawl(folder, server.base_url, args.logfile, env)
    print(f"demo: crawl finished with exit code {crawled}; log in {args.logfile}")
    print(f"demo: database {args.database_url}\n", flush=True)
    summary = subprocess.run([sys.executable, "-m", "scrapy", "summary"], env=env, check=False)
    return crawled or summary.returncode


if __name__ == "__main__":
    sys.exit(main())
