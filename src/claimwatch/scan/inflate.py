"""Inflate a .warc.gz file in a helper process, for FastWARC to parse as plain WARC.

FastWARC 2 holds the GIL while it inflates, so its gzip work (most of its time) cannot overlap with
the scanner's own work. A thread does not help much either: the scanner's main thread is busy
Python, and every time an inflate thread comes back from a C call it waits for the GIL (up to the
switch interval), which left it far below its own speed (bench/inflate_thread.py). So the inflate
work runs in a helper process (inflate_helper.py: forked once per scanning process, it inflates
file after file into a ring of shared-memory slots and sends one small message per slot), and
`InflatedStream` is the file-like FastWARC reads (`read`, `tell`, and `seek` to where it already
is, which is all FastWARC 2 asks of a stream), straight out of the shared slots.

The prefilter's anchor scan over the inflated stream is shared out between the two processes: the
helper scans a piece (and sends the hits with it) only while this side is behind, i.e. while more
than the piece being read waits; otherwise this side scans the piece when it takes it. Whoever has
spare time does it, and the results are the same either way.

What the fast path gives up and gets back:

* Offsets. FastWARC reports positions in the inflated stream; records must keep the offset of
  their gzip member in the stored file. `members.MemberReader` finds the members in the helper
  and inflates each on its own (libdeflate checks that it ends where the next starts, and its
  CRC-32 and size), and the helper sends the proven starts along, so this side only looks them up.
* Damage and odd layouts. libdeflate, FastWARC and our tail check do not agree on damaged gzip data,
  and FastWARC's own gzip reader has quirks (optional header fields), so nothing here reports
  damage: anything unexpected (inflate error, a record not starting a member, an empty member, a
  header with FNAME/FEXTRA/..., members not tiling the file, a helper that died) raises `Anomaly`,
  and readers.py re-reads the file the exact way, skipping what it already handed out. A record is
  handed out only when the next one (or the end of the file) confirms its member, and once `MARGIN`
  more bytes inflated cleanly after it (or the file ended cleanly): damage further on does not
  change what the exact reader returns up to there (it stops at the damaged member, tests show).

Only where `os.fork` is safe (Linux, like the local engine's workers); elsewhere every file takes
the exact path.
"""

from __future__ import annotations

import contextlib
import os
import sys
from array import array
from collections import deque
from collections.abc import Callable

try:  # deflate (libdeflate): optional; without it every file takes the exact path
    from claimwatch.scan import inflate_helper
except ImportError:  # pragma: no cover - depends on the environment
    inflate_helper = None

AVAILABLE = inflate_helper is not None and hasattr(os, "fork") and sys.platform.startswith("linux")

_CHUNK = 1 << 20  # inflated bytes per slot of the ring (one message each)
# Bytes of ring: the helper waits when this much is inflated but not yet read. 32 MiB is plenty once
# a file is being read ...
_AHEAD = 32 << 20
# ... but a helper started by expect() holds the head start of a one-worker scan, forked before the
# CLI's imports (scan/prestart.py): ~0.5 s to fill on a slow run, first touches included (~6 us a
# page here: 0.14 s for 96 MiB). 32 MiB left it idle for 0.1-0.3 s of the start-up; 128 only adds
# first touches (docs/scan.md). Only such a helper gets the bigger ring: workers of a many-worker
# scan each have their own helper, and need no head start.
_HEAD_START = 96 << 20
_QUEUE_FILES = 16  # expect(): at most this many files queued ahead of the one being read ...
_QUEUE_BYTES = 64 << 20  # ... and no more once two are queued and their stored bytes reach this
MARGIN = 256 << 10  # clean inflated bytes required after a record before it is vouched for
_BEHIND = 2  # the helper scans a piece for anchors when this many sent pieces wait (the one being read too)
_HEADER_MAX = 1 << 16  # block_clear() looks this far for the end of a record's WARC header

_helper = None  # this process's inflate helper (started at the first file that needs it)
_expected: list[str] | None = None  # expect(): the paths announced ...
_upcoming = None  # ... and an iterator over the (path, stored size) of those not yet queued


def _get_helper(head_start: bool = False):
    """The helper for this process, started (again) if there is none, it died, or its ring is not
    the one wanted: _HEAD_START's for `head_start` (expect(), and streams of the files it queued),
    else _AHEAD's (tests change both)."""
    global _helper
    h = _helper
    # (vouch() waits for MARGIN bytes beyond the piece being read: the ring must hold them besides)
    slots = max(2, (_HEAD_START if head_start else _AHEAD) // _CHUNK, 2 + -(-MARGIN // _CHUNK))
    if h is not None and (
        h.dead or h.owner != os.getpid() or (h.slots, h.chunk) != (slots, _CHUNK) or h.exited()
    ):
        shutdown()
        h = None
    if h is None:
        h = _helper = inflate_helper.Helper(slots, _CHUNK)
    return h


def expect(paths: list[str], parallel) -> None:
    """Start the helper now on the files that streams will be opened for next, in this order:
    `parallel` iterates over the (path, stored size) of those among `paths` that will be read
    through an `InflatedStream` (readers.expect decides). The helper inflates ahead across them
    (a few at a time, topped up as streams open) while this process goes on starting up. A stream
    opened for any other file first drops the queue, and the helper, then starts afresh: never a
    wrong result, only the head start lost. Again with the same `paths`: nothing to do."""
    global _expected, _upcoming
    if not AVAILABLE or paths == _expected:
        return
    shutdown()
    _expected, _upcoming = list(paths), iter(parallel)
    try:
        _top_up(_get_helper(head_start=True))
    except OSError:  # (the helper is gone already: streams start their own)
        shutdown()


def _top_up(h) -> None:
    global _upcoming
    while _upcoming is not None and len(h.queued) < _QUEUE_FILES and (
        len(h.queued) < 2 or sum(size for _, _, size in h.queued) < _QUEUE_BYTES
    ):
        nxt = next(_upcoming, None)
        if nxt is None:
            _upcoming = None
            return
        h.queue(nxt[0], _BEHIND, nxt[1])


def shutdown() -> None:
    """Stop this process's helper (it also stops by itself when this process exits). In a forked
    child (a pool worker, the helper itself) only the parent's ends are dropped: never use or stop
    the parent's helper. Files announced with expect() are no longer queued ahead."""
    global _helper, _expected, _upcoming
    _expected = _upcoming = None
    h, _helper = _helper, None
    if h is not None:
        if h.owner == os.getpid():
            h.close()
        else:
            h.forget()


if AVAILABLE:
    os.register_at_fork(after_in_child=shutdown)


class Anomaly(Exception):
    """The fast path cannot vouch for what follows; read the file the exact way."""


class InflatedStream:
    """The inflated content of a gzip file, produced by the helper process."""

    def __init__(self, path: str, anchors: tuple[Callable[[bytes], list[int]], int] | None = None) -> None:
        h = _helper
        # (the file expect() queued next: keep its helper, and the head start in its bigger ring)
        h = _get_helper(head_start=h is not None and bool(h.queued) and h.queued[0][1] == path)
        # A stream not closed (its pieces are still coming), or files queued that are not this one
        # (expect() announced other files): start afresh.
        if h.busy or (h.queued and h.queued[0][1] != path):
            shutdown()
            h = _get_helper()
        self._h = h
        self._ring, self._ringv, self._chunk, self._slots = h.ring, h.ringv, h.chunk, h.slots
        self._msgs = h.msgs
        self._pending: deque[tuple[int, int, int, list[int] | None]] = deque()  # (pos, n, slot, hits)
        self._produced = 0  # inflated bytes announced so far
        self._done = False  # the end message arrived (or the helper is gone)
        self._clean = False  # every member of the file inflated without error
        self._complete = False  # ... and the proven member chain tiles it
        self._broken: str | None = None
        self._at = self._len = self._piece_pos = 0  # the piece being read: in the ring, its length, in the stream ...
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
        try:
            self._num = h.attach(path, _BEHIND)  # (the file's number: a stop names it)
            self._gen = h.use_scan(self._scan)  # pieces scanned by another scan are scanned again
            _top_up(h)
        except OSError:
            shutdown()
            raise Anomaly("inflate helper gone") from None

    # ------------------------------------------------------------ messages from the helper

    def _receive(self) -> bool:
        """Read one message (blocking); False when there is none left."""
        if self._done:
            return False
        h, rd = self._h, self._msgs
        P, E = inflate_helper.PIECE, inflate_helper.END
        try:
            head = rd.read(P.size if rd.peek(1)[:1] == b"P" else E.size)
            if head[:1] == b"P" and len(head) == P.size:
                _, pos, n, nstarts, nhits, gen = P.unpack(head)
                size = 16 * nstarts + 8 * max(nhits, 0)
                raw = rd.read(size)
                if len(raw) == size:
                    flat = array("q", raw[: 16 * nstarts]).tolist()
                    self._starts.extend(zip(flat[0::2], flat[1::2]))
                    hits = array("q", raw[16 * nstarts :]).tolist() if nhits >= 0 and gen == self._gen else None
                    self._pending.append((pos, n, h.received % self._slots, hits))
                    h.received += 1
                    self._produced = pos + n
                    return True
            elif head[:1] == b"E" and len(head) == E.size:
                _, self._clean, self._complete, k = E.unpack(head)
                why = rd.read(k)
                if len(why) == k:
                    self._broken = why.decode("utf-8", "replace") or None
                    self._done = True
                    h.busy = False
                    return False
        except (OSError, ValueError):  # (a closed pipe)
            pass
        # a helper that died (mid-message): nothing more will come, and it must not be used again
        self._clean = False
        self._done = h.dead = True
        return False

    def _give_back(self, pieces: int = 1) -> None:
        """Tell the helper that `pieces` slots are free again (it counts them over its life)."""
        if not self._h.dead:
            with contextlib.suppress(OSError):  # (a dead helper: _receive notices)
                self._h.send(b"a" * pieces)

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
        if self._len:  # the piece read to its end: its slot goes back to the helper
            self._len = self._off = 0
            self._give_back()
        if not self._pending and not self._receive():
            self._eof = True
            return False
        pos, n, slot, hits = self._pending.popleft()
        self._at, self._len, self._piece_pos = slot * self._chunk, n, pos
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
        """Give every slot of this file back, first stopping the helper if it is not done."""
        if self._h is None:
            return
        if not self._done and not self._h.dead:
            with contextlib.suppress(OSError):
                self._h.stop(self._num)  # stopped early: the rest is not wanted
        held = len(self._pending) + (1 if self._len else 0)
        self._pending.clear()
        self._len = 0
        while self._receive():  # (pieces still on their way, until the end message)
            self._pending.clear()
            held += 1
        if held:
            self._give_back(held)
        self._h = None

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

    def block_clear(self, u: int, block: bytes) -> bool | None:
        """clear() over exactly the bytes of `block`, the record at `u` having just been read: its
        WARC header, and the request and metadata records that follow it, often hold an anchor
        (base32 digests spell "1:n", "joy", ...) that its block does not. None when the piece being
        read no longer holds the record whole: ask clear() over its whole range then.

        The block is looked for after the first blank line following `u` and compared byte for
        byte with `block`: a wrong guess only gives None, and a right one means the hits inside
        those bytes are exactly the anchors in `block`. Calls come in stream order, like clear()'s."""
        if self._scan is None:
            return None
        # FastWARC has the block from this stream: it lies between u and the read position. With
        # no anchor there at all (most records), nothing needs finding or comparing.
        if self.clear(u, self._pos):
            return True
        start, size, at = self._piece_pos, self._len, self._at
        if not start <= u < start + size:
            return None
        lo, hi = at + u - start, at + size
        ring = self._ring
        # the first blank line: CRLF as WARC writes them, a bare LF before it only if there is one
        # (each search stops where the other found one: a search that finds nothing reads it all)
        crlf = ring.find(b"\n\r\n", lo, min(hi, lo + _HEADER_MAX))
        lf = ring.find(b"\n\n", lo, crlf if crlf >= 0 else min(hi, lo + _HEADER_MAX))
        if lf < 0 and crlf < 0:
            return None
        b, n = (lf + 2 if lf >= 0 else crlf + 3), len(block)
        if b + n > hi or ring[b : b + n] != block:  # (an mmap slice compares at memcmp speed)
            return None
        s = start + b - at
        return self.clear(s, s + n)

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
            # A record read is a record whose member start the helper has already placed (or not).
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
            raise Anomaly(self._broken or "inflate failed")
        if not self._complete:
            raise Anomaly(self._broken or "gzip members do not add up")
