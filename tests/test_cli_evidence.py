"""The evidence commands through the real CLI: capture, events, claims, history, verify, reindex."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support_http import LoopbackServer, closed_port
from test_pipeline import API, CLASSROOM, PRODUCT, version
from typer.testing import CliRunner

import claimwatch.cli.evidence  # noqa: F401  (registers the commands on `app`)
from claimwatch.cli import app

EVENT_KEYS = ["event", "url", "at", "claim_id", "category", "excerpt", "capture", "previous_capture"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("CLAIMWATCH_HOME", str(home))
    monkeypatch.delenv("CLAIMWATCH_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        res = runner.invoke(app, list(args), catch_exceptions=False)
        assert res.exit_code == code, (args, res.stdout, res.stderr)
        return res

    run.home = home
    return run


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_capture_track_verify_reindex(cli):
    with LoopbackServer() as srv:
        urls = [srv.url(p) for p in (PRODUCT, CLASSROOM, API)]
        version(srv, 1)
        first = jsonl(cli("capture", *urls, "--vendor", "Nimbus (fictional)", "--format", "jsonl").stdout)
        version(srv, 3)
        text = cli("capture", *urls).stdout

    assert [o["url"] for o in first] == urls
    assert [o["status"] for o in first] == [200, 200, 200]
    assert all(len(o["sha256"]) == 64 and o["findings"] >= 1 for o in first)
    assert [len(o["events"]) for o in first] == [1, 2, 1]
    lines = text.splitlines()
    assert lines[0].startswith("200") and "claim_removed" in lines[0] and "ok" in lines[0]
    assert any(line.startswith("404") and "gone_http" in line and "page_gone" in line for line in lines)
    assert any("-> " + srv.url("/") in line and "gone_redirect" in line for line in lines)

    events = jsonl(cli("events", "--format", "jsonl").stdout)
    assert [list(e) for e in events] == [EVENT_KEYS] * len(events)
    assert [e["event"] for e in events] == ["claim_appeared"] * 4 + ["claim_removed", "page_gone", "page_gone"]
    assert all(set(e["capture"]) == {"id", "warc", "record_id", "sha256"} for e in events)
    assert events[0]["previous_capture"] is None and events[4]["previous_capture"]["id"] == first[0]["capture_id"]
    assert all(e["at"].endswith("Z") for e in events)

    claims = jsonl(cli("claims", "--format", "jsonl").stdout)
    assert sorted(c["status"] for c in claims) == ["page_gone", "page_gone", "page_gone", "removed"]
    removed = next(c for c in claims if c["status"] == "removed")
    assert removed["removed_at"] and removed["first_seen"] < removed["removed_at"]
    assert all(c["gloss"] for c in claims)
    claims_text = cli("claims").stdout
    assert removed["gloss"] in claims_text and "removed" in claims_text

    hist = jsonl(cli("history", urls[0], "--format", "jsonl").stdout)
    assert [h["status"] for h in hist] == [200, 200]
    assert hist[0]["findings"] and hist[1]["findings"] == []
    assert hist[0]["warc"] and hist[0]["record_id"].startswith("<urn:uuid:") and isinstance(hist[0]["offset"], int)
    assert "维吾尔族" in cli("history", urls[0]).stdout
    assert "classroom" in cli("events").stdout

    assert "verify: ok" in cli("verify").stdout

    # The database is only an index: delete it, rebuild it, get the same claims and events.
    before = (cli("claims", "--format", "jsonl").stdout, cli("events", "--format", "jsonl").stdout)
    for name in ("claimwatch.db", "claimwatch.db-wal", "claimwatch.db-shm"):
        (cli.home / name).unlink(missing_ok=True)
    assert "reindexed 6 captures: 4 claims, 7 events" in cli("reindex").stdout
    assert (cli("claims", "--format", "jsonl").stdout, cli("events", "--format", "jsonl").stdout) == before

    # A corrupted database: one-line error suggesting reindex; reindex keeps the bad file aside.
    (cli.home / "claimwatch.db").write_bytes(b"\x00garbage" * 500)
    res = cli("events", code=2)
    assert res.stderr.count("\n") == 1 and "claimwatch reindex" in res.stderr
    out = cli("reindex").stdout
    assert "unreadable old database kept as" in out
    assert list(cli.home.glob("claimwatch.db.corrupt-*"))
    assert cli("events", "--format", "jsonl").stdout == before[1]

    # One flipped byte in a WARC file: verify fails naming it.
    warc = sorted((cli.home / "archive").glob("*.warc*"))[0]
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    res = cli("verify", code=1)
    assert warc.name in res.stderr and res.stderr.count("\n") == 1


def test_bad_input_is_one_line(cli):
    res = cli("capture", "ftp://example.org/x", code=2)
    assert res.stderr.startswith("claimwatch: error:") and res.stderr.count("\n") == 1
    assert not (cli.home / "archive").exists() or not list((cli.home / "archive").glob("*.warc*"))
    res = cli("history", "https://never.example/", code=2)
    assert "no capture" in res.stderr and res.stderr.count("\n") == 1


def test_capture_with_corrupted_database_still_archives(cli):
    cli.home.mkdir(parents=True)
    (cli.home / "claimwatch.db").write_bytes(b"not a database" * 300)
    with LoopbackServer() as srv:
        version(srv, 1)
        res = cli("capture", srv.url(PRODUCT), code=2)
    assert "not-indexed" in res.stdout and "claimwatch reindex" in res.stderr
    assert "verify: ok" in cli("verify").stdout
    cli("reindex")
    assert [e["event"] for e in jsonl(cli("events", "--format", "jsonl").stdout)] == ["claim_appeared"]


@pytest.mark.postgres
def test_cli_on_postgresql(cli, pg_server, monkeypatch):
    monkeypatch.setenv("CLAIMWATCH_DATABASE_URL", pg_server.create_database())
    with LoopbackServer() as srv:
        version(srv, 1)
        cli("capture", srv.url(PRODUCT), srv.url(API))
        version(srv, 3)
        cli("capture", srv.url(PRODUCT), srv.url(API))
    before = cli("events", "--format", "jsonl").stdout
    assert [e["event"] for e in jsonl(before)] == ["claim_appeared", "claim_appeared", "claim_removed", "page_gone"]
    assert "reindexed 4 captures" in cli("reindex").stdout
    assert cli("events", "--format", "jsonl").stdout == before


def test_home_that_is_a_file_is_one_line(cli):
    cli.home.parent.mkdir(parents=True, exist_ok=True)
    cli.home.write_text("not a directory")
    for args in (("events",), ("claims", "--format", "jsonl"), ("capture", "http://127.0.0.1:9/x"), ("reindex",)):
        res = cli(*args, code=2)
        assert res.stderr.startswith("claimwatch: error:") and res.stderr.count("\n") == 1, args


def test_verify_over_no_archive_is_bad_input_not_ok(tmp_path):
    home = tmp_path / "empty-home"
    env = {**os.environ, "CLAIMWATCH_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "claimwatch", "verify"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "nothing to verify" in proc.stderr
    assert not home.exists()  # verify never creates anything


def test_failed_fetches_are_archived_but_exit_1_with_one_line_each(cli):
    with LoopbackServer() as srv:
        srv.route("/down", status=503, body=b"maintenance", headers={"Content-Type": "text/plain"})
        refused = f"http://127.0.0.1:{closed_port()}/page"
        res = cli("capture", "--format", "jsonl", refused, srv.url("/down"), code=1)
    records = jsonl(res.stdout)
    assert [r["outcome"] for r in records] == ["failed", "failed"]
    assert all(r["events"] == [] for r in records)  # a failure proves nothing: no events
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all("failed" in line and "recorded as a failed capture" in line for line in lines)
    assert "HTTP 503" in lines[1]
    # Both are evidence: archived, ledgered, verifiable, visible in history.
    cli("verify")
    assert len(jsonl(cli("history", "--format", "jsonl", refused).stdout)) == 1
