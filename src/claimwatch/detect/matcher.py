"""First stage: one Hyperscan scan over the normalised text for every term, mask and cue at once.

The normalised text is scanned as UTF-8; byte offsets are turned into character offsets with one
vectorised cumulative sum (skipped for ASCII text).  Patterns are the lexicon entries, normalised like
the text, written as byte escapes; a space or hyphen in an entry matches at most one space, "_" or
"-" or line break (so "skin tone" also matches "skin-tone", "skin_tone", "skintone"; one
separator only: longer optional runs made compiling several times slower).  English entries are checked for word boundaries
after the scan; a trailing "*" in an entry allows any word ending.

The compiled database lives in a module global built lazily per process: Hyperscan databases are not
picklable, so nothing that may be shipped to a Spark executor holds one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import hyperscan
import numpy as np

from claimwatch.detect.normalize import norm_table, normalize_codes
from claimwatch.lexicon import Lexicon, load_lexicon

TERM, MASK, NEG, HARD_NEG, VALUE, CUE = "term", "mask", "neg", "hard_neg", "value", "cue"
_SEP = rb"[\s_\-]?"


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # TERM | MASK | NEG | HARD_NEG | VALUE | CUE
    group: str  # category id, or cue group name for CUE
    text: str  # normalised entry text (without a trailing "*")
    gloss: str = ""
    strong: bool = False
    prefix: bool = False  # trailing "*": any word ending allowed
    not_after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    term_index: int = -1  # position in the category's term list (distinct-term counting)


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    start: int
    end: int


def _norm(s: str) -> str:
    t = norm_table()
    return "".join(chr(int(t[ord(c)])) for c in s)


def _is_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _pattern(text: str) -> bytes:
    out = []
    for ch in text:
        if ch in " -":
            out.append(_SEP)
        else:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")).encode())
    return b"".join(out)


def _entries(lex: Lexicon) -> list[Entry]:
    entries: list[Entry] = []

    def add(kind, group, raw, **kw):
        raw = raw.strip()
        # "recogni*": any word ending; a "*" after punctuation ("/*") is literal.
        prefix = len(raw) > 1 and raw.endswith("*") and raw[-2].isalnum()
        text = _norm(raw[:-1].strip() if prefix else raw)
        if text.strip(" -"):
            entries.append(Entry(kind, group, text, prefix=prefix, **kw))

    for cat in lex.categories.values():
        for i, t in enumerate(cat.terms):
            add(TERM, cat.id, t.text, gloss=t.gloss, strong=t.strength == "strong",
                not_after=tuple(_norm(x) for x in t.not_after), not_before=tuple(_norm(x) for x in t.not_before),
                term_index=i)
        for kind, items in ((MASK, cat.masks), (NEG, cat.negatives), (HARD_NEG, cat.hard_negatives),
                            (VALUE, cat.values)):
            for s in items:
                add(kind, cat.id, s)
    for group, items in lex.cues.items():
        for s in items:
            add(CUE, group, s)
    return entries


class Matcher:
    """Compiled lexicon: `scan(codes)` returns boundary-checked hits sorted by start."""

    def __init__(self, lex: Lexicon):
        self.entries = _entries(lex)
        # Identical patterns (a word that is both a cue and a mask, say) compile once, fan out on match.
        by_pattern: dict[bytes, list[int]] = {}
        for i, e in enumerate(self.entries):
            by_pattern.setdefault(_pattern(e.text), []).append(i)
        self._patterns = list(by_pattern)
        self._fanout = [tuple(v) for v in by_pattern.values()]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=self._patterns,
            ids=list(range(len(self._patterns))),
            elements=len(self._patterns),
            # Start-of-match tracking is costly to compile: only variable-length patterns (with a
            # separator run) need it; a fixed-length match starts at end - length.
            flags=[hyperscan.HS_FLAG_SOM_LEFTMOST if _SEP in p else 0 for p in self._patterns],
        )
        self._fixed = [None if _SEP in p else len(self.entries[self._fanout[i][0]].text.encode("utf-8"))
                       for i, p in enumerate(self._patterns)]
        self._local = threading.local()

    def _scratch(self):
        s = getattr(self._local, "scratch", None)
        if s is None:
            s = self._local.scratch = hyperscan.Scratch(self._db)
        return s

    def raw_hits(self, data: bytes) -> list[tuple[int, int, int]]:
        found: list[tuple[int, int, int]] = []

        fixed = self._fixed

        def on_match(pid, frm, to, flags, ctx):
            length = fixed[pid]
            found.append((pid, to - length if length is not None else frm, to))
            return None

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        return found

    def scan(self, codes: np.ndarray) -> list[Hit]:
        if codes.size == 0:
            return []
        n = codes.size
        data = codes.tobytes().decode("utf-32-le", "surrogatepass").encode("utf-8", "surrogatepass")
        raw = self.raw_hits(data)
        if not raw:
            return []
        if len(data) != n:  # non-ASCII: byte offsets -> character offsets
            widths = 1 + (codes >= 0x80).astype(np.int64) + (codes >= 0x800) + (codes >= 0x10000)
            starts = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(widths, out=starts[1:])
            offs = np.searchsorted(starts, np.array([(f, t) for _, f, t in raw], dtype=np.int64))
            raw = [(pid, int(a), int(b)) for (pid, _, _), (a, b) in zip(raw, offs)]
        hits: list[Hit] = []
        seen: set[tuple[int, int, int]] = set()
        for pid, s, e in raw:
            for ei in self._fanout[pid]:
                key = (ei, s, e)
                if key in seen:
                    continue
                seen.add(key)
                entry = self.entries[ei]
                if self._accept(entry, codes, s, e, n):
                    hits.append(Hit(entry, s, e))
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    @staticmethod
    def _accept(entry: Entry, codes: np.ndarray, s: int, e: int, n: int) -> bool:
        text = entry.text
        if _is_word(text[0]) and s > 0 and _is_word(chr(int(codes[s - 1]))):
            return False
        if _is_word(text[-1]) and not entry.prefix and e < n:
            nxt = chr(int(codes[e]))
            if _is_word(nxt):
                # allow a plain plural: "faces", "races"
                if not (nxt == "s" and (e + 1 >= n or not _is_word(chr(int(codes[e + 1]))))):
                    return False
        for pre in entry.not_after:
            k = len(pre)
            if s >= k and "".join(chr(int(c)) for c in codes[s - k:s]) == pre:
                return False
        for post in entry.not_before:
            k = len(post)
            if e + k <= n and "".join(chr(int(c)) for c in codes[e:e + k]) == post:
                return False
        return True


_lock = threading.Lock()
_matcher: Matcher | None = None


def matcher() -> Matcher:
    """The process-wide compiled matcher (built on first use, never pickled)."""
    global _matcher
    if _matcher is None:
        with _lock:
            if _matcher is None:
                _matcher = Matcher(load_lexicon())
    return _matcher


def scan_text(text: str) -> tuple[np.ndarray, list[Hit]]:
    codes = normalize_codes(text)
    return codes, matcher().scan(codes)
