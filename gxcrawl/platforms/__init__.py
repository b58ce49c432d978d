"""One strategy per platform family: how a family's column lists paginate and link documents.

The crawl uses `detect.strategy_for(platform)`: detection on every list page (`auto`) plus the
registry's platform as a hint. `get_strategy(name)` still picks one family's strategy alone
(tests and comparisons); JSON list APIs (`jsonapi`, and `gkmlpt` with Guangdong's defaults) are
configured entirely by registry selectors.
"""

from __future__ import annotations

from gxcrawl.platforms.base import (
    Link,
    Listing,
    ListRequest,
    Strategy,
    find_attachments,
    get_strategy,
    is_attachment_url,
)
from gxcrawl.platforms.detect import AutoStrategy
from gxcrawl.platforms.generic import GenericStrategy
from gxcrawl.platforms.hanweb import HanwebStrategy
from gxcrawl.platforms.jsonapi import GKMLPT_DEFAULTS, JsonApiStrategy
from gxcrawl.platforms.tree import TreeStrategy
from gxcrawl.platforms.trs import TrsStrategy

__all__ = [
    "STRATEGIES",
    "Link",
    "ListRequest",
    "Listing",
    "Strategy",
    "find_attachments",
    "get_strategy",
    "is_attachment_url",
]

STRATEGIES: dict[str, Strategy] = {
    "auto": AutoStrategy(),  # detection from each page (gxcrawl/platforms/detect.py)
    "generic": GenericStrategy(),
    "trs": TrsStrategy(),
    "tree": TreeStrategy(),
    "hanweb": HanwebStrategy(),
    "jcms": HanwebStrategy(),
    "jsonapi": JsonApiStrategy(),
    "gkmlpt": JsonApiStrategy("gkmlpt", GKMLPT_DEFAULTS),
}
