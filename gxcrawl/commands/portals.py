"""`scrapy portals`: list (and validate) the portal registry."""

from __future__ import annotations

import argparse
import json
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import quiet_broken_pipe
from gxcrawl.config import CrawlConfig
from gxcrawl.registry import RegistryError, load_registry


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--registry PATH] [--all] [--json]"

    def short_desc(self) -> str:
        return "List the portal registry (validates it; exit 1 on an invalid entry)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--registry", help="registry file (default: the packaged one)")
        parser.add_argument("--base-url", help="base for relative URLs (fixture registries)")
        parser.add_argument("--all", action="store_true", help="include disabled entries")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        path = opts.registry or CrawlConfig.from_settings(self.settings).registry or None
        try:
            portals = load_registry(path, base_url=opts.base_url)
        except RegistryError as exc:
            raise UsageError(f"invalid registry: {exc}", print_help=False) from None
        shown = [p for p in portals if opts.all or p.enabled]
        for p in shown:
            if opts.json:
                print(
                    json.dumps(
                        {
                            "id": p.id,
                            "name": p.name,
                            "level": p.level,
                            "province": p.province,
                            "region_code": p.region_code,
                            "platform": p.platform,
                            "confidence": p.confidence,
                            "enabled": p.enabled,
                            "start_urls": list(p.start_urls),
                            "allowed_domains": list(p.allowed_domains),
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                flag = "" if p.enabled else "  (disabled)"
                print(
                    f"{p.id:<16} {p.platform:<8} {p.confidence:<7} {p.region_code or '-':<6} "
                    f"{p.name}{flag}\n{'':<16} {' '.join(p.start_urls)}"
                )
        if not opts.json:
            enabled = sum(p.enabled for p in portals)
            print(f"{len(portals)} portals, {enabled} enabled")
