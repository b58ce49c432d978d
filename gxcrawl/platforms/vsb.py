"""VSB (博达 Visual SiteBuilder) column lists.

A VSB column page `…/ndbg.htm` shows its first page; the pager is written by
`_simple_list_gotopage_fun(TOTAL, 'GOPAGE1', 2)` (its static links are often only 下页/尾页, or
none at all). The other pages live in a folder named after the column and are numbered
backwards: page 2 is `ndbg/{TOTAL-1}.htm`, the last page is `ndbg/1.htm`. So every page of the
column is `ndbg/1.htm … ndbg/{TOTAL-1}.htm`, whichever page we are on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["VSB_GOTOPAGE", "vsb_pages"]

VSB_GOTOPAGE = re.compile(r"_simple_list_gotopage_fun\s*\(\s*(\d+)\s*,([^()]*)\)")
_NUMBERED_PAGE = re.compile(r"^(?P<folder>.*/)\d+\.(?P<ext>s?html?)$")
_COLUMN_PAGE = re.compile(r"^(?P<stem>.*[^/])\.(?P<ext>s?html?)$")
_PAGE_LIMIT = 2000  # a script claiming more is not a page count we trust


def vsb_pages(html: str, url: str) -> list[str]:
    """Every page of a VSB column other than its column page (empty without the script)."""
    match = VSB_GOTOPAGE.search(html)
    if not match:
        return []
    total = int(match.group(1))
    if total <= 1 or total > _PAGE_LIMIT:
        return []
    parts = urlsplit(url)
    numbered = _NUMBERED_PAGE.match(parts.path)
    if numbered:  # already on `ndbg/3.htm`: its siblings
        folder, ext = numbered.group("folder"), numbered.group("ext")
    else:
        column = _COLUMN_PAGE.match(parts.path)
        if not column:
            return []
        folder, ext = column.group("stem") + "/", column.group("ext")
    return [
        urlunsplit((parts.scheme, parts.netloc, f"{folder}{n}.{ext}", "", ""))
        for n in range(1, total)
    ]
