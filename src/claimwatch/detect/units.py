"""Excerpt units: the sentence, list item, table row or source line around a hit.

Boundaries are line breaks, CJK sentence ends and list separators (。！？；), "!" and "?", and an
English full stop followed by white space.  An ASCII ";" is not one: in English prose it joins
clauses of one sentence ("... earn points; anyone below 600 is refused ..."), and source code has
line units anyway.  A unit never extends more than MAX_SIDE characters on either side of the
hit, so one enormous line cannot make the rules quadratic.
"""

from __future__ import annotations

import re

MAX_SIDE = 400
_LEFT_BOUNDARY = re.compile(r"[\n\r。！？；!?\u2028\u2029]|\.(?=\s)")
_RIGHT_BOUNDARY = re.compile(r"[\n\r。！？；!?\u2028\u2029]|\.(?=\s|$)")


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


_HARD_BOUNDARY = re.compile(r"[\n\r。！？!?\u2028\u2029]")
_COLON = re.compile(r"[:：]")
MAX_HEADER_LINES = 40
MAX_PARENTS = 3
_BULLET = re.compile(r"[-*•·]\s|\d{1,3}[.)、]\s?")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def header_spans(norm: str, a: int) -> list[tuple[int, int]]:
    """Spans whose cues describe the unit starting at `a` without being part of it.

    - the lead-in of a list split by semicolons: "告警类别：01 涉恐；02 邪教人员" -> "告警类别："
    - the parent lines of an indented block (pretty-printed JSON, enums, nested lists), and a line
      ending with a colon or an opening brace that introduces the unit's line.
    """
    spans: list[tuple[int, int]] = []
    lo = max(0, a - MAX_SIDE)
    hard = lo
    for m in _HARD_BOUNDARY.finditer(norm, lo, a):
        hard = m.end()
    if hard < a:
        c = _COLON.search(norm, hard, a)
        if c:
            spans.append((hard, c.end()))
    line_start = norm.rfind("\n", 0, a) + 1
    if norm[line_start:a].strip():
        return spans  # the unit does not start a line: no block structure to climb
    table = _table_header(norm, line_start)
    if table:
        spans.append(table)
    indent = a - line_start
    pos = line_start - 1  # the "\n" ending the previous line
    seen = 0
    # a bullet item shares the lead-in of its list: climb over sibling items to the "...:" line
    siblings = bool(_BULLET.match(norm, a))
    while pos > 0 and seen < MAX_HEADER_LINES and len(spans) < MAX_PARENTS + 1 and a - pos < 4000:
        if seen and not indent and not siblings:
            # Nothing further up can count: no line is indented less than 0, and a lead-in must be
            # the first line looked at or follow sibling items. (Lines of HTML text end here.)
            break
        prev_start = norm.rfind("\n", 0, pos) + 1
        line = norm[prev_start:pos]
        seen += 1
        pos = prev_start - 1
        if not line.strip():
            continue
        ind = _indent(line)
        stripped = line.rstrip()
        if siblings and ind == indent and _BULLET.match(line, ind):
            continue
        lead_in = ind == indent and (seen == 1 or siblings) and stripped.endswith((":", "：", "{", "["))
        siblings = False
        if ind < indent or lead_in:
            spans.append((prev_start + ind, prev_start + len(stripped)))
            indent = ind
            if ind == 0:
                break
    return spans


def _is_row(line: str) -> bool:
    t = line.strip()
    return t.startswith("|") or t.count("\t") >= 1


def _table_header(norm: str, line_start: int) -> tuple[int, int] | None:
    """The first row of the pipe- or tab-separated table the line at `line_start` belongs to."""
    end = norm.find("\n", line_start)
    if not _is_row(norm[line_start:end if end >= 0 else len(norm)]):
        return None
    first = None
    pos = line_start - 1
    for _ in range(200):
        if pos <= 0:
            break
        prev_start = norm.rfind("\n", 0, pos) + 1
        if not _is_row(norm[prev_start:pos]):
            break
        first = (prev_start, pos)
        pos = prev_start - 1
    return first


PARA_SIDE = 300


def paragraph_span(norm: str, a: int, b: int) -> tuple[int, int]:
    """The line (paragraph of extracted text) around the unit [a, b), at most PARA_SIDE more each side."""
    lo, hi = max(0, a - PARA_SIDE), min(len(norm), b + PARA_SIDE)
    left = norm.rfind("\n", lo, a)
    right = norm.find("\n", b, hi)
    return (left + 1 if left >= 0 else lo), (right if right >= 0 else hi)


# A container key line: `"race_labels": [`, `民族取值: {`, `skin tone:` (JSON as rendered by the
# extractor, YAML, indented lists).  Its children are the value list it introduces.
_CONTAINER_KEY = re.compile(r"^\s*[-*]?\s*[\"'`]?[^\"'`\n]{1,80}[\"'`]?\s*[:：=]\s*[\[{]?\s*$|^\s*[\[{]\s*$")
MAX_CHILDREN = 600


def is_container_key(line: str) -> bool:
    return bool(_CONTAINER_KEY.match(line))


def child_span(norm: str, a: int, b: int) -> tuple[int, int] | None:
    """The indented block under the unit [a, b) when the unit is a whole container-key line, else None.

    Bounded by MAX_CHILDREN characters so a huge array cannot make the rules quadratic."""
    line_start = norm.rfind("\n", 0, a) + 1
    nl = norm.find("\n", b)
    line_end = nl if nl >= 0 else len(norm)
    line = norm[line_start:line_end]
    if nl < 0 or not line.rstrip().endswith((":", "：", "{", "[")) or not is_container_key(line):
        return None
    indent = _indent(line)
    pos, hi = nl + 1, min(len(norm), nl + 1 + MAX_CHILDREN)
    end = pos
    while pos < hi:
        nxt = norm.find("\n", pos)
        nxt = len(norm) if nxt < 0 else nxt
        row = norm[pos:nxt]
        if row.strip() and _indent(row) <= indent:
            break
        end = min(nxt, hi)
        pos = nxt + 1
    return (nl + 1, end) if end > nl + 1 else None


# Cells of HTML tables and definition lists come out of the extractor one per line, without the
# colon a written lead-in has: "Attribute output\ngender, age band\nethnic origin (Han / Uyghur)".
# A short line in a run of such label-like lines reads the run above it (its <dt> / <th>) and the
# cell after it (the values of a "skin tone | yellow / white" row) as context.
MAX_LABEL = 60  # a cell or term, not a sentence
MAX_CELL_UNIT = 120
LABEL_UP = 8
_SENTENCE = re.compile(r"[。！？!?]|\.\s|\.$")


def _label_like(line: str, limit: int = MAX_LABEL) -> bool:
    t = line.strip()
    return 0 < len(t) <= limit and not _SENTENCE.search(t)


def label_spans(norm: str, a: int, b: int) -> list[tuple[int, int]]:
    """Label-like lines around the unit [a, b) when the unit is a whole short cell-like line."""
    line_start = norm.rfind("\n", 0, a) + 1
    nl = norm.find("\n", b)
    line_end = nl if nl >= 0 else len(norm)
    if norm[line_start:a].strip() or norm[b:line_end].strip() or not _label_like(norm[a:b], MAX_CELL_UNIT):
        return []
    spans: list[tuple[int, int]] = []
    pos = line_start - 1
    for _ in range(LABEL_UP):
        if pos <= 0:
            break
        prev_start = norm.rfind("\n", 0, pos) + 1
        line = norm[prev_start:pos]
        if not _label_like(line):
            break
        spans.append((prev_start, pos))
        pos = prev_start - 1
    if nl >= 0:
        nxt = norm.find("\n", nl + 1)
        nxt = len(norm) if nxt < 0 else nxt
        if _label_like(norm[nl + 1:nxt]):
            spans.append((nl + 1, nxt))
    return spans
