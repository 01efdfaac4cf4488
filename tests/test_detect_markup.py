"""detect/markup.visible(): exactly the regular-expression substitution it documents, much faster.

The reference below is that substitution (the gate's first version). Compared on random markup
built from the tokens that matter (tag openers, comments, raw-text and script elements, stray "<"
and ">", quotes, white space, non-ASCII bytes) and on real-looking pages.
"""

from __future__ import annotations

import itertools
import random
import re

import pytest

from claimwatch.detect.markup import MARK, shifted, visible, visible_marked

REFERENCE = re.compile(
    rb"(?P<keep><(?P<raw>title|textarea|xmp|noembed|noframes)[\s/>].*?(?:</(?P=raw)[\s/>]|\Z)|<plaintext[\s/>].*)"
    rb"|<!--(?:-?>|.*?(?:--!?>|\Z))"
    rb"|<(?P<drop>script|style)[\s/>].*?(?=</(?P=drop)[\s/>]|\Z)"
    rb"|</?[A-Za-z][^>]*>|<[!?][^>]*>",
    re.IGNORECASE | re.DOTALL,
)


def reference(data: bytes) -> bytes:
    if b"~{" in data or b"\x1b" in data:  # HZ and ISO-2022 (ESC shifts): CJK bytes may be "<" and ">"
        return data
    return REFERENCE.sub(lambda m: m.group("keep") or b"", data)


TOKENS = [
    b"<", b">", b"</", b"<!", b"<?", b"<!--", b"-->", b"--!>", b"->", b"-", b"!", b"/", b" ", b"\n", b"\t",
    b"<a", b"<b>", b"</b>", b"<p class='x'>", b"<a title='<script>'>", b"<a title=\"x > y\">", b"<1", b"< a",
    b"<title>", b"</title>", b"</title ", b"</TITLE/", b"<TiTlE ", b"<titlex>", b"<textarea>", b"</textarea>",
    b"<xmp>", b"</xmp>", b"<noembed>", b"</noembed>", b"<noframes/", b"</noframes>", b"<plaintext>",
    b"<script>", b"</script>", b"<SCRIPT type=x>", b"</script ", b"</scriptx>", b"<style>", b"</style>",
    b"<styles>", b"text", b"ethnicity", b"user", "维吾尔".encode(), "民族".encode("gbk"), b"\xa4\x40", b"'", b'"', b"\x1b(B",
    b"~", b"~{", b"{", b"~}",
]


def visible_cuts(data: bytes) -> tuple[bytes, list[int]]:
    """(visible(data), the offsets in it where something was removed), read off visible_marked."""
    assert MARK not in data  # (the inputs here hold none, so every MARK is a removal)
    text, marked = visible_marked(data)
    pieces = marked.split(MARK)
    offsets = list(itertools.accumulate(map(len, pieces[:-1])))
    assert b"".join(pieces) == text
    return text, offsets


def _marked(text: bytes, cuts: list[int]) -> bytes:
    ends = [0, *cuts, len(text)]
    return MARK.join(text[a:b] for a, b in zip(ends, ends[1:]))


def reference_cuts(data: bytes) -> list[int]:
    """Offsets in reference(data) where the substitution removed something."""
    if b"~{" in data or b"\x1b" in data:
        return []
    cuts, removed = [], 0
    for m in REFERENCE.finditer(data):
        if not m.group("keep") and m.end() > m.start():
            cuts.append(m.start() - removed)
            removed += m.end() - m.start()
    return cuts


@pytest.mark.parametrize("seed", range(40))
def test_random_markup_gives_the_reference(seed):
    rng = random.Random(seed)
    for _ in range(250):
        data = b"".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 40)))
        assert visible(data) == reference(data), data
        assert visible_cuts(data) == (reference(data), reference_cuts(data)), data
        assert visible_marked(data) == (reference(data), _marked(reference(data), reference_cuts(data))), data


def test_pages_give_the_reference():
    page = (b"<!DOCTYPE html><html><head><title>About <b>body</b></title><meta charset='utf-8'>"
            b"<script>if (a<b && c>d) x.push({type: 1}); // </scrip t></script>"
            b"<style>p > a { font-family: serif }</style><!-- support --><!--> visible1 <!--->"
            b"</head><body class='user'><p>She felt <b>fear</b> in the story.</p>"
            b"<textarea><i title='religion'></textarea><a href='/x?a<b'>link</a> 3 < 4 > 2"
            b"<!-- unclosed comment with <script> inside")
    assert visible(page) == reference(page)
    for kept in (b"About <b>body</b>", b"visible1", b"fear", b"<i title='religion'>", b"3 < 4 > 2", b"link"):
        assert kept in visible(page)
    for gone in (b"push", b"font-family", b"support", b"user", b"DOCTYPE", b"unclosed"):
        assert gone not in visible(page)
    big = page * 300
    assert visible(big) == reference(big)
    assert visible_cuts(big) == (reference(big), reference_cuts(big))
    assert visible(b"") == b"" and visible(b"no markup at all") == b"no markup at all"


def test_cuts_mark_where_text_was_joined():
    # "sur" + "veil" joined by removing tags: the gate must know a tag stood between them
    assert visible_cuts(b"<b>sur</b>veil") == (b"surveil", [0, 3])
    assert visible_cuts(b"a<!-- x -->b<script>z</script>c") == (b"abc", [1, 2, 2])
    assert visible_cuts(b"plain text") == (b"plain text", [])
    assert visible_marked(b"<b>sur</b>veil") == (b"surveil", b"\x00sur\x00veil")


def test_shift_sequences_are_found_wherever_they_are():
    for data, want in [(b"", False), (b"~", False), (b"a~b{c", False), (b"{~", False), (b"~{", True),
                       (b"x" * 5000 + b"~" * 3 + b"{", True), (b"~~}~ {", False), (b"\x1b", True), (b"a\x1b(B", True)]:
        assert shifted(data) is want, data
    rng = random.Random(5)
    for _ in range(300):
        data = bytes(rng.choice(b"~{}a\x1b") for _ in range(rng.randrange(12)))
        assert shifted(data) is (b"~{" in data or b"\x1b" in data), data


def test_iso_2022_pages_are_left_alone():
    # ISO-2022-JP writes kana and kanji as 7-bit pairs between ESC shifts: "<R" there is no tag
    page = '<html><meta charset="iso-2022-jp"><p>会社のカメラ。</p></html>'.encode("iso-2022-jp")
    assert b"<R" in page
    assert visible(page) == page and visible_cuts(page) == (page, [])
