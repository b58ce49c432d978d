"""One strategy per platform family: how a family's column lists paginate and link documents.

`get_strategy(name)` picks one by the registry's `platform` name; families without a module of
their own (ucap, gkmlpt, vsb, …) and unknown names use the generic strategy.
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
from gxcrawl.platforms.generic import GenericStrategy
from gxcrawl.platforms.hanweb import HanwebStrategy
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
    "generic": GenericStrategy(),
    "trs": TrsStrategy(),
    "tree": TreeStrategy(),
    "hanweb": HanwebStrategy(),
    "jcms": HanwebStrategy(),
}
