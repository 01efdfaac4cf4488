"""How a normalised lexicon string can look in undecoded payload bytes (shared by prefilter and gate).

A key's characters are expanded to every code point the normaliser folds onto them, and each
combination is written in every byte-oriented encoding the extractor can decode (and, for keys
without ASCII characters, as HTML numeric character references and JSON \\u escapes).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

# Every key is written once per encoding (and escape form) and per combination of its characters'
# folded variants, as a plain literal: a database of literals compiles in about a second, whereas
# per-character alternations and gaps (markup, spaces) between characters took minutes.
ENCODINGS = ("utf-8", "gb18030", "big5", "big5hkscs", "cp950", "cp1252", "hz")
ESCAPES = ("html-dec", "html-hex", "json")
# UTF-16/32 payloads are not matched by their own literals (that made the database five times larger
# and slow to compile): a payload that starts with a BOM or holds NUL bytes -- which the extractor
# needs to choose those codecs without a declared charset -- is also transcoded to UTF-8 and scanned.
WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
MAX_COMBINATIONS = 256


@functools.lru_cache(maxsize=None)
def form(ch: str, how: str) -> bytes | None:
    """Bytes of one character written in `how`, None if it cannot be (memoised: start-up time)."""
    cp = ord(ch)
    if how == "html-dec":
        return f"&#{cp};".encode()
    if how == "html-hex":
        return f"&#x{cp:x};".encode()
    if how == "json":
        if cp < 0x10000:
            return f"\\u{cp:04x}".encode()
        hi, lo = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
        return f"\\u{hi:04x}\\u{lo:04x}".encode()
    try:
        b = ch.encode(how)
    except UnicodeEncodeError:
        return None
    if how == "hz":  # GB2312 bytes with the high bit cleared, inside ~{ ... ~}
        if b.startswith(b"~{") and b.endswith(b"~}"):
            b = b[2:-2]
        elif not ch.isascii():
            return None
    return b


def anchor_key(term: str) -> str:
    """The part of a normalised lexicon string that must appear contiguously in the raw bytes.

    A multi-word string may have any white space, markup or escapes between its words in the raw
    payload (and the matcher lets a space match none), so its key is its longest word.
    """
    words = [w for w in term.replace("-", " ").split(" ") if w]
    return max(words, key=len)


def is_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


_onto: list[tuple[Mapping[int, int], dict[int, list[int]]]] = []  # (table, its inverse), made once per process


def _inverse(table: Mapping[int, int]) -> dict[int, list[int]]:
    for t, onto in _onto:
        if t is table:
            return onto
    onto: dict[int, list[int]] = {}
    for x in sorted(table):  # (a few thousand)
        onto.setdefault(table[x], []).append(x)
    _onto[:] = [(table, onto)]  # start-up: the prefilter and the gate ask several times
    return onto


def variants(table: Mapping[int, int], chars: set[str]) -> dict[str, list[str]]:
    """For each character, every code point the normaliser folds onto it, in code point order
    (`table`: normalize.norm_table())."""
    onto = _inverse(table)
    out = {}
    for c in chars:
        cp = ord(c)
        xs = onto.get(cp, [])
        if cp not in table:
            xs = sorted([cp, *xs])
        out[c] = [chr(x) for x in xs if not 0xD800 <= x < 0xE000]
    return out


def pieces(key: str, var: dict[str, list[str]]) -> list[str]:
    """`key` cut into contiguous pieces whose variant combinations all fit in MAX_COMBINATIONS
    (`literals` writes at most that many per key: a longer key would lose some of its forms)."""
    out, cur, n = [], "", 1
    for ch in key:
        k = 1 if is_letter(ch) else max(1, len(var[ch]))  # letters: one option per width
        if cur and n * k > MAX_COMBINATIONS:
            out.append(cur)
            cur, n = "", 1
        cur, n = cur + ch, n * k
    return [*out, cur] if cur else out


def _char_options(key: str, width: str, var: dict[str, list[str]]) -> list[list[str]]:
    opts = []
    for ch in key:
        vs = var[ch]
        if is_letter(ch):
            if width == "ascii":
                vs = [ch]  # the databases are caseless
            else:  # full-width letters, one case per literal (see literals)
                fw = chr(ord(ch) + 0xFEE0)  # full-width lower case
                vs = [fw.upper() if width == "fw-upper" or (width == "fw-title" and not opts) else fw]
        opts.append(vs)
    return opts


def combinations(key: str, var: dict[str, list[str]]) -> list[str]:
    """Every way `key` may be written in code points the normaliser folds onto it (ASCII letters in
    one case: matched case-insensitively; full-width letters in lower, UPPER and Title case)."""
    latin = any(is_letter(c) for c in key)
    widths = ("ascii", "fw-lower", "fw-upper", "fw-title") if latin else ("any",)
    out: list[str] = []
    for width in widths:
        combos = [""]
        for vs in _char_options(key, width, var):
            combos = [c + v for c in combos for v in vs][:MAX_COMBINATIONS]
        out += combos
    return out


def literals(key: str, var: dict[str, list[str]]) -> list[bytes]:
    """Every raw-bytes literal of `key` (match them case-insensitively); `var` from `variants`."""
    forms = ENCODINGS + ESCAPES if not any(c.isascii() for c in key) else ENCODINGS
    out: list[bytes] = []
    for combo in combinations(key, var):
        for how in forms:
            parts = [form(c, how) for c in combo]
            if None not in parts:
                out.append(b"".join(parts))
    return out


def nul_free_utf16(key: str, var: dict[str, list[str]]) -> list[bytes]:
    """The UTF-16 (LE and BE) forms of `key`'s combinations that hold no NUL byte: without a BOM or
    NUL bytes, a payload's UTF-16 reading has no ASCII character, so an anchor in it is one of these
    (no escape form either: those are ASCII)."""
    out = []
    for combo in combinations(key, var):
        for enc in ("utf-16-le", "utf-16-be"):
            b = combo.encode(enc, "surrogatepass")
            if b"\x00" not in b:
                out.append(b)
    return out


def wide_signs(data: bytes, start: int = 0) -> bool | None:
    """The cheap part of wide_readings for data[start:], without copying it: True when a BOM or NUL
    bytes call for every UTF-16/32 reading, False when there is none (odd length; or ASCII, looked
    at over all of `data`), None when only decoding can tell."""
    if data.startswith(BOMS, start) or data.find(b"\x00", start) >= 0:
        return True
    if (len(data) - start) % 2 or data.isascii():
        return False
    return None


def wide_readings(data: bytes) -> tuple[str, ...]:
    """The UTF-16/32 codecs the extractor might read `data` with (cheap checks first: this runs on
    every payload without an anchor)."""
    sign = wide_signs(data)
    if sign is not None:
        return WIDE if sign else ()
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
