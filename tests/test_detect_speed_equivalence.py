"""The shortcuts in detect/ give exactly what the straightforward code gave.

normalize() translates through a tuple indexed by code point, and the matcher converts UTF-8 byte
offsets by counting characters between consecutive offsets (both replaced NumPy arrays): each is
compared with the plain per-character definition on random text.

header_spans stops climbing as soon as no line further up can count (a unit at indentation 0 that
is not a list item: every line of extracted HTML text); the loop it replaced is kept below as the
reference and both run over indented, bulleted, JSON-like and HTML-like texts at every line start.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from claimwatch.detect import detect, engine, units
from claimwatch.detect.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


def ref_header_spans(norm: str, a: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    lo = max(0, a - units.MAX_SIDE)
    hard = lo
    for m in units._HARD_BOUNDARY.finditer(norm, lo, a):
        hard = m.end()
    if hard < a:
        c = units._COLON.search(norm, hard, a)
        if c:
            spans.append((hard, c.end()))
    line_start = norm.rfind("\n", 0, a) + 1
    if norm[line_start:a].strip():
        return spans
    table = units._table_header(norm, line_start)
    if table:
        spans.append(table)
    indent = a - line_start
    pos = line_start - 1
    seen = 0
    siblings = bool(units._BULLET.match(norm, a))
    while pos > 0 and seen < units.MAX_HEADER_LINES and len(spans) < units.MAX_PARENTS + 1 and a - pos < 4000:
        prev_start = norm.rfind("\n", 0, pos) + 1
        line = norm[prev_start:pos]
        seen += 1
        pos = prev_start - 1
        if not line.strip():
            continue
        ind = units._indent(line)
        stripped = line.rstrip()
        if siblings and ind == indent and units._BULLET.match(line, ind):
            continue
        lead_in = ind == indent and (seen == 1 or siblings) and stripped.endswith((":", "：", "{", "["))
        siblings = False
        if ind < indent or lead_in:
            spans.append((prev_start + ind, prev_start + len(stripped)))
            indent = ind
            if ind == 0:
                break
    return spans


_LINES = ["Product features:", "产品功能：", "  - attribute analysis", "- item one", "* item two", "• 第一项",
          "1. first step", "2) second", "3、第三", "{", "  \"labels\": [", "    \"value\",", "  ]", "}",
          "| col a | col b |", "| x | y |", "a\tb", "", "   ", "\t", "plain sentence. Another one!",
          "    deeper indented line:", "  half indented", "告警类别：01 涉恐；02 其他", "key = [", "end"]


def _random_text(rng: random.Random) -> str:
    return "\n".join(rng.choice(_LINES) for _ in range(rng.randint(1, 60)))


def _same_at_every_line_start(norm: str) -> None:
    starts = [0] + [i + 1 for i, ch in enumerate(norm) if ch == "\n"]
    for line_start in starts:
        end = norm.find("\n", line_start)
        end = len(norm) if end < 0 else end
        # the line start, its first non-blank character, and one position inside the line
        for a in {line_start, line_start + len(norm[line_start:end]) - len(norm[line_start:end].lstrip()),
                  min(end, line_start + 3)}:
            assert units.header_spans(norm, a) == ref_header_spans(norm, a), (norm[max(0, a - 200):a + 50], a)


def test_header_spans_random_structured_text():
    rng = random.Random(42)
    for _ in range(600):
        _same_at_every_line_start(_random_text(rng))


def test_header_spans_corpus_texts():
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    assert len(texts) > 50
    for text in texts:
        _same_at_every_line_start(normalize(text))


def test_findings_identical_with_the_reference(monkeypatch):
    rng = random.Random(3)
    claims = ["The system performs ethnicity recognition on each stream.", "支持少数民族识别功能，可识别维吾尔族人员。",
              "Emotion recognition monitors students in class.", "Attribute output:", "  - skin tone",
              "  - ethnic origin (Han / Uyghur)"]
    docs = ["\n".join(rng.choice(_LINES + claims) for _ in range(rng.randint(1, 40))) for _ in range(300)]
    new = [detect(d) for d in docs]
    monkeypatch.setattr(engine, "header_spans", ref_header_spans)
    old = [detect(d) for d in docs]
    assert new == old
    assert any(new)


@pytest.mark.parametrize("text", ["a\nb:\n- x\n- y", "x:\n\n\ny", "   \n\n", "\n\n\nz", "k: {\n  v\n}"])
def test_header_spans_small_cases(text):
    _same_at_every_line_start(text)


def _random_code_points(rng: random.Random, table) -> str:
    """Characters the table moves, their targets, and others of every UTF-8 length (surrogates, and
    past the last one the table moves, included)."""
    moved = sorted(table)
    pools = [moved, [table[c] for c in moved], range(0x20, 0x80), range(0x80, 0x800), range(0x4E00, 0xA000),
             range(0xD800, 0xE000), range(0x10000, 0x110000), [max(moved) + 1, 0x10FFFF]]
    return "".join(chr(rng.choice(rng.choice(pools))) for _ in range(rng.randint(0, 60)))


def test_normalize_equals_the_table_character_by_character():
    from claimwatch.detect.normalize import norm_table

    table = norm_table()
    rng = random.Random(20261123)
    for _ in range(3000):
        text = _random_code_points(rng, table)
        assert normalize(text) == "".join(chr(table.get(ord(c), ord(c))) for c in text)
    assert normalize("ＡＢＣ維吾爾族 Skin") == "abc维吾尔族 skin"


def test_utf8_offsets_equal_the_per_character_definition():
    from claimwatch.detect.matcher import Utf8Text
    from claimwatch.detect.normalize import norm_table

    table = norm_table()
    rng = random.Random(5)
    for _ in range(2000):
        text = _random_code_points(rng, table)
        t = Utf8Text(text)
        data = text.encode("utf-8", "surrogatepass")
        assert t.data == data
        starts = [len(text[:i].encode("utf-8", "surrogatepass")) for i in range(len(text) + 1)]
        chars = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, 5)))
        assert t.byte_offsets(chars) == [starts[c] for c in chars]
        # any byte offset, also inside a character: the characters that start before it
        raw = [(rng.randint(0, 9), *sorted((rng.randint(0, len(data)), rng.randint(0, len(data)))))
               for _ in range(rng.randint(0, 6))]
        assert t.char_offsets(raw) == [(p, sum(s < f for s in starts[:-1]), sum(s < e for s in starts[:-1]))
                                       for p, f, e in raw]
