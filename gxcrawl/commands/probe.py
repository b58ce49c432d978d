"""`scrapy probe URL|PORTAL_ID [--json] [--max-requests N]`: look at a column before adding it.

A bounded, polite crawl of list pages only (robots.txt obeyed, at most N list requests, no
storage), then a report: detected platform and evidence, list pages, report links with year and
agency, rejected look-alikes with reasons, block signs, the robots verdict and a ready
`[[portal]]` entry. `--json` prints the same as one JSON object. Mistakes (a bad URL, an unknown
portal or platform) end in one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import quiet_broken_pipe
from gxcrawl.platforms.detect import UnknownPlatformError, validate_platform
from gxcrawl.probe import DEFAULT_MAX_REQUESTS, ProbeResult, ProbeSpider
from gxcrawl.registry import Portal, RegistryError, load_registry

MAX_REQUESTS_CEILING = 200  # a probe is a look, not a crawl


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = True
    default_settings: ClassVar[dict[str, Any]] = {}
    # Above the project's settings and `-s`: a probe stores nothing, keeps no run, writes no
    # stats file, sends no conditional requests, and obeys robots.txt.
    FORCED: ClassVar[dict[str, Any]] = {
        "ROBOTSTXT_OBEY": True,
        "GXCRAWL_STORE_ENABLED": False,
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "DOWNLOADER_MIDDLEWARES": {},
        "CLOSESPIDER_TIMEOUT": 300,  # a probe of a hanging site still ends
    }
    # Over the project's defaults, under `-s`/`-L`: quiet, and one retry is enough for a look.
    QUIET: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "ERROR", "RETRY_TIMES": 1}
    # The probe reports these itself in one line each (robots.txt unreachable, fetch errors).
    SILENCED_LOGGERS = (
        "scrapy.downloadermiddlewares.robotstxt",
        "scrapy.downloadermiddlewares.retry",
        "scrapy.core.scraper",
    )

    def syntax(self) -> str:
        return "URL|PORTAL_ID [--json] [--max-requests N] [--platform NAME]"

    def short_desc(self) -> str:
        return "Probe a list column: platform, pages, reports, look-alikes, blocks, robots"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--max-requests", type=int, default=DEFAULT_MAX_REQUESTS,
            help=f"list requests at most (default {DEFAULT_MAX_REQUESTS})",
        )  # fmt: skip
        parser.add_argument("--platform", help="platform hint (adds mechanisms to detection)")
        parser.add_argument("--registry", help="registry file for PORTAL_ID")
        parser.add_argument("--base-url", help="base for relative URLs in that registry")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        self.settings.setdict(self.QUIET, priority="project")
        super().process_options(args, opts)
        self.settings.setdict(self.FORCED, priority="cmdline")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one URL or portal id", print_help=False)
        if not 1 <= opts.max_requests <= MAX_REQUESTS_CEILING:
            raise UsageError(
                f"--max-requests must be between 1 and {MAX_REQUESTS_CEILING}", print_help=False
            )
        portal = self._portal(args[0], opts)
        try:
            hint = validate_platform(opts.platform or portal.platform)
        except UnknownPlatformError as exc:
            raise UsageError(str(exc), print_help=False) from None
        result = ProbeResult(start_urls=list(portal.start_urls), hint=hint)
        assert self.crawler_process is not None
        for name in self.SILENCED_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self.crawler_process.crawl(
            ProbeSpider,
            result=result,
            max_requests=opts.max_requests,
            selectors=dict(portal.selectors),
            allowed_domains=list(portal.allowed_domains),
        )
        self.crawler_process.start()
        if opts.json:
            print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
        else:
            print(format_result(result))

    def _portal(self, target: str, opts: argparse.Namespace) -> Portal:
        """A registry entry by id, or a one-off entry for a URL."""
        assert self.settings is not None
        parts = urlsplit(target)
        if parts.scheme:
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(f"not an http(s) URL: {target!r}", print_help=False)
            host = parts.hostname
            return Portal(id="probe", name=host, start_urls=(target,), allowed_domains=(host,))
        try:
            registry = opts.registry or self.settings.get("GXCRAWL_REGISTRY") or None
            portals = load_registry(registry, base_url=opts.base_url)
        except RegistryError as exc:
            raise UsageError(str(exc), print_help=False) from None
        for portal in portals:
            if portal.id == target:
                return portal
        raise UsageError(
            f"{target!r} is neither an http(s) URL nor a portal id; see `scrapy portals --all`",
            print_help=False,
        )


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"{title}:", *(f"  {line}" for line in lines or ["(none)"]), ""]


def format_result(result: ProbeResult) -> str:
    """The probe as plain text, one section per question an operator asks."""
    data = result.as_json()
    evidence = [f"{p['url']}: {p['platform']} ({'; '.join(p['evidence']) or 'plain links'})"
                for p in data["list_pages"]]  # fmt: skip
    pages = [f"{p['method']} {p['url']} → {p['status']}, {p['items']} links"
             for p in data["list_pages"]] + [f"not fetched (budget): {u}"
                                             for u in data["not_fetched"]]  # fmt: skip
    reports = [f"{r['year'] or '????'} {r['agency'] or '-'}: {r['title']}  {r['url']}"
               for r in data["reports"]]  # fmt: skip
    rejected = [f"{x['title']} ({x['reason']})  {x['url']}" for x in data["lookalikes"]]
    blocked = [f"{b['url']} → {b['status']} {b['reason']}" for b in data["blocked"]]
    blocked += [f"{e['url']}: {e['error']}" for e in data["errors"]]
    robots = data["robots"]
    robots_lines = [
        f"robots.txt: {robots.get('robots_txt', 'not fetched')}",
        f"start URL allowed: {'yes' if robots.get('start_allowed', True) else 'NO'}",
        *(f"disallowed: {u}" for u in robots.get("disallowed", [])),
    ]
    out = [f"platform: {data['platform']}", ""]
    out += _section("evidence", evidence)
    out += _section(f"list pages ({len(data['list_pages'])})", pages)
    out += _section(f"reports ({len(data['reports'])})", reports)
    out += _section(f"rejected look-alikes ({len(data['lookalikes'])})", rejected)
    out += _section("blocked or failed", blocked)
    out += _section("robots", robots_lines)
    out += ["registry entry:", data["portal_entry"]]
    return "\n".join(out)
