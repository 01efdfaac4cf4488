"""Bytes -> str with the charset a reader would expect.

Order: charset declared by HTTP (Content-Type), byte-order mark, charset declared in the document
(<meta>, XML declaration; first 8 KB), then detection: strict UTF-8, then GB18030 vs Big5 decided by
which decoding reads as common Chinese, then charset-normalizer. Declarations are checked against the
bytes: a declaration the bytes clearly contradict (many decoding errors, or a Latin-1 default sent by a
server for a page that is plainly UTF-8 or GBK) loses to detection, with a note.
Decoding never raises: bad or truncated sequences become U+FFFD.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from dataclasses import dataclass, field

SAMPLE_BYTES = 256 * 1024  # detection reads this much; the chosen codec then decodes everything
META_SCAN_BYTES = 8 * 1024

# Labels mapped to the codec we decode with. GB2312/GBK pages routinely use characters only their
# supersets define, so they are decoded as GB18030; Big5 as Big5-HKSCS (then CP950, see _FAMILIES).
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "ms936": "gb18030",
    "windows-936": "gb18030", "euc-cn": "gb18030", "euccn": "gb18030", "csgb2312": "gb18030",
    "gb_2312-80": "gb18030", "gb_2312": "gb18030", "chinese": "gb18030", "iso-ir-58": "gb18030",
    "hz-gb-2312": "hz", "gb18030": "gb18030",
    "big5": "big5", "big5-hkscs": "big5", "big5hkscs": "big5", "cn-big5": "big5", "csbig5": "big5",
    "x-x-big5": "big5", "cp950": "big5", "ms950": "big5", "windows-950": "big5",
    # WHATWG: these labels mean windows-1252 on the web.
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252",
    "windows-1252": "cp1252", "cp1252": "cp1252", "x-user-defined": "cp1252",
    "utf8": "utf-8", "utf-8": "utf-8", "unicode-1-1-utf-8": "utf-8",
    # WHATWG: without a BOM (sniffed first) these labels mean little-endian; Python's "utf-16"
    # and "utf-32" codecs refuse BOM-less input instead.
    "utf-16": "utf-16-le", "utf-16le": "utf-16-le", "unicode": "utf-16-le", "ucs-2": "utf-16-le",
    "csunicode": "utf-16-le", "iso-10646-ucs-2": "utf-16-le", "unicodefeff": "utf-16-le",
    "utf-16be": "utf-16-be", "unicodefffe": "utf-16-be", "utf-32": "utf-32-le",
}
# Codecs tried, in order, for one family; the one with the fewest errors wins.
_FAMILIES = {"big5": ("big5hkscs", "cp950")}
# Servers send these by default whatever the page is; they are believed only if detection agrees.
_WEAK = {"cp1252"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_RE = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)"""
    rb"""|<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)""",
    re.IGNORECASE,
)
_CT_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)


@dataclass(slots=True)
class Decoded:
    text: str
    charset: str | None
    notes: list[str] = field(default_factory=list)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CT_CHARSET_RE.search(content_type)
    return m.group(1) if m else None


def normalize_label(label: str | None) -> str | None:
    """A charset label -> our codec name, or None if Python has no such codec."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def sniff_bom(data: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def meta_charset(data: bytes) -> str | None:
    m = _META_RE.search(data[:META_SCAN_BYTES])
    if not m:
        return None
    return (m.group(1) or m.group(2)).decode("ascii", "replace")


def decode(data: bytes, *, declared: str | None = None, html: bool = False, cut: bool = False) -> Decoded:
    """Decode `data`. `declared` is the HTTP charset label; `html` enables <meta> sniffing;
    `cut` says the bytes were cut by a limit, so an incomplete final sequence is dropped, not replaced."""
    notes: list[str] = []
    bom = sniff_bom(data)
    if bom:
        name, skip = bom
        return Decoded(_decode_all(data[skip:], name, cut), name, notes)

    for source, label in (("HTTP header", declared), ("<meta>", meta_charset(data) if html else None)):
        if not label:
            continue
        codec = normalize_label(label)
        if codec is None:
            notes.append(f"unknown charset {label!r} in {source} ignored")
            continue
        if source == "<meta>" and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"  # a <meta> readable as ASCII cannot be UTF-16 (HTML standard)
        elif codec.startswith(("utf-16", "utf-32")):
            if b"\x00" not in data[:4096]:
                # UTF-16/32 text has NUL bytes (every ASCII character has one); without any, the
                # label is wrong (servers configured for UTF-16 serving UTF-8): detect instead.
                notes.append(f"charset {label!r} from {source} does not fit the bytes; ignored")
                continue
            # UTF-16 in the byte order its NUL bytes show (a label alone does not say it)
            codec = utf16_guess(data[:8192]) or codec
        clean = _clean_decode(data, codec)
        chosen, errors = (codec, 0) if clean is not None else _best_of_family(data, codec)
        if not codec.startswith("utf-") and _utf8_evident(data):
            # Sites converted to UTF-8 keep their old gb2312 <meta>; GBK-decoding UTF-8 often
            # "succeeds" without errors and yields nonsense. Valid multibyte UTF-8 is no accident.
            notes.append(f"charset {label!r} from {source} does not fit the bytes; decoded as utf-8")
            return Decoded(_decode_all(data, "utf-8", cut), "utf-8", notes)
        if codec in _WEAK or errors:
            detected = _detect(data)
            if detected and _convincing(detected, codec, errors):
                notes.append(f"charset {label!r} from {source} does not fit the bytes; decoded as {detected[0]}")
                return Decoded(_decode_all(data, detected[0], cut), detected[0], notes)
        return Decoded(clean if clean is not None else _decode_all(data, chosen, cut), chosen, notes)

    utf16 = utf16_guess(data[:8192])
    if utf16:
        return Decoded(_decode_all(data, utf16, cut), utf16, notes)
    clean = _clean_decode(data, "utf-8")
    if clean is not None:  # what detection would choose, decoded once
        return Decoded(clean, "utf-8", notes)
    detected = _detect(data)
    if detected:
        return Decoded(_decode_all(data, detected[0], cut), detected[0], notes)
    if not data:
        return Decoded("", None, notes)
    # Nothing decodes cleanly: take the least damaged reading.
    best = min(("utf-8", "gb18030", "big5hkscs"), key=lambda c: _sample(_window(data), c)[1])
    notes.append(f"charset not recognised; decoded as {best} with replacement characters")
    return Decoded(_decode_all(data, best, cut), best, notes)


def utf16_guess(sample: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII characters leave a NUL in every other byte."""
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


# --- detection -------------------------------------------------------------------------------

def _detect(data: bytes) -> tuple[str, int] | None:
    """(codec, errors in the sample) for a confident detection, else None."""
    if data.isascii():
        return ("utf-8", 0)
    window = _window(data)
    if _sample(window, "utf-8")[1] == 0:
        return ("utf-8", 0)
    best = _chinese(window)
    if best:
        return best
    if _western(window):
        return ("cp1252", 0)
    return _normalizer(window)


def _window(data: bytes, codec: str = "utf-8") -> bytes:
    """The bytes detection looks at: SAMPLE_BYTES from the first non-ASCII byte, so a page whose
    first 256 KB are ASCII script or markup is still judged by its text. Codecs that are not
    ASCII-compatible (UTF-16/32, stateful ones) are judged from the start."""
    if codec.startswith(("utf-16", "utf-32", "utf-7", "utf_16", "utf_32", "utf_7", "hz", "iso2022")):
        return data[:SAMPLE_BYTES]
    m = _HIGH_RE.search(data)
    start = m.start() if m else 0
    return data[start:start + SAMPLE_BYTES]


_HIGH_RE = re.compile(rb"[\x80-\xff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CJK_RANGE = re.compile(r"[^\x00-\u2e7f]")  # code points from U+2E80 on
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _chinese(sample: bytes) -> tuple[str, int] | None:
    """GB18030 vs Big5: most Big5 byte pairs are also valid GBK, so strict decoding alone cannot
    tell them apart in short texts. Each reading is scored by the share of its characters that are
    level-1 (common) characters of its own standard; the wrong reading scores far lower."""
    scored = []
    # GBK also encodes traditional characters, so the GB reading may use either common set.
    gb_table = _gb_common() | _big5_common()
    for codec, table in (("gb18030", gb_table), ("big5hkscs", _big5_common()), ("cp950", _big5_common())):
        text, errors = _sample(sample, codec)
        letters = [ch for ch in _CJK_RANGE.findall(text) if _is_letterish(ch)]
        if letters:
            common = sum(1 for ch in letters if ch in table) / len(letters)
            frequent = sum(1 for ch in letters if ch in _FREQUENT) / len(letters)
        else:
            # No CJK at all (an English page with a GBK em dash or a pinyin é): plausible.
            common, frequent = 1.0, 0.0
        penalty = errors / max(len(letters), 1)
        # Very frequent characters break ties between two readings that are both "common"
        # (a two-character text can be common in both).
        # In running Chinese text of some length, a few hundred characters make up about half
        # of it; a Japanese or Korean page misread as Chinese has almost none of them.
        plausible = common >= 0.6 and (len(letters) < 20 or frequent >= 0.15)
        scored.append((errors == 0, common + frequent - penalty, plausible, codec, errors))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)  # stable: GB18030 wins ties
    clean, _score, plausible, codec, errors = scored[0]
    if clean and plausible:
        return (codec, errors)
    return None


def _western(sample: bytes) -> bool:
    """Windows-1252, the web's default, when every non-ASCII byte reads as Latin text; statistical
    detectors guess wildly (Urdu, Cyrillic) on a short page with a few accented letters."""
    text, errors = _sample(sample, "cp1252")
    if errors:
        return False
    high = _NON_ASCII.findall(text)  # (regular expressions and bytes methods: C speed on 64 KB)
    letters = sum(1 for ch in high if unicodedata.category(ch)[0] == "L")
    ascii_only = text.encode("ascii", "ignore")
    ascii_letters = len(ascii_only) - len(ascii_only.translate(None, _ASCII_LETTERS))
    # Accented letters are a minority among plain ones in Western languages.
    return letters <= ascii_letters and all(
        ("\u00a0" <= ch <= "\u024f") or ("\u2010" <= ch <= "\u203a") or ch in "\u20ac\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
        for ch in high
    )


def _normalizer(sample: bytes) -> tuple[str, int] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    best = from_bytes(sample).best()
    if best is None:
        return None
    codec = normalize_label(best.encoding)
    if codec is None:
        return None
    codec, errors = _best_of_family(sample, codec)
    return (codec, errors)


def _convincing(detected: tuple[str, int], declared_codec: str, declared_errors: int) -> bool:
    codec, errors = detected
    if codec == declared_codec or errors:
        return False
    return True if declared_codec in _WEAK else declared_errors > 0


def _utf8_evident(data: bytes) -> bool:
    """Valid UTF-8 with at least two non-ASCII characters: legacy-encoded text practically never is."""
    sample = _window(data)
    if sample.isascii():
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A strict decode stops at the first bad byte, which is usually right at the start of a
        # legacy page; only a failure at the very end (maybe a sequence cut by the sample) needs
        # the lenient count.
        if exc.end < len(sample):
            return False
        text, errors = _sample(sample, "utf-8")
        if errors:
            return False
    first = _NON_ASCII_RE.search(text)
    return first is not None and _NON_ASCII_RE.search(text, first.end()) is not None


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
# Codecs for which one strict decode of the whole input can stand in for the sample check and the
# full decode: ASCII-compatible, so the sample (which starts at the first non-ASCII byte) starts on
# a character boundary, and not a family that is chosen by comparing codecs.
_CLEAN_DECODE = frozenset({"utf-8", "gb18030"})


def _clean_decode(data: bytes, codec: str) -> str | None:
    """`data` decoded by `codec` if it decodes without a single error (then the sample has none
    either, and the lenient decode gives the same text), else None.

    A U+FFFD in legacy-encoded text counts as an error in `_sample`, so such text returns None;
    in UTF-8, `_sample` subtracts literal U+FFFD, so it is no error there."""
    if codec not in _CLEAN_DECODE:
        return None
    # Python's GBK codec is a quarter faster than its GB18030 codec and, wherever it decodes at all,
    # decodes exactly like it (checked for every byte pair in the tests); GB18030's own four-byte
    # characters make it fail, and GB18030 decides.
    for name in ("gbk", "gb18030") if codec == "gb18030" else (codec,):
        try:
            text = data.decode(name)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    if codec != "utf-8" and "\ufffd" in text:
        return None
    return text


def _is_letterish(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] == "L" or cat in ("Co", "Cn")  # private-use/unassigned: typical of a wrong codec


def _best_of_family(data: bytes, codec: str) -> tuple[str, int]:
    candidates = _FAMILIES.get(codec, (codec,))
    results = [(c, _sample(_window(data, c), c)[1]) for c in candidates]
    return min(results, key=lambda r: r[1])


def _sample(data: bytes, codec: str) -> tuple[str, int]:
    """Decode the first SAMPLE_BYTES; (text, number of undecodable sequences). An incomplete
    sequence at the end (cut by the sample, by a limit, or by a truncated download) is not an error."""
    try:
        dec = codecs.getincrementaldecoder(codec)(errors="replace")
    except LookupError:
        return "", 1 << 30
    text = dec.decode(data[:SAMPLE_BYTES], final=False)
    return text, text.count("\ufffd") - _literal_replacements(data[:SAMPLE_BYTES], codec)


def _literal_replacements(data: bytes, codec: str) -> int:
    # A UTF-8 document may contain U+FFFD itself; that is not a decoding error.
    return data.count(b"\xef\xbf\xbd") if codec == "utf-8" else 0


def _decode_all(data: bytes, codec: str, cut: bool) -> str:
    if codec in _FAMILIES:
        codec = _best_of_family(data, codec)[0]
    if cut:
        return codecs.getincrementaldecoder(codec)(errors="replace").decode(data, final=False)
    return data.decode(codec, errors="replace")


# Very frequent characters of general and surveillance-product text, simplified and traditional.
_FREQUENT = frozenset(
    "一三上下不与两並个中为之也了事于些产人从他以们份众会估位体作你來信們像內全兩公关其内出分別别到制前力"
    "功务动動務勤区區十单去及发只可台号各合同名后向吾告员和品員問單回因国图國圖在地场堂報場外多大天头好如"
    "子学學安宗定实家察實对将將對小少尔就属屬工已布平年并库应度庫开当征後得從徵心性息情意應成我所手技把抓"
    "报拍持据採控摄據攝支教数數文新方於族日时是時智最會有服本术机来析样案检樣機檢正此比民汉沒没治法测測漢"
    "然照爲爾片物特现現理生產用當發的监監相看着知码碼社禁种积程種稳積穩箇算管籍系級統經維網緒级经统绪维网"
    "羣群考者而肤能脸膚臉自臺與色藏號衆行術表被裏要視视訪設評說課識警设访评识说课貫贯跡身軌轨过还这进远迹"
    "這通進過道遠還那部都采里重門開間關门问间险險集面預頭頻预频風风體高黑齡龄為個說對時會發這們來國學後"
)


@functools.cache
def _gb_common() -> frozenset[str]:
    """GB2312 level-1 hanzi (rows 0xB0-0xD7): the 3,755 most used simplified characters."""
    return _table("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))


@functools.cache
def _big5_common() -> frozenset[str]:
    """Big5 level-1 characters (0xA440-0xC67E): the 5,401 frequently used traditional characters."""
    table = _table("big5", range(0xA4, 0xC6), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)))
    return table | _table("big5", (0xC6,), range(0x40, 0x7F))


def _table(codec: str, leads, trails) -> frozenset[str]:
    out = set()
    for lead in leads:
        for trail in trails:
            try:
                ch = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and unicodedata.category(ch) == "Lo":
                out.add(ch)
    return frozenset(out)
