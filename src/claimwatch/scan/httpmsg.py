"""HTTP messages stored in WARC/ARC records: split the header block, undo transfer/content coding.

Done in Python over one `bytes` per record rather than by FastWARC's auto-decoding: FastWARC aborts
the whole file on a record whose `Transfer-Encoding: chunked` header lies (archivers such as pywb
store de-chunked bodies but keep the header), while we want the warcio behaviour of falling back to
the stored body. The per-record cost is a few `bytes.find` calls, small next to decompression.
"""

from __future__ import annotations

import zlib

import brotli

# A decoded body may not grow beyond this (zip-bomb guard); documented in docs/scan.md.
MAX_DECODED_BYTES = 64 << 20


class DecodeError(ValueError):
    """The body's Content-Encoding could not be undone."""


def split_http(block: bytes) -> tuple[dict[str, str], bytes] | None:
    """Split an HTTP response block into (lower-cased headers, body); None if it is not one.

    Only the headers we need are kept, last value wins; a status line without reason phrase
    (`HTTP/1.1 302`) is accepted, as are bare-LF line ends.
    """
    if not block.startswith(b"HTTP/"):
        return None
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end = block.find(b"\n\n")
        sep = 2
        if end < 0:
            # Headers only, no body (e.g. a 302 with Content-Length: 0 and no blank line).
            end, sep = len(block), 0
    headers: dict[str, str] = {}
    for line in block[:end].split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return headers, block[end + sep :]


def dechunk(body: bytes) -> bytes | None:
    """Undo chunked transfer coding; None when the body is not validly chunked (stored de-chunked)."""
    out = []
    pos = 0
    n = len(body)
    while True:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None
        size_field = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return None
        if size < 0:
            return None
        start = eol + 1
        if size == 0:
            return b"".join(out)
        if start + size > n:
            return None
        out.append(body[start : start + size])
        pos = start + size
        # CRLF after the chunk data.
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        else:
            return None


def _inflate(body: bytes, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(body, MAX_DECODED_BYTES)
    if d.unconsumed_tail:
        raise DecodeError(f"decoded body larger than {MAX_DECODED_BYTES} bytes")
    if not d.eof and not out:
        raise DecodeError("compressed body ends before any data")
    # A body cut short (WARC-Truncated, crawler size limits) still yields its decoded beginning.
    return out


def decode_content(body: bytes, encoding: str) -> bytes:
    """Undo Content-Encoding (gzip, x-gzip, deflate, br; identity passes through)."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):  # applied in order, so undone last-first
        if not body or coding in ("identity", "none"):
            continue
        try:
            if coding in ("gzip", "x-gzip"):
                if not body.startswith(b"\x1f\x8b"):
                    continue  # archived already decoded with the header kept (as warcio tolerates)
                body = _inflate(body, 47)  # 32+15: gzip or zlib header, auto-detected
            elif coding == "deflate":
                try:
                    body = _inflate(body, 15)
                except zlib.error:
                    body = _inflate(body, -15)  # raw deflate, as some servers send
            elif coding == "br":
                body = brotli.decompress(body)
                if len(body) > MAX_DECODED_BYTES:
                    raise DecodeError(f"decoded body larger than {MAX_DECODED_BYTES} bytes")
            else:
                raise DecodeError(f"unsupported Content-Encoding {coding!r}")
        except (zlib.error, brotli.error) as exc:
            raise DecodeError(f"bad {coding} Content-Encoding: {exc}") from None
    return body


def http_payload(block: bytes) -> tuple[bytes, str | None, int | None]:
    """(decoded body, Content-Type, status) of an HTTP response block; raises DecodeError.

    A block that is not an HTTP message is returned unchanged with no content type.
    """
    parsed = split_http(block)
    if parsed is None:
        return block, None, None
    headers, body = parsed
    status = None
    first = block[: block.find(b"\n")].split()
    if len(first) >= 2 and first[1].isdigit():
        status = int(first[1])
    te = headers.get("transfer-encoding", "")
    if "chunked" in te.lower():
        dechunked = dechunk(body)
        if dechunked is not None:
            body = dechunked
    ce = headers.get("content-encoding")
    if ce:
        body = decode_content(body, ce)
    return body, headers.get("content-type"), status
