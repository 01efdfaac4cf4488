"""Where a WARC record ends, and whether anything unread follows the last record.

Used only off the hot path: after FastWARC stops (to name the byte offset of the damage) and once
per file (to catch a truncated last gzip member or trailing garbage, which FastWARC skips silently).
Works on one record: reads its header, its Content-Length and, for .gz files, its gzip member.
"""

from __future__ import annotations

import os
import re
import zlib

_CL = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_MAX_HEADER = 1 << 16
_CHUNK = 1 << 20


def _member(path: str, start: int) -> tuple[bytes, int, bool]:
    """Decompress the gzip member at `start`: (data, offset right after it, member complete)."""
    d = zlib.decompressobj(31)
    out = []
    pos = start
    with open(path, "rb") as fh:
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
        pos -= len(d.unused_data)
    return b"".join(out), pos, True


def _plain_end(path: str, start: int) -> tuple[int, bool]:
    """(end offset of the uncompressed record at `start` incl. its CRLFCRLF, header parsed)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        head = fh.read(_MAX_HEADER)
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return start, False
    m = _CL.search(head, 0, end + 2)
    if not m:
        return start, False
    return start + end + 4 + int(m.group(1)) + 4, True


def record_end(path: str, gz: bool, start: int) -> int:
    """Offset of the first byte after the record that starts at `start`."""
    if gz:
        _, after, _ = _member(path, start)
        return after
    end, ok = _plain_end(path, start)
    return end if ok else start


def tail_problem(path: str, gz: bool, last: int | None) -> tuple[int, str] | None:
    """(offset, message) if bytes after the last record `last` (None: no record) were not read."""
    size = os.path.getsize(path)
    start = 0 if last is None else last
    if gz:
        pos = start
        first = last is not None
        while pos < size:
            data, after, complete = _member(path, pos)
            if not complete:
                return pos, "truncated or corrupt gzip member"
            if first:
                first = False  # the last record FastWARC returned: it is fine
            elif data.strip():
                return pos, "unreadable data after the last record"
            pos = after
        return None
    if last is None:
        with open(path, "rb") as fh:
            rest = fh.read(_MAX_HEADER)
        return (0, "no WARC record could be read") if rest.strip() else None
    end, ok = _plain_end(path, start)
    if not ok:
        return start, "cannot parse the last record's header"
    if end - 2 > size:
        return start, "truncated record: file ends inside it"
    with open(path, "rb") as fh:
        fh.seek(min(end, size))
        rest = fh.read(_MAX_HEADER)
    if rest.strip():
        return end, "unreadable data after the last record"
    return None
