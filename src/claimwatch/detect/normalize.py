"""Length-preserving text normalisation for matching.

Every character is mapped to exactly one character: Traditional -> Simplified Chinese (OpenCC t2s,
applied per character), NFKC compatibility folding on the blocks listed in _NFKC_RANGES (full-width
-> half-width, ideographic space -> space, CJK compatibility ideographs, ...), then lower-casing
(ASCII and the folded forms).  A character whose folding would yield several characters (e.g. the
ligature "ﬁ", or "İ" -> "i̇") is left as is.  Because the mapping is one character to one character,
offsets in the normalised text ARE offsets in the original text: the offset map is the identity, and
excerpts and matches are cut from the caller's text with the same indices.

The table maps the code points that change (~6,000); it is built once per process on first use
(~0.1 s, most of it OpenCC) or read in milliseconds from the list an earlier process made
(hsdb.made_bytes, the bulk scanner's disk cache). `normalize` runs `str.translate` over a tuple
indexed by code point up to the last one that changes (~195,000 entries, ~7 MB): with a dict,
every character the table leaves alone costs a KeyError inside translate (100-250 ns per CJK
character against 40-50). That is ~2 ms for a page of 45,000 CJK characters, where importing NumPy
for a vectorised lookup cost ~0.2 s of every process's start-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import struct
import threading
import types
import unicodedata

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
_table: types.MappingProxyType | None = None  # code point -> normalised code point, where they differ
_translation: tuple[int, ...] | None = None  # the same for str.translate: entry i is i's target


def _t2s_map() -> dict[int, int]:
    import opencc

    conv = opencc.OpenCC("t2s")
    chars = [chr(c) for lo, hi in _CJK_RANGES for c in range(lo, hi)]
    # One conversion call for all characters; "\n" separators stop phrase matching across them.
    out = conv.convert("\n".join(chars)).split("\n")
    if len(out) != len(chars):  # defensive: fall back to one call per character
        out = [conv.convert(c) for c in chars]
    return {ord(c): ord(s) for c, s in zip(chars, out) if len(s) == 1 and s != c}


def _build() -> dict[int, int]:
    """Code point -> its normalised code point, for the code points that change."""
    table: dict[int, int] = {}
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
    table.update(t2s)  # (later steps win, as they always did)
    return {c: t for c, t in table.items() if t != c}


def _changes() -> bytes:
    """The code points the table changes and their targets: two little-endian uint32 arrays."""
    moved = sorted(_build().items())
    n = len(moved)
    return struct.pack(f"<{n}I", *(c for c, _ in moved)) + struct.pack(f"<{n}I", *(t for _, t in moved))


def _changes_key() -> str:
    inputs = repr((MAX_CP, _CJK_RANGES, _NFKC_RANGES, unicodedata.unidata_version, _opencc_version()))
    return "norm-table-" + hashlib.sha256(inputs.encode()).hexdigest()


def _opencc_version() -> str:
    """OpenCC's version (its dictionaries make the table), from the metadata installed beside it:
    importing it loads its C library, ~30 ms of every scan's start-up when the table comes from the
    cache. Imported after all where no such metadata is found."""
    spec = importlib.util.find_spec("opencc")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        with contextlib.suppress(OSError):
            found = [n for n in os.listdir(site) if n.lower().startswith("opencc-") and n.endswith(".dist-info")]
            if len(found) == 1:
                return found[0][len("opencc-") : -len(".dist-info")]
    import opencc

    return opencc.__version__


def norm_table() -> types.MappingProxyType:
    """The table: code point -> normalised code point, for the code points that change (read-only;
    built lazily once per process)."""
    if _table is None:
        _load()
    return _table


def _load() -> None:
    global _table, _translation
    with _lock:
        if _table is None:
            blob = made_bytes(_changes_key(), _changes)
            n = len(blob) // 8
            moved = dict(zip(struct.unpack_from(f"<{n}I", blob), struct.unpack_from(f"<{n}I", blob, 4 * n)))
            to = list(range(max(moved, default=-1) + 1))
            for c, t in moved.items():
                to[c] = t
            _translation = tuple(to)  # (past its end translate leaves a character alone)
            _table = types.MappingProxyType(moved)


def normalize(text: str) -> str:
    """The normalised text: same length as `text`, position i corresponds to text[i]."""
    if _translation is None:
        _load()
    return text.translate(_translation)
