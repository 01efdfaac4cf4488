"""What the inflate thread costs when the main thread is busy: the GIL hand-over, measured.

    .venv/bin/python bench/inflate_thread.py [--files 8]

The scanner's fast reader once did this work in a thread (src/claimwatch/scan/inflate.py; since the
fifth session it runs in a forked helper process, because of what this shows): it inflates the
gzip members (then with python-isal's streaming reader, since the eighth session member by member
with libdeflate: scan/members.py) and scans for the prefilter's anchors with Hyperscan, piece
by piece; the C calls release the GIL, and after each one the thread needs it back for a few
Python steps. This runs that
same per-piece work over the bench corpus (bench/_data, made by scan_bench.py) four ways and prints
wall and CPU seconds:

* in the main thread alone (no second thread at all);
* in a thread while the main thread sleeps;
* in a thread while the main thread runs pure Python (as the scanner's main thread mostly does),
  with the interpreter's default switch interval (5 ms) and with 0.5 ms.

A thread that wants the GIL back waits until the holder drops it, at the latest after the switch
interval; the comparison shows how much of the inflate thread's time is that waiting.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import mmap
import sys
import threading
import time
from pathlib import Path

from claimwatch.detect.prefilter import anchor_ends
from claimwatch.scan.members import MemberReader

DATA = Path(__file__).resolve().parent / "_data"
PIECE = 1 << 20  # as inflate._CHUNK (--piece-mib to try others)


def inflate_all(files: list[Path]) -> int:
    """The inflate thread's per-piece work over `files`; returns the inflated bytes."""
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        reader = MemberReader(mm, len(mm))
        buf = memoryview(bytearray(PIECE))
        pos = 0
        while n := reader.readinto(buf):
            anchor_ends(buf[:n])
            del reader.starts[:]
            pos += n
        assert reader.complete, reader.broken
        total += pos
        reader.close()
        mm.close()
    return total


def in_thread(files: list[Path], busy: bool) -> tuple[float, float]:
    out = {}

    def work():
        t, w = time.thread_time(), time.perf_counter()
        inflate_all(files)
        out["cpu"], out["wall"] = time.thread_time() - t, time.perf_counter() - w

    th = threading.Thread(target=work)
    th.start()
    x = 0
    while th.is_alive():
        if busy:
            for i in range(2000):  # pure Python: holds the GIL until asked to drop it
                x += i
        else:
            time.sleep(0.005)
    th.join()
    return out["wall"], out["cpu"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--piece-mib", type=int, default=1)
    args = ap.parse_args()
    global PIECE
    PIECE = args.piece_mib << 20
    files = sorted(DATA.glob("*.warc.gz"))[: args.files]
    if not files:
        sys.exit("no corpus in bench/_data: run bench/scan_bench.py first")
    anchor_ends(b"warm up")
    t, w = time.thread_time(), time.perf_counter()
    size = inflate_all(files)
    rows = [("main thread alone", time.perf_counter() - w, time.thread_time() - t)]
    rows.append(("thread, main thread sleeping", *in_thread(files, busy=False)))
    for interval in (0.005, 0.0005):
        sys.setswitchinterval(interval)
        rows.append((f"thread, main thread busy, switch interval {interval * 1000:g} ms", *in_thread(files, busy=True)))
    sys.setswitchinterval(0.005)
    print(f"{len(files)} files, {size / 1e6:.0f} MB inflated in {PIECE >> 20} MiB pieces (inflate member by member + anchor scan)")
    print("| how | wall s | CPU s of that thread |\n| --- | ---: | ---: |")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
