"""Make hostile markup safe for lxml: clean characters, neutralise broken openers, flatten nesting.

lxml refuses to store strings holding XML-incompatible characters (C0 controls, lone surrogates,
U+FFFE/U+FFFF), so a vertical tab beside a link makes a later `drop_tree` raise; a page that is
only an unclosed `<!--` or a bogus `<!…` declaration parses as "Document is empty"; and libxml2
stops building the tree at 256 levels, silently dropping everything after the deep part. This
module fixes each before extraction sees the tree, in time linear in the input, and reports what
it had to do as flags. Pure: text in, tree and flags out.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

__all__ = [
    "MARKUP_TOO_DEEP",
    "MARKUP_TOO_LARGE",
    "MARKUP_UNPARSABLE",
    "clean_markup",
    "drop_trees",
    "flatten_markup",
    "outermost",
    "parse_document",
    "parse_fragment",
    "tree_depth",
]

MARKUP_TOO_DEEP = "markup_too_deep"
MARKUP_UNPARSABLE = "markup_unparsable"
MARKUP_TOO_LARGE = "markup_too_large"

# libxml2 stops at 256 levels without XML_PARSE_HUGE; a tree this deep may have lost content.
PARSER_DEPTH_LIMIT = 256
# Depth at which we call the parse truncated: the limit less the few levels of slack libxml2
# leaves when it aborts (html/body and the element it was opening).
TRUNCATION_DEPTH = PARSER_DEPTH_LIMIT - 2
# Nesting kept when flattening: deeper than any real layout (real pages stay below ~40 levels)
# and far below the parser's limit and Python's recursion limit used by tree walkers.
FLATTEN_DEPTH = 100
# Elements extracted from one page. The largest real page seen has ~1,800 and a report a few
# thousand; each extraction stage is linear but costs ~20-40 us per element, so this keeps any
# page near a second. Past it the tree is cut (flag `markup_too_large`), never silently.
MAX_ELEMENTS = 50_000

# XML 1.0 forbids these: C0 controls except \t \n \r, lone surrogates, and the non-characters
# U+FFFE / U+FFFF. (DEL and C1 controls are allowed, lxml accepts them.)
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Numeric character references, which the parser turns into characters after our cleaning.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")
_LEADING_XML_DECL = re.compile(r"\A[\s\ufeff]*<\?xml[^>]{0,500}>", re.IGNORECASE)
_LEADING_JUNK = re.compile(r"\A[\s\ufeff]*")
# Tags as the tokenizer sees them: a name, then anything up to '>' (attributes, slashes).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]{0,63})([^<>]*)>")
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "keygen", "frame", "basefont", "isindex",
    }
)  # fmt: skip
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "plaintext"})
# An open one of these is closed by a next one of the same name (HTML's implied end tags).
_SIBLING_CLOSED = frozenset({"p", "li", "dt", "dd", "option", "tr", "td", "th"})
_TABLE_TAGS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"})
_TABLE_LEVELS = 3  # tbody > tr > td: the levels a table needs below itself


def clean_markup(text: str) -> str:
    """Text lxml can parse and store: XML-incompatible characters (and numeric references to
    them) dropped, a leading XML declaration and a leading bogus `<!…>` removed, an
    unterminated `<!--` neutralised."""
    return _clean_compatible(_XML_INCOMPATIBLE.sub("", text))


def _clean_compatible(text: str) -> str:
    """`clean_markup` of a text without XML-incompatible characters: the steps after their
    removal (which would leave the text as it is)."""
    if "&#" in text:
        text = _CHAR_REF.sub(_drop_bad_reference, text)
    text = _LEADING_XML_DECL.sub("", text, count=1)
    text = _drop_bogus_declaration(text)
    return _close_last_comment(text)


def _drop_bad_reference(m: re.Match[str]) -> str:
    """`&#11;`, `&#xFFFF;`: references to characters lxml would store but then refuse to copy.
    (Out-of-range ones and surrogates the parser already turns into U+FFFD.)"""
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    return "" if code < 0x110000 and _XML_INCOMPATIBLE.match(chr(code)) else m.group(0)


def _drop_bogus_declaration(text: str) -> str:
    """A page starting `<!` that is neither a doctype nor a comment is a bogus comment up to the
    first `>` for a browser; lxml instead may swallow the whole page ("Document is empty")."""
    start = _LEADING_JUNK.match(text)
    pos = start.end() if start else 0
    if not text.startswith("<!", pos):
        return text
    head = text[pos : pos + 9].lower()
    if head.startswith(("<!doctype", "<!--")):
        return text
    end = text.find(">", pos)
    return text[:pos] + (text[end + 1 :] if end >= 0 else text[pos + 2 :])


def _close_last_comment(text: str) -> str:
    """Drop the opener of a comment that never ends, so the markup after it is parsed.

    Only the last `<!--` can be unterminated: if it has a `-->` after it, every earlier one does.
    """
    last = text.rfind("<!--")
    if last < 0 or text.find("-->", last + 4) >= 0:
        return text
    return text[:last] + text[last + 4 :]


def tree_depth(root: HtmlElement) -> int:
    """Levels of elements under and including `root` (iterative: trees can be deep)."""
    best = 0
    stack: list[tuple[HtmlElement, int]] = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        best = max(best, depth)
        stack.extend((child, depth + 1) for child in el)
    return best


# "Is there an element at depth TRUNCATION_DEPTH?" as one XPath: each step walks one level of
# the tree in C, about 15x faster than a Python walk over every element.
_REACHES_TRUNCATION = etree.XPath("boolean(" + "/*" * TRUNCATION_DEPTH + ")")


def _truncated(root: HtmlElement) -> bool:
    return bool(_REACHES_TRUNCATION(root))


# lxml.html's parser asks a Python callback for the class of every element it hands out (forms,
# inputs and labels get their own); extraction uses none of those, so here every element is a
# plain `HtmlElement`, chosen in C: the same tree, without a Python call per element visited.
_PARSER = lxml.html.HTMLParser()  # lxml.html's own parser options
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)


def _fromstring(text: str) -> HtmlElement | None:
    try:
        return lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None


def _empty_document() -> HtmlElement:
    return lxml.html.document_fromstring("<html><head></head><body></body></html>", parser=_PARSER)


def parse_document(
    text: str, max_elements: int | None = MAX_ELEMENTS, *, xml_compatible: bool = False
) -> tuple[HtmlElement, list[str]]:
    """Parse any text into an HTML tree; never raises.

    Flags: `markup_too_deep` when the nesting reached the parser's limit (the tree is then
    rebuilt from a flattened copy, so nothing after the deep part is lost), `markup_too_large`
    when the tree had more than `max_elements` elements (it is cut after that many, in document
    order), `markup_unparsable` when nothing could be parsed (an empty document is returned).

    `xml_compatible`: the caller vouches that `text` holds no XML-incompatible character (it
    comes out of `clean_markup`), so that scan over the whole page is not made a second time.
    """
    root, flags = _parse_flat(_clean_compatible(text) if xml_compatible else clean_markup(text))
    if max_elements is not None and _cut_after(root, max_elements):
        flags.append(MARKUP_TOO_LARGE)
    return root, flags


def _parse_flat(clean: str) -> tuple[HtmlElement, list[str]]:
    if not clean.strip():
        return _empty_document(), []
    root = _fromstring(clean)
    if root is None:
        return _empty_document(), [MARKUP_UNPARSABLE]
    if not _truncated(root):
        return root, []
    for keep_tables in (True, False):
        flat = _fromstring(flatten_markup(clean, FLATTEN_DEPTH, keep_tables=keep_tables))
        if flat is not None and not _truncated(flat):
            return flat, [MARKUP_TOO_DEEP]
    flat = _fromstring(_strip_all_tags(clean))
    return (flat if flat is not None else _empty_document()), [MARKUP_TOO_DEEP]


_COUNT_ELEMENTS = etree.XPath("count(//*)")  # compiled once, not on every page


def _cut_after(root: HtmlElement, limit: int) -> bool:
    """Remove every element after the first `limit` (document order); True if any was."""
    if int(_COUNT_ELEMENTS(root)) <= limit:
        return False
    last: HtmlElement = root.xpath(f"(//*)[{limit}]")[0]
    del last[:]  # its children follow it in document order
    for node in (last, *last.iterancestors()):
        parent = node.getparent()
        if parent is None:
            break
        for later in list(node.itersiblings()):
            parent.remove(later)
    return True


def parse_fragment(html: str) -> tuple[HtmlElement, list[str]]:
    """A markup fragment as a parentless `<div>` holding it (like lxml's `fragment_fromstring`
    with `create_parent="div"`), with the same guarantees and flags as `parse_document`."""
    root, flags = parse_document(f"<html><body>{html}</body></html>")
    # Made by our parser, like the rest of the tree: lxml.html's own `Element` would put the
    # fragment in a document whose elements get their class from a Python call each.
    holder: HtmlElement = _PARSER.makeelement("div")
    body = root.find("body")
    if body is not None:
        holder.text = body.text
        holder.extend(list(body))  # moves the children (a stray end tag cannot cut them off)
    return holder, flags


def _strip_all_tags(text: str) -> str:
    """Last resort for markup that stays too deep: its text, one line per former tag."""
    return "<html><body><p>" + _TAG.sub("\n", text) + "</p></body></html>"


class _Nesting:
    """Open elements as an HTML tokenizer would keep them (name, kept in the output), with an
    O(1) "is `name` open?" so closing never scans the stack."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []
        self.open: dict[str, int] = {}
        self.tables: list[bool] = []  # open <table>s, innermost last: kept or not

    def push(self, name: str, kept: bool) -> None:
        self.stack.append((name, kept))
        self.open[name] = self.open.get(name, 0) + 1
        if name == "table":
            self.tables.append(kept)

    def close(self, name: str) -> bool | None:
        """Pop up to and including the innermost open `name`: whether that element was kept,
        None for a stray end tag (nothing open by that name)."""
        if not self.open.get(name):
            return None
        while self.stack:
            top, kept = self.stack.pop()
            self.open[top] -= 1
            if top == "table":
                self.tables.pop()
            if top == name:
                return kept
        return None  # pragma: no cover - `open` said it was there


def flatten_markup(text: str, max_depth: int, *, keep_tables: bool = True) -> str:
    """`text` with the tags that nest deeper than `max_depth` removed (their text is kept).

    Linear: one pass over the tags with a stack whose pops are paid for by its pushes. Comments
    and raw-text elements (script, style) are copied whole, so tags inside them do not count.
    """
    lower = text.lower()
    out: list[str] = []
    nesting = _Nesting()
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:lt])
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            stop = len(text) if end < 0 else end + 3
            out.append(text[lt:stop])
            pos = stop
            continue
        m = _TAG.match(text, lt)
        if m is None:
            out.append("<")
            pos = lt + 1
            continue
        pos = m.end()
        closing, name, rest = m.group(1), m.group(2).lower(), m.group(3)
        if _track(nesting, closing == "/", name, rest, max_depth, keep_tables):
            out.append(m.group(0))
        if not closing and name in _RAW_TEXT:
            end = lower.find(f"</{name}", pos)
            stop = len(text) if end < 0 else end
            out.append(text[pos:stop])
            pos = stop


def _track(
    nesting: _Nesting, closing: bool, name: str, rest: str, max_depth: int, keep_tables: bool
) -> bool:
    """Update the open-element stack for one tag; True when the tag stays in the output."""
    if name in _VOID or name in _RAW_TEXT:
        return True  # no children: they add at most one level and never nest
    if closing:
        kept = nesting.close(name)
        return kept is None or kept  # a stray end tag is harmless to the parser's depth
    if rest.rstrip().endswith("/"):
        return True
    if name in _SIBLING_CLOSED and nesting.stack and nesting.stack[-1][0] == name:
        nesting.close(name)  # <li><li>: siblings (only when adjacent; a nested table is not)
    kept = _kept(nesting, name, max_depth, keep_tables)
    nesting.push(name, kept)
    return kept


def _kept(nesting: _Nesting, name: str, max_depth: int, keep_tables: bool) -> bool:
    """Whether a new `name` element stays. Tables go whole or not at all: a kept table keeps
    its rows and cells past the limit, a table too deep to fit them loses all its table tags
    (the table parser would ignore text left directly in a row)."""
    if name not in _TABLE_TAGS:
        return len(nesting.stack) < max_depth
    if keep_tables:
        return True
    if name == "table":
        return len(nesting.stack) < max_depth - _TABLE_LEVELS
    return nesting.tables[-1] if nesting.tables else len(nesting.stack) < max_depth


def outermost(elements: list[HtmlElement]) -> dict[HtmlElement, None]:
    """The elements of `elements` (document order) with no ancestor among them, in order.

    Linear in the elements climbed: each climb stops at the first ancestor whose answer is
    already known, so a deep stack of marked elements costs one walk, not one per element.
    """
    marked = set(elements)
    inside: dict[HtmlElement, bool] = {}  # element → under (or is) a marked element
    out: dict[HtmlElement, None] = {}
    for el in elements:
        path: list[HtmlElement] = []
        node = el.getparent()
        covered = False
        while node is not None:
            if node in marked:
                covered = True
                break
            known = inside.get(node)
            if known is not None:
                covered = known
                break
            path.append(node)
            node = node.getparent()
        for passed in path:
            inside[passed] = covered
        if not covered:
            out[el] = None
    return out


def drop_trees(elements: list[HtmlElement]) -> None:
    """`drop_tree()` on each element (children gone, tail text kept), in time linear in the
    number of children touched.

    lxml's `drop_tree` appends the tail to the previous sibling's tail, so dropping n siblings
    in a row re-copies an ever longer string: quadratic (minutes for 10,000 links with text
    between them). Here each parent's surviving texts are rebuilt once. Elements nested inside
    another dropped element go with it.
    """
    doomed = set(elements)
    by_parent: dict[HtmlElement, None] = {}
    for el in elements:
        parent = el.getparent()
        if parent is not None and not any(a in doomed for a in el.iterancestors()):
            by_parent[parent] = None
    for parent in by_parent:
        _drop_children(parent, doomed)


def _drop_children(parent: HtmlElement, doomed: set[HtmlElement]) -> None:
    """Remove `parent`'s children that are in `doomed`, joining their tails onto what precedes."""
    kept_text: list[str] = [parent.text or ""]
    tails: dict[HtmlElement, list[str]] = {}
    current = kept_text
    for child in list(parent):
        if child in doomed:
            current.append(child.tail or "")
            child.tail = None
            parent.remove(child)
        else:
            current = tails.setdefault(child, [child.tail or ""])
    parent.text = "".join(kept_text) or None
    for child, parts in tails.items():
        if len(parts) > 1:
            child.tail = "".join(parts) or None


# What `lxml.html.tostring` cuts out of libxml2's serialisation (its own pattern, case and all).
_META_CONTENT_TYPE = '<meta http-equiv="Content-Type"'
_META_CONTENT_TYPE_TAG = re.compile(re.escape(_META_CONTENT_TYPE) + "[^>]*>")


def html_of(el: HtmlElement) -> str:
    """`lxml.html.tostring(el, encoding="unicode", with_tail=False)`, whose search for the
    Content-Type `<meta>` over the whole output a substring test spares (a body has none)."""
    html: str = etree.tostring(el, method="html", encoding="unicode", with_tail=False)
    if _META_CONTENT_TYPE in html:
        html = _META_CONTENT_TYPE_TAG.sub("", html)
    return html
