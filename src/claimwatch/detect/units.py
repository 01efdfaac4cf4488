"""Excerpt units: the sentence, list item, table row or source line around a hit.

Boundaries are line breaks, CJK and ASCII sentence ends (。！？；!?;) and an English full stop
followed by white space.  A unit never extends more than MAX_SIDE characters on either side of the
hit, so one enormous line cannot make the rules quadratic.
"""

from __future__ import annotations

import re

MAX_SIDE = 400
_HARD = "\n\r。！？；!?;\u2028\u2029"
_LEFT_BOUNDARY = re.compile(r"[\n\r。！？；!?;\u2028\u2029]|\.(?=\s)")
_RIGHT_BOUNDARY = re.compile(r"[\n\r。！？；!?;\u2028\u2029]|\.(?=\s|$)")


def unit_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    """[a, b) of the unit containing norm[start:end]; the end includes the closing punctuation."""
    lo = max(0, start - MAX_SIDE)
    left = lo
    for m in _LEFT_BOUNDARY.finditer(norm, lo, start):
        left = m.end()
    if left == lo and lo > 0:
        # no boundary within reach: cut at a space so the excerpt starts on a word
        sp = norm.find(" ", lo, start)
        left = sp + 1 if sp >= 0 else lo
    hi = min(len(norm), end + MAX_SIDE)
    m = _RIGHT_BOUNDARY.search(norm, end, hi)
    if m:
        right = m.end()
    else:
        right = hi
        if hi < len(norm):
            sp = norm.rfind(" ", end, hi)
            right = sp if sp > end else hi
    return left, right


def trim(text: str, a: int, b: int) -> tuple[int, int]:
    """Shrink [a, b) to exclude surrounding white space."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
