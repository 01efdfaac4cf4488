"""Raw-bytes first stage for bulk scanning: may a payload contain a claim?

`may_contain_claim(data)` runs one Hyperscan block-mode scan over the undecoded payload for the
anchors: every lexicon term (a finding always needs a term hit in its unit), reduced to its key --
the term itself, or for a multi-word term its longest word, since the words may be separated by any
white space, markup or escapes in the raw bytes.  Each key character is expanded to every code point
the detector's normaliser folds onto it (Traditional, compatibility and full-width forms; ASCII
letters match case-insensitively, full-width letters in lower, UPPER or Title case), and each
combination is written as a literal in every byte-oriented encoding the extractor can decode --
UTF-8, GB18030 (GBK), Big5 / Big5-HKSCS / CP950, CP1252, HZ -- and, for CJK keys, as HTML numeric
character references (&#NNNNN; and &#xHHHH;) and JSON \\uXXXX escapes.  UTF-16 / UTF-32 payloads
(BOM or NUL bytes) are transcoded to UTF-8 and scanned again, and so is UTF-16 without either (text
with no ASCII character at all, which the extractor's charset detection may still read as UTF-16):
an even-length payload that is not UTF-8 but decodes strictly as UTF-16.

PDF payloads (the extractor's "%PDF-" sniff) always pass: their text sits in compressed streams.

Invariant (tested): if detect(extract(data).text) is non-empty, may_contain_claim(data) is True.
Outside it (documented limits): a document in another declared charset (Shift-JIS, EUC-KR, ...);
a key whose characters are written in two different forms (half raw, half &#...;), or a character
reference with leading zeros or without its ";"; full-width letters in mixed case ("ＵｙＧ");
a CJK term split by markup inside the word ("维<b>族</b>", which the extractor may join).
"""

from __future__ import annotations

import array
import functools
import hashlib
import itertools
import struct
import threading

import hyperscan
import numpy as np

from claimwatch.detect.hsdb import block_database, made_bytes
from claimwatch.detect.matcher import TERM, matcher
from claimwatch.detect.normalize import norm_table

# Every anchor key is written once per encoding (and escape form) and per combination of its
# characters' folded variants, as a plain literal: a database of literals compiles in about a second,
# whereas per-character alternations and gaps (markup, spaces) between characters took minutes.
_ENCODINGS = ("utf-8", "gb18030", "big5", "big5hkscs", "cp950", "cp1252", "hz")
_ESCAPES = ("html-dec", "html-hex", "json")
# UTF-16/32 payloads are not matched by their own literals (that made the database five times larger
# and slow to compile): a payload that starts with a BOM or holds NUL bytes -- which the extractor
# needs to choose those codecs without a declared charset -- is also transcoded to UTF-8 and scanned.
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
MAX_COMBINATIONS = 256


@functools.lru_cache(maxsize=None)
def _form(ch: str, form: str) -> bytes | None:
    """Bytes of one character written in `form`, None if it cannot be (memoised: start-up time)."""
    cp = ord(ch)
    if form == "html-dec":
        return f"&#{cp};".encode()
    if form == "html-hex":
        return f"&#x{cp:x};".encode()
    if form == "json":
        if cp < 0x10000:
            return f"\\u{cp:04x}".encode()
        hi, lo = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
        return f"\\u{hi:04x}\\u{lo:04x}".encode()
    try:
        b = ch.encode(form)
    except UnicodeEncodeError:
        return None
    if form == "hz":  # GB2312 bytes with the high bit cleared, inside ~{ ... ~}
        if b.startswith(b"~{") and b.endswith(b"~}"):
            b = b[2:-2]
        elif not ch.isascii():
            return None
    return b


def anchor_key(term: str) -> str:
    """The part of a normalised term that must appear contiguously in the raw bytes.

    A multi-word term may have any white space, markup or escapes between its words in the raw
    payload, so its key is its longest word.
    """
    words = [w for w in term.replace("-", " ").split(" ") if w]
    return max(words, key=len)


def _is_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _variants(table: np.ndarray, chars: set[str]) -> dict[str, list[str]]:
    """For each character, every code point the normaliser folds onto it, in code point order."""
    moved = np.flatnonzero(table != np.arange(table.size, dtype=table.dtype))  # a few thousand
    onto: dict[int, list[int]] = {}
    for x, t in zip(moved.tolist(), table[moved].tolist()):
        onto.setdefault(t, []).append(x)
    out = {}
    for c in chars:
        cp = ord(c)
        xs = onto.get(cp, [])
        if table[cp] == cp:
            xs = sorted([cp, *xs])
        out[c] = [chr(x) for x in xs if not 0xD800 <= x < 0xE000]
    return out


def _unpack(blob: bytes) -> tuple[list[bytes], list[int]]:
    """(literals, index of each literal's key) from `_packed_literals` bytes."""
    n = struct.unpack_from("=I", blob)[0]
    key_of = array.array("I", blob[4 : 4 + 4 * n]).tolist()
    sizes = array.array("I", blob[4 + 4 * n : 4 + 8 * n]).tolist()
    ends = list(itertools.accumulate(sizes, initial=4 + 8 * n))
    return [blob[a:b] for a, b in zip(ends, ends[1:])], key_of


class Prefilter:
    def __init__(self) -> None:
        m = matcher()
        self.anchors: list[str] = sorted({e.text for e in m.entries if e.kind == TERM})
        self.keys: list[str] = sorted({anchor_key(a) for a in self.anchors})
        self._variants = _variants(norm_table(), {c for k in self.keys for c in k})
        # Writing out every literal takes ~0.2 s of start-up; a scanner hands in the result of an
        # earlier run (see hsdb.made_bytes), keyed by everything the list is made from.
        inputs = repr((_ENCODINGS, _ESCAPES, MAX_COMBINATIONS, self.keys, sorted(self._variants.items())))
        key = "prefilter-literals-" + hashlib.sha256(inputs.encode("utf-8", "surrogatepass")).hexdigest()
        self.literals, self._key_of = _unpack(made_bytes(key, self._packed_literals))
        self._db = block_database(
            self.literals,
            list(range(len(self.literals))),
            # Caseless covers ASCII letters in every encoding; on the second byte of a GBK/Big5 pair it
            # only widens the net, which a prefilter may do. No SINGLEMATCH: `anchor_ends` needs every
            # occurrence (one buffer holds many records); a single payload's scan stops at the first.
            hyperscan.HS_FLAG_CASELESS,
            literal=True,
        )
        self.longest = max(map(len, self.literals), default=1)
        self._local = threading.local()

    def _packed_literals(self) -> bytes:
        seen: dict[bytes, int] = {}
        for i, k in enumerate(self.keys):
            for lit in self._literals(k):
                seen.setdefault(lit, i)
        # count, key index per literal, length per literal, then the literals; native byte order,
        # like the Hyperscan databases these bytes travel with
        idx, sizes = array.array("I", seen.values()), array.array("I", map(len, seen))
        return struct.pack("=I", len(seen)) + idx.tobytes() + sizes.tobytes() + b"".join(seen)

    def _char_options(self, key: str, width: str) -> list[list[str]]:
        opts = []
        for ch in key:
            vs = self._variants[ch]
            if _is_letter(ch):
                if width == "ascii":
                    vs = [ch]  # the database is caseless
                else:  # full-width letters, one case per literal (see _literals)
                    fw = chr(ord(ch) + 0xFEE0)  # full-width lower case
                    vs = [fw.upper() if width == "fw-upper" or (width == "fw-title" and not opts) else fw]
            opts.append(vs)
        return opts

    def _literals(self, key: str) -> list[bytes]:
        latin = any(_is_letter(c) for c in key)
        forms = _ENCODINGS + _ESCAPES if not any(c.isascii() for c in key) else _ENCODINGS
        widths = ("ascii", "fw-lower", "fw-upper", "fw-title") if latin else ("any",)
        out: list[bytes] = []
        for width in widths:
            opts = self._char_options(key, width)
            combos = [""]
            for vs in opts:
                combos = [c + v for c in combos for v in vs][:MAX_COMBINATIONS]
            for combo in combos:
                for form in forms:
                    parts = [_form(c, form) for c in combo]
                    if None not in parts:
                        out.append(b"".join(parts))
        return out

    def _scratch(self):
        s = getattr(self._local, "scratch", None)
        if s is None:
            s = self._local.scratch = hyperscan.Scratch(self._db)
        return s

    def _scan(self, data: bytes) -> int | None:
        found: list[int] = []

        def on_match(pid, frm, to, flags, ctx):
            found.append(pid)
            return True  # stop the scan at the first anchor

        try:
            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        except hyperscan.ScanTerminated:
            pass
        return found[0] if found else None

    def anchor_ends(self, data: bytes) -> list[int]:
        """End offsets, ascending, of every occurrence of any anchor literal in `data`."""
        ends: list[int] = []
        # Hyperscan drops the GIL while it scans; the callback only runs at a match (rare).
        self._db.scan(data, match_event_handler=lambda pid, frm, to, flags, ctx: ends.append(to), scratch=self._scratch())
        ends.sort()
        return ends

    def first_anchor(self, data: bytes, raw_clear: bool = False) -> str | None:
        """The first anchor key found in `data` (None if none); `raw_clear`: only in its UTF-16/32
        readings (see may_contain_claim)."""
        data = bytes(data)
        pid = None if raw_clear else self._scan(data)
        if pid is None:
            for enc in _wide_readings(data):
                pid = self._scan(data.decode(enc, "replace").encode("utf-8", "surrogatepass"))
                if pid is not None:
                    break
        return self.keys[self._key_of[pid]] if pid is not None else None


def _wide_readings(data: bytes) -> tuple[str, ...]:
    """The UTF-16/32 codecs the extractor might read `data` with (cheap checks first: this runs on
    every payload without an anchor)."""
    if data.startswith(_BOMS) or b"\x00" in data:
        return _WIDE
    if len(data) % 2 or data.isascii():
        return ()
    try:
        data.decode("utf-8")
        return ()  # valid UTF-8 is read as UTF-8 unless a label says otherwise, and labels need NULs
    except UnicodeDecodeError:
        pass
    out = []
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            data.decode(enc)  # legacy CJK bytes mostly hit a lone surrogate early
            out.append(enc)
        except UnicodeDecodeError:
            pass
    return tuple(out)


_lock = threading.Lock()
_prefilter: Prefilter | None = None


def _get() -> Prefilter:
    global _prefilter
    if _prefilter is None:
        with _lock:
            if _prefilter is None:
                _prefilter = Prefilter()
    return _prefilter


def may_contain_claim(data: bytes, *, raw_clear: bool = False) -> bool:
    """False only if no finding is possible for any text the extractor can make of `data`.

    `raw_clear`: the caller has already found that no anchor literal occurs in these exact bytes
    (with `anchor_ends` over a larger buffer holding them), so only the other readings are checked:
    PDF, and the UTF-16/32 transcodings.
    """
    if not data:
        return False
    if b"%PDF-" in data[:1024]:
        return True  # PDF text sits in compressed streams: only the extractor can tell
    return _get().first_anchor(data, raw_clear) is not None


def anchor_ends(data: bytes) -> list[int]:
    """End offsets, ascending, of every anchor literal occurrence in `data` (any thread may call it).

    An occurrence inside a slice [a, b) of `data` ends at some e with a < e <= b: a slice with no
    end in (a, b] holds no anchor, and `may_contain_claim(slice, raw_clear=True)` may be used.
    """
    return _get().anchor_ends(data)


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
