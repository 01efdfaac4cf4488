"""The ledger chain, crash points, concurrent writers and unwritable data directories."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from claimwatch.archive import Archive, ArchiveError, Exchange, Hop
from claimwatch.archive import ledger
from claimwatch.archive.warcfile import iter_records

SRC = str(Path(__file__).resolve().parents[1] / "src")


def exchange(n: int = 0, body: bytes | None = None, error: str | None = None) -> Exchange:
    """A real Exchange as fetch() builds it, without the network (for speed and subprocesses)."""
    url = f"http://vendor.example/products/{n}"
    hops = []
    if error is None:
        body = body if body is not None else (f"<p>Product sheet {n}: parking occupancy sensors.</p>".encode())
        hops = [Hop(url=url, method="GET",
                    request_headers=[("Host", "vendor.example"), ("User-Agent", "claimwatch-test")],
                    status=200, reason="OK", http_version="HTTP/1.1",
                    response_headers=[("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                    body=body)]
    return Exchange(url=url, started_at=datetime.now(timezone.utc), hops=hops,
                    resolved_ip="192.0.2.7" if hops else None, error=error, vendor="ExampleVendor")


class Crash(Exception):
    pass


def crash_at(stage):
    def hook(s):
        if s == stage:
            raise Crash(stage)
    return hook


def ledger_file(home, n=1):
    return Path(home) / "ledger" / f"ledger-{n:06d}.jsonl"


# ------------------------------------------------------------------ chain

def test_entry_format_and_chain(tmp_path):
    a = Archive(tmp_path)
    caps = [a.write(exchange(i)) for i in range(3)]
    lines = ledger_file(tmp_path).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    entries = [json.loads(line) for line in lines[:-1]]
    prev = "0" * 64
    for i, (e, cap) in enumerate(zip(entries, caps)):
        assert set(e) == {"index", "prev", "capture_id", "url", "at", "records", "hash"}
        assert e["index"] == i and e["prev"] == prev and e["capture_id"] == cap.capture_id
        assert e["hash"] == ledger.entry_hash(e) and len(e["hash"]) == 64
        assert e["url"] == cap.url and datetime.fromisoformat(e["at"]) == cap.captured_at
        body_refs = [r for r in e["records"] if r["type"] != "warcinfo"]
        assert [r["record_id"] for r in body_refs] == [r.record_id for r in cap.records]
        assert [r["block_sha256"] for r in body_refs] == [r.block_sha256 for r in cap.records]
        for r in e["records"]:
            assert set(r) == {"warc", "offset", "length", "record_id", "type", "block_sha256", "stored_sha256"}
        prev = e["hash"]
    # The file's warcinfo is covered by the first entry written into that file.
    assert entries[0]["records"][0]["type"] == "warcinfo" and entries[0]["records"][0]["offset"] == 0
    report = a.verify()
    assert report.ok and report.head_hash == prev


@pytest.mark.parametrize("edit", ["url", "url+rehash", "delete_middle", "swap", "index"])
def test_ledger_edits_break_verify(tmp_path, edit):
    a = Archive(tmp_path)
    for i in range(3):
        a.write(exchange(i))
    path = ledger_file(tmp_path)
    lines = path.read_bytes().split(b"\n")[:-1]
    entries = [json.loads(x) for x in lines]
    if edit == "url":
        entries[1]["url"] = "http://vendor.example/other"
    elif edit == "url+rehash":  # a careful forger recomputes the hash: the chain still breaks
        entries[1]["url"] = "http://vendor.example/other"
        entries[1]["hash"] = ledger.entry_hash(entries[1])
    elif edit == "index":
        entries[2]["index"] = 7
        entries[2]["hash"] = ledger.entry_hash(entries[2])
    if edit == "delete_middle":
        new = [lines[0], lines[2]]
    elif edit == "swap":
        new = [lines[0], lines[2], lines[1]]
    else:
        new = [ledger.canonical(e) for e in entries]
    path.write_bytes(b"\n".join(new) + b"\n")
    report = a.verify()
    assert not report.ok
    assert "ledger/ledger-000001.jsonl line" in report.first_break, report.first_break


def test_rehashed_last_entry_is_caught_against_metadata(tmp_path):
    a = Archive(tmp_path)
    a.write(exchange(0))
    path = ledger_file(tmp_path)
    e = json.loads(path.read_bytes())
    e["url"] = "http://vendor.example/forged"
    e["hash"] = ledger.entry_hash(e)
    path.write_bytes(ledger.canonical(e) + b"\n")
    report = a.verify()
    assert not report.ok and "differs from the metadata record" in report.first_break


def test_every_byte_flip_in_the_ledger_breaks_verify(tmp_path):
    a = Archive(tmp_path)
    a.write(exchange(error="connect error: refused"))
    a.write(exchange(error="timeout: read"))
    path = ledger_file(tmp_path)
    pristine = path.read_bytes()
    for pos in range(len(pristine)):
        data = bytearray(pristine)
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
        report = a.verify()
        assert not report.ok, f"ledger flip at byte {pos} went unnoticed"
    path.write_bytes(pristine)
    assert a.verify().ok


def test_torn_last_line_is_ignored_and_not_built_upon(tmp_path):
    a = Archive(tmp_path)
    first = a.write(exchange(0))
    path = ledger_file(tmp_path)
    good = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"at":"2026-01-01T00:00:00+00:00","capture_id":"ab')  # interrupted append
    report = a.verify()
    assert report.ok and any("torn last line" in w for w in report.warnings)
    assert list(a.iter_captures()) == [first]
    second = a.write(exchange(1))
    assert path.read_bytes().startswith(good) and not path.read_bytes().endswith(b"\n")
    nxt = json.loads(ledger_file(tmp_path, 2).read_bytes())
    assert nxt["index"] == 1 and nxt["prev"] == json.loads(good)["hash"]
    assert list(a.iter_captures()) == [first, second]
    assert a.verify().ok


def test_unterminated_but_complete_last_entry_counts(tmp_path):
    a = Archive(tmp_path)
    first = a.write(exchange(0))
    path = ledger_file(tmp_path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # crash right before the newline
    assert list(a.iter_captures()) == [first]
    report = a.verify()
    assert report.ok and report.ledger_entries == 1
    second = a.write(exchange(1))
    assert second.ledger_index == 1 and ledger_file(tmp_path, 2).exists()
    assert a.verify().ok and len(list(a.iter_captures())) == 2


# ------------------------------------------------------------------ crash points

def test_crash_mid_warc_write(tmp_path):
    a = Archive(tmp_path)
    ok = a.write(exchange(0))
    with pytest.raises(Crash):
        Archive(tmp_path, fault=crash_at("warc_partial")).write(exchange(1))
    report = a.verify()
    assert report.ok and report.unledgered_records == 1 and report.warnings
    assert list(a.iter_captures()) == [ok]
    later = a.write(exchange(2))  # the torn file is left alone; writing goes on in a new file
    assert len(a.warc_files()) == 2 and later.response.warc == a.warc_files()[1].name
    assert list(a.iter_captures()) == [ok, later]
    assert a.verify().ok


def test_crash_after_warc_before_ledger_reledgers_orphan(tmp_path):
    a = Archive(tmp_path)
    ok = a.write(exchange(0))
    with pytest.raises(Crash):
        Archive(tmp_path, fault=crash_at("after_warc")).write(exchange(1, body=b"<p>orphan</p>"))
    report = a.verify()
    assert report.ok and report.unledgered_records == 3  # request, response, metadata
    assert list(a.iter_captures()) == [ok]
    assert a.recover() == 1
    caps = list(a.iter_captures())
    assert len(caps) == 2 and caps[1].payload == b"<p>orphan</p>" and caps[1].ledger_index == 1
    later = a.write(exchange(2))
    assert later.ledger_index == 2 and len(a.warc_files()) == 1  # the file was clean: appended to
    report = a.verify()
    assert report.ok and report.warnings == []


def test_crash_after_warc_next_write_reledgers(tmp_path):
    with pytest.raises(Crash):
        Archive(tmp_path, fault=crash_at("after_warc")).write(exchange(0, body=b"<p>first</p>"))
    a = Archive(tmp_path)
    assert list(a.iter_captures()) == [] and a.verify().ok
    later = a.write(exchange(1))
    caps = list(a.iter_captures())
    assert [c.payload for c in caps] == [b"<p>first</p>", later.payload]
    entry0 = json.loads(ledger_file(tmp_path).read_bytes().split(b"\n")[0])
    assert entry0["records"][0]["type"] == "warcinfo"  # the orphan's entry covers the warcinfo too
    report = a.verify()
    assert report.ok and report.warnings == []


def test_crash_mid_ledger_line(tmp_path):
    a = Archive(tmp_path)
    ok = a.write(exchange(0))
    with pytest.raises(Crash):
        Archive(tmp_path, fault=crash_at("ledger_partial")).write(exchange(1, body=b"<p>two</p>"))
    assert not ledger_file(tmp_path).read_bytes().endswith(b"\n")
    report = a.verify()
    assert report.ok and any("torn" in w for w in report.warnings)
    assert list(a.iter_captures()) == [ok]
    later = a.write(exchange(2))
    caps = list(a.iter_captures())
    assert [c.payload for c in caps] == [ok.payload, b"<p>two</p>", later.payload]
    assert [c.ledger_index for c in caps] == [0, 1, 2]
    report = a.verify()
    assert report.ok and report.warnings == [f"ledger/ledger-000001.jsonl line 2: torn last line ignored (interrupted write)"]


def test_file_cut_inside_a_record(tmp_path):
    a = Archive(tmp_path)
    ok = a.write(exchange(0))
    a.write(exchange(1))
    path = a.warc_files()[0]
    entries = path.read_bytes()
    with open(path, "rb") as fh:
        recs = list(iter_records(fh))
    cut = recs[-2].offset + recs[-2].length // 2
    path.write_bytes(entries[:cut])  # what a power cut during the write of record -2 leaves
    lines = ledger_file(tmp_path).read_bytes().split(b"\n")
    ledger_file(tmp_path).write_bytes(lines[0] + b"\n")  # ... before its ledger entry existed
    report = a.verify()
    assert report.ok and any("partial tail" in w for w in report.warnings)
    later = a.write(exchange(2))
    assert list(a.iter_captures()) == [ok, later] and len(a.warc_files()) == 2
    assert a.verify().ok


KILL_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_ledger import exchange
    from claimwatch.archive import Archive
    a = Archive({home!r})
    i = 0
    while True:
        a.write(exchange(i, body=b"<p>" + b"sensor inventory row " * (50 + i % 400) + b"</p>"))
        i += 1
        print(i, flush=True)
""")


def test_killed_writer_leaves_a_verifiable_archive(tmp_path):
    code = KILL_WRITER.format(tests=str(Path(__file__).parent), home=str(tmp_path))
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": SRC})
        proc.stdout.readline()  # at least one capture done
        time.sleep(0.05 + 0.07 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        a = Archive(tmp_path)
        report = a.verify()
        assert report.ok, report.first_break
    a.write(exchange(999))
    report = a.verify()
    assert report.ok, report.first_break
    caps = list(a.iter_captures())
    assert [c.ledger_index for c in caps] == list(range(len(caps)))
    assert caps[-1].url.endswith("/999")


CONCURRENT_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_ledger import exchange
    from claimwatch.archive import Archive
    a = Archive({home!r}, warc_max_bytes=20000)
    for i in range(25):
        a.write(exchange({base} + i))
""")


def test_concurrent_writers_keep_one_valid_chain(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c",
                               CONCURRENT_WRITER.format(tests=str(Path(__file__).parent),
                                                        home=str(tmp_path), base=base)],
                              env={**os.environ, "PYTHONPATH": SRC})
             for base in (1000, 2000)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    a = Archive(tmp_path)
    report = a.verify()
    assert report.ok, report.first_break
    assert report.warnings == [] and report.ledger_entries == 50
    caps = list(a.iter_captures())
    assert sorted(int(c.url.rsplit("/", 1)[1]) for c in caps) == list(range(1000, 1025)) + list(range(2000, 2025))
    assert len(a.warc_files()) > 1  # rotation happened under concurrency too


# ------------------------------------------------------------------ unwritable data directories

def _mount(args) -> bool:
    return os.geteuid() == 0 and subprocess.run(["mount", *args], capture_output=True).returncode == 0


def test_home_is_a_file(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a directory")
    with pytest.raises(ArchiveError) as info:
        Archive(home).write(exchange(0))
    assert "\n" not in str(info.value) and "not a directory" in str(info.value)


def test_home_under_proc_is_refused(tmp_path):
    # /proc accepts no new directories even for root.
    with pytest.raises(ArchiveError) as info:
        Archive("/proc/claimwatch-home").write(exchange(0))
    assert "\n" not in str(info.value) and str(info.value).startswith("cannot write the archive")


def test_read_only_data_directory(tmp_path):
    """A read-only bind mount (root can write through chmod, not through a read-only mount)."""
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    Archive(src).write(exchange(0))
    if not (_mount(["--bind", str(src), str(ro)])):
        pytest.skip("cannot bind-mount here (needs root with CAP_SYS_ADMIN)")
    try:
        if not _mount(["-o", "remount,bind,ro", str(ro)]):
            pytest.skip("cannot remount read-only here")
        a = Archive(ro)
        with pytest.raises(ArchiveError) as info:
            a.write(exchange(1))
        msg = str(info.value)
        assert "\n" not in msg and "read-only" in msg.lower()
        # Reading and verifying a read-only archive still works.
        assert a.verify().ok and len(list(a.iter_captures())) == 1
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
    assert Archive(src).verify().ok


def test_full_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not _mount(["-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)]):
        pytest.skip("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
    try:
        a = Archive(mnt)
        ok = a.write(exchange(0))
        big = os.urandom(400 * 1024)  # incompressible: cannot fit
        with pytest.raises(ArchiveError) as info:
            a.write(exchange(1, body=big))
        msg = str(info.value)
        assert "\n" not in msg and "disk full" in msg
        # Nothing half-ledgered: the ledger still ends with the good capture, and verify passes.
        assert list(a.iter_captures()) == [ok]
        assert a.verify().ok
        subprocess.run(["mount", "-o", "remount,size=4m", str(mnt)], check=True)
        later = a.write(exchange(2))
        assert list(a.iter_captures()) == [ok, later] and a.verify().ok
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
