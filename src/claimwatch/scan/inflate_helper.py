"""The inflate helper: one forked process per scanning process that inflates .warc.gz file after file.

Why a process: FastWARC holds the GIL while it inflates, and an inflate *thread* waited for the GIL
after every C call while the scanner's main thread ran Python (bench/inflate_thread.py). Why one
for all files rather than a fork per file: a fork costs the scanning process its page tables and
copy-on-write faults, and the child its first touch of every ring page -- ~40 ms per file here.

Layout shared with the parent: a ring of `slots` slots of `chunk` bytes in an anonymous shared
mapping (`mmap(-1, ...)` is shared across fork). ISA-L's multi-member gzip reader inflates straight
into the next slot; the k-th piece of the helper's life sits in slot k % slots, on both sides.

Parent -> helper (command pipe): b"F" + header + path + pickled scan function (or b"") starts a
file (only while the helper is idle); b"a" gives one slot back (a piece read to its end); b"S"
abandons the current file. Helper -> parent (message pipe), per file: one piece message per slot
(stream offset, length, newly proven member starts, anchor hits or -1), then one end message
(clean, member chain complete, why it broke, empty when it did not).

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
import select
import signal
import struct
from array import array

from isal.isal_zlib import _GzipReader

from claimwatch.scan.members import MemberChain

PIECE = struct.Struct("=cqqii")  # b"P", stream offset, length, member starts, hits (-1: not scanned)
END = struct.Struct("=c??i")  # b"E", clean, chain complete, length of the reason
_START = struct.Struct("=cIIi")  # b"F", path length, pickled scan length, `behind`


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
        self.busy = False  # a file is under way (its end message not yet received)
        self.dead = False
        cmd_r, cmd_w = os.pipe()
        msg_r, msg_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            code = 1
            try:
                os.close(cmd_w)
                os.close(msg_r)
                _serve(cmd_r, msg_w, self.ringv, slots, chunk)
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

    def start(self, path: str, scan, behind: int) -> None:
        """Begin a file (the previous one must have ended)."""
        raw = os.fsencode(path)
        fn = pickle.dumps(scan) if scan is not None else b""
        self.send(_START.pack(b"F", len(raw), len(fn), behind) + raw + fn)
        self.busy = True

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

    def forget(self) -> None:
        """In a forked child of the owner: drop the owner's ends without touching the helper."""
        for close in (lambda: os.close(self.cmd), self.msgs.close):
            with contextlib.suppress(OSError):
                close()
        self.pid = 0
        self.dead = True


# ---------------------------------------------------------------- the helper process


def _serve(cmd: int, out: int, ring: memoryview, slots: int, chunk: int) -> None:
    with contextlib.suppress(ValueError):  # (only possible from the main thread)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # A file cut under the mapping kills the helper (SIGBUS) and the parent reads it the exact way:
    # no "Fatal Python error" dump on the user's terminal for that (pytest, -X faulthandler).
    faulthandler.disable()
    state = _Commands(cmd)
    while True:
        try:
            path, scan, behind = state.next_file()
        except Gone:
            return
        try:
            _inflate_file(path, scan, behind, state, out, ring, slots, chunk)
        except Gone:
            return


class _Commands:
    """The helper's side of the command pipe: slot counts, stop requests, file starts."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.buf = b""
        self.made = self.freed = 0  # pieces sent / slots given back, over the helper's life
        self.stop = False

    def _read(self, block: bool) -> None:
        if block:
            select.select([self.fd], [], [])
        try:
            got = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        if not got:
            raise Gone
        self.buf += got

    def poll(self, block: bool = False) -> None:
        """Take acknowledgements and stop requests (a file is under way: nothing else comes)."""
        self._read(block)
        if self.buf:
            self.freed += self.buf.count(b"a")
            self.stop = self.stop or b"S" in self.buf
            self.buf = b""

    def next_file(self):
        """Wait for the next b"F" command (taking the acknowledgements that come before it)."""
        self.stop = False
        while True:
            at = self.buf.find(b"F")
            if at < 0:
                self.freed += self.buf.count(b"a")
                self.buf = b""
            else:
                self.freed += self.buf.count(b"a", 0, at)
                self.buf = self.buf[at:]
                if len(self.buf) >= _START.size:
                    _, n, k, behind = _START.unpack_from(self.buf)
                    if len(self.buf) >= _START.size + n + k:
                        raw = self.buf[_START.size : _START.size + n]
                        fn = self.buf[_START.size + n : _START.size + n + k]
                        self.buf = self.buf[_START.size + n + k :]
                        return os.fsdecode(raw), pickle.loads(fn) if fn else None, behind
            self._read(block=True)


def _inflate_file(path: str, scan, behind: int, cmd: _Commands, out: int, ring: memoryview,
                  slots: int, chunk: int) -> None:
    clean, complete, why, chain, mm, reader = False, False, b"", None, None, None
    try:
        with open(path, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        chain = MemberChain(mm, len(mm))
        reader = _GzipReader(memoryview(mm))
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
                chain.end()
                clean = True
                break
            piece = ring[slot : slot + n]
            chain.add(pos, piece)
            starts = chain.starts[:]  # (the first message also carries the start at 0)
            del chain.starts[:]  # sent: the parent keeps them
            cmd.poll()
            hits = scan(piece) if scan is not None and cmd.made - cmd.freed >= behind else None
            flat = array("q", [x for s in starts for x in s])
            found = array("q", hits or ())
            _write(out, PIECE.pack(b"P", pos, n, len(starts), -1 if hits is None else len(hits))
                   + flat.tobytes() + found.tobytes())
            pos += n
            cmd.made += 1
    except Gone:
        raise
    except Exception:  # noqa: BLE001 - any inflate error only means "take the exact path"
        clean = False
    finally:
        if chain is not None:
            complete, why = chain.complete, (chain.broken or "").encode()
        reader = chain = None  # (the reader holds a view of the mapping)
        if mm is not None:
            with contextlib.suppress(BufferError):
                mm.close()
    try:
        _write(out, END.pack(b"E", clean, complete, len(why)) + why)
    except OSError:
        raise Gone from None


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
