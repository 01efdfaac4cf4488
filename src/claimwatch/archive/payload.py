"""Stored HTTP bytes -> the payload a reader wants: chunking undone, Content-Encoding removed.

Used both when writing (to return ArchivedCapture.payload) and when reading back, so a fresh capture
and a rebuilt one always agree byte for byte.
"""

from __future__ import annotations

import zlib

# Decoded content is cut here: a small compressed body must not expand into gigabytes in memory
# (decompression bomb). The stored bytes are never affected, only the derived payload.
MAX_DECODED_BYTES = 100 * 2**20


def split_http(block: bytes) -> tuple[bytes, bytes]:
    """HTTP message block -> (header block incl. the blank line, payload)."""
    cut = block.find(b"\r\n\r\n")
    if cut < 0:
        return block, b""
    return block[: cut + 4], block[cut + 4 :]


def parse_http_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Header block -> (first line, header pairs); bytes are latin-1, as received on the wire."""
    lines = head.decode("latin-1").split("\r\n")
    pairs = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    return lines[0], pairs


def header(pairs: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for k, v in pairs:
        if k.lower() == name:
            return v
    return None


def frame_chunked(body: bytes) -> bytes:
    """Re-frame a de-chunked body as one HTTP chunk so it matches a `Transfer-Encoding: chunked` header."""
    if not body:
        return b"0\r\n\r\n"
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def dechunk(data: bytes) -> bytes:
    """Undo HTTP/1.1 chunking; tolerant of a missing end (a truncated capture keeps what arrived)."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            break
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return data if not out else bytes(out)
        if size == 0:
            break
        out += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    return bytes(out)


def _gunzip(data: bytes) -> bytes:
    d = zlib.decompressobj(47)  # gzip or zlib header, auto-detected
    out = d.decompress(data, MAX_DECODED_BYTES)
    return out


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(15).decompress(data, MAX_DECODED_BYTES)
    except zlib.error:  # many servers send raw deflate under "deflate"
        return zlib.decompressobj(-15).decompress(data, MAX_DECODED_BYTES)


def _unbrotli(data: bytes) -> bytes:
    import brotli

    d = brotli.Decompressor()
    try:
        out = d.process(data, output_buffer_limit=MAX_DECODED_BYTES)
    except TypeError:  # brotli < 1.2 has no output limit
        out = d.process(data)
    return out[:MAX_DECODED_BYTES]


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _inflate, "br": _unbrotli}


def decode_body(body: bytes, headers: list[tuple[str, str]]) -> bytes:
    """De-chunked body -> content with Content-Encoding removed.

    Truncated compressed bodies decode to the prefix that could be decompressed. If an encoding is
    unknown or the data does not decode, the bytes are returned as stored (never invented).
    """
    encoding = header(headers, "content-encoding")
    if not encoding:
        return body
    data = body
    for enc in reversed([e.strip().lower() for e in encoding.split(",") if e.strip()]):
        if enc == "identity":
            continue
        decoder = _DECODERS.get(enc)
        if decoder is None:
            return body
        try:
            data = decoder(data)
        except Exception:  # zlib.error / brotli.error: keep what was stored
            return body
    return data


def payload_of_response_block(block: bytes) -> tuple[bytes, list[tuple[str, str]], bytes]:
    """Response record block -> (stored payload, response headers, decoded content)."""
    head, stored = split_http(block)
    _, pairs = parse_http_head(head)
    body = stored
    te = header(pairs, "transfer-encoding")
    if te and "chunked" in te.lower():
        body = dechunk(stored)
    return stored, pairs, decode_body(body, pairs)
