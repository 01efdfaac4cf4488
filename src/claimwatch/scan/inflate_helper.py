"""The inflate helper: one forked process per scanning process that inflates .warc.gz file after file.

Why a process: FastWARC holds the GIL while it inflates, and an inflate *thread* waited for the GIL
after every C call while the scanner's main thread ran Python (bench/inflate_thread.py). Why one
for all files rather than a fork per file: a fork costs the scanning process its page tables and
copy-on-write faults, and the child its first touch of every ring page -- ~40 ms per file here.

Layout shared with the parent: a ring of `slots` slots of `chunk` bytes in an anonymous shared
mapping (`mmap(-1, ...)` is shared across fork). The file's gzip members are inflated one by one
(members.MemberReader) and copied into the next slot until it is full; the k-th piece of the
helper's life sits in slot k % slots, on both sides.
A second shared mapping, the parcel, carries the (large) anchor scan to the helper.

Parent -> helper (command pipe), framed:
  b"F" + header + path   queue a file (numbered by the parent, from 0); files are inflated in order
  b"a"                   one slot given back (a piece read to its end)
  b"S" + number          abandon that file (the one under way, or a queued one: it then ends at once)
  b"D" + where, length   the anchor scan from now on: a pickle in the parcel at `where` (length 0:
                         none); each one starts a new scan generation
Helper -> parent (message pipe), per file in queue order: one piece message per slot (stream
offset, length, newly proven member starts, anchor hits or -1, the scan generation that found
them), then one end message (every member inflated, the same again -- both false when the member
walk broke --, why it broke, empty when it did not).

Queued files let the helper inflate ahead across files, from before the scanner has built its
detector (inflate.expect). Its messages wait until the first b"D" (the parent sends one when its
first stream opens, before it reads anything), so that the pieces inflated ahead are scanned here
rather than by the parent, which has just finished starting up.
The helper scans a piece for anchors only while the parent is behind (`behind` sent pieces wait,
the one being read included); otherwise the parent does it when it takes the piece (inflate.py).
It exits when the parent closes the command pipe (or dies), and never runs the parent's atexit
handlers or flushes its buffers (os._exit).
"""

from __future__ import annotations

import contextlib
import faulthandler
import mmap
import os
import pickle
import re
import select
import signal
import struct
from array import array
from collections import deque

from claimwatch.scan.members import MemberReader

PIECE = struct.Struct("=cqqiiI")  # b"P", stream offset, length, member starts, hits (-1: not scanned), scan generation
END = struct.Struct("=c??i")  # b"E", clean, chain complete, length of the reason
_FILE = struct.Struct("=cIiI")  # b"F", path length, `behind`, file number
_STOP = struct.Struct("=cI")  # b"S", file number
_SCAN = struct.Struct("=cQI")  # b"D", where in the parcel, length
PARCEL = 16 << 20  # bytes of the parcel (an anchor scan pickles to ~1.6 MB; a bigger one is not sent)
_ACKS = re.compile(rb"a+")


class Gone(Exception):
    """The other side closed its end of a pipe."""


class Helper:
    """The parent's handle on a helper process (see the module docstring)."""

    def __init__(self, slots: int, chunk: int) -> None:
        self.slots, self.chunk = slots, chunk
        self.ring = mmap.mmap(-1, slots * chunk)  # anonymous: shared with the helper
        self.ringv = memoryview(self.ring)
        self.owner = os.getpid()
        self.received = 0  # pieces received over the helper's life (the next sits in slot received % slots)
        self.busy = False  # a stream is attached to a file (its end message not yet received)
        self.dead = False
        self.parcel = mmap.mmap(-1, PARCEL)  # anonymous too: the anchor scan goes over in it
        self.parcel_used = 0
        self.numbered = 0  # files numbered so far
        self.queued: deque[tuple[int, str, int]] = deque()  # (number, path, stored size): sent, no stream yet
        self.scan = None  # the anchor scan last sent (by identity) ...
        self.gen = 0  # ... and its generation
        cmd_r, cmd_w = os.pipe()
        msg_r, msg_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            code = 1
            try:
                os.close(cmd_w)
                os.close(msg_r)
                _serve(cmd_r, msg_w, self.ringv, self.parcel, slots, chunk)
                code = 0
            finally:
                os._exit(code)
        os.close(cmd_r)
        os.close(msg_w)
        self.pid = pid
        self.cmd = cmd_w
        self.msgs = open(msg_r, "rb", buffering=1 << 16)  # noqa: SIM115 - closed in close()

    def send(self, data: bytes) -> None:
        try:
            _write(self.cmd, data)
        except OSError:  # (BrokenPipeError: the helper is gone)
            self.dead = True
            raise

    def queue(self, path: str, behind: int, size: int = 0) -> None:
        """Have the helper inflate `path` after the files already queued."""
        raw = os.fsencode(path)
        self.send(_FILE.pack(b"F", len(raw), behind, self.numbered) + raw)
        self.queued.append((self.numbered, path, size))
        self.numbered += 1

    def attach(self, path: str, behind: int) -> int:
        """The number of the file a new stream of `path` reads: the next queued one, or `path`
        queued now if none is (the caller made sure that any queued file is `path`)."""
        if not self.queued:
            self.queue(path, behind)
        num, queued, _ = self.queued.popleft()
        assert queued == path, (queued, path)
        self.busy = True
        return num

    def use_scan(self, scan) -> int:
        """Make `scan` the helper's anchor scan (unless it already is); its generation. A scan too
        big for the parcel is not sent: the helper scans nothing, and pieces come unscanned."""
        if scan is self.scan and self.gen:  # (the first one is always sent: it ends the hold)
            return self.gen
        blob = pickle.dumps(scan) if scan is not None else b""
        where = self.parcel_used
        if where + len(blob) > PARCEL:
            # Start over at 0. Scans change once per process in a scan (tests: a few times), and
            # the helper takes a D within a piece's time; one it had not yet taken would load what
            # is written here now: the helper then fails or scans with the newer scan, whose hits
            # carry the older generation, which no stream uses any more (a scan is sent when a
            # stream opens, and the stream that sent the older one is closed by then).
            where = 0
            blob = b"" if len(blob) > PARCEL else blob
        self.parcel[where : where + len(blob)] = blob
        self.parcel_used = where + len(blob)
        self.send(_SCAN.pack(b"D", where, len(blob)))
        self.scan, self.gen = scan, self.gen + 1
        return self.gen

    def stop(self, num: int) -> None:
        self.send(_STOP.pack(b"S", num))

    def exited(self) -> bool:
        """True (and the helper reaped) if its process has ended, e.g. killed between two files:
        such a helper would otherwise only be noticed when the next file's first read fails,
        which costs that whole file its fast path."""
        if not self.pid:
            return True
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # (reaped by someone else)
            done = self.pid
        if done:
            self.pid = 0
            self.dead = True
        return bool(done)

    def close(self) -> None:
        """Stop the helper and reap it (also when it is blocked writing to a full pipe)."""
        if self.pid:
            for close in (lambda: os.close(self.cmd), self.msgs.close):
                with contextlib.suppress(OSError):
                    close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        self.dead = True
        with contextlib.suppress(BufferError):  # (a slice of the ring still referenced somewhere)
            self.ringv.release()
            self.ring.close()
        self.parcel.close()

    def forget(self) -> None:
        """In a forked child of the owner: drop the owner's ends without touching the helper."""
        for close in (lambda: os.close(self.cmd), self.msgs.close):
            with contextlib.suppress(OSError):
                close()
        self.pid = 0
        self.dead = True


# ---------------------------------------------------------------- the helper process


def _serve(cmd: int, out: int, ring: memoryview, parcel: mmap.mmap, slots: int, chunk: int) -> None:
    with contextlib.suppress(ValueError):  # (only possible from the main thread)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # A file cut under the mapping kills the helper (SIGBUS) and the parent reads it the exact way:
    # no "Fatal Python error" dump on the user's terminal for that (pytest, -X faulthandler).
    faulthandler.disable()
    state = _Commands(cmd, parcel)
    state.out, state.ring = out, ring
    while True:
        try:
            path, behind = state.next_file()
            _inflate_file(path, behind, state, ring, slots, chunk)
        except Gone:
            return


class _Commands:
    """The helper's side of the command pipe: the file queue, slot counts, stops, the anchor scan."""

    def __init__(self, fd: int, parcel: mmap.mmap) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.parcel = parcel
        self.buf = bytearray()
        self.made = self.freed = 0  # pieces sent / slots given back, over the helper's life
        self.files: deque[tuple[int, str, int]] = deque()  # queued: (number, path, behind)
        self.stopped: set[int] = set()  # queued files abandoned before they started
        self.current = -1  # the file under way ...
        self.stop = False  # ... abandoned
        self.scan = None  # the anchor scan, and its generation (pieces say which one scanned them)
        self.gen = 0
        # Until the first b"D" (sent when the first stream opens, before it reads anything),
        # messages wait here: pieces inflated ahead then get scanned by this side when it comes.
        self.hold = True
        self.held: list = []  # (pos, n, slot, starts, behind) of a piece, or an end message
        self.out, self.ring = -1, None  # set by _serve

    def _read(self, block: bool) -> None:
        if block:
            select.select([self.fd], [], [])
        while True:  # everything there is: a command never waits for the next poll
            try:
                got = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            if not got:
                raise Gone
            self.buf += got
            if len(got) < 1 << 16:
                return

    def poll(self, block: bool = False) -> None:
        """Take the commands that have arrived (waiting for one if `block`)."""
        self._read(block)
        buf, i, n = self.buf, 0, len(self.buf)
        while i < n:
            c = buf[i]
            if c == 0x61:  # b"a"
                j = _ACKS.match(buf, i).end()
                self.freed += j - i
            elif c == 0x53:  # b"S"
                j = i + _STOP.size
                if j > n:
                    break
                num = _STOP.unpack_from(buf, i)[1]
                if num == self.current:
                    self.stop = True
                else:
                    self.stopped.add(num)
            elif c == 0x44:  # b"D"
                j = i + _SCAN.size
                if j > n:
                    break
                _, where, k = _SCAN.unpack_from(buf, i)
                self.scan = pickle.loads(self.parcel[where : where + k]) if k else None
                self.gen += 1
                self.hold = False
            elif c == 0x46:  # b"F"
                j = i + _FILE.size
                if j > n:
                    break
                _, k, behind, num = _FILE.unpack_from(buf, i)
                if j + k > n:
                    break
                self.files.append((num, os.fsdecode(bytes(buf[j : j + k])), behind))
                j += k
            else:
                raise Gone  # (not our parent's protocol: stop; the parent then reads the exact way)
            i = j
        del buf[:i]
        if self.held and not self.hold:
            held, self.held = self.held, []
            for item in held:
                if type(item) is tuple:
                    self.send_piece(*item)
                else:
                    self.send_end(item)

    def send_piece(self, pos: int, n: int, slot: int, starts: list[tuple[int, int]], behind: int) -> None:
        """The piece message of ring[slot:slot+n], scanned here while the parent is behind."""
        if self.hold:
            self.held.append((pos, n, slot, starts, behind))
            return
        scan, gen = self.scan, self.gen
        behind_now = self.made - self.freed > behind  # (`made` counts this piece too)
        hits = scan(self.ring[slot : slot + n]) if scan is not None and behind_now else None
        flat = array("q", [x for s in starts for x in s])
        found = array("q", hits or ())
        _write(self.out, PIECE.pack(b"P", pos, n, len(starts), -1 if hits is None else len(hits), gen)
               + flat.tobytes() + found.tobytes())

    def send_end(self, msg: bytes) -> None:
        if self.hold:
            self.held.append(msg)
            return
        try:
            _write(self.out, msg)
        except OSError:
            raise Gone from None

    def next_file(self) -> tuple[str, int]:
        """The next queued file (waiting for one), now the one under way."""
        while not self.files:
            self.poll(block=True)
        num, path, behind = self.files.popleft()
        self.current = num
        self.stop = num in self.stopped
        self.stopped.discard(num)
        return path, behind


def _inflate_file(path: str, behind: int, cmd: _Commands, ring: memoryview, slots: int, chunk: int) -> None:
    clean, complete, why, mm, reader = False, False, b"", None, None
    try:
        if cmd.stop:
            raise OSError("abandoned before it started")
        with open(path, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        reader = MemberReader(mm, len(mm))
        pos = 0
        while True:
            cmd.poll()
            while cmd.made - cmd.freed >= slots and not cmd.stop:  # the ring is full: wait for the parent
                cmd.poll(block=True)
            if cmd.stop:
                break
            slot = (cmd.made % slots) * chunk
            n = reader.readinto(ring[slot : slot + chunk])
            if not n:
                clean = reader.complete  # (not clean: the walk broke, what came before stands)
                break
            starts = reader.starts[:]  # (the first message also carries the start at 0)
            del reader.starts[:]  # sent: the parent keeps them
            cmd.poll()
            cmd.made += 1  # (the slot is taken: counted before the scan decides whether the parent is behind)
            cmd.send_piece(pos, n, slot, starts, behind)
            pos += n
    except Gone:
        raise
    except Exception:  # noqa: BLE001 - any error only means "take the exact path"
        clean = False
    finally:
        if reader is not None:
            complete, why = reader.complete, (reader.broken or "").encode()
            reader.close()
        reader = None  # (the reader holds a view of the mapping)
        if mm is not None:
            with contextlib.suppress(BufferError):
                mm.close()
    cmd.send_end(END.pack(b"E", clean, complete, len(why)) + why)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
