"""Inflate a .warc.gz file in a background thread, for FastWARC to parse as plain WARC.

FastWARC 2 holds the GIL while it inflates, so its gzip work (most of its time) cannot overlap with
the scanner's own work. Here ISA-L's multi-member gzip reader (C; it drops the GIL while inflating)
runs in a thread and hands over 1 MiB pieces; `InflatedStream` is the file-like FastWARC reads
(`read`, `tell`, and `seek` to where it already is, which is all FastWARC 2 asks of a stream).

What the fast path gives up and gets back:

* Offsets. FastWARC reports positions in the inflated stream; records must keep the offset of
  their gzip member in the stored file. `member_at` walks the member chain lazily: the next member
  starts at the first gzip magic (1f 8b 08; found with numpy, mostly in the thread) whose
  preceding trailer (CRC-32, ISIZE) is that of the inflated bytes from the current member's start
  on. A magic inside deflate data would need a matching CRC-32 *and* then land the walk exactly on
  the next record start, so the chain is the real one. The walk costs a few µs per member in the
  main thread (a per-member loop in the inflate thread would wait for the GIL at every member;
  ISA-L's crc32 keeps the GIL, so it causes no hand-over).
* Damage and odd layouts. ISA-L, FastWARC and our tail check do not agree on damaged gzip data,
  and FastWARC's own gzip reader has quirks (optional header fields), so nothing here reports
  damage: anything unexpected (inflate error, a record not starting a member, an empty member, a
  header with FNAME/FEXTRA/..., members not tiling the file) raises `Anomaly`, and readers.py
  re-reads the file the exact way, skipping what it already handed out. A record is handed out
  only when the next one (or the end of the file) confirms its member, and once `MARGIN` more
  bytes inflated cleanly after it (or the file ended cleanly): damage further on does not change
  what the exact reader returns up to there (it stops at the damaged member, tests show).
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from collections import deque
from collections.abc import Callable

import numpy as np

try:  # python-isal: optional; without it every file takes the exact path
    from isal.isal_zlib import _GzipReader
    from isal.isal_zlib import crc32 as _crc32  # (unlike zlib's, it keeps the GIL: no hand-over per call)
except ImportError:  # pragma: no cover - depends on the environment
    _GzipReader = _crc32 = None

AVAILABLE = _GzipReader is not None

_MIN_MEMBER = 20  # 10-byte header + empty deflate block (2) + 8-byte trailer
_CHUNK = 1 << 20  # inflated bytes per hand-over (one GIL round trip each)
_AHEAD = 16 << 20  # the thread waits when this much is inflated but unread (memory bound)
MARGIN = 256 << 10  # clean inflated bytes required after a record before it is vouched for
_SCAN = 1 << 20  # compressed bytes searched for gzip magics per inflated piece
_trailer = struct.Struct("<II").unpack_from  # CRC-32 and ISIZE ending a member


class Anomaly(Exception):
    """The fast path cannot vouch for what follows; read the file the exact way."""


class InflatedStream:
    """The inflated content of a gzip file, produced by a background thread."""

    def __init__(self, path: str, anchors: tuple[Callable[[bytes], list[int]], int] | None = None) -> None:
        with open(path, "rb") as fh:
            self._size = os.fstat(fh.fileno()).st_size
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._z = memoryview(self._mm)
        self._cv = threading.Condition()
        self._pending: deque[tuple[int, bytes]] = deque()  # inflated, not yet read
        self._kept: deque[tuple[int, bytes]] = deque()  # read, still needed by the member walk
        self._produced = 0  # inflated bytes handed over so far
        self._done = False
        self._clean = False  # the whole file inflated without error
        self._stop = False
        self._buf = b""  # piece being read, and the read position in it / in the stream
        self._off = 0
        self._pos = 0
        self._c = 0  # member walk: compressed start of the current member ...
        self._cu = 0  # ... and its inflated start
        self._arr = np.frombuffer(self._mm, dtype=np.uint8)
        self._scan_lock = threading.Lock()
        self._cands: list[int] = []  # offsets of gzip magics ...
        self._scanned = 0  # ... in the file up to here
        self._eof = False  # read() has returned the end of the stream
        self._ci = 0  # member walk: index into _cands
        # Anchor scan (the prefilter's first stage) over the inflated stream, in the thread:
        # `anchors` is (scan, longest literal); ends of every occurrence, ascending, go to _hits.
        self._anchors = anchors
        self._hits: list[int] = []
        self._hit_i = 0  # clear(): first hit not yet behind the caller
        self._hits_upto = 0  # inflated bytes scanned for anchors so far
        self._thread = threading.Thread(target=self._run, name="claimwatch-inflate", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ inflate thread

    def _run(self) -> None:
        clean = False
        reader = None
        try:
            reader = _GzipReader(self._z)
            pos = 0
            scan, overlap = self._anchors or (None, 1)
            overlap -= 1
            tail = b""  # the last overlap bytes before `piece`: occurrences across pieces
            while True:
                piece = reader.read(_CHUNK)
                if self._scanned < self._size:
                    self._scan()
                if scan is not None and piece:
                    buf = tail + piece if tail else piece
                    t = len(tail)
                    base = pos - t
                    # Ends within the tail were reported with the previous piece.
                    self._hits.extend([base + e for e in scan(buf) if e > t])
                    tail = buf[-overlap:] if overlap > 0 else b""
                    self._hits_upto = pos + len(piece)
                if not piece:
                    while self._scanned < self._size:
                        self._scan()
                    clean = True
                    break
                with self._cv:
                    self._pending.append((pos, piece))
                    pos += len(piece)
                    self._produced = pos
                    self._cv.notify_all()
                    while pos - self._pos > _AHEAD and not self._stop:
                        self._cv.wait()
                    if self._stop:
                        break
        except Exception:  # noqa: BLE001 - any inflate error only means "take the exact path"
            pass
        finally:
            del reader  # it holds a view of the mapping
            with self._cv:
                self._done = True
                self._clean = clean
                self._cv.notify_all()

    def _scan(self) -> None:
        # Candidate member starts for the member walk, found with numpy, whose loops run without
        # the GIL (a bytes.find loop in the main thread costs ~0.15 s on the bench). The thread
        # scans one block per piece; the main thread scans on itself when it gets there first
        # (many tiny members), so neither ever waits for the other here.
        with self._scan_lock:
            start = self._scanned
            if start >= self._size:
                return
            block = self._arr[start : start + _SCAN + 2]
            hits = np.flatnonzero(block[:-2] == 0x1F)
            hits = hits[(block[hits + 1] == 0x8B) & (block[hits + 2] == 0x08)]
            self._cands.extend((hits + start).tolist())
            self._scanned = min(start + _SCAN, self._size)

    # ------------------------------------------------------------ file-like for FastWARC

    def read(self, n: int = -1) -> bytes:
        if self._off >= len(self._buf) and not self._next_piece():
            return b""
        off = self._off
        b = self._buf[off:] if n < 0 else self._buf[off : off + n]
        self._off = off + len(b)
        self._pos += len(b)
        return b

    def _next_piece(self) -> bool:
        with self._cv:
            while not self._pending and not self._done:
                self._cv.wait()
            if not self._pending:
                self._eof = True
                return False
            piece = self._pending.popleft()
            self._kept.append(piece)
            self._buf = piece[1]
            self._off = 0
            self._cv.notify_all()  # room for the thread again
            return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        # FastWARC only seeks to where the stream already is (it checks its position that way).
        target = pos if whence == 0 else self._pos + pos if whence == 1 else None
        if target != self._pos:
            raise OSError("InflatedStream cannot seek")
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join()
        self._pending.clear()
        self._kept.clear()
        self._buf = b""
        self._arr = None
        self._z.release()
        self._mm.close()

    # ------------------------------------------------------------ checks for the fast path

    def clear(self, a: int, b: int) -> bool:
        """True if no anchor occurrence lies inside the inflated bytes [a, b) (False: there may be).

        Calls come in stream order (a never decreases); [a, b) must already be read.
        """
        if self._anchors is None or b > self._hits_upto:
            return False
        hits, i = self._hits, self._hit_i
        n = len(hits)
        while i < n and hits[i] <= a:
            i += 1
        self._hit_i = i
        return i >= n or hits[i] > b

    def vouch(self) -> None:
        """Raise Anomaly unless MARGIN clean bytes follow the read position (or the file ended cleanly)."""
        want = self._pos + MARGIN
        if self._produced >= want:
            return
        with self._cv:
            while self._produced < want and not self._done:
                self._cv.wait()
            if self._produced < want and not self._clean:
                raise Anomaly("inflate stopped")

    def member_at(self, u: int) -> int:
        """Compressed offset of the gzip member whose inflated data starts at `u` (u already read)."""
        if self._mm[3]:
            raise Anomaly("gzip header with optional fields")
        while self._cu < u:
            self._advance(u)
        if self._cu != u:
            raise Anomaly("record does not start a gzip member")
        # Pieces wholly before the current member are no longer needed.
        kept = self._kept
        while len(kept) > 1 and kept[0][0] + len(kept[0][1]) <= self._cu:
            kept.popleft()
        return self._c

    def finish(self) -> None:
        """Raise Anomaly unless the whole file inflated cleanly and the member walk tiles it."""
        if not self._eof:
            # FastWARC stopped before the end of the data: leave that to the exact reader (and
            # never wait here for a thread that waits for room).
            raise Anomaly("parser stopped early")
        self._wait_done()
        if not self._clean:
            raise Anomaly("inflate failed")
        with self._cv:
            self._kept.extend(self._pending)  # (FastWARC may stop before the end of the data)
            self._pending.clear()
        while self._c < self._size:
            self._advance(self._produced)
        if self._cu != self._produced:
            raise Anomaly("gzip members do not add up")

    def tell_end(self) -> int:
        """The inflated size of the whole file (once `finish()` has returned)."""
        return self._produced

    def _advance(self, limit: int) -> None:
        """Step the member walk to the next member; its inflated start is at most `limit`."""
        c, cu, z, size = self._c, self._cu, self._z, self._size
        cands = self._cands
        i = self._ci
        at = c + _MIN_MEMBER
        while True:
            n = len(cands)
            while i < n and cands[i] < at:
                i += 1
            if i < n:
                q = cands[i]
            elif self._scanned < size:
                self._scan()
                continue
            else:
                q = size
            crc, isize = _trailer(z, q - 8)
            if not isize and not crc:
                # An empty member ahead (FastWARC ends the file there); refusing the candidate
                # instead would let the walk merge it into the next member.
                raise Anomaly("empty gzip member")
            if 0 < isize <= limit - cu and (q < size or self._end_ok(cu + isize)) and self._crc(cu, isize) == crc:
                break
            if q == size:
                raise Anomaly("no next gzip member")
            at = q + 1
        self._ci = i
        if q < size and z[q + 3]:
            # Optional header fields (FNAME, ...): FastWARC's own gzip reader stumbles over some
            # of them, so such files are left to it entirely.
            raise Anomaly("gzip header with optional fields")
        self._c, self._cu = q, cu + isize

    def _end_ok(self, end: int) -> bool:
        with self._cv:  # (the thread cannot be waiting for room: end is behind the read position)
            while not self._done and self._produced <= end:
                self._cv.wait()
        return self._done and self._clean and end == self._produced

    def _wait_done(self) -> None:
        with self._cv:
            while not self._done:
                self._cv.wait()

    def _crc(self, upos: int, n: int) -> int:
        """CRC-32 of the inflated bytes [upos, upos+n), all of them already read (in _kept)."""
        end = upos + n
        crc = 0
        for start, piece in self._kept:
            if start >= end:
                break
            stop = start + len(piece)
            if stop > upos:
                crc = _crc32(memoryview(piece)[max(upos - start, 0) : end - start], crc)
        return crc
