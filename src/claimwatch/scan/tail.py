"""Find the first damaged spot of a WARC file from a known-good record onwards.

Used only off the hot path: once per file from the last record FastWARC returned (FastWARC skips a
truncated last gzip member or trailing garbage silently), and after FastWARC stops with an error
(it gives no position). Walks records by their Content-Length, gzip member by gzip member for .gz.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator

_CL = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_MAX_HEADER = 1 << 16
_CHUNK = 1 << 20

Problem = tuple[int, str]


def _member(fh, start: int) -> tuple[bytes, int, bool]:
    """Decompress the gzip member at `start`: (data, offset right after it, member complete)."""
    d = zlib.decompressobj(31)
    out = []
    pos = start
    fh.seek(start)
    while not d.eof:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return b"".join(out), pos, False
        try:
            out.append(d.decompress(chunk))
        except zlib.error:
            return b"".join(out), pos, False
        pos += len(chunk)
    return b"".join(out), pos - len(d.unused_data), True


def _header(buf: bytes) -> tuple[int, int] | None:
    """(header length incl. blank line, Content-Length) of the WARC record starting `buf`."""
    if not buf.startswith(b"WARC/"):
        return None
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    m = _CL.search(buf, 0, end + 2)
    if not m:
        return None
    return end + 4, int(m.group(1))


def _consume(buf: bytes) -> tuple[int, str | None]:
    """Bytes of `buf` made of whole records; message if what follows is not a WARC record."""
    pos = 0
    n = len(buf)
    while True:
        while pos < n and buf[pos] in b"\r\n":
            pos += 1
        if pos >= n:
            return pos, None
        head = _header(buf[pos : pos + _MAX_HEADER])
        if head is None:
            if b"\r\n\r\n" not in buf[pos : pos + _MAX_HEADER] and buf.startswith(b"WARC/"[: n - pos], pos):
                return pos, None  # a header cut by a member boundary: wait for more data
            return pos, "unreadable data (not a WARC record)"
        end = pos + head[0] + head[1]
        if end > n:
            return pos, None  # record continues in the next gzip member
        pos = end


def _members(path: str, start: int) -> Iterator[tuple[int, bytes, int, bool]]:
    """(offset, data, offset after, complete) of each gzip member from `start` to the end of the
    file, stopping after an incomplete one; nothing if `start` is not a member boundary (records
    sharing one gzip member: nothing to check from there)."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(start)
        if fh.read(2) != b"\x1f\x8b":
            return
        pos = start
        while pos < size:
            data, after, complete = _member(fh, pos)
            yield pos, data, after, complete
            if not complete:
                return
            pos = after


def _walk_gz(path: str, start: int) -> Problem | None:
    pending = b""  # decompressed bytes of a record that spans gzip members (warcio calls these "wrong chunks")
    pending_at = start
    for pos, data, _after, complete in _members(path, start):
        if not complete:
            return (pending_at if pending else pos), "truncated or corrupt gzip member"
        if not pending:
            pending_at = pos
        buf = pending + data
        used, problem = _consume(buf)
        if problem:
            return pending_at if used == 0 else pos, problem
        pending = buf[used:]
    if pending.strip():
        return pending_at, "truncated record"
    return None


def _walk_plain(path: str, start: int) -> Problem | None:
    size = os.path.getsize(path)
    pos = start
    with open(path, "rb") as fh:
        while True:
            fh.seek(pos)
            buf = fh.read(_MAX_HEADER)
            stripped = buf.lstrip(b"\r\n")
            pos += len(buf) - len(stripped)
            if not stripped:
                return None
            head = _header(stripped)
            if head is None:
                return pos, "no WARC record here (is the previous record's Content-Length wrong?)"
            end = pos + head[0] + head[1]
            if end > size:
                return pos, "truncated record: the file ends inside it"
            # Separator CR/LFs are skipped leniently at the top of the loop, as warcio does.
            pos = end


def after_empty_member(path: str, start: int) -> int | None:
    """Offset right after the first empty gzip member at or after the member at `start`, if data follows.

    FastWARC takes an empty member for the end of the file; the records after it are still there.
    None when there is none, when `start` is not a member boundary, or at damage (first_problem's job).
    """
    size = os.path.getsize(path)
    for _pos, data, after, complete in _members(path, start):
        if complete and not data and after < size:
            return after
    return None


def first_problem(path: str, gz: bool, start: int | None) -> Problem | None:
    """(offset, message) of the first damage at or after the record at `start` (None: file start)."""
    start = 0 if start is None else start
    return _walk_gz(path, start) if gz else _walk_plain(path, start)
