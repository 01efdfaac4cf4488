"""The prefilter's anchor scan over the inflated stream (inflate.py + readers.py + worker.py).

The parallel reader scans the inflated stream for the anchor literals piece by piece and marks
records whose stored bytes hold none (`Record.anchor_free`); the worker then skips the per-payload
anchor scan for them. That must never change a finding: compared here against the full path (no
prefilter) and against the exact reader, with inflated pieces so small that anchors straddle them.
"""

from __future__ import annotations

import pytest

from claimwatch.detect.prefilter import anchor_ends, longest_anchor
from claimwatch.scan import inflate, readers
from claimwatch.scan.readers import Record, iter_file
from claimwatch.scan.worker import scan_file
from support_extract import cjk_pdf_bytes
from support_paths import CORPORA
from support_warc import make_pages, write_resource_warc, write_warc

pytestmark = pytest.mark.skipif(not inflate.AVAILABLE, reason="no inflate helper here (deflate not installed, or no fork)")

VARIANTS = [{}, {"chunked": True}, {"content_encoding": "gzip", "revisits": True}, {"content_encoding": "br"}]
CLAIM_ZH = "本平台支持少数民族识别功能，可实时识别维吾尔族人员，并在发现后自动推送报警。"


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    d = tmp_path_factory.mktemp("anchor")
    out = []
    for i, opts in enumerate(VARIANTS):
        path = str(d / f"{i}.warc.gz")
        write_warc(path, make_pages(24, seed=300 + i, host=f"a{i}.example"), **opts)
        out.append(path)
    # Readings the raw anchor scan cannot see: UTF-16 with and without BOM (no ASCII, so no NUL
    # byte either), and a PDF whose text sits in a compressed stream; plus plain filler around them.
    wide = str(d / "wide.warc.gz")
    docs = [
        ("https://w.example/filler1", "天气晴朗，产品参数：200万像素。".encode("utf-8") * 40, "text/plain"),
        ("https://w.example/u16le", CLAIM_ZH.encode("utf-16-le"), "text/plain"),
        ("https://w.example/u16be", CLAIM_ZH.encode("utf-16-be"), "application/octet-stream"),
        ("https://w.example/u16bom", "\ufeff".encode("utf-16-le") + CLAIM_ZH.encode("utf-16-le"), "text/plain"),
        ("https://w.example/pdf", cjk_pdf_bytes([("STSong-Light", "人脸属性：输出性别、年龄及民族（汉族/维族/其他）。")]),
         "application/pdf"),
        ("https://w.example/filler2", b"Lorem ipsum dolor sit amet. " * 300, "text/plain"),
    ]
    write_resource_warc(wide, docs)
    out.append(wide)
    return out


def _scan(path: str, monkeypatch, *, parallel: bool, chunk: int = 1 << 20, prefilter: bool = True):
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0 if parallel else 1 << 62)
    monkeypatch.setattr(inflate, "_CHUNK", chunk)
    return scan_file(path, prefilter=prefilter)


@pytest.mark.parametrize("chunk", [61, 4093, 1 << 20])
def test_findings_equal_the_full_path_and_the_exact_reader(archives, monkeypatch, chunk):
    total = 0
    for path in archives:
        fast = _scan(path, monkeypatch, parallel=True, chunk=chunk)
        exact = _scan(path, monkeypatch, parallel=False)
        full = _scan(path, monkeypatch, parallel=True, chunk=chunk, prefilter=False)
        assert fast.errors == exact.errors == full.errors == []
        assert fast.findings == exact.findings == full.findings, (path, chunk)
        # Skipping the per-payload scan changes nothing about which records pass the prefilter.
        assert fast.candidates == exact.candidates < full.candidates, path
        total += len(fast.findings)
    assert total > 20


def _records(path: str, monkeypatch, chunk: int) -> list[Record]:
    monkeypatch.setattr(inflate, "_CHUNK", chunk)
    items = list(iter_file(path, parallel=True, anchors=(anchor_ends, longest_anchor())))
    assert all(isinstance(it, Record) for it in items)
    return items


@pytest.mark.parametrize("chunk", [61, 1 << 20])
def test_anchor_free_records_really_hold_no_anchor(archives, monkeypatch, chunk):
    marked = 0
    for path in archives:
        for rec in _records(path, monkeypatch, chunk):
            if rec.anchor_free:
                marked += 1
                assert anchor_ends(rec.block) == [], (path, rec.uri)
    assert marked > 20  # the mechanism is in effect, not just harmless


def test_records_with_planted_claims_are_never_marked(archives, monkeypatch):
    planted = 0
    for path in archives[:1]:
        for rec in _records(path, monkeypatch, 61):
            words = (b"Uyghur", b"emotion", b"social score", b"biometric", *("维吾尔".encode(e) for e in ("utf-8", "gbk")),
                     *("情绪".encode(e) for e in ("utf-8", "gbk")), *(w.encode(e) for w in ("維吾爾", "情緒") for e in ("utf-8", "big5")))
            if any(word in rec.block for word in words):
                planted += 1
                assert not rec.anchor_free, rec.uri
    assert planted >= 6


def test_other_paths_never_mark_records(archives, monkeypatch):
    path = archives[0]
    exact = list(iter_file(path, parallel=False, anchors=(anchor_ends, longest_anchor())))
    plain = list(iter_file(path, parallel=True))
    assert exact and plain
    assert not any(r.anchor_free for r in exact + plain)


def test_damage_mid_file_keeps_findings(archives, monkeypatch, tmp_path):
    # The fast path hands over to the exact reader at the damage; records read after that are
    # unmarked and take the per-payload scan, so findings before the damage are all there.
    src = open(archives[0], "rb").read()
    cut = tmp_path / "cut.warc.gz"
    at = len(src) * 3 // 4
    if src.startswith(b"\x1f\x8b", at):
        at += 5  # (a cut on a member boundary would leave a clean, shorter file: record ids vary per run)
    cut.write_bytes(src[:at])
    fast = _scan(str(cut), monkeypatch, parallel=True, chunk=4093)
    full = _scan(str(cut), monkeypatch, parallel=False, prefilter=False)
    assert fast.findings == full.findings and fast.findings
    assert fast.errors == full.errors and len(fast.errors) == 1


def test_many_anchor_occurrences(tmp_path, monkeypatch):
    # Thousands of anchors per record (ordinary English has many): the hits behind the reader are
    # dropped as it goes, and every record is still marked right.
    rich = b"<p>race, mood and color points</p>\n" * 200
    clean = b"<p>Lorem ipsum dolor sit amet.</p>\n" * 200
    docs = [(f"https://m.example/{i}", rich if i % 2 else clean, "text/html") for i in range(60)]
    path = str(tmp_path / "many.warc.gz")
    write_resource_warc(path, docs)
    recs = _records(path, monkeypatch, 4093)
    assert len(recs) == 60
    assert [r.anchor_free for r in recs] == [i % 2 == 0 for i in range(60)]
    fast = _scan(path, monkeypatch, parallel=True, chunk=4093)
    full = _scan(path, monkeypatch, parallel=True, chunk=4093, prefilter=False)
    exact = _scan(path, monkeypatch, parallel=False)
    assert fast.findings == full.findings
    assert fast.candidates == exact.candidates  # the marked half never reaches the payload checks


@pytest.mark.skipif(not CORPORA.is_dir(), reason="shared corpora not present")
def test_corpus_files_scan_the_same_on_every_path(monkeypatch):
    # Real WARC/ARC files written by other tools, several broken: the parallel path with its anchor
    # scan and member chain gives the exact path's findings and error lines, and no finding is lost
    # against running extract + detect on every record.
    scanned = 0
    for path in sorted(str(p) for p in CORPORA.rglob("*") if p.is_file()):
        fast = _scan(path, monkeypatch, parallel=True, chunk=4093)
        exact = _scan(path, monkeypatch, parallel=False)
        full = _scan(path, monkeypatch, parallel=False, prefilter=False)
        assert (fast.findings, fast.errors, fast.records) == (exact.findings, exact.errors, exact.records), path
        assert fast.findings == full.findings, path
        scanned += fast.records > 0
    assert scanned >= 10



@pytest.mark.parametrize("chunk", [4093, 1 << 20])
def test_anchors_outside_a_block_do_not_unmark_it(tmp_path, monkeypatch, chunk):
    # Lexicon words in a record's WARC header (its URI) and in the records around it: the block's
    # own bytes decide (stream.block_clear), where they are still at hand when it is read.
    docs = []
    for i in range(300):
        uri = f"https://uyghur-emotion.example/{i:03d}/recognition"  # anchors in every WARC header
        body = b"Plain product copy about lenses and storage. " * 200
        if i % 7 == 3:
            body += "supports Uyghur ethnicity recognition".encode()  # ... and in some blocks
        docs.append((uri, body, "text/plain"))
    path = str(tmp_path / "h.warc.gz")
    write_resource_warc(path, docs)
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    records = _records(path, monkeypatch, chunk)
    assert len(records) == 300 and all(anchor_ends(r.uri.encode()) for r in records)
    for rec in records:
        if rec.anchor_free:
            assert anchor_ends(rec.block) == [], rec.uri
        if b"Uyghur" in rec.block:
            assert not rec.anchor_free, rec.uri
    free = sum(r.anchor_free for r in records)
    if chunk > 1 << 16:  # (pieces smaller than a record never hold one whole: nothing is marked)
        assert free > 0.8 * sum(b"Uyghur" not in r.block for r in records)  # most clean blocks are
    fast = _scan(path, monkeypatch, parallel=True, chunk=chunk)
    full = _scan(path, monkeypatch, parallel=False, prefilter=False)
    assert fast.findings == full.findings and fast.errors == full.errors == []
    assert len(fast.findings) >= 40
