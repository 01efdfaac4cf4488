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


def _header_end(block: bytes) -> tuple[int, int]:
    """(end of the header block, length of the blank-line separator); bare LF tolerated."""
    end = block.find(b"\r\n\r\n")
    if end >= 0:
        return end, 4
    end = block.find(b"\n\n")
    if end >= 0:
        return end, 2
    return len(block), 0  # headers only, no body (e.g. a 302 with no blank line)


def _value(head: bytes, name: bytes) -> str | None:
    """Last value of header `name` (lower case, with leading LF) in the lower-cased header block."""
    at = head.rfind(name)
    if at < 0:
        return None
    start = at + len(name)
    stop = head.find(b"\n", start)
    return head[start : stop if stop >= 0 else len(head)].strip().decode("latin-1")


_LOOKED_UP = [(k, b"\n" + k.encode() + b":") for k in ("content-type", "content-encoding", "transfer-encoding")]


def split_http(block: bytes) -> tuple[dict[str, str], bytes] | None:
    """Split an HTTP response block into (the headers we use, body); None if it is not one.

    Header names and values come back lower-cased (the values we use are case-insensitive);
    a status line without reason phrase (`HTTP/1.1 302`) and bare-LF line ends are accepted.
    Only three headers are looked up, with C-speed `bytes.rfind`, rather than parsing every line.
    """
    if not block.startswith(b"HTTP/"):
        return None
    end, sep = _header_end(block)
    head = block[:end].lower()
    headers = {}
    for key, name in _LOOKED_UP:
        v = _value(head, name)
        if v is not None:
            headers[key] = v
    return headers, block[end + sep :]


_CODINGS = tuple(name for key, name in _LOOKED_UP if key.endswith("-encoding"))  # (both undo a coding)


def plain_body_start(block: bytes) -> int | None:
    """Where the body of an HTTP response block starts when http_payload would return it unchanged
    (no Content-Encoding and no Transfer-Encoding header), without copying it; 0 for a block that
    is not an HTTP message (http_payload returns it whole); None: call http_payload."""
    if not block.startswith(b"HTTP/"):
        return 0
    end, sep = _header_end(block)
    head = block[:end].lower()
    if _CODINGS[0] in head or _CODINGS[1] in head:
        return None
    return end + sep


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
