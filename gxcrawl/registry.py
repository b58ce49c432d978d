"""The portal registry: which government portals to crawl, as data (TOML), not code.

Each `[[portal]]` entry names a portal, its 年报 (annual-report) list URLs, its platform family
(the strategy module in `gxcrawl/platforms`), the domains the crawl may touch and how much we
trust the entry. The packaged `gxcrawl/portals.toml` holds the real portals; fixture portals use
the same format with relative URLs, joined onto the local server's base URL at load time.

Invalid entries fail fast with a `RegistryError` naming the entry and field, so a typo in the data
file never becomes a silent off-domain or empty crawl.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from gxcrawl.extract.types import PortalHints
from gxcrawl.platforms.detect import UnknownPlatformError, validate_platform
from gxcrawl.platforms.jsonapi import SELECTOR_KEYS as API_SELECTOR_KEYS
from gxcrawl.platforms.jsonapi import config_errors as api_config_errors

__all__ = [
    "CONFIDENCES",
    "LEVELS",
    "Portal",
    "RegistryError",
    "enabled_portals",
    "get_portal",
    "host_allowed",
    "load_registry",
    "parse_registry",
]

LEVELS = frozenset(
    {
        "national ministry",
        "province",
        "province dept",
        "prefecture",
        "prefecture dept",
        "county",
        "county dept",
        "township",
        "fixture",
    }
)
CONFIDENCES = frozenset({"high", "medium", "low", "fixture"})
CSS_SELECTOR_KEYS = frozenset({"content", "list", "item", "next"})
# JSON list APIs (platforms jsonapi, gkmlpt) read `api_*` keys: see gxcrawl/platforms/jsonapi.py
SELECTOR_KEYS = CSS_SELECTOR_KEYS | API_SELECTOR_KEYS

_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_REGION_RE = re.compile(r"^(?:\d{6})?$")
_KNOWN_FIELDS = frozenset(
    {
        "id",
        "name",
        "level",
        "province",
        "region_code",
        "homepage",
        "start_urls",
        "platform",
        "allowed_domains",
        "confidence",
        "enabled",
        "notes",
        "selectors",
    }
)


class RegistryError(ValueError):
    """An invalid registry file or entry; the message names the entry and the field."""


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    level: str = ""
    province: str = ""
    region_code: str = ""
    homepage: str = ""
    platform: str = "auto"  # a hint: detection from each list page decides
    confidence: str = "medium"
    enabled: bool = True
    notes: str = ""
    selectors: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    def hints(self) -> PortalHints:
        return PortalHints(
            portal_id=self.id,
            agency=self.name,
            region_code=self.region_code or None,
            platform=self.platform,
            content_selector=self.selectors.get("content"),
        )

    def allows(self, url: str) -> bool:
        """True when `url` is on one of the portal's allowed domains (or a subdomain)."""
        return host_allowed(urlsplit(url).hostname or "", self.allowed_domains)


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """Scrapy's offsite rule: the host equals an allowed domain or is a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def _fail(where: str, field_name: str, problem: str) -> RegistryError:
    return RegistryError(f"{where}: field '{field_name}' {problem}")


def _str(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise _fail(where, key, f"must be a string, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise _fail(where, key, "is required")
    return value


def _absolute(url: str, base_url: str | None, where: str, key: str) -> str:
    if urlsplit(url).scheme in ("http", "https"):
        return url
    if urlsplit(url).scheme:
        raise _fail(where, key, f"has an unsupported scheme: {url!r}")
    if base_url is None:
        raise _fail(where, key, f"is relative ({url!r}) but no base_url was given")
    return urljoin(base_url, url)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _parse_entry(entry: Any, index: int, base_url: str | None) -> Portal:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"portal #{index}: must be a table, got {type(entry).__name__}")
    raw_id = entry.get("id")
    where = f"portal #{index} ({raw_id!r})" if raw_id else f"portal #{index}"
    unknown = sorted(set(entry) - _KNOWN_FIELDS)
    if unknown:
        raise _fail(where, unknown[0], "is not a known field")
    portal_id = _str(entry, "id", where, required=True)
    if not _ID_RE.match(portal_id):
        raise _fail(where, "id", f"must match [a-z0-9-] (got {portal_id!r})")
    where = f"portal {portal_id!r}"
    # Checked in this order, so an entry with several mistakes always names the same one first.
    name = _str(entry, "name", where, required=True)
    level, region_code = _level(entry, where), _region_code(entry, where)
    confidence, platform = _confidence(entry, where), _platform(entry, where)
    start_urls = _start_urls(entry, base_url, where)
    homepage = _str(entry, "homepage", where)
    if homepage:
        homepage = _absolute(homepage, base_url, where, "homepage")
    domains = _allowed_domains(entry, start_urls, homepage, where)
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(where, "enabled", "must be true or false")
    notes = _str(entry, "notes", where)
    selectors = _selectors(entry, where)
    return Portal(
        id=portal_id,
        name=name,
        start_urls=start_urls,
        allowed_domains=domains,
        level=level,
        province=_str(entry, "province", where),
        region_code=region_code,
        homepage=homepage,
        platform=platform,
        confidence=confidence,
        enabled=enabled,
        notes=notes,
        selectors=selectors,
    )


def _level(entry: Mapping[str, Any], where: str) -> str:
    level = _str(entry, "level", where)
    if level and level not in LEVELS:
        raise _fail(where, "level", f"must be one of {sorted(LEVELS)} (got {level!r})")
    return level


def _region_code(entry: Mapping[str, Any], where: str) -> str:
    region_code = _str(entry, "region_code", where)
    if not _REGION_RE.match(region_code):
        raise _fail(where, "region_code", f"must be 6 digits or empty (got {region_code!r})")
    return region_code


def _confidence(entry: Mapping[str, Any], where: str) -> str:
    confidence = _str(entry, "confidence", where) or "medium"
    if confidence not in CONFIDENCES:
        raise _fail(where, "confidence", f"must be one of {sorted(CONFIDENCES)}")
    return confidence


def _platform(entry: Mapping[str, Any], where: str) -> str:
    """The normalised platform hint (one alias table: gxcrawl/platforms/detect.py); unset = auto."""
    try:
        return validate_platform(_str(entry, "platform", where))
    except UnknownPlatformError as exc:
        raise _fail(where, "platform", str(exc)) from None


def _start_urls(entry: Mapping[str, Any], base_url: str | None, where: str) -> tuple[str, ...]:
    raw_starts = entry.get("start_urls")
    if isinstance(raw_starts, str):
        raw_starts = [raw_starts]
    if not isinstance(raw_starts, list) or not raw_starts:
        raise _fail(where, "start_urls", "is required (a non-empty list of URLs)")
    if not all(isinstance(u, str) and u.strip() for u in raw_starts):
        raise _fail(where, "start_urls", "must hold non-empty strings")
    start_urls = tuple(_absolute(u.strip(), base_url, where, "start_urls") for u in raw_starts)
    if len(set(start_urls)) != len(start_urls):
        raise _fail(where, "start_urls", "has duplicates")
    return start_urls


def _allowed_domains(
    entry: Mapping[str, Any], start_urls: tuple[str, ...], homepage: str, where: str
) -> tuple[str, ...]:
    raw_domains = entry.get("allowed_domains", [])
    if not isinstance(raw_domains, list) or not all(isinstance(d, str) for d in raw_domains):
        raise _fail(where, "allowed_domains", "must be a list of host names")
    domains = [d.strip().lower().rstrip(".") for d in raw_domains if d.strip()]
    for domain in domains:
        if "/" in domain or ":" in domain:
            raise _fail(where, "allowed_domains", f"must be bare host names (got {domain!r})")
    if not domains:  # derive from the URLs' hosts; ports are not part of a Scrapy domain
        for url in (*start_urls, homepage):
            if url and _host(url) not in domains:
                domains.append(_host(url))
    for url in start_urls:
        if not host_allowed(_host(url), domains):
            raise _fail(where, "start_urls", f"host of {url!r} is outside allowed_domains")
    return tuple(domains)


def _selectors(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    raw_selectors = entry.get("selectors", {})
    if not isinstance(raw_selectors, Mapping):
        raise _fail(where, "selectors", "must be a table")
    for key, value in raw_selectors.items():
        if key not in SELECTOR_KEYS:
            raise _fail(where, f"selectors.{key}", f"is not one of {sorted(SELECTOR_KEYS)}")
        if key in CSS_SELECTOR_KEYS and (not isinstance(value, str) or not value.strip()):
            raise _fail(where, f"selectors.{key}", "must be a non-empty CSS selector")
        if key in API_SELECTOR_KEYS and not isinstance(value, str):
            raise _fail(where, f"selectors.{key}", "must be a string")
    api_errors = api_config_errors(raw_selectors)
    if api_errors:
        raise _fail(where, "selectors", api_errors[0])
    return dict(raw_selectors)


def parse_registry(data: Mapping[str, Any], *, base_url: str | None = None) -> list[Portal]:
    """Validate an already-parsed TOML document (`{"portal": [...]}`)."""
    entries = data.get("portal")
    if not isinstance(entries, list) or not entries:
        raise RegistryError("registry: no [[portal]] entries")
    portals: list[Portal] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        portal = _parse_entry(entry, index, base_url)
        if portal.id in seen:
            raise _fail(f"portal #{index} ({portal.id!r})", "id", "is a duplicate")
        seen.add(portal.id)
        portals.append(portal)
    return portals


def load_registry(path: str | Path | None = None, *, base_url: str | None = None) -> list[Portal]:
    """Load and validate a registry file; the packaged `gxcrawl/portals.toml` by default.

    Relative URLs (fixture portals) are joined onto `base_url`.
    """
    try:
        if path is None:
            text = resources.files("gxcrawl").joinpath("portals.toml").read_text("utf-8")
            source = "gxcrawl/portals.toml"
        else:
            text = Path(path).read_text("utf-8")
            source = str(path)
    except OSError as exc:
        raise RegistryError(f"cannot read registry {path!r}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{source}: invalid TOML: {exc}") from exc
    try:
        return parse_registry(data, base_url=base_url)
    except RegistryError as exc:
        raise RegistryError(f"{source}: {exc}") from exc


def get_portal(portals: Iterable[Portal], portal_id: str) -> Portal:
    for portal in portals:
        if portal.id == portal_id:
            return portal
    raise RegistryError(f"unknown portal id {portal_id!r}")


def enabled_portals(portals: Iterable[Portal]) -> list[Portal]:
    return [p for p in portals if p.enabled]


def adhoc_portal(url: str, platform: str | None = None) -> Portal:
    """A one-off entry for `scrapy crawl annual_reports -a start_url=…`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"start_url {url!r} is not an absolute http(s) URL")
    return Portal(
        id=f"adhoc-{parts.hostname}",
        name=parts.hostname,
        start_urls=(url,),
        allowed_domains=(parts.hostname,),
        homepage=f"{parts.scheme}://{parts.netloc}/",
        platform=_adhoc_platform(platform),
        confidence="low",
    )


def _adhoc_platform(platform: str | None) -> str:
    try:
        return validate_platform(platform)
    except UnknownPlatformError as exc:
        raise RegistryError(f"-a platform: {exc}") from None


def select_portals(
    *,
    registry: str | Path | None = None,
    portal: str | None = None,
    start_url: str | None = None,
    platform: str | None = None,
    base_url: str | None = None,
) -> list[Portal]:
    """The portals a crawl covers, from the spider's arguments; RegistryError when unusable."""
    if start_url:
        return [adhoc_portal(start_url, platform)]
    portals = load_registry(registry or None, base_url=base_url)
    if not portal:
        return enabled_portals(portals)
    wanted = [p.strip() for p in portal.split(",") if p.strip()]
    by_id = {p.id: p for p in portals}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise RegistryError(
            f"unknown portal id(s) {', '.join(unknown)}; see `scrapy portals --all`"
        )
    return [by_id[w] for w in wanted]
