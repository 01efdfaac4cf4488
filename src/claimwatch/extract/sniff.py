"""Which kind of document are these bytes? Declared type, file name, then content.

Magic numbers that cannot lie (a PDF header, an image, an archive) outrank what a server or a file
name says; a declared type outranks weak content hints (a leading '<' or '{').
"""

from __future__ import annotations

import os
import re

from .charset import utf16_guess

KINDS = ("html", "pdf", "json", "text", "code")

_TYPES = {
    "text/html": "html", "application/xhtml+xml": "html", "text/xml": "html", "application/xml": "html",
    "application/rss+xml": "html", "application/atom+xml": "html", "image/svg+xml": "html",
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "application/json": "json", "text/json": "json", "application/ld+json": "json",
    "text/plain": "text", "text/markdown": "text", "text/x-markdown": "text", "text/csv": "text",
    "text/x-c": "code", "text/x-csrc": "code", "text/x-chdr": "code", "text/x-c++src": "code",
    "text/x-c++hdr": "code", "text/x-java": "code", "text/x-python": "code", "text/x-script.python": "code",
    "text/javascript": "code", "application/javascript": "code", "text/css": "code",
}
_EXTENSIONS = {
    ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html", ".xml": "html",
    ".pdf": "pdf", ".json": "json", ".jsonld": "json",
    ".txt": "text", ".md": "text", ".markdown": "text", ".rst": "text", ".csv": "text", ".text": "text",
    ".h": "code", ".c": "code", ".hpp": "code", ".hh": "code", ".cc": "code", ".cpp": "code",
    ".java": "code", ".py": "code", ".js": "code", ".ts": "code", ".go": "code", ".cs": "code",
    ".m": "code", ".swift": "code", ".kt": "code", ".proto": "code", ".idl": "code",
}
# Formats that are never a text document. Checked on the first bytes.
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"), (b"BM", None), (b"II*\x00", "TIFF image"), (b"MM\x00*", "TIFF image"),
    (b"PK\x03\x04", "ZIP archive (or DOCX/XLSX/JAR)"), (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"), (b"BZh", None), (b"\xfd7zXZ\x00", "xz data"), (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"), (b"\x28\xb5\x2f\xfd", "zstd data"), (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document (DOC/XLS/PPT)"), (b"SQLite format 3\x00", "SQLite database"),
    (b"OggS", "Ogg media"), (b"ID3", None), (b"fLaC", "FLAC audio"), (b"\x00asm", "WebAssembly"),
    (b"\xca\xfe\xba\xbe", "Mach-O/Java class"), (b"wOFF", "WOFF font"), (b"wOF2", "WOFF2 font"),
    (b"RIFF", "RIFF media (WEBP/WAV/AVI)"), (b"\x00\x00\x01\x00", "icon"),
)
_HTML_HINT = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|table)\b",
                        re.IGNORECASE | re.DOTALL)


class NotText(Exception):
    """The bytes are not a text document; the message names what they look like."""


def sniff(data: bytes, content_type: str | None, filename: str | None) -> tuple[str, list[str]]:
    """(kind, notes). Raises NotText for images, archives, executables and binary junk."""
    notes: list[str] = []
    head = data[:1024]
    declared = _from_content_type(content_type) or _from_filename(filename)
    if b"%PDF-" in head:
        if declared and declared != "pdf":
            notes.append(f"content is a PDF although declared {declared}")
        return "pdf", notes
    what = binary_magic(data)
    if what:
        raise NotText(what)
    weak = _weak(data)
    if declared == "pdf":
        # A ".pdf" link that serves an HTML login or error page: read what is there.
        if weak:
            notes.append(f"declared PDF but content is {weak}")
            return weak, notes
        return "pdf", notes  # the reader will say why it is not a PDF
    kind = declared or weak or "text"
    if looks_binary(data):
        raise NotText("binary data (control bytes)")
    return kind, notes


def binary_magic(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return "MP4/ISO media"
    for magic, name in _BINARY_MAGIC:
        if data.startswith(magic):
            if name is None:  # short magic that a text could start with: need binary bytes too
                return "binary data" if looks_binary(data) else None
            return name
    return None


def looks_binary(data: bytes) -> bool:
    """Many NULs or control bytes in the first 8 KB. UTF-16/32 text (with a BOM, or the
    alternating-NUL pattern of ASCII in UTF-16) is text."""
    sample = data[:8192]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    nul = sample.count(0)
    control = len(sample) - len(sample.translate(None, _CONTROL))  # one pass, not one per byte value
    # The UTF-16 check only matters for bytes that would count as binary (most text has no NULs).
    return (nul > len(sample) // 100 or (nul + control) > len(sample) // 20) and not utf16_guess(sample)


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27) and b != 0)


def _from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in _TYPES:
        return _TYPES[mime]
    if mime.endswith("+json"):
        return "json"
    if mime.endswith("+xml"):
        return "html"
    if mime.startswith(("image/", "audio/", "video/", "font/")) or mime in (
        "application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
        "application/vnd.ms-fontobject", "application/wasm",
    ):
        return None  # the content check decides; a mislabelled text page is still read
    return None


def _from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    return _EXTENSIONS.get(os.path.splitext(filename.lower())[1])


def _weak(data: bytes) -> str | None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    if _HTML_HINT.match(head):
        return "html"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "json"
    return None
