"""Visible text of an HTML page, one block (paragraph, list item, table cell, heading) per line.

The detector cuts excerpts by line and sentence, so block boundaries must become line breaks while
whitespace inside a block (source line wrapping) collapses to one space, as a browser renders it.
Text hidden with CSS or the `hidden` attribute is kept: the vendor still publishes it.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

DROP = ("script", "style", "noscript", "template", "svg", "math", "head", "iframe", "object", "embed")
BLOCKS = (
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "legend", "li", "main", "menu", "nav", "ol", "option", "p", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "button", "label",
)
# Block breaks are marked with a Unicode noncharacter, which survives parsing untouched and is
# turned into "\n" after whitespace collapsing.
_MARK = "\ufdd0"
_MARK_BYTES = _MARK.encode("utf-8")
_SPACE_RE = re.compile(r"[ \t\n\r\f\v\u00a0\u2000-\u200b\u3000]+")  # U+3000: ideographic space
_BLOCK_TAGS = frozenset(BLOCKS)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Elements closed implicitly by the parser (a later <p>, <li>, <td> ...): they do not nest deeply.
_IMPLIED = frozenset("p li dt dd option optgroup rb rp rt rtc td th tr tbody thead tfoot colgroup caption "
                     "html head body".split())
_TOKEN_RE = re.compile(r"<(?:(!--)|(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>)")
# For the quick depth estimate: comments and raw-text elements are consumed whole (to the end of
# the document if unclosed, so the scan stays linear); group 1 is a tag name with its "/".
_QUICK_RE = re.compile(
    r"<!--.*?(?:-->|\Z)|<(?:script|style|textarea|title|xmp|noscript|iframe|noembed|noframes)\b.*?"
    r"(?:</(?:script|style|textarea|title|xmp|noscript|iframe|noembed|noframes)\s*>|\Z)|<(/?[A-Za-z][A-Za-z0-9-]*)",
    re.IGNORECASE | re.DOTALL,
)
_RAWTEXT = frozenset("script style textarea title xmp noscript iframe noembed noframes plaintext".split())


def html_text(markup: str, max_depth: int) -> tuple[str, str | None, list[str]]:
    """(text, title, notes)."""
    notes: list[str] = []
    markup = markup.replace(_MARK, "")
    flattened = _cap_depth(markup, max_depth)
    if flattened is not None:
        markup = flattened
        notes.append(f"HTML nested deeper than {max_depth} elements; deeper tags ignored")
    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title")
    title = _collapse(title_node.text(deep=True)) if title_node is not None else None
    root = tree.body or tree.root
    if root is None:
        return "", title or None, notes
    # Matches come in document order, ancestors first; going backwards removes or replaces a nested
    # match before its ancestor, so no node is touched after its subtree was freed.
    for node in reversed(root.css(",".join(DROP))):
        node.decompose()
    for node in reversed(root.css("pre,textarea,plaintext,listing,xmp")):
        # Preformatted text keeps its own line breaks.
        node.replace_with(_MARK + node.text(deep=True).replace("\n", _MARK) + _MARK)
    # Every element that is not a block goes (inline ones are unwrapped, empty ones and comments
    # removed) and adjacent text nodes are merged; then every remaining boundary between two text
    # nodes is a block boundary, and lexbor's text(separator=...) marks them all in C. That is one
    # node operation per non-block element instead of a marker inserted before and after every
    # block: faster on real pages (about as many inline elements as blocks) and text-heavy ones,
    # slower only on pages made almost entirely of inline elements.
    # tests/test_extract_speed_equivalence.py keeps the marker version as the reference.
    nodes = root.traverse()
    next(nodes)  # the root itself stays
    blocks = _BLOCK_TAGS
    for node, tag in [(n, t) for n in nodes if (t := n.tag) not in blocks]:
        if tag == "br":
            node.replace_with(_MARK_BYTES)
        elif tag == "-comment":
            node.decompose()
        else:
            node.unwrap(delete_empty=True)
    root.merge_text_nodes()
    return _lines(root.text(deep=True, separator=_MARK)), title or None, notes


def _lines(raw: str) -> str:
    """Collapse each run of _SPACE_RE white space to one space, cut at the markers, strip the lines
    and drop empty ones. str.split() does that at C speed where its white space is _SPACE_RE's --
    U+200B aside, which becomes a space first; a text holding white space that only str.split()
    knows goes through the regex (same result, ~100 ns per character in the regex engine)."""
    if any(ch in raw for ch in _SPLIT_ONLY):
        lines = (part.strip() for part in _SPACE_RE.sub(" ", raw).split(_MARK))
        return "\n".join(line for line in lines if line)
    if "\u200b" in raw:
        raw = raw.replace("\u200b", " ")
    return "\n".join(filter(None, (" ".join(part.split()) for part in raw.split(_MARK))))


# White space to str.split() (and str.strip()) that _SPACE_RE does not collapse.
_SPLIT_ONLY = "\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029\u202f\u205f"


def _collapse(s: str) -> str:
    return _SPACE_RE.sub(" ", s).strip()


def _cap_depth(markup: str, max_depth: int) -> str | None:
    """Drop start/end tags nested deeper than max_depth, or None if nothing is that deep.

    The HTML tree builder checks the stack of open elements for each block start tag, so 100,000
    nested <div>s cost minutes; browsers cap depth for the same reason. This pass is an estimate
    (it does not run the full tree-building rules) and only runs on documents with many tags."""
    # Nesting depth is at most the number of start tags, which is at most the number of "<" that
    # do not begin an end tag: most pages are decided by these two counts.
    if markup.count("<") - markup.count("</") <= max_depth or _quick_depth(markup) <= max_depth:
        return None
    out: list[str] = []
    copied = depth = 0  # copied: markup[:copied] is already in out
    dropped: dict[str, int] = {}
    pos = 0
    while True:
        m = _TOKEN_RE.search(markup, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(1):  # comment: tags inside it are not tags
            end = markup.find("-->", pos)
            pos = len(markup) if end < 0 else end + 3
            continue
        closing, name = m.group(2), m.group(3).lower()
        if name in _RAWTEXT:  # holds no elements; skip its content, which may contain '<'
            if not closing:
                end = re.compile("</" + name, re.IGNORECASE).search(markup, pos)
                pos = len(markup) if end is None else end.start() + 2
            continue
        if name in _VOID or name in _IMPLIED:
            continue
        if not closing and depth < max_depth:
            depth += 1
            continue
        if closing and not dropped.get(name):
            depth = max(depth - 1, 0)
            continue
        # Too deep: replace the tag (and later its end tag) by a line break or a space.
        out.append(markup[copied:m.start()])
        out.append("<br>" if name in BLOCKS else " ")
        copied = m.end()
        dropped[name] = dropped.get(name, 0) + (-1 if closing else 1)
    if not out:
        return None
    out.append(markup[copied:])
    return "".join(out)


def _quick_depth(markup: str) -> int:
    """Deepest nesting of explicitly closed elements (one C-speed regex pass)."""
    depth = peak = 0
    flat = _VOID | _IMPLIED
    for tag in _QUICK_RE.findall(markup):
        if not tag:
            continue  # a comment or a raw-text element
        if tag[0] == "/":
            if depth and tag[1:].lower() not in flat:
                depth -= 1
        elif tag.lower() not in flat:
            depth += 1
            if depth > peak:
                peak = depth
    return peak
