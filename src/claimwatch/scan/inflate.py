"""Inflate a .warc.gz file in a forked helper process, for FastWARC to parse as plain WARC.

FastWARC 2 holds the GIL while it inflates, so its gzip work (most of its time) cannot overlap with
the scanner's own work. A thread does not help much either: the scanner's main thread is busy
Python, and every time an inflate thread comes back from a C call it waits for the GIL (up to the
switch interval), which left it far below its own speed (bench/inflate_thread.py). So the inflate
work runs in a child process forked per file: ISA-L's multi-member gzip reader inflates straight
into a ring of shared-memory slots (`mmap(-1, ...)` is shared with the child), and a pipe carries
one small message per slot. `InflatedStream` is the file-like FastWARC reads (`read`, `tell`, and
`seek` to where it already is, which is all FastWARC 2 asks of a stream).

The prefilter's anchor scan over the inflated stream is shared out between the two processes: the
child scans a piece (and sends the hits with it) only while the parent is behind, i.e. while more
than one slot waits to be read; otherwise the parent scans the piece when it takes it. Whoever has
spare time does it, and the results are the same either way.

What the fast path gives up and gets back:

* Offsets. FastWARC reports positions in the inflated stream; records must keep the offset of
  their gzip member in the stored file. `members.MemberChain` works out and proves the member
  starts in the child (CRC-32s combined along the chain) and sends them along, so the parent only
  looks them up.
* Damage and odd layouts. ISA-L, FastWARC and our tail check do not agree on damaged gzip data,
  and FastWARC's own gzip reader has quirks (optional header fields), so nothing here reports
  damage: anything unexpected (inflate error, a record not starting a member, an empty member, a
  header with FNAME/FEXTRA/..., members not tiling the file, a child that died) raises `Anomaly`,
  and readers.py re-reads the file the exact way, skipping what it already handed out. A record is
  handed out only when the next one (or the end of the file) confirms its member, and once `MARGIN`
  more bytes inflated cleanly after it (or the file ended cleanly): damage further on does not
  change what the exact reader returns up to there (it stops at the damaged member, tests show).

Only where `os.fork` is safe (Linux, like the local engine's workers); elsewhere every file takes
the exact path.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import struct
import sys
from array import array
from collections import deque
from collections.abc import Callable

try:  # python-isal: optional; without it every file takes the exact path
    from isal.isal_zlib import _GzipReader

    from claimwatch.scan.members import MemberChain
except ImportError:  # pragma: no cover - depends on the environment
    _GzipReader = MemberChain = None

AVAILABLE = _GzipReader is not None and hasattr(os, "fork") and sys.platform.startswith("linux")

_CHUNK = 1 << 20  # inflated bytes per slot of the ring (one message each)
_AHEAD = 16 << 20  # bytes of ring: the child waits when this much is inflated but not yet taken
MARGIN = 256 << 10  # clean inflated bytes required after a record before it is vouched for

# child -> parent messages: a piece (stream offset, length, new member starts, anchor hits or -1
# when the parent is to scan it), then one end message (clean, chain complete, why it broke)
_PIECE = struct.Struct("=cqqii")
_END = struct.Struct("=c??i")

_live: set[int] = set()  # pids of helper processes not yet reaped (tests look at it)


class _ParentGone(Exception):
    """(in the child) the parent closed its end: stop."""


class Anomaly(Exception):
    """The fast path cannot vouch for what follows; read the file the exact way."""


class InflatedStream:
    """The inflated content of a gzip file, produced by a forked child process."""

    def __init__(self, path: str, anchors: tuple[Callable[[bytes], list[int]], int] | None = None) -> None:
        with open(path, "rb") as fh:
            self._size = os.fstat(fh.fileno()).st_size
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._chunk = _CHUNK
        self._slots = max(2, _AHEAD // _CHUNK)
        self._ring = mmap.mmap(-1, self._slots * self._chunk)  # anonymous: shared with the child
        self._pending: deque[tuple[int, int, int, list[int] | None]] = deque()  # (pos, n, slot, hits)
        self._taken = 0  # pieces taken for reading so far (the k-th sits in slot k % slots)
        self._produced = 0  # inflated bytes announced so far
        self._done = False  # the end message arrived (or the child is gone)
        self._clean = False  # the whole file inflated without error
        self._complete = False  # ... and the proven member chain tiles it
        self._broken: str | None = None
        self._ringv = memoryview(self._ring)
        self._at = self._len = 0  # the piece being read: where in the ring, its length ...
        self._off = 0  # ... the read position in it, and in the stream
        self._pos = 0
        self._eof = False  # read() has returned the end of the stream
        self._starts: list[tuple[int, int]] = []  # proven member starts (inflated, file offset)
        self._mi = 0  # member_at(): first proven start not yet behind the caller
        # Anchor scan (the prefilter's first stage): `anchors` is (scan, longest literal); ends of
        # every occurrence, ascending, go to _hits as pieces are taken.
        self._scan, overlap = anchors or (None, 1)
        self._overlap = overlap - 1  # (a literal crossing a boundary has at most this many bytes before it)
        self._tail = b""  # the last _overlap bytes of the pieces taken so far
        self._hits: list[int] = []
        self._hit_i = 0  # clear(): first hit not yet behind the caller
        self._hits_upto = 0  # inflated bytes scanned for anchors so far
        msg_r, msg_w = os.pipe()
        ack_r, ack_w = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child: never returns
            os.close(msg_r)
            os.close(ack_w)
            self._child(msg_w, ack_r)
        _live.add(self._pid)
        os.close(msg_w)
        os.close(ack_r)
        self._msgs = open(msg_r, "rb", buffering=1 << 16)  # noqa: SIM115 - closed in close()
        self._ack = ack_w

    # ------------------------------------------------------------ the child process

    def _child(self, out: int, acks: int) -> None:
        code = 0
        try:
            with contextlib.suppress(ValueError):  # (only possible from the main thread)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            os.set_blocking(acks, False)
            clean, chain = False, MemberChain(self._mm, self._size)
            ring, chunk, slots, scan = memoryview(self._ring), self._chunk, self._slots, self._scan
            made = freed = pos = 0  # pieces made / slots given back by the parent / stream offset

            def take_acks() -> int:
                try:
                    got = os.read(acks, 4096)
                except BlockingIOError:
                    return 0
                if not got:
                    raise _ParentGone
                return len(got)

            try:
                reader = _GzipReader(memoryview(self._mm))
                while True:
                    freed += take_acks()
                    while made - freed >= slots:  # the ring is full: wait for the parent
                        select.select([acks], [], [])
                        freed += take_acks()
                    slot = (made % slots) * chunk
                    n = reader.readinto(ring[slot : slot + chunk])
                    if not n:
                        chain.end()
                        clean = True
                        break
                    piece = ring[slot : slot + n]
                    chain.add(pos, piece)
                    starts = chain.starts[:]  # (the first message also carries the start at 0)
                    del chain.starts[:]  # sent: the parent keeps them
                    # Scan here only while the parent is behind: besides the piece it reads, one
                    # sent before waits for it.
                    freed += take_acks()
                    hits = scan(piece) if scan is not None and made - freed >= 2 else None
                    flat = array("q", [x for s in starts for x in s])
                    found = array("q", hits or ())
                    _write(out, _PIECE.pack(b"P", pos, n, len(starts), -1 if hits is None else len(hits))
                           + flat.tobytes() + found.tobytes())
                    pos += n
                    made += 1
            except _ParentGone:
                return
            except Exception:  # noqa: BLE001 - any inflate error only means "take the exact path"
                clean = False
            why = (chain.broken or "").encode()
            _write(out, _END.pack(b"E", clean, chain.complete, len(why)) + why)
        except BaseException:  # noqa: BLE001 - the parent sees a child without an end message
            code = 1
        finally:
            os._exit(code)  # never run the parent's atexit handlers or flush its buffers here

    # ------------------------------------------------------------ messages from the child

    def _receive(self) -> bool:
        """Read one message (blocking); False when there is none left."""
        if self._done:
            return False
        rd = self._msgs
        head = rd.read(_PIECE.size if rd.peek(1)[:1] == b"P" else _END.size)
        if head[:1] == b"P" and len(head) == _PIECE.size:
            _, pos, n, nstarts, nhits = _PIECE.unpack(head)
            raw = rd.read(16 * nstarts + 8 * max(nhits, 0))
            if len(raw) == 16 * nstarts + 8 * max(nhits, 0):
                flat = array("q", raw[: 16 * nstarts]).tolist()
                self._starts.extend(zip(flat[0::2], flat[1::2]))
                hits = array("q", raw[16 * nstarts :]).tolist() if nhits >= 0 else None
                self._pending.append((pos, n, (len(self._pending) + self._taken) % self._slots, hits))
                self._produced = pos + n
                return True
        elif head[:1] == b"E" and len(head) == _END.size:
            _, self._clean, self._complete, k = _END.unpack(head)
            self._broken = rd.read(k).decode("utf-8", "replace") or None
        # the end message, or a child that died mid-message: nothing more will come
        self._done = True
        return False

    # ------------------------------------------------------------ file-like for FastWARC

    def read(self, n: int = -1) -> bytes:
        off, size = self._off, self._len
        if off >= size:
            if not self._next_piece():
                return b""
            off, size = 0, self._len
        stop = size if n < 0 else min(size, off + n)
        self._off = stop
        self._pos += stop - off
        at = self._at
        return self._ring[at + off : at + stop]  # (straight out of the shared slot: one copy)

    def _next_piece(self) -> bool:
        if self._len:  # the piece read to its end: its slot goes back to the child
            self._len = self._off = 0
            if not self._done:  # (a child that has sent its end message reads no more)
                with contextlib.suppress(BrokenPipeError):
                    os.write(self._ack, b"\x01")
        if not self._pending and not self._receive():
            self._eof = True
            return False
        pos, n, slot, hits = self._pending.popleft()
        self._taken += 1
        self._at, self._len = slot * self._chunk, n
        if self._scan is not None:
            self._note_hits(pos, self._ringv[self._at : self._at + n], hits)
        return True

    def _note_hits(self, pos: int, piece: memoryview, hits: list[int] | None) -> None:
        scan, tail, overlap = self._scan, self._tail, self._overlap
        ends = scan(piece) if hits is None else hits
        if tail:
            # Occurrences across the boundary: scan the tail with the piece's first bytes (not a
            # copy of the whole piece). Ends within the tail were noted with the previous piece;
            # an end found twice does no harm.
            t = len(tail)
            more = [e - t for e in scan(tail + piece[:overlap]) if e > t]
            if more:
                ends = sorted({*ends, *more})
        self._hits.extend([pos + e for e in ends])
        if overlap > 0:
            self._tail = bytes(piece[-overlap:]) if len(piece) >= overlap else (tail + piece)[-overlap:]
        self._hits_upto = pos + len(piece)

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
        if self._pid:
            if not self._done:
                try:
                    os.kill(self._pid, signal.SIGKILL)  # stopped early: the rest is not wanted
                except ProcessLookupError:
                    pass
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            _live.discard(self._pid)
            self._pid = 0
            self._msgs.close()
            os.close(self._ack)
        self._pending.clear()
        self._ringv.release()
        self._ring.close()
        self._mm.close()

    # ------------------------------------------------------------ checks for the fast path

    def clear(self, a: int, b: int) -> bool:
        """True if no anchor occurrence lies inside the inflated bytes [a, b) (False: there may be).

        Calls come in stream order (a never decreases); [a, b) must already be read.
        """
        if self._scan is None or b > self._hits_upto:
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
        while self._produced < want and self._receive():
            pass
        if self._produced < want and not self._clean:
            raise Anomaly("inflate stopped")

    def member_at(self, u: int) -> int:
        """File offset of the gzip member whose inflated data starts at `u` (u already read)."""
        starts, i = self._starts, self._mi
        n = len(starts)
        while i < n and starts[i][0] < u:
            i += 1
        if i == n or starts[i][0] != u:
            # A record read is a record whose member start the child has already placed (or not).
            raise Anomaly(self._broken or "record does not start a gzip member")
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
            # FastWARC stopped before the end of the data: leave that to the exact reader.
            raise Anomaly("parser stopped early")
        while self._receive():
            pass
        if not self._clean:
            raise Anomaly("inflate failed")
        if not self._complete:
            raise Anomaly(self._broken or "gzip members do not add up")


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
