"""The bytes of an HTML page without the markup the extractor never turns into text (for gate.py).

`visible(data)` removes tags with their attributes, comments, and the contents of <script> and
<style>; it keeps the contents of the elements the HTML parser reads as plain text (<title>,
<textarea>, <xmp>, <noembed>, <noframes>, and everything after <plaintext>) whole, tags and all.
It gives exactly what this regular expression substitution gives (tests compare the two on random
markup), where each alternative stops no later than the parser's own token does, so no text the
extractor could see is removed (removing a tag only joins the text around it, adding substrings):

    (?P<keep><(?P<raw>title|textarea|xmp|noembed|noframes)[\\s/>].*?(?:</(?P=raw)[\\s/>]|\\Z)|<plaintext[\\s/>].*)
    |<!--(?:-?>|.*?(?:--!?>|\\Z))
    |<(?P<drop>script|style)[\\s/>].*?(?=</(?P=drop)[\\s/>]|\\Z)
    |</?[A-Za-z][^>]*>|<[!?][^>]*>          (case-insensitive, "." matching any byte)

Python's `re` runs that at ~10 MB/s on real pages (4 ms for 45 KB, more than parsing the page):
at every "<" it tries each alternative. Here the plain tags go in one substitution whose every
alternative starts with "<" (so `re` skips from "<" to "<"), and only the few special openings
(comments, script, style and the raw-text elements) are walked in order, each checked not to sit
inside an earlier tag or region; the plain tags between two special regions never reach past the
second one (else its opening would sit inside a tag).
"""

from __future__ import annotations

import re

_KEEP = (b"title", b"textarea", b"xmp", b"noembed", b"noframes")
_PLAIN = re.compile(rb"<(?:/?[A-Za-z]|[!?])[^>]*>")
_OPENER = re.compile(rb"<(?:/?[A-Za-z]|[!?])")
_SPECIAL = re.compile(rb"<(?:(!--)|(title|textarea|xmp|noembed|noframes|plaintext|script|style)[ \t\n\r\f\v/>])",
                      re.IGNORECASE)
_SPACE_SLASH_GT = frozenset(b" \t\n\r\f\v/>")
MARK = b"\x00"  # visible_marked's stand-in for removed markup: no letter, digit or escape lead


def _end_tag(data: bytes, name: bytes, start: int) -> int:
    """Where the first "</name" (any case) followed by white space, "/" or ">" at or after `start`
    begins (len(data): none)."""
    at = data.find(b"</", start)
    n = len(name)
    while at >= 0:
        after = at + 2 + n
        if after < len(data) and data[at + 2 : after].lower() == name and data[after] in _SPACE_SLASH_GT:
            return at
        at = data.find(b"</", at + 2)
    return len(data)


def _comment_end(data: bytes, start: int) -> int:
    """End (exclusive) of the comment opening at `start` ("<!--" there)."""
    body = start + 4
    if data.startswith(b">", body):
        return body + 1
    if data.startswith(b"->", body):
        return body + 2
    i = data.find(b"-->", body)
    # "--!>" only counts before that "-->" (an occurrence overlapping it is impossible): searching
    # the rest of the page for it at every comment would cost ~70 us each
    j = data.find(b"--!>", body, i if i >= 0 else len(data))
    if j >= 0:
        return j + 4
    return i + 3 if i >= 0 else len(data)


def _inside_tag(data: bytes, since: int, p: int) -> bool:
    """Whether `p` lies inside a plain tag opened in [since, p): an opening after the last ">"
    before p, and a ">" after p to close it."""
    g = data.rfind(b">", since, p)
    return _OPENER.search(data, max(g + 1, since), p) is not None and data.find(b">", p) >= 0


def shifted(data: bytes) -> bool:
    """Whether `data` holds HZ ("~{") or ISO-2022 (ESC) shift sequences. (A two-byte `in` runs at a
    tenth of the speed of a one-byte one, which is memchr: "~" is looked for first.)"""
    return b"\x1b" in data or (b"~" in data and b"~{" in data)


def visible(data: bytes) -> bytes:
    """`data` (an HTML page in an ASCII-compatible encoding) without tags, comments, scripts and
    styles. HZ and ISO-2022 pages (ESC shifts) are left alone: their CJK bytes may be "<" and ">"."""
    return _visible(data, None)


def visible_marked(data: bytes) -> tuple[bytes, bytes]:
    """(`visible(data)`, the same with MARK wherever something was removed): the text on either
    side of a removal may be joined by the parser (inline tags) or not (block tags, dropped
    elements), so the gate finds words in the first and judges their boundaries in the second,
    where a removed tag stands as a byte that is no letter."""
    marked: list[bytes] = []
    text = _visible(data, marked)
    return text, b"".join(marked) if marked else text


def _plain(seg: bytes, marked: list[bytes] | None) -> bytes:
    if marked is None:
        return _PLAIN.sub(b"", seg)
    parts = _PLAIN.split(seg)  # same output as sub (no groups), and where it removed something
    marked.append(MARK.join(parts))
    return b"".join(parts)


def _visible(data: bytes, marked: list[bytes] | None) -> bytes:
    if b"<" not in data or shifted(data):
        return data
    out: list[bytes] = []
    pos = 0  # everything before pos is decided (and the next special region may start here)

    def cut() -> None:
        if marked is not None:
            marked.append(MARK)

    for m in _SPECIAL.finditer(data):
        p = m.start()
        if p < pos or _inside_tag(data, pos, p):
            continue
        out.append(_plain(data[pos:p], marked))
        name = (m.group(2) or b"").lower()
        if m.group(1):
            pos = _comment_end(data, p)  # removed
            cut()
        elif name == b"plaintext":
            out.append(data[p:])  # kept, to the end
            if marked is not None:
                marked.append(out[-1])
            return b"".join(out)
        elif name in _KEEP:
            pos = min(_end_tag(data, name, m.end()) + len(name) + 3, len(data))  # "</" name [\s/>]
            out.append(data[p:pos])  # kept whole
            if marked is not None:
                marked.append(out[-1])
        else:  # script, style: removed up to the end tag, which is a plain tag itself
            pos = _end_tag(data, name, m.end())
            cut()
    out.append(_plain(data[pos:], marked))
    return b"".join(out)
