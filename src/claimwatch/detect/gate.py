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
"""

from __future__ import annotations

import array
import hashlib
import itertools
import re
import struct
import threading

import hyperscan

from claimwatch.detect.hsdb import block_database, made_bytes
from claimwatch.detect.markup import visible
from claimwatch.detect.matcher import CUE, TERM, VALUE, Matcher
from claimwatch.detect.normalize import norm_table
from claimwatch.detect.rawforms import ENCODINGS, ESCAPES, MAX_COMBINATIONS, form, literals, pieces, variants
from claimwatch.detect.rules import _initials  # the rules' own definition of a short list's items
from claimwatch.lexicon import Lexicon

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

def _words(text: str) -> tuple[str, ...]:
    """The pieces of a normalised entry that each occur contiguously in the raw bytes.

    Words: the matcher lets any white space, "_" or "-" (or nothing) separate them (as
    rawforms.anchor_key). Also cut at characters HTML or JSON may write as an escape of their own
    ("can't" as "can&#39;t"), and between ASCII and other characters (JSON's \\u escapes only the
    latter): each run is then written in one form.
    """
    runs = (m.group() for m in _RUN.finditer(text))
    return tuple(dict.fromkeys(runs))


_RUN = re.compile(r"[^\x00-\x7f]+|[^\s\-'\"&<>/\x80-\U0010ffff]+")


def _pack(lits: dict[bytes, list[int]]) -> bytes:
    """count, then per literal its number of words, length, word indices, then the literals."""
    n = len(lits)
    counts = array.array("I", map(len, lits.values()))
    sizes = array.array("I", map(len, lits))
    words = array.array("I", itertools.chain.from_iterable(lits.values()))
    return struct.pack("=II", n, len(words)) + counts.tobytes() + sizes.tobytes() + words.tobytes() + b"".join(lits)


def _unpack(blob: bytes) -> tuple[list[bytes], list[int], list[int]]:
    """(literals, where each literal's words start in the next list, the word indices)."""
    n, nw = struct.unpack_from("=II", blob)
    pos = 8
    counts = array.array("I", blob[pos : pos + 4 * n])
    pos += 4 * n
    sizes = array.array("I", blob[pos : pos + 4 * n])
    pos += 4 * n
    words = array.array("I", blob[pos : pos + 4 * nw]).tolist()
    pos += 4 * nw
    ends = list(itertools.accumulate(sizes, initial=pos))
    return [blob[a:b] for a, b in zip(ends, ends[1:])], list(itertools.accumulate(counts, initial=0)), words


# Forms whose bytes for the same character mostly agree share a short-list pattern.
_FORM_GROUPS = (("utf-8",), ("gb18030", "hz"), ("big5", "big5hkscs", "cp950"), ("cp1252",), ("html-dec",),
                ("html-hex",), ("json",))


def _alternation(byte_strings: set[bytes]) -> bytes:
    return b"(?:" + b"|".join(b"".join(b"\\x%02x" % c for c in s) for s in sorted(byte_strings)) + b")"


class Gate:
    def __init__(self, m: Matcher, lex: Lexicon) -> None:
        self.modes = {cid: c.mode for cid, c in lex.categories.items()}
        # entries the rules may need: (kind, group, term index or value text, strong, words)
        needed = [e for e in m.entries
                  if e.kind in (TERM, VALUE) or (e.kind == CUE and e.group in CUE_GROUPS)]
        var = variants(norm_table(), {c for e in needed for c in e.text})
        split = {w: pieces(w, var) for w in {w for e in needed for w in _words(e.text)}}
        entry_words = [tuple(dict.fromkeys(p for w in _words(e.text) for p in split[w])) for e in needed]
        self.words: list[str] = sorted({w for ws in entry_words for w in ws})
        wid = {w: i for i, w in enumerate(self.words)}
        # What each entry adds to a page's facts, and the words it needs (all of them present).
        self._entries: list[tuple[tuple[int, ...], str, str, object, bool]] = []
        for e, ws in zip(needed, entry_words):
            ident = e.term_index if e.kind == TERM else e.text
            self._entries.append((tuple(wid[w] for w in ws), e.kind, e.group, ident, e.strong))
        # Entries are looked at only when their first word matched.
        self._by_word: dict[int, list[int]] = {}
        for i, (ws, *_rest) in enumerate(self._entries):
            self._by_word.setdefault(ws[0], []).append(i)
        inputs = repr(("gate-1", ENCODINGS, ESCAPES, MAX_COMBINATIONS, self.words, sorted(var.items())))
        key = "gate-literals-" + hashlib.sha256(inputs.encode("utf-8", "surrogatepass")).hexdigest()

        def make() -> bytes:
            lits: dict[bytes, list[int]] = {}
            for i, w in enumerate(self.words):
                for lit in literals(w, var):
                    ws = lits.setdefault(lit, [])
                    if i not in ws:
                        ws.append(i)  # a literal of two words (GBK bytes of one, Big5 of another) is both
            return _pack(lits)

        self.literals, self._lit_start, self._lit_words = _unpack(made_bytes(key, make))
        self._db = block_database(self.literals, list(range(len(self.literals))), _FLAGS, literal=True)
        self._short_cats, self._short_dbs = self._short_lists(lex)
        self._local = threading.local()

    def _short_lists(self, lex: Lexicon) -> tuple[set[str], list[hyperscan.Database]]:
        """Databases for "initial, white space, separator, white space, initial" in raw bytes.

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
        dbs = []
        for group in _FORM_GROUPS:
            def written(chars: set[str]) -> set[bytes]:
                out = {c.encode() for c in chars if c.isascii()}
                for how in group:
                    out.update(b for c in chars if (b := form(c, how)))
                return out

            item, ws = _alternation(written(initials)), _alternation(written(spaces) | set(_EXTRA_SPACE))
            sep = _alternation(written(seps) | set(_EXTRA_SEP))
            dbs.append(block_database([item + ws + b"*" + sep + ws + b"*" + item], [0], _FLAGS))
        return cats, dbs

    def _scratch(self, name: str, db: hyperscan.Database):
        s = getattr(self._local, name, None)
        if s is None:
            s = hyperscan.Scratch(db)
            setattr(self._local, name, s)
        return s

    def facts(self, data: bytes):
        """(terms: cat -> {term index / value text}, strong cats, cue groups) present in `data`."""
        found: set[int] = set()
        # SINGLEMATCH: one callback per literal at most, even on English pages full of cue words
        self._db.scan(data, match_event_handler=lambda pid, frm, to, flags, ctx: found.add(pid),
                      scratch=self._scratch("main", self._db))
        start, words = self._lit_start, self._lit_words
        present = {w for pid in found for w in words[start[pid] : start[pid + 1]]}
        entries: dict[str, set] = {}
        strong: set[str] = set()
        cues: set[str] = set()
        term_cats: set[str] = set()
        for w in present:
            for i in self._by_word.get(w, ()):
                ws, kind, group, ident, is_strong = self._entries[i]
                if not all(x in present for x in ws):
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
        if html:
            data = visible(data)
        terms, strong, cues = self.facts(data)
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
            return self._short_list(data)
        return False
