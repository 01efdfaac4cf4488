"""Files announced ahead (readers.expect): one inflate helper inflates them in queue order, ahead of
the reader and across files, and the answers stay the exact reader's whatever order the files are
then read in, however early a read is abandoned, and whichever anchor scan each reader uses."""

from __future__ import annotations

import dataclasses
import os
import pickle
import select
import subprocess
import sys
import time

import hyperscan
import pytest

from claimwatch.detect.prefilter import anchor_ends
from claimwatch.scan import inflate, readers, worker
from claimwatch.scan.anchorscan import AnchorScan
from claimwatch.scan.readers import iter_file
from support_warc import make_pages, write_warc

pytestmark = pytest.mark.skipif(not inflate.AVAILABLE, reason="no inflate helper here (deflate not installed, or no fork)")


@pytest.fixture(autouse=True)
def _fresh_helper(monkeypatch):
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 1)  # small test files take the helper too
    inflate.shutdown()
    yield
    inflate.shutdown()


def _files(tmp_path, n: int, pages: int = 40) -> list[str]:
    paths = []
    for i in range(n):
        p = str(tmp_path / f"f{i}.warc.gz")
        write_warc(p, make_pages(pages, seed=i, filler_paragraphs=40))
        paths.append(p)
    return paths


def _exact(path: str) -> list:
    return list(iter_file(path, parallel=False))


def _checked(items: list) -> list:
    """`items` without their anchor_free flags, each flag checked against the record's own bytes
    first (the exact reader does not scan, so its records all say False)."""
    out = []
    for it in items:
        if isinstance(it, readers.Record):
            assert not it.anchor_free or anchor_ends(it.block) == [], it.uri
            it = dataclasses.replace(it, anchor_free=False)
        out.append(it)
    return out


def _wait_for_pieces(h, timeout: float = 10.0) -> None:
    """Until the helper has sent something, i.e. it works before any reader asks."""
    ready, _, _ = select.select([h.msgs], [], [], timeout)
    assert ready, "the helper sent nothing"


def _ahead_by(h, files: int, timeout: float = 10.0) -> None:
    """Give the helper time to inflate `files` whole files ahead (their end messages sent)."""
    time.sleep(0.2 * files)
    _wait_for_pieces(h, timeout)


def test_announced_files_are_inflated_ahead_and_scanned_by_the_helper(tmp_path, monkeypatch):
    paths = _files(tmp_path, 4, pages=200)  # (two pieces each)
    readers.expect(paths)
    h = inflate._helper
    assert [p for _, p, _ in h.queued] == paths  # (small files: all of them at once)
    _helper_waits(h)  # all inflated before any stream opens ...
    assert not select.select([h.msgs], [], [], 0)[0]  # ... and held back until the first one does
    by_helper = []
    note = inflate.InflatedStream._note_hits
    monkeypatch.setattr(inflate.InflatedStream, "_note_hits",
                        lambda self, pos, piece, hits: (by_helper.append(hits is not None), note(self, pos, piece, hits))[1])
    for p in paths:
        assert _checked(list(iter_file(p, anchors=worker.anchors()))) == _exact(p)
    assert len(by_helper) == 8 and all(by_helper)  # the scan came with the first stream: the helper scanned them
    assert inflate._helper is h and not h.queued and not h.busy
    readers.expect(paths)  # the same announcement again: nothing changes
    assert inflate._helper is h


def test_the_queue_is_topped_up_as_streams_open(tmp_path, monkeypatch):
    monkeypatch.setattr(inflate, "_QUEUE_FILES", 2)
    paths = _files(tmp_path, 5, pages=10)
    readers.expect(paths)
    h = inflate._helper
    assert [p for _, p, _ in h.queued] == paths[:2]
    for i, p in enumerate(paths):
        assert list(iter_file(p)) == _exact(p)
        assert [q for _, q, _ in h.queued] == paths[i + 1 : i + 3]  # topped up when its stream opened
    assert inflate._helper is h


def test_files_not_announced_are_not_queued(tmp_path):
    paths = _files(tmp_path, 2, pages=5)
    plain = str(tmp_path / "p.warc")
    write_warc(plain, make_pages(3), gzip=False)
    missing = str(tmp_path / "missing.warc.gz")
    readers.expect([plain, paths[0], missing, paths[1]])
    assert [p for _, p, _ in inflate._helper.queued] == paths  # only what iter_file reads in parallel
    for p in (plain, paths[0], paths[1]):
        assert list(iter_file(p)) == _exact(p)


def test_reading_another_file_first_starts_afresh(tmp_path):
    a, b = _files(tmp_path, 2)
    readers.expect([a, b])
    first = inflate._helper.pid
    _helper_waits(inflate._helper)  # (done with both)
    assert list(iter_file(b)) == _exact(b)  # not the one queued first: a new helper
    assert inflate._helper.pid != first and not inflate._helper.queued
    assert list(iter_file(a)) == _exact(a)


def test_only_the_helper_of_announced_files_gets_the_head_start_ring(tmp_path):
    a, b = _files(tmp_path, 2, pages=5)
    big, small = inflate._HEAD_START // inflate._CHUNK, inflate._AHEAD // inflate._CHUNK
    assert big > small
    readers.expect([a, b])
    h = inflate._helper
    assert h.slots == big
    for p in (a, b):  # the files announced keep that helper
        assert list(iter_file(p)) == _exact(p)
        assert inflate._helper is h
    assert list(iter_file(a)) == _exact(a)  # another stream (not announced): a helper of its own size
    assert inflate._helper is not h and inflate._helper.slots == small
    inflate.shutdown()
    assert list(iter_file(b)) == _exact(b) and inflate._helper.slots == small


def _helper_waits(h, timeout: float = 10.0) -> None:
    """Until the helper sleeps (its ring full: waiting for a slot), seen twice in a row."""
    stop, seen = time.monotonic() + timeout, 0
    while time.monotonic() < stop and seen < 2:
        with open(f"/proc/{h.pid}/stat") as f:
            seen = seen + 1 if f.read().rsplit(")", 1)[1].split()[0] == "S" else 0
        time.sleep(0.02)
    assert seen == 2, "the helper never waited"


@pytest.mark.parametrize("where", ["on that file", "on the next file"])
def test_abandoning_a_file_never_stops_the_next(tmp_path, monkeypatch, where):
    # where the helper is when the stop arrives: still inflating the abandoned file, or already
    # waiting with the next file's pieces in a full ring
    monkeypatch.setattr(inflate, "_HEAD_START", 2 << 20)  # (4 slots in the ring of expect()'s helper)
    # (two pieces: the reader holds the first, and has not yet had the end of the file)
    a = _files(tmp_path, 1, pages=800 if where == "on that file" else 200)[0]
    b = str(tmp_path / "b.warc.gz")
    write_warc(b, make_pages(800, seed=9, filler_paragraphs=40))
    readers.expect([a, b])
    h = inflate._helper
    items = iter_file(a)
    next(items)
    _helper_waits(h)
    items.close()
    assert not h.busy and inflate._helper is h
    # the second file is read whole on the fast path (no hand-over to the exact reader)
    fast = list(readers._iter_inflated(b, readers.SCAN_TYPES, False))
    assert fast == _exact(b) and inflate._helper is h


def _literal_scan(*words: bytes) -> AnchorScan:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=list(words), ids=list(range(len(words))), elements=len(words),
               flags=hyperscan.HS_FLAG_CASELESS, literal=True)
    return AnchorScan(db)


def _read_all(stream) -> bytes:
    out = []
    while chunk := stream.read():
        out.append(bytes(chunk))
    return b"".join(out)


def test_pieces_scanned_with_another_scan_are_scanned_again(tmp_path):
    a = _files(tmp_path, 1)[0]
    b = str(tmp_path / "b.warc.gz")  # (pieces enough that the helper scans some: see _BEHIND)
    write_warc(b, make_pages(800, seed=9, filler_paragraphs=40))
    first, second = _literal_scan(b"the"), _literal_scan(b"vendor", b"WARC")
    readers.expect([a, b])
    h = inflate._helper
    s = inflate.InflatedStream(a, (first, 3))
    _read_all(s)
    s.close()
    _ahead_by(h, 1)  # b inflated meanwhile, its pieces scanned with `first` (this side was behind)
    s = inflate.InflatedStream(b, (second, 6))
    data = _read_all(s)
    got = set(s._hits)
    s.finish()
    s.close()
    want = set(second(data))
    assert want and want != set(first(data))
    assert got == want


def test_anchor_scan_pickles_as_its_database(tmp_path):
    scan = worker.anchors()[0]
    data = b"".join(make_pages(30, filler_paragraphs=5)[i].body for i in range(30))
    data += "维吾尔族 skin colour 膚色".encode() + "维吾尔".encode("gbk")
    again = pickle.loads(pickle.dumps(scan))
    assert again(data) == scan(data) == anchor_ends(data) and scan(data)
    # what an early helper pays to load it: Hyperscan only, not the detector (the lexicon, its tables)
    blob = tmp_path / "scan.pickle"
    blob.write_bytes(pickle.dumps(scan))
    code = ("import pickle, sys; s = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(s(b'uyghur'), sorted(m for m in sys.modules if m.startswith('claimwatch.detect')))")
    out = subprocess.run([sys.executable, "-c", code, str(blob)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == ["[6]", "[]"]
