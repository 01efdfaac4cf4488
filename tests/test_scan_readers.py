"""WARC/ARC reading: real third-party files (some deliberately broken), damage reporting, HTTP decoding."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import brotli
import pytest

from claimwatch.scan.httpmsg import DecodeError, dechunk, decode_content, http_payload
from claimwatch.scan.readers import SCAN_TYPES, NotAnArchive, Record, ReadError, iter_file
from support_warc import chunk, make_pages, write_warc
from support_paths import CORPORA

CORPUS_FILES = sorted(str(p) for p in CORPORA.rglob("*") if p.is_file()) if CORPORA.is_dir() else []
needs_corpora = pytest.mark.skipif(not CORPUS_FILES, reason="shared corpora not present")

# Files of the corpora that our readers report damage in, and why (checked below, one by one).
DAMAGED = {
    "README.md": "not a WARC or ARC file",
    "pywb/bad.arc": "invalid ARC archive-length",
    "warcio/bad.arc": "invalid ARC archive-length",
    "pywb/example.warc": "cannot parse record",  # last record's Content-Length is wrong
    "warcio/example-trunc.warc": "cannot parse record",  # lying Content-Length
    "pywb/missing-status-text.warc": "truncated record",  # CR CR LF line ends: block shorter than declared
    "warcio/example-space-in-url.arc": "truncated record",  # 1579 of 1591 declared bytes present
    "warcio/example-bad.warc.gz.bad": "cannot parse record",
}


def _read_all(path: str, engine: str | None = None, types=SCAN_TYPES):
    records, errors = [], []
    for item in iter_file(path, types=types, engine=engine, digests=True):
        (records if isinstance(item, Record) else errors).append(item)
    return records, errors


def _key(r: Record):
    return (r.uri, r.record_id, r.payload_digest, hashlib.sha1(r.block).hexdigest())


@needs_corpora
def test_every_corpus_file_is_read_or_rejected_with_a_reason():
    seen_damaged = {}
    for path in CORPUS_FILES:
        rel = os.path.relpath(path, CORPORA)
        try:
            records, errors = _read_all(path)
        except NotAnArchive as exc:
            errors = [ReadError(0, str(exc))]
            records = []
        for e in errors:
            assert isinstance(e.offset, int) and e.offset >= 0
            assert "\n" not in e.message and e.message
        if errors:
            seen_damaged[rel] = " | ".join(e.message for e in errors)
        else:
            # (a revisit-only file has no document record, but it has records)
            assert records or _read_all(path, types=None)[0], f"{rel}: no error and no record"
    assert set(seen_damaged) == set(DAMAGED), seen_damaged
    for rel, reason in DAMAGED.items():
        assert reason in seen_damaged[rel], (rel, seen_damaged[rel])


@needs_corpora
def test_fastwarc_and_warcio_agree_on_every_valid_warc():
    compared = 0
    for path in CORPUS_FILES:
        try:
            fast, fast_err = _read_all(path, engine="fastwarc", types=None)
            slow, slow_err = _read_all(path, engine="warcio", types=None)
        except NotAnArchive:
            continue  # ARC (FastWARC has no ARC reader) or not an archive
        if fast_err or slow_err:
            continue
        assert [_key(r) for r in fast] == [_key(r) for r in slow], path
        compared += 1
    # Most of the corpus is valid WARC: make sure the comparison really covered it.
    assert compared >= 15


@needs_corpora
def test_arc_records_get_stable_ids_and_http_payload():
    records, errors = _read_all(str(CORPORA / "warcio/example.arc.gz"))
    assert errors == []
    assert [r.record_id for r in records] == ["<arc:example.arc.gz:171>"]
    body, ctype, status = http_payload(records[0].block)
    assert status == 200 and ctype.startswith("text/html") and b"Example Domain" in body
    again, _ = _read_all(str(CORPORA / "warcio/example.arc.gz"))
    assert [r.record_id for r in again] == [r.record_id for r in records]


@needs_corpora
def test_dechunked_body_with_stale_chunked_header_is_kept():
    # pywb stores de-chunked bodies but keeps "Transfer-Encoding: chunked"; FastWARC's own
    # decoding aborts the file there, ours falls back to the stored body.
    records, errors = _read_all(str(CORPORA / "pywb/iana.warc.gz"))
    assert errors == []
    first = next(r for r in records if r.uri == "http://www.iana.org/")
    body, _, status = http_payload(first.block)
    assert status == 200 and body.lstrip().lower().startswith(b"<!doctype html>")


def _offsets(path):
    return [(r.offset, r.rec_type, r.uri) for r in _read_all(path)[0]]


def test_truncated_last_gzip_member_is_reported_at_its_offset(tmp_path):
    path = str(tmp_path / "t.warc.gz")
    write_warc(path, make_pages(5))
    responses = [r for r in _read_all(path, types=None)[0] if r.rec_type == "response"]
    last = responses[-1].offset
    data = Path(path).read_bytes()
    for cut in (last + 40, last + 5):
        Path(path).write_bytes(data[:cut])
        records, errors = _read_all(path)
        assert [r.uri for r in records] == [r.uri for r in responses[:-1]]
        assert len(errors) == 1 and errors[0].offset == last, errors


def test_garbage_after_last_record_is_reported(tmp_path):
    path = str(tmp_path / "g.warc.gz")
    write_warc(path, make_pages(3))
    size = os.path.getsize(path)
    with open(path, "ab") as fh:
        fh.write(gzip.compress(b"this is not a WARC record at all"))
    records, errors = _read_all(path)
    assert len(records) == 3
    # FastWARC either stops at it or skips it silently (then the tail check finds it).
    assert [e.offset for e in errors] == [size]


def test_lying_content_length_reports_the_offset_and_keeps_earlier_records(tmp_path):
    path = tmp_path / "lie.warc"
    write_warc(str(path), make_pages(4), gzip=False)
    good = _read_all(str(path))[0]
    data = path.read_bytes()
    victim = good[1]
    head_end = data.index(b"\r\n\r\n", victim.offset)
    header = data[victim.offset:head_end]
    declared = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    lying = header.replace(b"Content-Length: %d" % declared, b"Content-Length: %d" % (declared - 10))
    path.write_bytes(data[:victim.offset] + lying + data[head_end:])
    records, errors = _read_all(str(path))
    assert [r.uri for r in records[:2]] == [good[0].uri, good[1].uri]
    assert len(errors) == 1
    # The damage starts where the shortened record now claims to end.
    assert errors[0].offset == head_end + 4 + declared - 10


def test_truncated_plain_record_is_reported(tmp_path):
    path = tmp_path / "cut.warc"
    write_warc(str(path), make_pages(3), gzip=False)
    good = _read_all(str(path), types=None)[0]
    data = path.read_bytes()
    last_resp = [r for r in good if r.rec_type == "response"][-1]
    path.write_bytes(data[: last_resp.offset + 600])
    records, errors = _read_all(str(path))
    assert len(records) == 2 and len(errors) == 1
    assert errors[0].offset == last_resp.offset and "truncated" in errors[0].message


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty file"), (b"<html><body>not an archive</body></html>", "not a WARC or ARC file"),
     (gzip.compress(b"plain text, gzipped"), "not a WARC or ARC file"), (b"\x1f\x8b\x08garbage", "corrupt gzip")],
)
def test_non_archives_are_rejected(tmp_path, content, message):
    path = tmp_path / "x.warc.gz"
    path.write_bytes(content)
    with pytest.raises(NotAnArchive, match=message):
        iter_file(str(path))


@pytest.mark.parametrize("opts", [{}, {"chunked": True}, {"content_encoding": "gzip"},
                                  {"content_encoding": "br", "chunked": True}, {"gzip": False, "revisits": True}])
def test_synthetic_bodies_decode_to_the_served_page(tmp_path, opts):
    pages = make_pages(9)
    path = str(tmp_path / ("s.warc.gz" if opts.get("gzip", True) else "s.warc"))
    written = write_warc(path, pages, **opts)
    records, errors = _read_all(path)
    assert errors == []
    # revisit, request and metadata records are not documents: only the responses come back.
    assert [(r.uri, r.record_id) for r in records] == [(w["uri"], w["record_id"]) for w in written]
    assert [http_payload(r.block)[0] for r in records] == [p.body for p in pages]


def test_http_decoding_units():
    body = "情绪识别 — emotion".encode("utf-8") * 50
    assert dechunk(chunk(body, 7)) == body
    assert dechunk(b"not chunked at all") is None
    assert decode_content(gzip.compress(body), "gzip") == body
    assert decode_content(zlib.compress(body), "deflate") == body
    raw = zlib.compressobj(wbits=-15)
    assert decode_content(raw.compress(body) + raw.flush(), "deflate") == body
    assert decode_content(brotli.compress(body), "br") == body
    assert decode_content(body, "gzip") == body  # stored already decoded, header kept
    with pytest.raises(DecodeError):
        decode_content(b"\x1f\x8b\x08\x00broken", "gzip")
    with pytest.raises(DecodeError):
        decode_content(body, "compress")
    block = b"HTTP/1.1 302\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"
    assert http_payload(block) == (b"", None, 302)


@pytest.mark.parametrize("gz, engine", [(True, None), (False, None), (True, "warcio"), (False, "warcio")])
def test_every_truncation_point_is_read_or_reported(tmp_path, gz, engine):
    """Cut a small archive at many offsets: each prefix either reads cleanly (cut at a record
    boundary) or reports damage; never an exception, never a silently shortened record."""
    src = tmp_path / ("full.warc.gz" if gz else "full.warc")
    write_warc(str(src), make_pages(4), gzip=gz)
    data = src.read_bytes()
    full, _ = _read_all(str(src), types=None)
    boundaries = {r.offset for r in full} | {len(data)}
    cut_file = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    step = max(1, len(data) // 150)
    for cut in range(1, len(data), step):
        cut_file.write_bytes(data[:cut])
        try:
            records, errors = _read_all(str(cut_file), engine=engine, types=None)
        except NotAnArchive:
            assert cut < sorted(boundaries)[1]  # not even the first record is there
            continue
        good = {(r.offset, r.record_id): r.block for r in full}
        for r in records:  # whatever is returned is complete and identical to the original
            assert good[(r.offset, r.record_id)] == r.block
        if not errors and engine is None:
            # (warcio, used in production for ARC only, does not notice a cut gzip trailer.)
            # A clean read means the cut fell on a record boundary (or only cut a separator CRLF).
            nxt = min(b for b in boundaries if b >= cut)
            assert data[cut:nxt].strip(b"\r\n") == b"", cut


@pytest.mark.parametrize("where", [0, 3, "end"])
def test_empty_gzip_member_does_not_end_the_file(tmp_path, where):
    """FastWARC stops at an empty gzip member; the records after it are still read (as warcio does)."""
    src = str(tmp_path / "src.warc.gz")
    write_warc(src, make_pages(4))
    data = Path(src).read_bytes()
    offsets = [r.offset for r in iter_file(src, types=None, parallel=False)] + [len(data)]
    members = [data[a:b] for a, b in zip(offsets, offsets[1:])]
    cut = len(members) if where == "end" else where
    empty = gzip.compress(b"")
    path = str(tmp_path / "empty-member.warc.gz")
    Path(path).write_bytes(b"".join(members[:cut]) + empty + b"".join(members[cut:]))
    shift = [0 if i < cut else len(empty) for i in range(len(members))]
    want = [(off + d) for off, d in zip(offsets, shift)]
    for parallel in (False, True):
        items = list(iter_file(path, types=None, parallel=parallel))
        assert [type(i) for i in items] == [Record] * len(members), items
        assert [i.offset for i in items] == want
        assert [i.record_id for i in items] == [r.record_id for r in iter_file(src, types=None, parallel=False)]
    warcio_records, warcio_errors = _read_all(path, engine="warcio")
    assert len(warcio_records) == 4 and not warcio_errors
