"""Data shapes shared by the extraction functions, the pipelines and the offline commands.

Nothing here knows about Scrapy or the database: the pipelines and `scrapy extract` build these
from bytes and hand them on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml.html import HtmlElement


@dataclass(frozen=True)
class PortalHints:
    """What the registry knows about the portal a page came from (all optional)."""

    portal_id: str | None = None
    agency: str | None = None  # the portal's own agency name, e.g. 鲤城区人民政府
    region_code: str | None = None  # 6-digit administrative division code
    platform: str | None = None  # generic | trs | hanweb | ucap | tree | ...
    content_selector: str | None = None  # CSS override for the main content


@dataclass(frozen=True)
class Removal:
    """A fragment taken out of the clean text, kept so nothing is silently lost."""

    kind: str  # chrome | nav | footer | breadcrumb | spam | hidden | ...
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class TitleVerdict:
    is_report: bool
    year: int | None
    agency: str | None  # the agency part of the title, None when the title has none
    reason: str  # short machine-readable why, e.g. "report", "notice_about_report"


# Field order of the public `scrapy extract` JSON contract (see README, "Extraction output").
# The fields a page's metadata block, <meta> tags and sign-off can state.
METADATA_FIELDS: tuple[str, ...] = (
    "index_no",
    "publisher",  # 发布单位 / 发布机构 / 发布机关 / 发文机关 / 发文单位 labels only
    "source",  # 来源 / 信息来源 / 文章来源 labels, ContentSource meta, a header line's 来源
    "written_date",
    "publish_date",
    "doc_no",
    "disclosure_mode",
    "validity",
    "category",
    "region_code",
)
CONTRACT_FIELDS: tuple[str, ...] = (
    "url",
    "is_report",
    "title",
    "agency",
    "year",
    *METADATA_FIELDS,
    "flags",
    "removed",
    "text",
    "template",
    "tables",
    "findings",
)


@dataclass
class PageResult:
    """Everything extracted from one page. Absent values are None, never guessed."""

    url: str
    is_report: bool
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    index_no: str | None = None
    publisher: str | None = None
    source: str | None = None
    written_date: str | None = None  # ISO YYYY-MM-DD
    publish_date: str | None = None  # ISO YYYY-MM-DD
    doc_no: str | None = None
    disclosure_mode: str | None = None
    validity: str | None = None
    category: str | None = None
    region_code: str | None = None
    flags: list[str] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    text: str = ""
    template: str | None = None  # statistics-table template detected (issue 6)
    tables: list[dict[str, Any]] = field(default_factory=list)  # long-format facts
    findings: list[dict[str, Any]] = field(default_factory=list)  # failed consistency checks
    # The cleaned main-content element the text came from (metadata tables, chrome and spam
    # removed, statistics tables kept): the table parser reads it; not in the JSON contract.
    content_root: HtmlElement | None = field(default=None, repr=False, compare=False)

    @property
    def content_html(self) -> str | None:
        """`content_root` as HTML, serialised on demand: the crawl never needs it, and a page's
        serialisation cost 6% of its extraction. Extraction changes the element only before
        it is handed over (detach, metadata tables, chrome blocks), so this is the content as
        the table parser read it."""
        if self.content_root is None:
            return None
        from gxcrawl.extract.sanitize import html_of  # sanitize parses; types stays import-light

        return html_of(self.content_root)

    def to_json_dict(self) -> dict[str, Any]:
        """The contract fields, in order (shallow copies: facts are already plain dicts)."""
        data = {name: getattr(self, name) for name in CONTRACT_FIELDS}
        data["flags"] = list(self.flags)
        data["removed"] = [r.as_dict() for r in self.removed]
        data["tables"] = list(self.tables)
        data["findings"] = list(self.findings)
        return data
