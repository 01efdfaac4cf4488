"""The gzip members of a .warc.gz file, found and inflated one by one in the inflate helper (inflate.py).

Records must keep the file offset of their gzip member, and a multi-member gzip reader does not say
where one member ends and the next begins. `MemberReader` finds each member in the stored bytes
and inflates it on its own with libdeflate (the `deflate` package), which also proves it:

* Candidates for a member start are the gzip magics (1f 8b 08) in the file, found a block of stored
  bytes at a time with a one-literal Hyperscan database (several times the speed of `find`, which
  stops at every 1f byte of the compressed data); random magics inside deflate data are rare,
  about one in 16 MB.
* From one member start, the next is the first candidate after it whose preceding trailer (CRC-32,
  ISIZE) fits the stored bytes in between (deflate packs at most 1032 bytes into one, and stores
  data with a few bytes of overhead per block), so a real member is never passed over.
* Proof: libdeflate inflates the bytes from one start to the next as one gzip member, checking
  that its deflate data end right there and that the CRC-32 and size in its trailer match what it
  made; the size must also be the ISIZE read before. A start put on a magic inside deflate data
  cuts the member short, and its inflate fails.
* Anything else ends the walk (`broken`): an empty member (FastWARC takes it for the end of the
  file), a header with optional fields (FNAME, ...) where a member could start (such a member
  cannot be told from a magic in deflate data, and passing over it would hide its data), a member
  over MAX_MEMBER inflated, an inflate error. What was inflated before that stands; readers.py
  re-reads the file the exact way from the first record not yet vouched for.

Why one member at a time: libdeflate inflates the bench corpus ~1.3x as fast as ISA-L's streaming
reader (whole buffers, no state kept between calls), and the members' own trailers replace the
CRC-32 pass over the inflated data that proved the starts found beside a streaming reader.
Everything here runs in the inflate helper process, a few Python steps per member; the scanning
process only looks up the proven starts (`starts`, sent over with the pieces they lie in).
"""

from __future__ import annotations

import bisect
import struct

import deflate
import hyperscan

MIN_MEMBER = 20  # 10-byte header + empty deflate block (2) + 8-byte trailer
MAGIC = b"\x1f\x8b\x08"  # gzip ID1 ID2, deflate
SCAN_BYTES = 1 << 20  # stored bytes searched for magics at a time
# Inflated bytes of one member at most: libdeflate needs the whole output buffer at once, so this
# bounds the helper's memory (web archive members are records: Common Crawl's hold <= 1 MiB of
# payload). A bigger member ends the fast path; the exact reader streams it.
MAX_MEMBER = 64 << 20
_magic_db: hyperscan.Database | None = None  # compiled on first use (~1 ms)


def _database() -> hyperscan.Database:
    global _magic_db
    if _magic_db is None:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[MAGIC], ids=[0], elements=1, flags=0, literal=True)
        _magic_db = db
    return _magic_db


_trailer = struct.Struct("<II").unpack_from  # CRC-32 and ISIZE ending a member


def _fits(stored: int, isize: int) -> bool:
    """Could a gzip member of `stored` bytes inflate to `isize` bytes? (Loose on purpose: every real
    member fits, so none is passed over; a random trailer fails by its size alone.)"""
    return stored <= isize + (isize >> 3) + 256 and isize <= 1032 * stored


class MemberReader:
    """The inflated content of one gzip file, member by member: `readinto` like a file's, with the
    proven member starts of what it gave out in `starts`."""

    def __init__(self, stored, size: int) -> None:
        """`stored`: the file's bytes (an mmap or bytes: indexing and the buffer protocol)."""
        self._z = stored
        self._view = memoryview(stored)
        self._size = size
        self._last = size - MIN_MEMBER  # a magic starting after this leaves no room for a member
        self._from = 0  # candidates before this were refused by the walk
        self._cands: list[int] = []  # magics found so far, ascending ...
        self._scanned = 0  # ... in the stored bytes before this offset
        self._db = _database()
        self._scratch = hyperscan.Scratch(self._db)
        # proven member starts: (inflated offset, offset in the file); the owner takes them away
        self.starts: list[tuple[int, int]] = []
        self.broken: str | None = None  # why the walk ended before the end of the file
        self.complete = False  # every member of the file inflated, end to end
        self._c = 0  # file offset of the next member
        self._u = 0  # inflated offset of the next member
        self._out: memoryview | None = None  # the member being handed out ...
        self._o = 0  # ... and how much of it has been
        if size < MIN_MEMBER or stored[3]:
            self.broken = "gzip header with optional fields" if size >= MIN_MEMBER else "gzip data too short"

    def readinto(self, buf) -> int:
        """Fill `buf` (a writable buffer) with the next inflated bytes; 0 at the end, or once the
        walk is broken (see `broken`) and everything inflated before has been given out."""
        room = len(buf)
        filled = 0
        while filled < room:
            out = self._out
            if out is None:
                out = self._inflate_next()
                if out is None:
                    break
            k = min(len(out) - self._o, room - filled)
            buf[filled : filled + k] = out[self._o : self._o + k]
            filled += k
            self._o += k
            if self._o == len(out):
                self._out = None
                out.release()
        return filled

    def close(self) -> None:
        if self._out is not None:
            self._out.release()
            self._out = None
        self._view.release()

    def _inflate_next(self) -> memoryview | None:
        """Inflate the next member (its start goes to `starts`); None at the end of the file or of
        the walk."""
        if self.broken is not None or self.complete:
            return None
        c = self._c
        q, last_one = self._next_start(c)
        end = self._size if q is None else q
        crc, isize = _trailer(self._z, end - 8)
        if not crc and not isize:
            self.broken = "empty gzip member"  # (or 8 zero bytes before a magic: re-read anyway)
            return None
        if q is None and not _fits(end - c, isize):  # (others fit: _next_start chose them so)
            # the last member: bytes after it, or the file cut short
            self.broken = "gzip members do not add up"
            return None
        if isize > MAX_MEMBER:
            self.broken = f"gzip member of more than {MAX_MEMBER >> 20} MiB inflated"
            return None
        try:
            out = deflate.gzip_decompress(self._view[c:end], isize)
        except deflate.DeflateError:
            out = None
        if out is None or len(out) != isize:
            # a start put on a magic inside deflate data, damaged data, or the file cut short
            self.broken = "gzip member chain does not match the data"
            return None
        self.starts.append((self._u, c))
        self._u += isize
        self._c = end
        if q is None:
            self.complete = True
        elif last_one:
            self.broken = "gzip header with optional fields"
        self._out, self._o = memoryview(out), 0
        return self._out

    def _next_start(self, c: int) -> tuple[int | None, bool]:
        """Where the member starting at `c` ends: the next member's start (None: it is the last),
        and whether the walk must stop there."""
        while True:
            q = self._next(c + MIN_MEMBER)
            if q is None:
                return None, False
            crc, isize = _trailer(self._z, q - 8)
            if (crc or isize) and not _fits(q - c, isize):
                self._from = q + 1  # a magic inside deflate data
                continue
            # A member with optional header fields (FNAME, ...) -- or a magic inside deflate data
            # with trailer-like bytes before it: passing over a real one would join two members.
            return q, bool(self._z[q + 3])

    def _next(self, at: int) -> int | None:
        """The first candidate at or after `at` not refused yet (None: none in the file)."""
        at = max(at, self._from)
        cands = self._cands
        while True:
            i = bisect.bisect_left(cands, at)
            if i < len(cands):
                return cands[i]
            if self._scanned > self._last:
                return None
            self._scan()

    def _scan(self) -> None:
        start = self._scanned
        stop = min(start + SCAN_BYTES, self._last + 1)  # magic starts looked for: [start, stop)
        found = self._cands
        if len(found) > 4096:  # the walk never looks back past its current member
            del found[: bisect.bisect_left(found, self._c)]
        n = len(found)
        view = self._view[start : min(stop + len(MAGIC) - 1, self._size)]
        try:
            self._db.scan(view, match_event_handler=lambda _id, _frm, to, _flags, _ctx: found.append(start + to - len(MAGIC)),
                          scratch=self._scratch)
        finally:
            view.release()
        if n < len(found) and found[-1] >= stop:
            del found[bisect.bisect_left(found, stop, n) :]
        self._scanned = stop
