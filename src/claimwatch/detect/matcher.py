"""Multi-pattern matching of the lexicon over normalised text with Hyperscan.

The normalised text is scanned as UTF-8; byte offsets are turned into character offsets by counting
the characters between consecutive offsets, at C speed (skipped for ASCII text).  Patterns are the
lexicon entries, normalised like the text, written as byte escapes; a space or hyphen in an entry
matches at most one white-space character, "_" or "-" (so "skin tone" also matches "skin-tone",
"skin_tone", "skintone"; a single optional separator because longer optional runs made compiling
several times slower).  English entries are checked for word boundaries after the scan; a trailing
"*" allows any word ending.

The compiled database lives in a module global built lazily per process: Hyperscan databases are not
picklable, so nothing that may be shipped to a Spark executor holds one.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import threading
from dataclasses import dataclass

import hyperscan

from claimwatch.detect import normalize
from claimwatch.detect.hsdb import block_database, made_bytes
from claimwatch.lexicon import Lexicon, load_lexicon
from claimwatch.lexicon.load import lexicon_key

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
    need_left: bool = False  # English: must not follow a letter or digit
    need_right: bool = False  # English: must not precede a letter or digit (a plural "s" is fine)


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    start: int
    end: int


def _norm(s: str) -> str:
    return normalize.normalize(s)


_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _is_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()  # "_" and "." separate words: EM_RACE_YELLOW, FaceAttr.race


@functools.lru_cache(maxsize=None)
def _char_pattern(ch: str) -> bytes:
    # memoised: a few thousand distinct characters make up ~15,000 pattern characters (start-up)
    if ch in " -":
        return _SEP
    return ("\\x" + ch.encode("utf-8").hex("\x00").replace("\x00", "\\x")).encode()


def _pattern(text: str) -> bytes:
    return b"".join(map(_char_pattern, text))


def _norm_all(strings: list[str]) -> dict[str, str]:
    """{s: _norm(s)} in one normalisation call: it maps character to character, so the normalised
    concatenation cut at the same lengths is each string normalised (2,000 calls cost ~30 ms)."""
    joined = _norm("".join(strings))
    out, i = {}, 0
    for s in strings:
        out[s] = joined[i : i + len(s)]
        i += len(s)
    return out


def _cut(raw: str) -> tuple[bool, str]:
    """(trailing "*"?, the text without it) of a lexicon string."""
    raw = raw.strip()
    # "recogni*": any word ending; a "*" after punctuation ("/*") is literal.
    prefix = len(raw) > 1 and raw.endswith("*") and raw[-2].isalnum()
    return prefix, raw[:-1].strip() if prefix else raw


def _entries(lex: Lexicon) -> list[Entry]:
    # (kind, group, prefix, text, term, term index) first, then every text normalised in one call
    items: list[tuple[str, str, bool, str, object, int]] = []
    extra: list[str] = []  # not_after / not_before strings
    for cat in lex.categories.values():
        for i, t in enumerate(cat.terms):
            items.append((TERM, cat.id, *_cut(t.text), t, i))
            extra += t.not_after
            extra += t.not_before
        for kind, strings in ((MASK, cat.masks), (NEG, cat.negatives), (HARD_NEG, cat.hard_negatives),
                              (VALUE, cat.values)):
            items.extend((kind, cat.id, *_cut(s), None, -1) for s in strings)
    for group, strings in lex.cues.items():
        items.extend((CUE, group, *_cut(s), None, -1) for s in strings)
    norm = _norm_all(list(dict.fromkeys([*(it[3] for it in items), *extra])))
    entries: list[Entry] = []
    for kind, group, prefix, raw, t, i in items:
        text = norm[raw]
        if not text.strip(" -"):
            continue
        left, right = _is_word(text[0]), _is_word(text[-1]) and not prefix
        if t is None:
            entries.append(Entry(kind, group, text, "", False, prefix, (), (), -1, left, right))
        else:
            entries.append(Entry(kind, group, text, t.gloss, t.strength == "strong", prefix,
                                 tuple(norm[x] for x in t.not_after), tuple(norm[x] for x in t.not_before), i,
                                 left, right))
    return entries


def _entries_from_rows(rows: list[tuple]) -> list[Entry]:
    """Entries from their field values in slot order (as `Matcher._tables` stores them): the
    frozen dataclass's __init__ (object.__setattr__ per field) costs ~13 ms for 2,000 entries at
    start-up, setting the slots directly ~5 ms."""
    setters = [getattr(Entry, name).__set__ for name in Entry.__slots__]
    new = object.__new__
    out = []
    for row in rows:
        e = new(Entry)
        for put, value in zip(setters, row, strict=True):
            put(e, value)
        out.append(e)
    return out


class _Database:
    """A compiled Hyperscan database over some of the matcher's patterns, with per-thread scratch."""

    def __init__(self, patterns: list[bytes], ids: list[int], fixed: list[int | None], made: str | None = None):
        self._ids = ids  # local id -> matcher pattern index
        self._fixed = [fixed[i] for i in ids]
        self._db = block_database(
            [patterns[i] for i in ids],
            list(range(len(ids))),
            # Start-of-match tracking is costly to compile: only variable-length patterns (with a
            # separator) need it; a fixed-length match starts at end - length.
            [0 if fixed[i] is not None else hyperscan.HS_FLAG_SOM_LEFTMOST for i in ids],
            made=made,  # (the key of the tables all of these come from: see block_database)
        )
        self._local = threading.local()

    def scan(self, data: bytes) -> list[tuple[int, int, int]]:
        """[(matcher pattern index, byte start, byte end)]"""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        found: list[tuple[int, int, int]] = []
        fixed, ids = self._fixed, self._ids

        def on_match(lid, frm, to, flags, ctx):
            n = fixed[lid]
            found.append((ids[lid], frm if n is None else to - n, to))

        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        return found


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that start no character


class Utf8Text:
    """One normalised text and its UTF-8 form (made once, on first need: both matching stages of a
    detect() call scan it and convert offsets between the two)."""

    __slots__ = ("text", "_data")

    def __init__(self, text: str):
        self.text = text
        self._data: bytes | None = None

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.text.encode("utf-8", "surrogatepass")
        return self._data

    def byte_offsets(self, chars: list[int]) -> list[int]:
        """UTF-8 byte offset of each character offset in `chars` (ascending)."""
        out, at, done = [], 0, 0
        for c in chars:
            done += len(self.text[at:c].encode("utf-8", "surrogatepass"))
            at = c
            out.append(done)
        return out

    def char_offsets(self, raw: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """(pattern, from, to) byte offsets -> character offsets: the characters starting before
        each offset (an offset inside a character counts that character)."""
        data = self.data
        if len(data) == len(self.text) or not raw:
            return raw
        where: dict[int, int] = {}
        at = chars = 0
        for off in sorted({x for _, f, t in raw for x in (f, t)}):
            chars += len(data[at:off].translate(None, _CONTINUATION))
            at = off
            where[off] = chars
        return [(pid, where[f], where[t]) for pid, f, t in raw]


class Matcher:
    """The compiled lexicon.

    Stage 1 (`term_hits`): one scan of the whole normalised text with every term pattern.
    Stage 2 (`context_hits`): one scan per window (the units and headers around term hits) with every
    pattern -- terms, cues, masks, negatives, values.  Scanning the cue words of the whole text cost
    four times more on ordinary pages, where cue words ("support", "分析") are everywhere and terms rare.
    """

    def __init__(self, lex: Lexicon):
        # Deriving the tables below from the lexicon takes ~50 ms of start-up; a scanner hands in
        # those of an earlier run (hsdb.made_bytes), keyed by everything they are made from: the
        # lexicon's files (only the packaged lexicon has a key: another is always derived) and the
        # normalisation table's inputs.
        self.key: str | None = None  # of the tables, when they may be shared (the gate's build on it)
        lex_key = lexicon_key(lex)
        if lex_key is None:
            rows, self._patterns, self._fanout, fixed, term_ids = self._tables(lex)
        else:
            inputs = repr(("matcher-1", lex_key, normalize._changes_key(), _SEP))
            self.key = "matcher-tables-" + hashlib.sha256(inputs.encode()).hexdigest()
            blob = made_bytes(self.key, lambda: marshal.dumps(self._tables(lex)))
            rows, self._patterns, self._fanout, fixed, term_ids = marshal.loads(blob)
        self.entries = _entries_from_rows(rows)
        made = (self.key + "/terms", self.key + "/all") if self.key else (None, None)
        self._terms_db = _Database(self._patterns, term_ids, fixed, made[0])
        self._all_db = _Database(self._patterns, list(range(len(self._patterns))), fixed, made[1])

    @staticmethod
    def _tables(lex: Lexicon) -> tuple[list[tuple], list[bytes], list[tuple[int, ...]], list[int | None], list[int]]:
        """(entries as field values in slot order, patterns, entries per pattern, fixed match length
        per pattern (None: variable), patterns of some term): plain data, for marshal."""
        entries = _entries(lex)
        # Identical patterns (a word that is both a cue and a mask, say) compile once, fan out on match.
        by_pattern: dict[bytes, list[int]] = {}
        for i, e in enumerate(entries):
            by_pattern.setdefault(_pattern(e.text), []).append(i)
        patterns = list(by_pattern)
        fanout = [tuple(v) for v in by_pattern.values()]
        fixed = [None if _SEP in p else len(entries[fanout[i][0]].text.encode("utf-8"))
                 for i, p in enumerate(patterns)]
        term_ids = [i for i, fan in enumerate(fanout) if any(entries[e].kind == TERM for e in fan)]
        rows = [tuple(getattr(e, name) for name in Entry.__slots__) for e in entries]
        return rows, patterns, fanout, fixed, term_ids

    def _hits(self, norm: str, raw, kinds: tuple[str, ...] | None) -> list[Hit]:
        out = []
        seen = set()
        for pid, s, e in raw:
            for ei in self._fanout[pid]:
                entry = self.entries[ei]
                if kinds is not None and entry.kind not in kinds:
                    continue
                key = (ei, s, e)
                if key not in seen and self.accept(entry, norm, s, e):
                    seen.add(key)
                    out.append(Hit(entry, s, e))
        out.sort(key=lambda h: (h.start, -h.end))
        return out

    def term_hits(self, text: Utf8Text) -> list[Hit]:
        """Stage 1: accepted term hits of the whole normalised text, sorted by start."""
        if not text.text:
            return []
        return self._hits(text.text, text.char_offsets(self._terms_db.scan(text.data)), (TERM,))

    def context_hits(self, text: Utf8Text, spans: list[tuple[int, int]]) -> list[Hit]:
        """Stage 2: accepted hits of every kind inside the sorted, disjoint character `spans`."""
        norm = text.text
        multibyte = not norm.isascii()
        bases = text.byte_offsets([a for a, _ in spans]) if multibyte else [a for a, _ in spans]
        raw_all: list[tuple[int, int, int]] = []
        for (a, b), base in zip(spans, bases):
            raw_all.extend((pid, s + base, e + base)
                           for pid, s, e in self._all_db.scan(norm[a:b].encode("utf-8", "surrogatepass")))
        # all windows' byte offsets -> character offsets in one pass
        return self._hits(norm, text.char_offsets(raw_all), None)

    def scan(self, norm: str) -> list[Hit]:
        """All accepted hits over the whole normalised text (tests and diagnostics)."""
        return self.context_hits(Utf8Text(norm), [(0, len(norm))]) if norm else []

    @staticmethod
    def accept(entry: Entry, norm: str, s: int, e: int) -> bool:
        if entry.need_left and s and norm[s - 1] in _WORD:
            return False
        if entry.need_right and e < len(norm) and norm[e] in _WORD:
            # allow a plain plural: "faces", "races"
            if norm[e] != "s" or (e + 1 < len(norm) and norm[e + 1] in _WORD):
                return False
        for pre in entry.not_after:
            if norm.endswith(pre, 0, s):
                return False
        for post in entry.not_before:
            if norm.startswith(post, e):
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
                # the parsed lexicon may come from an earlier process (disk cache, see hsdb.made_bytes)
                _matcher = Matcher(load_lexicon(made_bytes))
    return _matcher
