"""Archive.write / iter_captures / verify on real fetches from the loopback server."""

from __future__ import annotations

import gzip
import hashlib
import json

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator

from claimwatch.archive import Archive, ArchiveError
from claimwatch.archive.digests import hex_from_warc_digest
from claimwatch.archive.warcfile import iter_records
from claimwatch.capture.fetch import fetch
from support_http import LoopbackServer, Route, closed_port

PAGE = ("<html><body><h1>SmartCampus Suite</h1><p>Attendance dashboards and timetable sync. "
        "智慧校园考勤看板。</p></body></html>").encode("utf-8")


@pytest.fixture()
def srv():
    with LoopbackServer() as s:
        s.route("/page", body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
        yield s


@pytest.fixture()
def archive(tmp_path):
    return Archive(tmp_path / "home")


def _records(path):
    with open(path, "rb") as fh:
        return list(iter_records(fh))


def test_round_trip_200(srv, archive):
    cap = archive.write(fetch(srv.url("/page"), vendor="EduVision"))
    assert cap.status == 200 and cap.error is None and cap.vendor == "EduVision"
    assert cap.payload == PAGE and cap.content_type == "text/html; charset=utf-8"
    assert cap.payload_sha256 == hashlib.sha256(PAGE).hexdigest()
    assert cap.final_url == srv.url("/page") and cap.redirects == []
    assert cap.resolved_ip == "127.0.0.1" and cap.ledger_index == 0 and not cap.truncated
    assert cap.probe_status == 404 and cap.probe_payload == b"not found\n"
    assert [r.record_type for r in cap.records] == ["request", "response", "request", "response", "metadata"]
    assert cap.response == cap.records[1] and cap.response.payload_sha256 == cap.payload_sha256
    assert len(cap.capture_id) == 32
    # Files are where the design says.
    files = archive.warc_files()
    assert len(files) == 1 and files[0].parent == archive.home / "archive"
    assert files[0].name.startswith("claimwatch-") and files[0].name.endswith("-00001.warc.gz")
    assert (archive.home / "ledger" / "ledger-000001.jsonl").exists()
    # Reading back gives the very same object.
    assert list(archive.iter_captures()) == [cap]
    report = archive.verify()
    assert report.ok and report.first_break is None and report.warnings == []
    assert report.ledger_entries == 1 and report.records == 6  # warcinfo + 5


def test_warc_records_and_metadata(srv, archive):
    srv.route("/old", status=301, redirect="/page")
    cap = archive.write(fetch(srv.url("/old")))
    recs = _records(archive.warc_files()[0])
    types = [r.record_type for r in recs]
    assert types == ["warcinfo", "request", "response", "request", "response", "request", "response", "metadata"]
    by_id = {r.record_id: r for r in recs}
    for r in recs:
        assert r.get("WARC-Block-Digest").startswith("sha256:")
        assert hex_from_warc_digest(r.get("WARC-Block-Digest")) == hashlib.sha256(r.block).hexdigest()
    first_req, first_resp = recs[1], recs[2]
    assert first_req.get("WARC-Concurrent-To") == first_resp.record_id
    assert first_resp.block.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")
    assert first_req.block.startswith(b"GET /old HTTP/1.1\r\n")
    final = recs[4]
    assert final.get("WARC-IP-Address") == "127.0.0.1" and final.get("WARC-Target-URI") == srv.url("/page")
    meta_rec = recs[-1]
    assert meta_rec.get("Content-Type") == "application/json"
    assert meta_rec.get("WARC-Refers-To") == final.record_id
    assert set(meta_rec.get_all("WARC-Concurrent-To")) == {r.record_id for r in recs[1:-1]}
    meta = json.loads(meta_rec.block)
    assert meta["capture_id"] == cap.capture_id and meta["url"] == srv.url("/old")
    assert meta["redirects"] == [[srv.url("/old"), 301]] and meta["status"] == 200
    assert meta["final_url"] == srv.url("/page") and meta["resolved_ip"] == "127.0.0.1"
    assert meta["probe"]["status"] == 404 and meta["probe"]["response_record"] in by_id
    assert meta["response_record"] == final.record_id and meta["claimwatch_version"]
    assert [r["record_id"] for r in meta["records"]] == [r.record_id for r in recs[1:-1]]
    assert cap.redirects == [(srv.url("/old"), 301)]


def test_other_tools_read_and_verify_our_files(srv, archive):
    srv.route("/gz", body=PAGE * 20, gzip=True, chunked=True, headers={"Content-Type": "text/html"})
    archive.write(fetch(srv.url("/gz")))
    path = archive.warc_files()[0]
    with open(path, "rb") as fh:
        seen = []
        for rec in ArchiveIterator(fh, check_digests="raise"):
            body = rec.content_stream().read()
            seen.append(rec.rec_type)
            if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI").endswith("/gz"):
                assert body == PAGE * 20  # warcio undoes our chunk framing and the gzip encoding
    assert seen.count("response") == 2
    from fastwarc.warc import ArchiveIterator as FastIterator

    n = 0
    with open(path, "rb") as fh:
        for rec in FastIterator(fh, parse_http=False):
            assert rec.verify_block_digest()
            n += 1
    assert n == 6


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_content_encoding_removed_in_payload_digest_of_stored_bytes(srv, archive, encoding):
    text = ("Real-time dashboards for retail footfall. 零售客流实时看板。" * 40).encode("utf-8")
    srv.route("/enc", body=text, headers={"Content-Type": "text/plain; charset=utf-8"},
              gzip=encoding == "gzip", br=encoding == "br")
    cap = archive.write(fetch(srv.url("/enc")))
    assert cap.payload == text
    stored = gzip.compress(text) if encoding == "gzip" else brotli.compress(text)
    rec = next(r for r in _records(archive.warc_files()[0]) if r.record_id == cap.response.record_id)
    wire = rec.block.split(b"\r\n\r\n", 1)[1]
    assert (gzip.decompress(wire) if encoding == "gzip" else brotli.decompress(wire)) == text
    assert len(wire) == len(stored)
    assert cap.payload_sha256 == hashlib.sha256(wire).hexdigest() != hashlib.sha256(text).hexdigest()
    assert hex_from_warc_digest(rec.get("WARC-Payload-Digest")) == cap.payload_sha256
    assert archive.verify().ok
    assert list(archive.iter_captures()) == [cap]


def test_chunked_body_is_reframed(srv, archive):
    srv.route("/ch", body=lambda: iter([b"part one, ", b"part two"]), chunked=True,
              headers={"Content-Type": "text/plain"})
    cap = archive.write(fetch(srv.url("/ch")))
    assert cap.payload == b"part one, part two"
    rec = next(r for r in _records(archive.warc_files()[0]) if r.record_id == cap.response.record_id)
    assert rec.block.endswith(b"\r\n\r\n12\r\npart one, part two\r\n0\r\n\r\n")
    assert list(archive.iter_captures()) == [cap]


@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_statuses_are_captures(srv, archive, status):
    srv.route("/s", status=status, body=b"<h1>status</h1>", headers={"Content-Type": "text/html"})
    cap = archive.write(fetch(srv.url("/s")))
    assert cap.status == status and cap.error is None and cap.payload == b"<h1>status</h1>"
    assert cap.probe_status is None and cap.response is not None
    assert list(archive.iter_captures()) == [cap] and archive.verify().ok


def test_network_error_is_a_metadata_only_capture(archive):
    cap = archive.write(fetch(f"http://127.0.0.1:{closed_port()}/x", timeout=2))
    assert cap.status is None and cap.error.startswith("connect error")
    assert cap.response is None and cap.payload == b"" and cap.payload_sha256 is None
    assert [r.record_type for r in cap.records] == ["metadata"]
    assert list(archive.iter_captures()) == [cap] and archive.verify().ok


def test_timeout_capture(srv, archive):
    srv.route("/slow", delay=1.5, body=b"late")
    cap = archive.write(fetch(srv.url("/slow"), timeout=0.3))
    assert cap.error.startswith("timeout") and cap.status is None
    assert list(archive.iter_captures()) == [cap]


def test_truncated_50mb_prefix_archived(srv, archive):
    line = b"<tr><td>camera 17</td><td>online</td></tr>\n"
    chunk = line * 1500

    def body():
        for _ in range(50 * 2**20 // len(chunk) + 1):
            yield chunk

    srv.route("/big", body=body, headers={"Content-Type": "text/html"})
    cap = archive.write(fetch(srv.url("/big"), probe=False))
    assert cap.truncated and len(cap.payload) == 20 * 2**20
    assert cap.payload == (chunk * 400)[: 20 * 2**20]
    rec = next(r for r in _records(archive.warc_files()[0]) if r.record_id == cap.response.record_id)
    assert rec.get("WARC-Truncated") == "length"
    meta = json.loads(_records(archive.warc_files()[0])[-1].block)
    assert meta["truncated"] is True and meta["extra"]["truncated_at_bytes"] == 20 * 2**20
    assert archive.verify().ok


def test_truncated_gzip_body_decodes_prefix(srv, archive):
    text = b"".join(b"row %06d of the sensor inventory\n" % i for i in range(20000))
    srv.route("/gzbig", body=text, gzip=True, headers={"Content-Type": "text/plain"})
    cap = archive.write(fetch(srv.url("/gzbig"), max_bytes=4096, probe=False))
    assert cap.truncated and len(cap.payload) > 4096 and text.startswith(cap.payload)


def test_non_html_and_soft404(srv, archive):
    srv.default = Route(status=200, headers=[("Content-Type", "text/html")], body=b"<p>Home</p>")
    data = b'{"features": ["people counting", "queue length"]}'
    srv.route("/api.json", body=data, headers={"Content-Type": "application/json"})
    cap = archive.write(fetch(srv.url("/api.json")))
    assert cap.content_type == "application/json" and cap.payload == data
    assert cap.probe_status == 200 and cap.probe_payload == b"<p>Home</p>"


def test_many_captures_in_ledger_order(srv, archive):
    caps = []
    for i in range(5):
        srv.route("/page", body=PAGE + b"<!-- v%d -->" % i, headers={"Content-Type": "text/html"})
        caps.append(archive.write(fetch(srv.url("/page"), probe=i % 2 == 0)))
    assert [c.ledger_index for c in caps] == [0, 1, 2, 3, 4]
    assert list(archive.iter_captures()) == caps
    assert len({c.payload_sha256 for c in caps}) == 5


def test_rotation_by_size(srv, archive, tmp_path, monkeypatch):
    small = Archive(tmp_path / "rot", warc_max_bytes=3000)
    caps = [small.write(fetch(srv.url("/page"))) for _ in range(4)]
    files = small.warc_files()
    assert len(files) >= 2
    assert [int(f.name.split("-")[-1].split(".")[0]) for f in files] == list(range(1, len(files) + 1))
    for f in files:
        recs = _records(f)
        assert recs[0].record_type == "warcinfo"  # every file starts with its warcinfo
    # A capture never spans files; a file is closed once it reaches the limit.
    for c in caps:
        assert len({r.warc for r in c.records}) == 1
    assert list(small.iter_captures()) == caps and small.verify().ok
    # The limit also comes from the environment.
    monkeypatch.setenv("CLAIMWATCH_WARC_MAX_BYTES", "1")
    env_arch = Archive(tmp_path / "env")
    env_arch.write(fetch(srv.url("/page"), probe=False))
    env_arch.write(fetch(srv.url("/page"), probe=False))
    assert len(env_arch.warc_files()) == 2
    monkeypatch.setenv("CLAIMWATCH_WARC_MAX_BYTES", "lots")
    with pytest.raises(ArchiveError, match="CLAIMWATCH_WARC_MAX_BYTES"):
        Archive(tmp_path / "bad")


def test_existing_files_are_never_rewritten(srv, archive):
    archive.write(fetch(srv.url("/page")))
    path = archive.warc_files()[0]
    before = path.read_bytes()
    ledger = (archive.home / "ledger" / "ledger-000001.jsonl").read_bytes()
    archive.write(fetch(srv.url("/page")))
    assert path.read_bytes().startswith(before)
    assert (archive.home / "ledger" / "ledger-000001.jsonl").read_bytes().startswith(ledger)


# ------------------------------------------------------------------ tamper detection

def _flip(path, pos):
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def test_every_single_byte_flip_in_a_warc_file_breaks_verify(archive):
    # A small archive (one network-error capture) so that every byte position can be tried.
    archive.write(fetch(f"http://127.0.0.1:{closed_port()}/", timeout=2))
    path = archive.warc_files()[0]
    pristine = path.read_bytes()
    assert archive.verify().ok
    for pos in range(len(pristine)):
        _flip(path, pos)
        report = archive.verify()
        assert not report.ok, f"flip at byte {pos} went unnoticed"
        assert path.name in report.first_break and "offset" in report.first_break
        path.write_bytes(pristine)
    assert archive.verify().ok


def test_byte_flips_across_a_full_capture(srv, archive):
    srv.route("/gz", body=PAGE * 30, gzip=True, headers={"Content-Type": "text/html"})
    archive.write(fetch(srv.url("/old-missing")))
    archive.write(fetch(srv.url("/gz")))
    path = archive.warc_files()[0]
    pristine = path.read_bytes()
    offsets = [r.offset for r in _records(path)]
    positions = set(range(0, len(pristine), 37)) | {len(pristine) - 1}
    for o in offsets:  # gzip header fields (mtime, xfl, os) are not covered by the CRC
        positions |= set(range(o, o + 10))
    for pos in sorted(positions):
        _flip(path, pos)
        report = archive.verify()
        assert not report.ok, f"flip at byte {pos} went unnoticed"
        record_start = max(o for o in offsets if o <= pos)
        assert f"offset {record_start}" in report.first_break, (pos, report.first_break)
        path.write_bytes(pristine)


def test_gzip_crc_error_is_a_break(srv, archive):
    archive.write(fetch(srv.url("/page")))
    path = archive.warc_files()[0]
    data = bytearray(path.read_bytes())
    last = _records(path)[-1]
    crc_pos = last.offset + last.length - 8  # gzip trailer: CRC32 then ISIZE
    data[crc_pos] ^= 0xFF
    path.write_bytes(bytes(data))
    report = archive.verify()
    assert not report.ok and f"offset {last.offset}" in report.first_break


def test_verify_reports_missing_warc_file(srv, archive):
    archive.write(fetch(srv.url("/page")))
    name = archive.warc_files()[0].name
    archive.warc_files()[0].unlink()
    report = archive.verify()
    assert not report.ok and name in report.first_break and "not found" in report.first_break
    with pytest.raises(ArchiveError, match="missing"):
        list(archive.iter_captures())
    with pytest.raises(ArchiveError, match="missing"):
        archive.write(fetch(srv.url("/page")))


def test_inserted_record_between_ledgered_records_is_a_break(srv, archive):
    archive.write(fetch(srv.url("/page"), probe=False))
    archive.write(fetch(srv.url("/page"), probe=False))
    path = archive.warc_files()[0]
    recs = _records(path)
    data = path.read_bytes()
    # Splice a copy of a valid record in front of the second capture.
    second = next(r for r in recs if r.offset > 0 and r.record_type == "request" and r is not recs[1])
    extra = data[recs[1].offset : recs[1].offset + recs[1].length]
    path.write_bytes(data[: second.offset] + extra + data[second.offset :])
    assert not archive.verify().ok


def test_digest_header_encodings():
    h = hashlib.sha256(b"abc")
    import base64

    assert hex_from_warc_digest("sha256:" + base64.b32encode(h.digest()).decode()) == h.hexdigest()
    assert hex_from_warc_digest("sha256:" + h.hexdigest()) == h.hexdigest()
    assert hex_from_warc_digest("sha1:" + h.hexdigest()) is None


def test_non_ascii_url_round_trip(srv, archive):
    page = "<p>停車場車位偵測 示範頁面</p>".encode("big5")
    srv.route("/%E7%94%A2%E5%93%81", body=page, headers={"Content-Type": "text/html; charset=Big5"})
    cap = archive.write(fetch(srv.url("/產品")))
    assert cap.url == srv.url("/產品") and cap.final_url == srv.url("/產品") and cap.payload == page
    assert cap.response.target_uri == srv.url("/%E7%94%A2%E5%93%81")  # a URI, as sent
    assert list(archive.iter_captures()) == [cap] and archive.verify().ok


def test_dropped_connection_is_a_failed_capture_with_partial_evidence(srv, archive):
    srv.route("/short", body=b"only ten b", headers={"Content-Length": "1000", "Connection": "close"})
    cap = archive.write(fetch(srv.url("/short"), timeout=3))
    assert cap.error and cap.status == 200 and cap.truncated
    rec = next(r for r in _records(archive.warc_files()[0]) if r.record_id == cap.response.record_id)
    assert rec.get("WARC-Truncated") == "disconnect"
    assert list(archive.iter_captures()) == [cap]


def test_empty_home(tmp_path):
    a = Archive(tmp_path / "nothing-here")
    assert list(a.iter_captures()) == []
    report = a.verify()
    assert report.ok and report.ledger_entries == 0 and report.warc_files == 0
    assert not (tmp_path / "nothing-here").exists()  # reading creates nothing


def test_decompression_bomb_is_capped(srv, archive, monkeypatch):
    from claimwatch.archive import payload as payload_mod

    monkeypatch.setattr(payload_mod, "MAX_DECODED_BYTES", 2**20)
    zeros = b"\0" * (8 * 2**20)
    srv.route("/bomb-br", body=zeros, br=True, headers={"Content-Type": "text/plain"})
    srv.route("/bomb-gz", body=zeros, gzip=True, headers={"Content-Type": "text/plain"})
    for path in ("/bomb-br", "/bomb-gz"):
        cap = archive.write(fetch(srv.url(path), probe=False))
        assert cap.payload == b"\0" * 2**20
    assert archive.verify().ok


def test_default_home_comes_from_settings(srv, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMWATCH_HOME", str(tmp_path / "envhome"))
    a = Archive()
    assert a.archive_dir == tmp_path / "envhome" / "archive"
    a.write(fetch(srv.url("/page"), probe=False))
    assert len(list((tmp_path / "envhome" / "archive").glob("claimwatch-*.warc.gz"))) == 1
    assert len(list((tmp_path / "envhome" / "ledger").glob("ledger-*.jsonl"))) == 1
