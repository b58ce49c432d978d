"""`make demo`: serve the bundled fixture portal, crawl it into the default store, summarise.

The server listens on a fixed port (GXCRAWL_DEMO_PORT, default 8391) so that a second demo run
sees the same URLs and shows an incremental recrawl instead of a new portal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from gxcrawl.fixtureserver import serve
from gxcrawl.store.db import database_url

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--portal", default="demo", help="fixture portal folder under fixtures/portals"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("GXCRAWL_DEMO_PORT", 8391)))
    parser.add_argument("--database-url", default=database_url())
    parser.add_argument("--logfile", type=Path, default=ROOT / "data" / "demo-crawl.log")
    args = parser.parse_args(argv)

    folder = ROOT / "fixtures" / "portals" / args.portal
    if not (folder / "portal.toml").exists():
        parser.error(f"{folder} is not a fixture portal (no portal.toml)")
    args.logfile.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GXCRAWL_DATABASE_URL": args.database_url}
    scrapy = [sys.executable, "-m", "scrapy"]
    try:
        server = serve(folder, port=args.port)
    except OSError as exc:
        print(f"demo: cannot listen on 127.0.0.1:{args.port} ({exc}); set GXCRAWL_DEMO_PORT")
        return 2
    with server:
        print(f"demo: serving {folder.relative_to(ROOT)} at {server.base_url}", flush=True)
        crawl = subprocess.run(
            [
                *scrapy,
                "crawl",
                "annual_reports",
                "-a",
                f"registry={folder / 'portal.toml'}",
                "-a",
                f"base_url={server.base_url}",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                "-s",
                "LOG_LEVEL=INFO",
                "--logfile",
                str(args.logfile),
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
    print(f"demo: crawl finished with exit code {crawl.returncode}; log in {args.logfile}")
    print(f"demo: database {args.database_url}\n")
    summary = subprocess.run([*scrapy, "summary"], cwd=ROOT, env=env, check=False)
    return crawl.returncode or summary.returncode


if __name__ == "__main__":
    sys.exit(main())
