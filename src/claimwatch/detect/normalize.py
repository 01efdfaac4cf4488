"""Length-preserving text normalisation for matching.

Every character is mapped to exactly one character: Traditional -> Simplified Chinese (OpenCC t2s,
applied per character), NFKC compatibility folding on the blocks listed in _NFKC_RANGES (full-width
-> half-width, ideographic space -> space, CJK compatibility ideographs, ...), then lower-casing
(ASCII and the folded forms).  A character whose folding would yield several characters (e.g. the
ligature "ﬁ", or "İ" -> "i̇") is left as is.  Because the mapping is one character to one character,
offsets in the normalised text ARE offsets in the original text: the offset map is the identity, and
excerpts and matches are cut from the caller's text with the same indices.

The table is a NumPy array over all code points, built once per process on first use (~0.1 s, most
of it OpenCC) or rebuilt in milliseconds from the list of changed code points that an earlier process
made (hsdb.made_bytes, the bulk scanner's disk cache).
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata

import numpy as np

from claimwatch.detect.hsdb import made_bytes

MAX_CP = 0x110000
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0))
# NFKC folding is applied to the blocks that matter for real vendor text -- no-break and typographic
# spaces, Kangxi radicals, ideographic space, CJK compatibility ideographs, vertical and small form
# variants, half-width and full-width forms -- and not to exotica (mathematical bold letters,
# superscripts, circled letters): every folded form multiplies the raw-bytes prefilter's patterns.
_NFKC_RANGES = ((0x00A0, 0x00A1), (0x2000, 0x200B), (0x2F00, 0x2FE0), (0x3000, 0x3001), (0xF900, 0xFB00),
                (0xFE30, 0xFE70), (0xFF00, 0xFFF0), (0x2F800, 0x2FA20))

_lock = threading.Lock()
_table: np.ndarray | None = None


def _t2s_map() -> dict[int, int]:
    import opencc

    conv = opencc.OpenCC("t2s")
    chars = [chr(c) for lo, hi in _CJK_RANGES for c in range(lo, hi)]
    # One conversion call for all characters; "\n" separators stop phrase matching across them.
    out = conv.convert("\n".join(chars)).split("\n")
    if len(out) != len(chars):  # defensive: fall back to one call per character
        out = [conv.convert(c) for c in chars]
    return {ord(c): ord(s) for c, s in zip(chars, out) if len(s) == 1 and s != c}


def _build() -> np.ndarray:
    table = np.arange(MAX_CP, dtype=np.uint32)
    t2s = _t2s_map()

    def fold(ch: str) -> str:
        n = unicodedata.normalize("NFKC", ch)
        if len(n) != 1:
            n = ch
        lo = n.lower()
        if len(lo) == 1:
            n = lo
        return chr(t2s.get(ord(n), ord(n)))

    for c in range(0x41, 0x5B):  # ASCII upper case
        table[c] = c + 32
    for c in range(0xC0, 0x250):  # Latin-1 / Latin Extended upper case ("Ü" -> "ü")
        lo = chr(c).lower()
        if len(lo) == 1 and lo != chr(c):
            table[c] = ord(lo)
    for lo, hi in _NFKC_RANGES:
        for c in range(lo, hi):
            f = fold(chr(c))
            if ord(f) != c:
                table[c] = ord(f)
    for c, s in t2s.items():
        table[c] = s
    return table


def _changes() -> bytes:
    """The code points the table changes and their targets: two little-endian uint32 arrays."""
    table = _build()
    moved = np.flatnonzero(table != np.arange(MAX_CP, dtype=np.uint32)).astype("<u4")
    return moved.tobytes() + table[moved].astype("<u4").tobytes()


def _changes_key() -> str:
    import opencc

    inputs = repr((MAX_CP, _CJK_RANGES, _NFKC_RANGES, unicodedata.unidata_version, opencc.__version__))
    return "norm-table-" + hashlib.sha256(inputs.encode()).hexdigest()


def norm_table() -> np.ndarray:
    """The code point -> code point table (read-only; built lazily once per process)."""
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                blob = made_bytes(_changes_key(), _changes)
                n = len(blob) // 8
                moved = np.frombuffer(blob, dtype="<u4", count=n)
                t = np.arange(MAX_CP, dtype=np.uint32)
                t[moved] = np.frombuffer(blob, dtype="<u4", count=n, offset=4 * n)
                t.setflags(write=False)
                _table = t
    return _table


def normalize_codes(text: str) -> np.ndarray:
    """Normalised code points of `text` (uint32 array, same length as the text)."""
    raw = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return norm_table().take(raw)  # same as table[raw], without converting the index array first


def normalize(text: str) -> str:
    """The normalised text: same length as `text`, position i corresponds to text[i]."""
    return codes_text(normalize_codes(text))


def codes_text(codes: np.ndarray) -> str:
    """The string of a code-point array made by `normalize_codes`."""
    return codes.tobytes().decode("utf-32-le", "surrogatepass")
