"""Raw-bytes first stage for bulk scanning: may a payload contain a claim?

`may_contain_claim(data)` runs one Hyperscan block-mode scan over the undecoded payload for the
anchors: every lexicon term (a finding always needs a term hit in its unit), reduced to its key --
the term itself, or for a multi-word term its longest word, since the words may be separated by any
white space, markup or escapes in the raw bytes (a key with more than MAX_COMBINATIONS variant
combinations: its longest piece with fewer, see rawforms.pieces).  Each key character is expanded to
every code point the detector's normaliser folds onto it (Traditional, compatibility and full-width
forms; ASCII letters match case-insensitively, full-width letters in lower, UPPER or Title case), and
each combination is written as a literal in every byte-oriented encoding the extractor can decode --
UTF-8, GB18030 (GBK), Big5 / Big5-HKSCS / CP950, CP1252, HZ -- and, for CJK keys, as HTML numeric
character references (&#NNNNN; and &#xHHHH;) and JSON \\uXXXX escapes (rawforms.py).  UTF-16 / UTF-32
payloads (BOM or NUL bytes) are transcoded to UTF-8 and scanned again, and so is UTF-16 without either
(text with no ASCII character at all, which the extractor's charset detection may still read as
UTF-16): an even-length payload that is not UTF-8 but decodes strictly as UTF-16 -- and only if its
raw bytes hold some key written in UTF-16 without NUL bytes (the only way such a reading can hold
an anchor; legacy GBK/Big5 pages often decode as UTF-16 and would otherwise be transcoded for
nothing).

A reading with an anchor then goes through the gate (gate.py): the words of the terms, values and
cues the rules need, in the same forms, and a page-level condition derived from rules.py -- a lone
weak term ("download", "color", 恐惧) passes the anchors but not the gate, nor does an English entry
where no occurrence may sit on the word boundaries the matcher needs ("veil" in "surveillance"; a
possible boundary -- a trail byte, an escape, removed markup -- counts as one).  With `html=True`
(the caller knows the extractor parses the payload as HTML) the gate ignores words in tags,
comments, scripts and styles.

PDF payloads (the extractor's "%PDF-" sniff) always pass: their text sits in compressed streams.

Invariant (tested): if detect(extract(data).text) is non-empty then may_contain_claim(data) is True
(and so with html=True when the extractor reads data as HTML).
Outside it (documented limits): a document in another declared charset (Shift-JIS, EUC-KR, ...);
a key (or a gate word) whose characters are written in two different forms (half raw, half &#...;),
or a character reference with leading zeros or without its ";"; full-width letters in mixed case
("ＵｙＧ"); a CJK term split by markup inside the word ("维<b>族</b>", which the extractor may join;
the gate's words likewise unless html=True, which removes the markup first); a short value list
("肤色（黄、白、黑）") whose items and separators are split by markup ("黄</td><td>、"), again unless
html=True, or written partly raw and partly as character references (ASCII pieces and &nbsp;
excepted); a payload flagged html=True that the extractor does not read as HTML.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections.abc import Callable, Iterator

import hyperscan

from claimwatch.detect.gate import Gate
from claimwatch.detect.hsdb import block_database, made_bytes
from claimwatch.detect.matcher import TERM, matcher
from claimwatch.detect.normalize import norm_table
from claimwatch.detect.rawforms import BOMS
from claimwatch.detect.rawforms import ENCODINGS as _ENCODINGS
from claimwatch.detect.rawforms import ESCAPES as _ESCAPES
from claimwatch.detect.rawforms import (MAX_COMBINATIONS, anchor_key, literals, nul_free_utf16, pieces, variants,
                                        wide_readings, wide_signs)
from claimwatch.lexicon import load_lexicon


def _tables(m) -> tuple[list[str], list[bytes], list[int], list[bytes]]:
    """What the prefilter derives from the matcher's terms, as plain data (marshal): (keys, anchor
    literals, the index of each literal's key, NUL-free UTF-16 literals)."""
    anchors = sorted({e.text for e in m.entries if e.kind == TERM})
    var = variants(norm_table(), {c for a in anchors for c in a})
    # a key with too many variant combinations is represented by its longest piece that has few
    # enough (rawforms.pieces): every combination of that piece gets its literal
    keys = sorted({max(pieces(anchor_key(a), var), key=len) for a in anchors})
    seen: dict[bytes, int] = {}
    for i, k in enumerate(keys):
        for lit in literals(k, var):
            seen.setdefault(lit, i)
    wide = list(dict.fromkeys(lit for k in keys for lit in nul_free_utf16(k, var)))
    return keys, list(seen), list(seen.values()), wide


def _tables_key(m) -> str | None:
    """The made_bytes key of `_tables(m)`: the matcher's tables (lexicon and normalisation) and the
    settings the literals are written with; None if the matcher has no key (a caller's lexicon)."""
    if m.key is None:
        return None
    inputs = repr(("prefilter-1", m.key, _ENCODINGS, _ESCAPES, MAX_COMBINATIONS, BOMS))
    return "prefilter-tables-" + hashlib.sha256(inputs.encode()).hexdigest()


class Prefilter:
    def __init__(self) -> None:
        m = matcher()
        # Deriving the keys and writing out every literal costs ~0.1 s of start-up; a scanner hands
        # in the tables of an earlier run (hsdb.made_bytes), keyed by everything they are made from.
        key = _tables_key(m)
        if key is None:
            tables = _tables(m)
        else:
            tables = marshal.loads(made_bytes(key, lambda: marshal.dumps(_tables(m))))
        self.keys, self.literals, self._key_of, wide = tables
        named = (lambda name: f"{key}/{name}") if key else (lambda name: None)  # see hsdb.block_database
        self._db = block_database(
            self.literals,
            list(range(len(self.literals))),
            # Caseless covers ASCII letters in every encoding; on the second byte of a GBK/Big5 pair it
            # only widens the net, which a prefilter may do. No SINGLEMATCH: `anchor_ends` needs every
            # occurrence (one buffer holds many records); a single payload's scan stops at the first.
            hyperscan.HS_FLAG_CASELESS,
            literal=True,
            made=named("anchors"),
        )
        self.longest = max(map(len, self.literals), default=1)
        # What a UTF-16 reading without BOM or NUL bytes must hold for an anchor (rawforms.nul_free_utf16):
        # looked for in the raw bytes first, so that legacy CJK pages (even-length, not UTF-8, and
        # often decodable as UTF-16) are not transcoded twice just to find nothing.
        self.wide_literals = wide
        self._wide_db = (block_database(wide, list(range(len(wide))), 0, literal=True, made=named("nul-free-utf16"))
                         if wide else None)
        self._local = threading.local()
        # Built now, not on first need: the scanner's warm-up exports (and caches) what is built here.
        self.gate = Gate(m, load_lexicon(made_bytes))

    def _scratch(self, db=None):
        db = db or self._db
        scratches = getattr(self._local, "scratches", None)
        if scratches is None:
            scratches = self._local.scratches = {}
        s = scratches.get(id(db))
        if s is None:
            s = scratches[id(db)] = hyperscan.Scratch(db)
        return s

    def _scan(self, data: bytes, db=None) -> int | None:
        db = db or self._db
        found: list[int] = []

        def on_match(pid, frm, to, flags, ctx):
            found.append(pid)
            return True  # stop the scan at the first anchor

        try:
            db.scan(data, match_event_handler=on_match, scratch=self._scratch(db))
        except hyperscan.ScanTerminated:
            pass
        return found[0] if found else None

    def _no_wide_anchor(self, data: bytes) -> bool:
        """True if no UTF-16/32 reading of `data` can hold an anchor, found without decoding."""
        sign = wide_signs(data)
        if sign is not None:
            # BOM or NUL: every ASCII character of such a reading may be part of an escape form;
            # odd length or ASCII: wide_readings has none to offer
            return not sign
        return self._wide_db is None or self._scan(data, self._wide_db) is None

    def anchor_ends(self, data: bytes) -> list[int]:
        """End offsets, ascending, of every occurrence of any anchor literal in `data`."""
        ends: list[int] = []
        # Hyperscan drops the GIL while it scans; the callback only runs at a match (rare).
        self._db.scan(data, match_event_handler=lambda pid, frm, to, flags, ctx: ends.append(to), scratch=self._scratch())
        ends.sort()
        return ends

    def _readings(self, data: bytes, raw_clear: bool) -> Iterator[bytes]:
        """The byte strings to scan, made as they are needed: the bytes themselves (unless
        `raw_clear`), then their UTF-16/32 readings transcoded to UTF-8 (unless none can hold an
        anchor, see _no_wide_anchor)."""
        if not raw_clear:
            yield data
        if self._no_wide_anchor(data):
            return
        for enc in wide_readings(data):
            yield data.decode(enc, "replace").encode("utf-8", "surrogatepass")

    def first_anchor(self, data: bytes, raw_clear: bool = False) -> str | None:
        """The first anchor key found in `data` (None if none); `raw_clear`: only in its UTF-16/32
        readings (see may_contain_claim)."""
        for text in self._readings(bytes(data), raw_clear):
            pid = self._scan(text)
            if pid is not None:
                return self.keys[self._key_of[pid]]
        return None

    def passes(self, data: bytes, raw_clear: bool = False, html: bool | Callable[[], bool] = False) -> bool:
        """Some reading of `data` has an anchor and passes the gate (a reading whose gate fails may
        still be one the extractor does not choose, so the others are tried too)."""
        ask = _once(html) if callable(html) else lambda: html
        return any(self._scan(text) is not None and self.gate.passes(text, ask())
                   for text in self._readings(bytes(data), raw_clear))


def _once(f: Callable[[], bool]) -> Callable[[], bool]:
    """`f`, called at most once (functools.cache costs ~20 us to set up, per payload)."""
    memo: list[bool] = []

    def ask() -> bool:
        if not memo:
            memo.append(f())
        return memo[0]

    return ask


_lock = threading.Lock()
_prefilter: Prefilter | None = None


def _get() -> Prefilter:
    global _prefilter
    if _prefilter is None:
        with _lock:
            if _prefilter is None:
                _prefilter = Prefilter()
    return _prefilter


def may_contain_claim(data: bytes, *, raw_clear: bool = False, html: bool | Callable[[], bool] = False) -> bool:
    """False only if no finding is possible for any text the extractor can make of `data`.

    `raw_clear`: the caller has already found that no anchor literal occurs in these exact bytes
    (with `anchor_ends` over a larger buffer holding them), so only the other readings are checked:
    PDF, and the UTF-16/32 transcodings.
    `html`: the caller knows the extractor will parse `data` as HTML (extract's sniff says "html"
    for its content type), so the gate ignores words in tags, comments, scripts and styles -- on
    real pages "<body>", "type=" and "dataLayer.push" are cue words. Without it every byte counts.
    It may be a function giving that answer, called only if the gate is reached (most payloads
    hold no anchor, and the caller's check may cost more than the anchor scan).
    """
    if not data:
        return False
    if _pdf(data):
        return True  # PDF text sits in compressed streams: only the extractor can tell
    return _get().passes(data, raw_clear, html)


def _pdf(data: bytes, start: int = 0) -> bool:
    """The extractor's PDF test ("%PDF-" in the first 1024 bytes) on data[start:], without a copy."""
    return data.find(b"%PDF-", start, start + 1024) >= 0


def only_raw_reading(data: bytes, start: int = 0) -> bool:
    """True when the bytes data[start:] have no reading but themselves that may_contain_claim looks
    at: not empty, no PDF, and no UTF-16/32 reading (see rawforms.wide_readings) -- so that when
    they hold no anchor, may_contain_claim(data[start:], raw_clear=True) is False. Found without
    copying the bytes; False means "not known this cheaply": call may_contain_claim.

    The bulk scanner's per-record shortcut for the many records whose stored bytes hold no anchor.
    """
    if len(data) <= start or _pdf(data, start):
        return False  # (an empty payload needs no check at all; the caller knows that anyway)
    # (ASCII is judged over all of `data`: the HTTP header before `start` is ASCII anyway; anything
    # wide_signs cannot tell: wide_readings' own UTF-8 and UTF-16 checks)
    return wide_signs(data, start) is False


def anchor_ends(data: bytes) -> list[int]:
    """End offsets, ascending, of every anchor literal occurrence in `data` (any thread may call it).

    An occurrence inside a slice [a, b) of `data` ends at some e with a < e <= b: a slice with no
    end in (a, b] holds no anchor, and `may_contain_claim(slice, raw_clear=True)` may be used.
    """
    return _get().anchor_ends(data)


def anchor_database() -> hyperscan.Database:
    """The compiled database `anchor_ends` scans with (block mode, every occurrence reported)."""
    return _get()._db


def longest_anchor() -> int:
    """Bytes of the longest anchor literal: a buffer scanned in pieces must overlap by one less."""
    return _get().longest


def anchor_terms() -> list[str]:
    """The normalised anchor keys (Simplified Chinese / lower-case English)."""
    return list(_get().keys)


def anchor_patterns() -> list[bytes]:
    """The raw-bytes literals (one per key, form and variant) for a caller's own database; match
    them case-insensitively (HS_FLAG_CASELESS)."""
    return list(_get().literals)
