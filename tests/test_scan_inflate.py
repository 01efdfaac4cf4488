"""The parallel-inflate reader (scan/inflate.py) must give exactly what the exact FastWARC reader gives.

Compared item for item (records with their blocks, and read errors with offsets and messages) on every
corpus file, every truncation of a small archive, byte corruptions, odd gzip layouts, and a large
archive damaged after the fast path has already handed out records (so the hand-over to the exact
reader in mid-file is exercised too).
"""

from __future__ import annotations

import gzip
import itertools
import random
import os
import struct
import zlib
from pathlib import Path

import pytest

from claimwatch.scan import inflate, members, readers
from claimwatch.scan.readers import SCAN_TYPES, NotAnArchive, iter_file
from support_warc import make_pages, write_resource_warc, write_warc
from support_paths import CORPORA

pytestmark = pytest.mark.skipif(not inflate.AVAILABLE, reason="no inflate helper here (deflate not installed, or no fork)")

CORPUS_FILES = sorted(str(p) for p in CORPORA.rglob("*") if p.is_file()) if CORPORA.is_dir() else []


def _both(path: str, types=SCAN_TYPES):
    """(parallel items, exact items), or None when the file is not an archive at all."""
    try:
        fast = list(iter_file(path, types=types, digests=True, parallel=True))
        exact = list(iter_file(path, types=types, digests=True, parallel=False))
    except NotAnArchive:
        return None
    return fast, exact


def _assert_same(path: str, types=SCAN_TYPES):
    got = _both(path, types)
    if got is not None:
        fast, exact = got
        assert fast == exact, path
    return got


def _vouched(path: str, types=None) -> int:
    """Records the fast path gave before its first anomaly (all of them when it had none: -1)."""
    n = 0
    try:
        for item in readers._iter_inflated(path, types, False):
            n += isinstance(item, readers.Record)
    except Exception:  # noqa: BLE001 - an anomaly is what is measured here
        return n
    return -1


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
def test_corpus_files_read_the_same():
    compared = 0
    for path in CORPUS_FILES:
        for types in (SCAN_TYPES, None):
            compared += _assert_same(path, types) is not None
    assert compared >= 40


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")
def test_valid_corpus_gz_files_take_the_fast_path_to_the_end():
    # One record per gzip member (how crawlers write WARC): no anomaly, no second read.
    for rel in ("pywb/iana.warc.gz", "pywb/dupes.warc.gz", "warcio/example.warc.gz", "pywb/example.warc.gz"):
        assert _vouched(str(CORPORA / rel)) == -1, rel


@pytest.mark.parametrize("opts", [{}, {"chunked": True, "revisits": True}, {"content_encoding": "gzip"}])
def test_synthetic_files_take_the_fast_path(tmp_path, opts):
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(12), **opts)
    assert _vouched(path) == -1
    fast, exact = _assert_same(path, None)
    assert len(fast) > 12


def test_every_truncation_reads_the_same(tmp_path):
    src = tmp_path / "full.warc.gz"
    write_warc(str(src), make_pages(4))
    data = src.read_bytes()
    cut_file = tmp_path / "cut.warc.gz"
    for cut in range(1, len(data), max(1, len(data) // 200)):
        cut_file.write_bytes(data[:cut])
        for types in (SCAN_TYPES, None):
            _assert_same(str(cut_file), types)


def test_byte_corruptions_read_the_same(tmp_path):
    src = tmp_path / "full.warc.gz"
    write_warc(str(src), make_pages(5))
    data = src.read_bytes()
    bad = tmp_path / "bad.warc.gz"
    rng = random.Random(5)
    for _ in range(150):
        buf = bytearray(data)
        for _ in range(rng.choice((1, 1, 3))):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(buf))
        _assert_same(str(bad), rng.choice((SCAN_TYPES, None)))


def _members(path: str) -> list[bytes]:
    data = Path(path).read_bytes()
    offsets = [r.offset for r in readers._iter_fastwarc(path, True, None, False)] + [len(data)]
    return [data[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]


@pytest.mark.parametrize(
    "layout",
    ["zero padding between", "zero padding at end", "garbage member", "plain bytes at end",
     "two records in one member", "empty member", "record split over members", "gzip header with name"],
)
def test_odd_gzip_layouts_read_the_same(tmp_path, layout):
    src = str(tmp_path / "src.warc.gz")
    write_warc(src, make_pages(4))
    m = _members(src)
    inflated = [zlib.decompress(x, 31) for x in m]
    if layout == "zero padding between":
        parts = m[:3] + [b"\0" * 7] + m[3:]
    elif layout == "zero padding at end":
        parts = m + [b"\0" * 16]
    elif layout == "garbage member":
        parts = m[:4] + [gzip.compress(b"not a WARC record\r\n\r\n")] + m[4:]
    elif layout == "plain bytes at end":
        parts = m + [b"WARC/1.0\r\n"]
    elif layout == "two records in one member":
        parts = m[:2] + [gzip.compress(inflated[2] + inflated[3])] + m[4:]
    elif layout == "empty member":
        parts = m[:3] + [gzip.compress(b"")] + m[3:]
    elif layout == "record split over members":
        half = len(inflated[4]) // 2
        parts = m[:4] + [gzip.compress(inflated[4][:half]), gzip.compress(inflated[4][half:])] + m[5:]
    else:
        import io

        named = []
        for x in inflated:
            out = io.BytesIO()
            with gzip.GzipFile(filename="rec.warc", mode="wb", fileobj=out, mtime=1) as g:
                g.write(x)
            named.append(out.getvalue())
        parts = named
    path = tmp_path / "odd.warc.gz"
    path.write_bytes(b"".join(parts))
    for types in (SCAN_TYPES, None):
        _assert_same(str(path), types)
    if layout == "gzip header with name":
        assert _vouched(str(path)) == 0  # left to FastWARC's own gzip reader


@pytest.mark.parametrize("damage", ["flip", "cut", "crc"])
def test_damage_after_fast_records_hands_over_mid_file(tmp_path, damage):
    """A file larger than the vouching margin, damaged near its end: the fast path hands out the
    records well before the damage, then the exact reader takes over; the result is the exact one."""
    src = str(tmp_path / "big.warc.gz")
    write_warc(src, make_pages(240, filler_paragraphs=60))
    data = Path(src).read_bytes()
    offsets = [r.offset for r in readers._iter_fastwarc(src, True, None, False)]
    assert sum(len(zlib.decompress(data[a:b], 31)) for a, b in zip(offsets, offsets[1:], strict=False)) > 4 * inflate.MARGIN
    victim = offsets[-40]
    nxt = offsets[-39]
    if damage == "flip":
        bad = data[: victim + 30] + bytes([data[victim + 30] ^ 0x55]) + data[victim + 31 :]
    elif damage == "cut":
        bad = data[: victim + (nxt - victim) // 2]
    else:  # CRC-32 of the member wrong: only its end tells
        bad = data[: nxt - 8] + bytes([data[nxt - 8] ^ 1]) + data[nxt - 7 :]
    path = str(tmp_path / "bad.warc.gz")
    Path(path).write_bytes(bad)
    assert 0 < _vouched(path) < len(offsets) - 40
    for types in (SCAN_TYPES, None):
        fast, exact = _assert_same(path, types)
        assert any(isinstance(x, readers.ReadError) for x in exact)


def _busy() -> bool:
    """A file is under way in this process's inflate helper."""
    return inflate._helper is not None and inflate._helper.busy


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_helper(timeout: float = 10.0) -> int:
    """SIGKILL this process's inflate helper and wait until it has ended (a zombie or reaped: the
    signal is delivered asynchronously); its pid."""
    import signal
    import time

    pid = inflate._helper.pid
    os.kill(pid, signal.SIGKILL)
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return pid
        except FileNotFoundError:
            return pid
        time.sleep(0.005)
    raise AssertionError(f"process {pid} still running")


def test_a_helper_killed_between_files_is_replaced_at_once(tmp_path):
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(30, filler_paragraphs=20))
    exact = list(iter_file(path, parallel=False))
    assert list(iter_file(path, parallel=True)) == exact
    old = _kill_helper()
    # the next file notices before it starts (not after losing its fast path), and reaps the old one
    h = inflate._get_helper()
    assert h.pid not in (0, old) and not _alive(old)
    assert list(iter_file(path, parallel=True)) == exact
    assert inflate._helper is h


def test_abandoned_read_stops_the_helper_and_it_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(inflate, "_AHEAD", 1 << 20)  # the helper then waits for the reader early
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(200, filler_paragraphs=60))
    assert len(gzip.decompress(Path(path).read_bytes())) > 2 * (1 << 20)  # more than the ring (2 slots) holds
    items = iter_file(path, parallel=True)
    next(items)
    assert _busy()
    pid = inflate._helper.pid
    items.close()  # abandoned after one record: the helper stops that file ...
    assert not _busy() and _alive(pid)
    fast = list(iter_file(path, parallel=True))  # ... and serves the next one, all of it
    assert inflate._helper.pid == pid and not _busy()
    assert fast == list(iter_file(path, parallel=False))
    inflate.shutdown()
    assert inflate._helper is None and not _alive(pid)  # killed and reaped (a zombie would answer)


def test_one_helper_serves_every_file_of_a_process(tmp_path):
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(90, filler_paragraphs=60))
    before = set(os.listdir("/proc/self/task"))
    first = list(iter_file(path, parallel=True))
    pid = inflate._helper.pid
    for _ in range(3):
        assert list(iter_file(path, parallel=True)) == first
    assert first == list(iter_file(path, parallel=False))
    assert inflate._helper.pid == pid and not _busy()
    assert set(os.listdir("/proc/self/task")) == before  # a process, not a thread


def test_a_dead_helper_costs_the_fast_path_only(tmp_path):
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(90, filler_paragraphs=60))
    exact = list(iter_file(path, parallel=False))
    items = iter_file(path, parallel=True)
    got = [next(items)]
    # dies mid-file: the exact reader takes over where it stopped (or, on a busy machine, just
    # after it sent the whole file: same answers)
    old = _kill_helper()
    got += list(items)
    assert got == exact
    assert list(iter_file(path, parallel=True)) == exact  # a new helper for the next file
    assert inflate._helper.pid != old and not _alive(old)


def test_forked_children_leave_the_parents_helper_alone(tmp_path):
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(90, filler_paragraphs=60))
    exact = list(iter_file(path, parallel=False))
    assert list(iter_file(path, parallel=True)) == exact
    pid = inflate._helper.pid
    child = os.fork()
    if child == 0:  # (a pool worker would be forked like this) its own helper, same answers
        ok = inflate._helper is None and list(iter_file(path, parallel=True)) == exact
        ok = ok and inflate._helper.pid != pid
        inflate.shutdown()
        os._exit(0 if ok else 1)
    assert os.waitpid(child, 0)[1] == 0
    assert inflate._helper.pid == pid and list(iter_file(path, parallel=True)) == exact


def test_plain_warc_and_arc_do_not_use_the_helper(tmp_path):
    inflate.shutdown()
    path = str(tmp_path / "p.warc")
    write_warc(path, make_pages(3), gzip=False)
    items = iter_file(path, parallel=True)
    next(items)
    assert inflate._helper is None
    _assert_same(path, None)


def test_small_files_are_not_inflated_in_parallel_by_default(tmp_path):
    inflate.shutdown()
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(3))
    items = iter_file(path)
    next(items)
    assert inflate._helper is None
    items.close()


@pytest.mark.timeout(120)
def test_gzip_members_larger_than_their_data_never_stall(tmp_path, monkeypatch, request):
    # Stored (level 0) members are a little larger than what they inflate to: the member walk then
    # runs ahead of the magic search. Small limits make every wait reachable.
    monkeypatch.setattr(members, "SCAN_BYTES", 64 << 10)
    monkeypatch.setattr(inflate, "_AHEAD", 1 << 20)
    inflate.shutdown()  # (a helper forked before the patch would search with the old block size)
    request.addfinalizer(inflate.shutdown)
    src = str(tmp_path / "src.warc.gz")
    write_warc(src, make_pages(40, filler_paragraphs=40))
    stored = b"".join(gzip.compress(zlib.decompress(m, 31), compresslevel=0, mtime=0) for m in _members(src))
    path = tmp_path / "stored.warc.gz"
    path.write_bytes(stored * 12)  # (records repeat: offsets differ, ids do not matter here)
    assert len(stored) * 12 > 4 * (1 << 20)
    assert _vouched(str(path)) == -1
    _assert_same(str(path), None)


def _feed(path: str, piece: int) -> tuple[members.MemberReader, bytes]:
    """Run a MemberReader over the file the way the inflate helper does, `piece` bytes at a time;
    the reader (its starts all kept) and what it gave out."""
    data = Path(path).read_bytes()
    reader = members.MemberReader(data, len(data))
    buf = bytearray(piece)
    out, starts = bytearray(), []
    while n := reader.readinto(memoryview(buf)):
        out += buf[:n]
        starts += reader.starts
        del reader.starts[:]
    reader.starts = starts
    return reader, bytes(out)


@pytest.mark.parametrize("piece", [1, 777, 1 << 20])
def test_member_reader_finds_and_inflates_every_member(tmp_path, piece):
    path = str(tmp_path / "m.warc.gz")
    write_warc(path, make_pages(9), revisits=True)
    parts = _members(path)  # (records in order: member offsets as the exact reader gives them)
    offsets = [0, *itertools.accumulate(len(m) for m in parts[:-1])]
    sizes = [len(zlib.decompress(m, 31)) for m in parts]
    reader, out = _feed(path, piece)
    assert reader.complete and reader.broken is None
    assert out == gzip.decompress(Path(path).read_bytes())
    assert [c for _, c in reader.starts] == offsets
    assert [u for u, _ in reader.starts] == [0, *itertools.accumulate(sizes[:-1])]


@pytest.mark.parametrize("damage", ["cut", "flipped", "tail", "fname", "empty", "huge"])
def test_member_reader_stops_where_the_members_stop_adding_up(tmp_path, monkeypatch, damage):
    # Whatever breaks the walk, what came before it is given out whole and right, and nothing after.
    path = tmp_path / "m.warc.gz"
    write_warc(str(path), make_pages(12))
    parts = _members(str(path))
    k = len(parts) // 2
    broken = list(parts)
    if damage == "cut":
        broken = parts[:k] + [parts[k][: len(parts[k]) // 2]]
    elif damage == "flipped":
        m = bytearray(parts[k])
        m[len(m) // 2] ^= 0x55
        broken[k] = bytes(m)
    elif damage == "tail":
        broken.append(b"not gzip at all, after the last member")
    elif damage == "fname":
        m = bytearray(gzip.compress(zlib.decompress(parts[k], 31), mtime=0))
        m[3] = 0x08  # FNAME set, with a name
        broken[k] = bytes(m[:10]) + b"n.warc\0" + bytes(m[10:])
    elif damage == "empty":
        broken.insert(k, gzip.compress(b"", mtime=0))
    else:
        monkeypatch.setattr(members, "MAX_MEMBER", max(len(zlib.decompress(m, 31)) for m in parts) - 1)
    data = b"".join(broken)
    path.write_bytes(data)
    reader, out = _feed(str(path), 1000)
    assert not reader.complete and reader.broken
    good = len(parts) if damage == "tail" else 0 if damage == "huge" else k
    if damage == "huge":  # (the first member over the limit ends it: which one, the sizes tell)
        sizes = [len(zlib.decompress(m, 31)) for m in parts]
        good = sizes.index(max(sizes))
    if damage == "tail":
        good -= 1  # the last member is not followed by a member: its trailer is not where it says
    assert out == b"".join(zlib.decompress(m, 31) for m in parts[:good])
    assert [c for _, c in reader.starts] == [0, *itertools.accumulate(len(m) for m in parts[: good - 1])][:good]


def _stored_with_magic(tmp_path, pre: bytes, every: int = 3) -> Path:
    """A WARC of stored (level 0) members, every `every`th of whose payloads holds a gzip file after
    `pre`: a stored member keeps those bytes as they are, so a real-looking gzip header sits inside
    member data, after 8 bytes of our choosing (read as the trailer of a member ending there)."""
    payload = b"A" * 2000 + pre + gzip.compress(b"x" * 5000, mtime=0) + b"B" * 2000
    docs = [(f"https://g.example/{i:03d}", payload if i % every == 1 % every else b"plain text " * 300,
             "application/octet-stream") for i in range(40)]
    src = tmp_path / "src.warc.gz"
    write_resource_warc(str(src), docs)
    path = tmp_path / "stored.warc.gz"
    path.write_bytes(b"".join(gzip.compress(zlib.decompress(m, 31), compresslevel=0, mtime=0) for m in _members(str(src))))
    assert pre + b"\x1f\x8b\x08\x00" in path.read_bytes()
    return path


@pytest.mark.parametrize("before", ["implausible", "plausible", "aligned", "zeros"])
def test_gzip_magic_inside_member_data(tmp_path, before):
    crc = 0x12345678
    every = 3
    if before == "aligned":
        # Records all of one size, and the "size" in front of each false magic is that of a whole
        # member: every start the chain then puts on a false magic falls exactly on a record's
        # inflated start, with the wrong file offset, and the records stay aligned to the end.
        # Only the CRC proof can tell.
        every = 1
        probe = _stored_with_magic(tmp_path, b"\0" * 8, every)
        pre = struct.pack("<II", crc, len(zlib.decompress(_members(str(probe))[1], 31)))
    else:
        pre = {"implausible": struct.pack("<II", crc, 0xFFFFFFF0), "plausible": struct.pack("<II", crc, 4000),
               "zeros": b"\0" * 8}[before]
    path = _stored_with_magic(tmp_path, pre, every)
    fast, exact = _assert_same(str(path), None)
    assert len(fast) == 40
    reader, _ = _feed(str(path), 1 << 20)
    if before == "implausible":
        assert reader.complete  # the false magic is passed over: the fast path reads the whole file
        assert _vouched(str(path)) == -1
    else:
        # taken for a member end, then refuted by inflating the member cut there (plausible,
        # aligned) or refused (zeros): the exact reader takes over, and the output above is still
        # the exact one
        assert not reader.complete and reader.broken
        assert _vouched(str(path)) >= 0


@pytest.mark.parametrize("seed, scan_bytes", [(1, 1 << 20), (2, 64), (3, 7), (4, 2)])
def test_member_reader_magic_search_finds_every_magic(monkeypatch, seed, scan_bytes):
    # Magics planted at random places, next to each other, across the edges of the blocks searched
    # at a time and near the end of the data: every search gives the first one at or after its
    # start (bytes.find's answer), refused ones are passed over, and none is given that leaves no
    # room for a whole member.
    monkeypatch.setattr(members, "SCAN_BYTES", scan_bytes)
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(3000).replace(b"\x1f", b"\x00"))
    for at in [0, 1, 6, 7, 63, 64, 65, 127, 500, 501, *rng.sample(range(2, 2970), 40), 2977, 2979, 2981, 2997]:
        data[at : at + 3] = members.MAGIC
    data = bytes(data[:3000])
    every, i = [], data.find(members.MAGIC)
    while i >= 0:
        if i + members.MIN_MEMBER <= len(data):
            every.append(i)
        i = data.find(members.MAGIC, i + 1)
    assert len(every) > 40
    reader = members.MemberReader(data, len(data))
    assert data.find(members.MAGIC, every[-1] + 1) > 0 and reader._next(every[-1] + 1) is None  # (too near the end)
    for at in rng.sample(range(3000), 300):
        assert reader._next(at) == next((q for q in every if q >= at), None)
    reader._from = every[10] + 1  # the walk refused the eleventh
    assert reader._next(every[10]) == every[11] and reader._next(0) == every[11]


def test_file_truncated_while_the_helper_reads_it(tmp_path, monkeypatch):
    # The helper maps the stored file: touching pages cut off under it kills it (SIGBUS). The scan
    # goes on the exact way, which then finds the file cut: records before the cut, then one error
    # (and no "Fatal Python error" dump from the helper: see test below).
    monkeypatch.setattr(inflate, "_AHEAD", 1 << 20)  # a small ring: the helper cannot be past the cut yet
    path = tmp_path / "t.warc.gz"
    write_warc(str(path), make_pages(800, filler_paragraphs=60))
    full = list(iter_file(str(path), parallel=False))
    size = path.stat().st_size
    assert len(gzip.decompress(path.read_bytes())) > 3 * (3 << 20)  # the cut, half way, lies past the ring (3 MiB)
    items = iter_file(str(path), parallel=True)
    got = [next(items)]
    pid = inflate._helper.pid
    os.truncate(path, size // 2)
    got += list(items)
    records = [i for i in got if isinstance(i, readers.Record)]
    errors = [i for i in got if isinstance(i, readers.ReadError)]
    assert records and records == full[: len(records)] and len(records) < len(full)
    assert len(errors) == 1 and errors[0].offset <= size // 2
    # The helper died of it (pages past the cut), or read the zeros of the cut page as bad deflate
    # data and said so; either way it is not busy, and the next scan reads the cut file as it is.
    assert inflate._helper.dead or not inflate._helper.busy
    again = list(iter_file(str(path), parallel=True))
    assert again == list(iter_file(str(path), parallel=False))
    assert [i for i in again if isinstance(i, readers.Record)] == records
    assert inflate._helper.pid == pid or not _alive(pid)  # (a dead one was reaped)


def test_a_helper_killed_by_sigbus_prints_nothing(tmp_path):
    # pytest runs with faulthandler on, which the helper inherits: it must not dump its stack.
    import subprocess
    import sys

    path = tmp_path / "t.warc.gz"
    write_warc(str(path), make_pages(800, filler_paragraphs=60))
    script = (
        "import os, sys\n"
        "from claimwatch.scan import inflate\n"
        "from claimwatch.scan.readers import iter_file\n"
        "inflate._AHEAD = 1 << 20\n"
        "items = iter_file(sys.argv[1], parallel=True)\n"
        "next(items)\n"
        "os.truncate(sys.argv[1], os.path.getsize(sys.argv[1]) // 2)\n"
        "print(sum(1 for _ in items))\n"
    )
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", script, str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout) > 0
    assert "Fatal Python error" not in done.stderr and "Traceback" not in done.stderr
