"""Second raw-bytes stage of the bulk scanner: can the lexicon hits of this page make any finding?

The anchor stage (prefilter.py) passes every payload holding some term; most of them hold only a
weak term ("download", "color", 恐惧), which the rules never report on its own. This stage scans the
payload (only those that passed the anchors) for the words of every entry the rules could need, in
the same raw forms as the anchors, and applies a page-level necessary condition derived from
rules.py: a unit finds `cat` only if it holds a TERM of `cat` and one of

* attribute mode: a strong term of `cat`; a cue of capability_strong, capability_weak, subject or
  device (unit, header or label cells); two distinct entries of `cat` (term indices and values, in
  the unit, its headers, labels, or a container key's child block); or a short value list after a
  weak term ("肤色（黄、白、黑）": two initials of `cat`'s values around a separator);
* scoring: a penalty cue (both rules need one) and a strong term or a subject cue;
* predictive: a strong term with a capability, subject or police cue, or police, profiling and
  subject cues;
* scraping: a strong term, or scrape_face and scrape_source cues;
* rbi: a strong term, or realtime and rbi_match cues.

Masks, negatives, denials and reports only ever remove a finding, and headers, labels, children and
paragraphs are all somewhere on the page, so requiring these entries anywhere in the payload is a
superset of what the rules accept. An entry counts as present when each of its words occurs as a
raw literal; a word shared by several entries stands for all of them (conservative both ways:
one shared word may satisfy "two distinct entries", and a word of any strong term counts as strong).

Word boundaries: the matcher accepts an English entry only where it does not follow a letter or
digit (`need_left`) or precede one (`need_right`, a plural "s" allowed), so "veil" inside
"surveillance" is no religion term. An entry needing them counts only if its first word has an
occurrence that may start a word and its last word one that may end a word (a one-word entry: one
occurrence that may do both). One Hyperscan scan (`_boundary_patterns`, every occurrence) finds,
for each such word of three letters or more, whether its plain ASCII bytes occur so; a letter or
digit byte next to them rules an occurrence out only where that byte is provably a letter next to
the word in any text the extractor makes:

* any other literal of the word (full-width letters; a letter before those may be full-width too,
  which the normaliser folds to ASCII) counts as bounded on both sides;
* pages holding "~{" (HZ: GB2312 as 7-bit pairs) or ESC (ISO-2022 shifts): no checks at all;
* before the word: the run of ASCII letters and digits ending there is judged as a whole. Preceded
  by "\\", "&" or "#" it may be the tail of an escape or character reference (`\\u4e2d`, `\\n`,
  `&#20013` and `&copy` without ";"), which decodes to something else: bounded. Preceded by a byte
  >= 0x80 and one byte long, it may be the trail byte of a GBK/Big5 pair or the last byte of a
  GB18030 four-byte sequence: bounded (a run of two or more: the byte before the last one is ASCII,
  and an ASCII byte never starts a multi-byte character, so the last one is a character of its own);
* after the word no such doubt arises: the word's own last byte is ASCII, so the next byte starts a
  character, and no escape starts with a letter or digit; a plural "s" is judged the same way;
* with `html=True` the words are found in markup.visible's output, where removing a tag joins the
  text around it, while the parser may put a break there (block tags, dropped elements). Their
  boundaries are judged in markup.visible_marked's output instead, which has a NUL (no letter) where
  markup was removed. The bytes after a removal are raw text whose raw predecessor is the markup's
  ">" -- never a trail byte (< 0x40) nor an escape lead -- so they are characters of their own
  (where the parser's tag runs on past visible's ">", the text after it follows a kept ">"). An
  occurrence spanning removed markup ("ve<b>il") is not in the marked bytes: such a word (more
  occurrences in the one than the other) counts as bounded;
* the extractor cuts text at its limits (extract/limits.py), which may end a word anywhere: on
  payloads that may reach a limit (JSON renders longer than its bytes) the end is not checked.

Words looked for later (`_looked_for_later`): ASCII words shorter than MIN_BOUNDED ("of", "to",
"a", the "t" of "can't") of which every entry also needs a longer word are not in the main scan --
their one- and two-byte literals made it three times slower on English pages, where they occur
anyway -- but in a small one, run only where the other words of such an entry are present, which
stops as soon as it has found the words wanted.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import marshal
import re
import threading
from collections.abc import Callable

import hyperscan

from claimwatch.detect.hsdb import block_database, made_bytes
from claimwatch.detect.markup import shifted, visible_marked
from claimwatch.detect.matcher import CUE, TERM, VALUE, Matcher
from claimwatch.detect.normalize import norm_table
from claimwatch.detect.rawforms import ENCODINGS, ESCAPES, MAX_COMBINATIONS, form, literals, pieces, variants
from claimwatch.detect.rules import _initials  # the rules' own definition of a short list's items
from claimwatch.lexicon import Lexicon
from claimwatch.lexicon.load import lexicon_key

# Cue groups some rule path needs (see the module docstring); other groups only remove findings.
ATTRIBUTE_CUES = frozenset({"capability_strong", "capability_weak", "subject", "device"})
# The other modes (rules._scoring ...): a weak term needs one of these sets of cue groups complete; a
# strong term one of STRONG_NEEDS or of these (an empty set: nothing more).
WEAK_NEEDS = {
    "scoring": (frozenset({"penalty", "subject"}),),
    "predictive": (frozenset({"police", "profiling", "subject"}),),
    "scraping": (frozenset({"scrape_face", "scrape_source"}),),
    "rbi": (frozenset({"realtime", "rbi_match"}),),
}
STRONG_NEEDS = {
    "scoring": (frozenset({"penalty"}),),
    "predictive": tuple(frozenset({g}) for g in ("capability_strong", "capability_weak", "subject", "police")),
    "scraping": (frozenset(),),
    "rbi": (frozenset(),),
}
CUE_GROUPS = ATTRIBUTE_CUES.union(*(n for needs in (*WEAK_NEEDS.values(), *STRONG_NEEDS.values()) for n in needs))
# _SHORT_LIST in rules.py: items separated by one of these, with white space (\s) around them.
SEPARATORS = "、/,|"
# What \s matches in a str pattern: str.isspace() (a test checks this list against it).
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + \
    "\u2028\u2029\u202f\u205f\u3000"
# Raw forms the extractor turns into white space or a separator without a code point of their own
# in the payload: named entities, JSON escapes, and HZ's shift sequences (transparent between
# GB2312 characters).
_EXTRA_SPACE = (b"&nbsp;", b"&ensp;", b"&emsp;", b"&thinsp;", b"&Tab;", b"&NewLine;", b"\\n", b"\\t", b"\\r",
                b"\\f", b"~{", b"~}")
_EXTRA_SEP = (b"&comma;", b"&sol;", b"&vert;", b"&verbar;", b"&VerticalLine;", b"\\/")
_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
# Word boundary needs of a word (see the module docstring): some entry starts with it and needs a
# left boundary, some ends with it and needs a right one, some is it alone and needs both.
_LEFT, _RIGHT, _BOTH = 1, 2, 4
_ALL = _LEFT | _RIGHT | _BOTH
_ESCAPE_LEAD = frozenset(b"\\&#")  # a run after these may be the tail of an escape or reference
_TRAIL_MIN = 0x80  # a lone letter after a byte from here up may be a GBK/Big5/GB18030 trail byte
# Words shorter than this count wherever they occur: "t", "in", "ai" occur thousands of times inside
# other words, which doubled the boundary scan's time; on English docs they rejected no more pages.
MIN_BOUNDED = 3
# extract's DEFAULT_LIMITS (detect/ may not import extract/; a test compares them): text is cut at
# MAX_CHARS characters, HTML at MAX_HTML_BYTES and any input at MAX_INPUT_BYTES. HTML text has at
# most one character per byte; rendered JSON up to ~35 (an indented line per "[" or number).
MAX_CHARS, MAX_HTML_BYTES, MAX_INPUT_BYTES = 16_000_000, 32 * 1024 * 1024, 64 * 1024 * 1024
JSON_GROWTH = 64

def _words(text: str) -> tuple[str, ...]:
    """The pieces of a normalised entry that each occur contiguously in the raw bytes.

    Words: the matcher lets any white space, "_" or "-" (or nothing) separate them (as
    rawforms.anchor_key). Also cut at characters HTML or JSON may write as an escape of their own
    ("can't" as "can&#39;t"), and between ASCII and other characters (JSON's \\u escapes only the
    latter): each run is then written in one form.
    """
    runs = (m.group() for m in _run().finditer(text))
    return tuple(dict.fromkeys(runs))


_RUN = r"[^\x00-\x7f]+|[^\s\-'\"&<>/\x80-\U0010ffff]+"


@functools.cache
def _run() -> re.Pattern:
    return re.compile(_RUN)  # on first need: compiling it costs ~8 ms, and a cached gate never needs it


# Forms whose bytes for the same character mostly agree share a short-list pattern.
_FORM_GROUPS = (("utf-8",), ("gb18030", "hz"), ("big5", "big5hkscs", "cp950"), ("cp1252",), ("html-dec",),
                ("html-hex",), ("json",))


def _alternation(byte_strings: set[bytes]) -> bytes:
    return b"(?:" + b"|".join(b"".join(b"\\x%02x" % c for c in s) for s in sorted(byte_strings)) + b")"


class _Page:
    """One payload as the boundary checks read it: `text` the bytes the words were found in,
    `marked` the same with a byte that is no letter where markup was removed (html=True)."""

    __slots__ = ("text", "marked", "check_right", "flags", "_low")

    def __init__(self, text: bytes, marked: bytes | None, check_right: bool) -> None:
        self.text, self.marked, self.check_right = text, marked, check_right
        self.flags: dict[int, int] | None = None  # word -> flags of its plainly bounded occurrences
        self._low: tuple[bytes, bytes] | None = None

    def straddles(self, word: bytes) -> bool:
        """Whether some occurrence of `word` spans removed markup ("ve<b>il"): the marked bytes
        do not hold it, so its boundaries were not judged there."""
        if self.marked is None:
            return False
        if self._low is None:
            self._low = (self.text.lower(), self.marked.lower())
        # every occurrence in the marked bytes is one in the text, so one more there spans a mark
        text, marked = self._low
        if not any(word[:k] == word[-k:] for k in range(1, len(word))):
            return text.count(word) != marked.count(word)
        # a word that may overlap itself ("abab" in "ababab"): bytes.count would skip overlaps
        every = re.compile(re.escape(word[:1]) + b"(?=" + re.escape(word[1:]) + b")")  # a literal first: fast
        return len(every.findall(text)) != len(every.findall(marked))


def _tables_key(m: Matcher, lex: Lexicon) -> str | None:
    """The made_bytes key of `_tables(m, lex)`: the matcher's tables (lexicon and normalisation),
    the lexicon, and every setting the tables are made with; None if `m` or `lex` has no key."""
    lex_key = lexicon_key(lex)
    if m.key is None or lex_key is None:
        return None
    settings = (sorted(CUE_GROUPS), MIN_BOUNDED, sorted(_ESCAPE_LEAD), _TRAIL_MIN, _RUN, SEPARATORS, SPACES,
                _EXTRA_SPACE, _EXTRA_SEP, _FORM_GROUPS, ENCODINGS, ESCAPES, MAX_COMBINATIONS)
    inputs = repr(("gate-3", m.key, lex_key, settings))
    return "gate-tables-" + hashlib.sha256(inputs.encode("utf-8", "surrogatepass")).hexdigest()


def _tables(m: Matcher, lex: Lexicon) -> tuple:
    """What the gate derives from the matcher's entries and the lexicon, as plain data (marshal):
    (words, entries, boundary role per word, ASCII bytes per word, entries by first word, literals,
    where each literal's words start in the next list, the word indices, literals opening their
    words' boundaries, (boundary patterns, their ids), short-list categories, short-list patterns,
    the words looked for later, and their literals as the three lists above)."""
    # entries the rules may need: (kind, group, term index or value text, strong, words)
    needed = [e for e in m.entries
              if e.kind in (TERM, VALUE) or (e.kind == CUE and e.group in CUE_GROUPS)]
    var = variants(norm_table(), {c for e in needed for c in e.text})
    split = {w: pieces(w, var) for w in {w for e in needed for w in _words(e.text)}}
    entry_words = [tuple(dict.fromkeys(p for w in _words(e.text) for p in split[w])) for e in needed]
    words: list[str] = sorted({w for ws in entry_words for w in ws})
    wid = {w: i for i, w in enumerate(words)}
    # What each entry adds to a page's facts, the words it needs (all of them present), and the
    # boundary its words need: (word, _LEFT / _RIGHT / _BOTH) pairs.
    entries: list[tuple[tuple[int, ...], str, str, object, bool, tuple[tuple[int, int], ...]]] = []
    role = [0] * len(words)  # per word: the boundary flags some entry asks of it
    for e, ws in zip(needed, entry_words):
        ident = e.term_index if e.kind == TERM else e.text
        runs = [p for r in _run().finditer(e.text) for p in split[r.group()]]  # in order, repeats kept
        bounds: tuple[tuple[int, int], ...] = ()
        if len(runs) == 1 and e.need_left and e.need_right:
            bounds = ((wid[runs[0]], _BOTH),)
        else:
            bounds = tuple((wid[w], flag) for w, flag, need in ((runs[0], _LEFT, e.need_left),
                                                                (runs[-1], _RIGHT, e.need_right)) if need)
        bounds = tuple((w, f) for w, f in bounds if len(words[w]) >= MIN_BOUNDED)
        for w, flag in bounds:
            role[w] |= flag
        entries.append((tuple(wid[w] for w in ws), e.kind, e.group, ident, e.strong, bounds))
    # The one literal of a word whose occurrences are judged: its own ASCII bytes (lower case).
    word_bytes = [w.encode() if w.isascii() else b"" for w in words]
    ascii_words = {b for b in word_bytes if b}
    assert all(word_bytes[w] for w, r in enumerate(role) if r), "boundaries on non-ASCII words"
    # Entries are looked at only when their first word matched.
    by_word: dict[int, list[int]] = {}
    for i, (ws, *_rest) in enumerate(entries):
        by_word.setdefault(ws[0], []).append(i)
    later = _looked_for_later(words, entries)
    lits = _word_literals(words, var, [i for i in range(len(words)) if i not in later])
    # A literal other than a word's plain ASCII bytes opens all its words' boundaries.
    lit_open = [not (lit.isascii() and lit.lower() in ascii_words) for lit in lits]
    short_cats, short = _short_lists(lex)
    later_ids = sorted(later)
    return (words, entries, role, word_bytes, by_word, *_flat(lits), lit_open,
            _boundary_patterns(word_bytes, role), short_cats, short,
            later_ids, *_flat(_word_literals(words, var, later_ids)))


def _word_literals(words: list[str], var: dict[str, list[str]], which: list[int]) -> dict[bytes, list[int]]:
    """literal -> the words (of `which`) it is a form of."""
    lits: dict[bytes, list[int]] = {}
    for i in which:
        for lit in literals(words[i], var):
            ws = lits.setdefault(lit, [])
            if i not in ws:
                ws.append(i)  # a literal of two words (GBK bytes of one, Big5 of another) is both
    return lits


def _flat(lits: dict[bytes, list[int]]) -> tuple[list[bytes], list[int], list[int]]:
    """(literals, where each literal's words start in the next list, the word indices)."""
    return (list(lits), list(itertools.accumulate(map(len, lits.values()), initial=0)),
            list(itertools.chain.from_iterable(lits.values())))


def _looked_for_later(words: list[str], entries: list[tuple]) -> set[int]:
    """Words left out of the main scan: ASCII words too short for boundary checks ("of", "to", "a",
    the "t" of "can't") of which every entry also needs a longer word. English pages are full of
    them, and their one- and two-byte literals made the main scan three times slower there; they are
    looked for (a small scan that stops once it has them) only where the rest of an entry is present."""
    short = {i for i, w in enumerate(words) if w.isascii() and len(w) < MIN_BOUNDED}
    held = {i for ws, *_rest in entries if all(x in short for x in ws) for i in ws}  # no longer word
    return short - held


def _boundary_patterns(word_bytes: list[bytes], role: list[int]) -> tuple[list[bytes], list[int]]:
    """Per word with a boundary role, its plain ASCII bytes where they may start a word (id
    4w), end one (4w+1), or both (4w+2): a byte that is no letter or digit (or none) on that
    side, or before them a run of letters and digits after an escape lead, or a lone one after
    a possible trail byte. One scan finds them for every word (~10 us for 45 KB: looking at
    each word's occurrences from Python cost ~0.7 ms a page)."""
    alnum, other = b"[A-Za-z0-9]", b"[^A-Za-z0-9]"
    lefts = [b"^", other]
    if _ESCAPE_LEAD:
        lefts.append(b"[" + b"".join(b"\\x%02x" % c for c in sorted(_ESCAPE_LEAD)) + b"]" + alnum + b"+")
    if _TRAIL_MIN <= 0xFF:
        lefts.append(b"[\\x%02x-\\xff]" % _TRAIL_MIN + alnum)
    left = b"(?:" + b"|".join(lefts) + b")"
    right = b"(?:[sS]?(?:" + other + b"|$))"  # a plural "s" allowed
    patterns, ids = [], []
    for w, (word, r) in enumerate(zip(word_bytes, role)):
        if not r:
            continue
        body = b"".join(b"[%c%c]" % (c, c - 32) if 0x61 <= c <= 0x7A else b"\\x%02x" % c for c in word)
        for kind, need, pattern in ((0, _LEFT | _BOTH, left + body), (1, _RIGHT, body + right),
                                    (2, _BOTH, left + body + right)):
            if r & need:
                patterns.append(pattern)
                ids.append(4 * w + kind)
    return patterns, ids


def _short_lists(lex: Lexicon) -> tuple[set[str], list[bytes]]:
    """Patterns for "initial, white space, separator, white space, initial" in raw bytes.

    One pattern per group of related forms, each in its own database: one database of them all
    took seconds to compile (Hyperscan merges them), these take ~0.8 s together; likewise one
    pattern for the initials of every category with values rather than one per category. Within
    a group, each piece may be written in any of its forms, and ASCII pieces raw."""
    cats = {cid for cid, c in lex.categories.items() if c.mode == "attribute" and _initials(cid)}
    if not cats:
        return set(), []
    table = norm_table()

    def chars_onto(targets: set[str]) -> set[str]:
        return {v for vs in variants(table, targets).values() for v in vs}

    # any code point the normaliser folds onto white space counts
    spaces = chars_onto(set(SPACES))
    seps = chars_onto(set(SEPARATORS))
    initials = chars_onto({i for cid in cats for i in _initials(cid)})
    patterns = []
    for group in _FORM_GROUPS:
        def written(chars: set[str]) -> set[bytes]:
            out = {c.encode() for c in chars if c.isascii()}
            for how in group:
                out.update(b for c in chars if (b := form(c, how)))
            return out

        item, ws = _alternation(written(initials)), _alternation(written(spaces) | set(_EXTRA_SPACE))
        sep = _alternation(written(seps) | set(_EXTRA_SEP))
        patterns.append(item + ws + b"*" + sep + ws + b"*" + item)
    return cats, patterns


class Gate:
    def __init__(self, m: Matcher, lex: Lexicon) -> None:
        self.modes = {cid: c.mode for cid, c in lex.categories.items()}
        # Deriving the tables below in Python costs ~0.1 s of start-up; a scanner hands in those of
        # an earlier run (hsdb.made_bytes), keyed by everything they are made from (None: the
        # matcher or lexicon has no key, so the tables are derived here).
        key = _tables_key(m, lex)
        if key is None:
            tables = _tables(m, lex)
        else:
            tables = marshal.loads(made_bytes(key, lambda: marshal.dumps(_tables(m, lex))))
        (self.words, self._entries, self._role, self._word_bytes, self._by_word, self.literals, self._lit_start,
         self._lit_words, self._lit_open, bounds, self._short_cats, short, later, later_lits, self._later_start,
         self._later_words) = tables
        # (see _looked_for_later) the entries holding such words: their other words, and those words
        later_set = set(later)
        self._later_entries = [(tuple(x for x in e[0] if x not in later_set), tuple(x for x in e[0] if x in later_set))
                               for e in self._entries if later_set.intersection(e[0])]
        named = (lambda name: f"{key}/{name}") if key else (lambda name: None)  # see hsdb.block_database
        self._db = block_database(self.literals, list(range(len(self.literals))), _FLAGS, literal=True,
                                  made=named("literals"))
        self._bounds_db = block_database(*bounds, hyperscan.HS_FLAG_SINGLEMATCH, made=named("bounds"))
        self._short_dbs = [block_database([pattern], [0], _FLAGS, made=named(f"short{i}"))
                           for i, pattern in enumerate(short)]
        self._later_db = (block_database(later_lits, list(range(len(later_lits))), _FLAGS, literal=True,
                                         made=named("later-literals")) if later_lits else None)
        self._local = threading.local()

    def _scratch(self, name: str, db: hyperscan.Database):
        s = getattr(self._local, name, None)
        if s is None:
            s = hyperscan.Scratch(db)
            setattr(self._local, name, s)
        return s

    def facts(self, data: bytes, marked: bytes | None = None, check_right: bool = True, check: bool = True):
        """(terms: cat -> {term index / value text}, strong cats, cue groups) present in `data`.

        `marked`: with html=True, `data` with a mark where markup was removed
        (markup.visible_marked); `check_right`: ends of words may be judged (False where the text
        may be cut short); `check`: boundaries may be judged at all (False for HZ and ISO-2022)."""
        return self._collect(self._present(data, check), _Page(data, marked, check_right))

    def _present(self, data: bytes, check: bool) -> dict[int, int | None]:
        """The words present: word -> boundary flags some occurrence may satisfy (None: not judged
        yet; every flag where a literal other than the plain ASCII one occurs, or `check` is off)."""
        found: set[int] = set()
        # SINGLEMATCH: one callback per literal at most, even on English pages full of cue words
        self._db.scan(data, match_event_handler=lambda pid, frm, to, flags, ctx: found.add(pid),
                      scratch=self._scratch("main", self._db))
        start, words, lit_open = self._lit_start, self._lit_words, self._lit_open
        present: dict[int, int | None] = {}
        for pid in found:
            for w in words[start[pid] : start[pid + 1]]:
                if lit_open[pid] or not check:
                    present[w] = _ALL
                else:
                    present.setdefault(w, None)
        need = {x for others, later in self._later_entries if all(y in present for y in others) for x in later}
        if need:
            # (too short for boundary checks: present is all there is to know of them)
            present.update(dict.fromkeys(self._later_present(data, need), _ALL))
        return present

    def _later_present(self, data: bytes, need: set[int]) -> set[int]:
        """Which of the words `need` (from _looked_for_later) occur in `data`: the scan stops once
        it has found them all (on English pages, within the first sentence or so)."""
        got: set[int] = set()
        start, words = self._later_start, self._later_words

        def on_match(pid, frm, to, flags, ctx):
            got.update(w for w in words[start[pid] : start[pid + 1]] if w in need)
            return len(got) == len(need)  # True stops the scan

        try:
            self._later_db.scan(data, match_event_handler=on_match, scratch=self._scratch("later", self._later_db))
        except hyperscan.ScanTerminated:
            pass
        return got

    def _collect(self, present: dict[int, int | None], page: "_Page | None"):
        """facts() from the words present; `page` None: every boundary taken as possible."""
        entries: dict[str, set] = {}
        strong: set[str] = set()
        cues: set[str] = set()
        term_cats: set[str] = set()
        for w in present:
            for i in self._by_word.get(w, ()):
                ws, kind, group, ident, is_strong, bounds = self._entries[i]
                if kind == CUE and group in cues:
                    continue  # nothing to add: spare the boundary work
                if not all(x in present for x in ws):
                    continue
                if bounds and page is not None and not all(self._meets(page, present, x, f) for x, f in bounds):
                    continue
                if kind == CUE:
                    cues.add(group)
                    continue
                entries.setdefault(group, set()).add((kind, ident))
                if kind == TERM:
                    term_cats.add(group)
                    if is_strong:
                        strong.add(group)
        return {c: entries[c] for c in term_cats}, strong, cues

    def _meets(self, page: _Page, present: dict[int, int | None], w: int, flag: int) -> bool:
        """Whether some occurrence of word `w` may satisfy `flag` (judged once per page and word)."""
        have = present[w]
        if have is None:
            if page.flags is None:
                page.flags = self._bounded(page.text if page.marked is None else page.marked)
            have = page.flags.get(w, 0)
            if not page.check_right:
                have |= _RIGHT | (_BOTH if have & _LEFT else 0)
            if self._role[w] & ~have and page.straddles(self._word_bytes[w]):
                have = _ALL
            present[w] = have
        return bool(have & flag)

    def _bounded(self, data: bytes) -> dict[int, int]:
        got: dict[int, int] = {}

        def on_match(pid, frm, to, flags, ctx):
            w, kind = divmod(pid, 4)
            got[w] = got.get(w, 0) | (_LEFT, _RIGHT, _ALL)[kind]

        self._bounds_db.scan(data, match_event_handler=on_match, scratch=self._scratch("bounds", self._bounds_db))
        return got

    def _short_list(self, data: bytes) -> bool:
        """Two initials of some category's values around a separator, in any of the forms."""
        found: list[int] = []

        def on_match(pid, frm, to, flags, ctx):
            found.append(pid)
            return True

        for i, db in enumerate(self._short_dbs):
            try:
                db.scan(data, match_event_handler=on_match, scratch=self._scratch(f"short{i}", db))
            except hyperscan.ScanTerminated:
                pass
            if found:
                return True
        return False

    def passes(self, data: bytes, html: bool = False) -> bool:
        """False only if no unit of any text read from these bytes can make a finding; `html`: the
        extractor parses them as HTML, so words inside tags, comments and scripts do not count."""
        # the text may be cut at a limit (then any word may end there); see the module docstring
        # (UTF-16/32 readings arrive as UTF-8: their raw bytes are up to 4 per byte here)
        check_right = len(data) <= (min(MAX_CHARS, MAX_HTML_BYTES // 4, MAX_INPUT_BYTES // 4) if html else
                                    min(MAX_CHARS // JSON_GROWTH, MAX_INPUT_BYTES // 4))
        check = not shifted(data)
        marked = None
        if html:
            data, marked = visible_marked(data)
        present = self._present(data, check)
        short = functools.cache(lambda: self._short_list(data))  # (both decisions may ask: scan once)
        # first whether the page could pass at all, boundaries aside (most that fail, fail so)
        return self._decide(self._collect(present, None), short) and \
            self._decide(self._collect(present, _Page(data, marked, check_right)), short)

    def _decide(self, facts, short_list: Callable[[], bool]) -> bool:
        terms, strong, cues = facts
        short_needed = False
        for cat, have in terms.items():
            mode = self.modes[cat]
            if mode == "attribute":
                if cat in strong or cues & ATTRIBUTE_CUES or len(have) >= 2:
                    return True
                short_needed |= cat in self._short_cats
                continue
            if mode not in WEAK_NEEDS:
                return True  # a mode this gate does not know: no condition to apply
            needs = STRONG_NEEDS[mode] + WEAK_NEEDS[mode] if cat in strong else WEAK_NEEDS[mode]
            if any(n <= cues for n in needs):
                return True
        if short_needed:
            # only the weak terms of value categories are left: a short value list after one of them
            return short_list()
        return False
