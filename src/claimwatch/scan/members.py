"""Where the gzip members of a .warc.gz file start, worked out in the inflate helper (inflate.py).

ISA-L inflates the multi-member file in one go, checking each member's CRC-32 and size, but does not
say where one member ends and the next begins; records must keep the file offset of their member.
`MemberChain` finds that chain from the stored bytes and proves it against the inflated data:

* Candidates for a member start are the gzip magics (1f 8b 08) in the file, found a block of stored
  bytes at a time with a one-literal Hyperscan database (several times the speed of `find`, which
  stops at every 1f byte of the compressed data); random magics inside deflate data are rare,
  about one in 16 MB.
* From one member start, the next is the first candidate after it whose preceding trailer (CRC-32,
  ISIZE) fits the stored bytes in between (deflate packs at most 1032 bytes into one, and stores
  data with a few bytes of overhead per block). A magic inside deflate data seldom passes; one
  that does is caught by the proof.
* Proof: the CRC-32 of the inflated stream up to a member start must equal the CRC-32s of the
  members before it, combined along the chain (crc32_combine). A wrong boundary puts wrong lengths
  into the combination, so it passes with probability 2^-32: the strength of checking each
  member's CRC, at ~1 us per member plus one CRC pass over the data per inflated piece.
* Anything else ends the chain (`broken`): an empty member (FastWARC takes it for the end of the
  file), a header with optional fields (FNAME, ...), members that do not add up, a failed proof.
  Records beyond the proven chain are then not vouched for, and readers.py re-reads the file the
  exact way from there.

Everything here runs in the inflate helper process, a few Python steps per member; the scanning
process only looks up the proven starts (`starts`, sent over as they are proven).
"""

from __future__ import annotations

import bisect
import struct

import hyperscan
from isal.isal_zlib import crc32, crc32_combine  # crc32 keeps the GIL but is fast (~10 GB/s)

MIN_MEMBER = 20  # 10-byte header + empty deflate block (2) + 8-byte trailer
MAGIC = b"\x1f\x8b\x08"  # gzip ID1 ID2, deflate
SCAN_BYTES = 1 << 20  # stored bytes searched for magics at a time
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
    """Could a gzip member of `stored` bytes inflate to `isize` bytes? (Loose on purpose: a real
    member that fails only costs the exact re-read; a random trailer fails by its size alone.)"""
    return stored <= isize + (isize >> 3) + 256 and isize <= 1032 * stored


class MemberChain:
    """The proven member starts of one gzip file, extended as inflated pieces arrive."""

    def __init__(self, stored, size: int) -> None:
        """`stored`: the file's bytes (an mmap or bytes: indexing and the buffer protocol)."""
        self._z = stored
        self._size = size
        self._last = size - MIN_MEMBER  # a magic starting after this leaves no room for a member
        self._from = 0  # candidates before this were refused by the walk
        self._cands: list[int] = []  # magics found so far, ascending ...
        self._scanned = 0  # ... in the stored bytes before this offset
        self._db = _database()
        self._scratch = hyperscan.Scratch(self._db)
        # proven member starts: (inflated offset, offset in the file); the owner takes them away
        self.starts: list[tuple[int, int]] = []
        self.broken: str | None = None  # why the chain ended before the end of the file
        self.complete = False  # the proven chain tiles the whole file
        self._c = 0  # the walk: file offset of the current member ...
        self._cu = 0  # ... its inflated start ...
        self._expect = 0  # ... and the CRC-32 the inflated stream must have up to there
        self._crc = 0  # CRC-32 of the inflated stream up to ...
        self._at = 0  # ... here (every piece handed in)
        if size < MIN_MEMBER or stored[3]:
            self.broken = "gzip header with optional fields"
        else:
            self.starts.append((0, 0))

    def add(self, start: int, piece: bytes) -> None:
        """Take the inflated bytes [start, start+len(piece)) (pieces in order, none skipped)."""
        if self.broken is not None:
            return
        end = start + len(piece)
        new: list[tuple[int, int]] = []
        expect = self._walk(end, new)
        if self.broken is not None:
            return
        if new:
            cut = new[-1][0] - start  # the last new start lies in this piece (the walk stopped before it)
            if cut < 0:
                self.broken = "gzip member chain does not match the data"
                return
            self._crc = crc32(memoryview(piece)[:cut], self._crc)
            if self._crc != expect:
                self.broken = "gzip member chain does not match the data"
                return
            self._crc = crc32(memoryview(piece)[cut:], self._crc)
            self.starts.extend(new)
        else:
            self._crc = crc32(piece, self._crc)
        self._at = end

    def end(self) -> None:
        """The whole file has inflated cleanly: the last member must end it."""
        if self.broken is not None:
            return
        crc, isize = _trailer(self._z, self._size - 8)
        if not crc and not isize:
            self.broken = "empty gzip member"
        elif self._cu + isize != self._at or self._next(self._c + MIN_MEMBER) is not None:
            self.broken = "gzip members do not add up"
        elif crc32_combine(self._expect, crc, isize) != self._crc:
            self.broken = "gzip member chain does not match the data"
        else:
            self.complete = True

    def _walk(self, produced: int, new: list[tuple[int, int]]) -> int:
        """Step over every member that ends within the first `produced` inflated bytes; returns
        the expected CRC-32 up to the last new start."""
        c, cu, expect, z = self._c, self._cu, self._expect, self._z
        while True:
            q = self._next(c + MIN_MEMBER)
            if q is None:
                break  # the current member is the last one: end() finishes it
            crc, isize = _trailer(z, q - 8)
            if not crc and not isize:
                self.broken = "empty gzip member"  # (or 8 zero bytes before a magic: re-read anyway)
                return expect
            if z[q + 3] or not _fits(q - c, isize):
                self._from = q + 1  # a magic inside deflate data (or a header FastWARC mishandles)
                continue
            if cu + isize > produced:
                break  # that member is not inflated yet
            expect = crc32_combine(expect, crc, isize)
            c, cu = q, cu + isize
            new.append((cu, c))
        self._c, self._cu, self._expect = c, cu, expect
        return expect

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
        view = memoryview(self._z)[start : min(stop + len(MAGIC) - 1, self._size)]
        try:
            self._db.scan(view, match_event_handler=lambda _id, _frm, to, _flags, _ctx: found.append(start + to - len(MAGIC)),
                          scratch=self._scratch)
        finally:
            view.release()
        if n < len(found) and found[-1] >= stop:
            del found[bisect.bisect_left(found, stop, n) :]
        self._scanned = stop
