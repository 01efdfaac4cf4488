"""Inflate a .warc.gz file in a background thread, for FastWARC to parse as plain WARC.

FastWARC 2 holds the GIL while it inflates, so its gzip work (most of its time) cannot overlap with
the scanner's own work. Here ISA-L's multi-member gzip reader (C; it drops the GIL while inflating)
runs in a thread and hands over 1 MiB pieces; `InflatedStream` is the file-like FastWARC reads
(`read`, `tell`, and `seek` to where it already is, which is all FastWARC 2 asks of a stream).

What the fast path gives up and gets back:

* Offsets. FastWARC reports positions in the inflated stream; records must keep the offset of
  their gzip member in the stored file. `members.MemberChain` works out and proves the member
  starts in the inflate thread (CRC-32s combined along the chain), so the main thread only looks
  them up.
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
import threading
from collections import deque
from collections.abc import Callable

try:  # python-isal: optional; without it every file takes the exact path
    from isal.isal_zlib import _GzipReader

    from claimwatch.scan.members import MemberChain
except ImportError:  # pragma: no cover - depends on the environment
    _GzipReader = MemberChain = None

AVAILABLE = _GzipReader is not None

_CHUNK = 1 << 20  # inflated bytes per hand-over (one GIL round trip each)
_AHEAD = 16 << 20  # the thread waits when this much is inflated but unread (memory bound)
MARGIN = 256 << 10  # clean inflated bytes required after a record before it is vouched for


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
        self._produced = 0  # inflated bytes handed over so far
        self._done = False
        self._clean = False  # the whole file inflated without error
        self._stop = False
        self._buf = b""  # piece being read, and the read position in it / in the stream
        self._off = 0
        self._pos = 0
        self._eof = False  # read() has returned the end of the stream
        self._chain = MemberChain(self._z, self._size)  # member starts, proven in the thread
        self._mi = 0  # member_at(): first proven start not yet behind the caller
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
            overlap -= 1  # (a literal of `longest` bytes crossing a boundary has at most this many before it)
            tail = b""  # the last overlap bytes before `piece`
            chain = self._chain
            while True:
                piece = reader.read(_CHUNK)
                if scan is not None and piece:
                    ends = scan(piece)
                    if tail:
                        # Occurrences across the boundary: scan the tail with the piece's first
                        # bytes (not a copy of the whole piece). Ends within the tail were reported
                        # with the previous piece; an end found twice does no harm.
                        t = len(tail)
                        more = [e - t for e in scan(tail + piece[:overlap]) if e > t]
                        if more:
                            ends = sorted({*ends, *more})
                    self._hits.extend([pos + e for e in ends])
                    if overlap > 0:
                        tail = piece[-overlap:] if len(piece) >= overlap else (tail + piece)[-overlap:]
                    self._hits_upto = pos + len(piece)
                if not piece:
                    chain.end()
                    clean = True
                    break
                chain.add(pos, piece)  # before the hand-over: a record read is a record placed
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
        self._buf = b""
        self._chain = None  # (it holds a numpy view of the mapping)
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
        free = i >= n or hits[i] > b
        if i > 4096:  # the ones behind the caller are no longer needed (English pages have many)
            del hits[:i]
            i = 0
        self._hit_i = i
        return free

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
        """File offset of the gzip member whose inflated data starts at `u` (u already read)."""
        chain = self._chain
        starts, i = chain.starts, self._mi
        n = len(starts)
        while i < n and starts[i][0] < u:
            i += 1
        if i == n or starts[i][0] != u:
            # A record read is a record whose member start the thread has already placed (or not).
            raise Anomaly(chain.broken or "record does not start a gzip member")
        c = starts[i][1]
        if i > 4096:  # the starts behind the caller are no longer needed
            del starts[:i]
            i = 0
        self._mi = i
        return c

    def tell_end(self) -> int:
        """The inflated size of the whole file (once `finish()` has returned)."""
        return self._produced

    def finish(self) -> None:
        """Raise Anomaly unless the whole file inflated cleanly and the proven members tile it."""
        if not self._eof:
            # FastWARC stopped before the end of the data: leave that to the exact reader (and
            # never wait here for a thread that waits for room).
            raise Anomaly("parser stopped early")
        with self._cv:
            while not self._done:
                self._cv.wait()
        if not self._clean:
            raise Anomaly("inflate failed")
        if not self._chain.complete:
            raise Anomaly(self._chain.broken or "gzip members do not add up")
