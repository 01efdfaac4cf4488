"""`claimwatch scan` end to end: prefilter vs full path, workers, outputs, errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from claimwatch.detect import detect
from claimwatch.extract import extract
from claimwatch.scan import file_findings
from claimwatch.scan.engine import run_local
from claimwatch.scan.worker import scan_file
from support_warc import make_pages, write_resource_warc, write_warc
from support_paths import CORPORA

CLAIMWATCH = [str(Path(sys.executable).parent / "claimwatch")]
ERROR_LINE = re.compile(r"^claimwatch: read error: \S.*: (offset \d+: )?\S.*$")

VARIANTS = [
    {},
    {"chunked": True},
    {"content_encoding": "gzip", "revisits": True},
    {"content_encoding": "br", "chunked": True},
    {"gzip": False},
]


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Five WARCs (one per transfer/content coding variant) of 30 mixed-language pages each."""
    d = tmp_path_factory.mktemp("warcs")
    out = []
    for i, opts in enumerate(VARIANTS):
        pages = make_pages(30, seed=100 + i, host=f"v{i}.example")
        path = str(d / (f"{i:02d}.warc.gz" if opts.get("gzip", True) else f"{i:02d}.warc"))
        written = write_warc(path, pages, **opts)
        out.append((path, written))
    return out


def _expected(written) -> list[dict]:
    """Findings computed without the scanner: extract+detect straight on each page as served."""
    rows = []
    for w in written:
        page = w["page"]
        text = extract(page.body, content_type=f"text/html; charset={page.charset}").text
        found = sorted(detect(text), key=lambda f: (f.start, f.end, f.category, f.rule))
        rows.extend(f.to_record(w["uri"], w["record_id"]) for f in found)
    return rows


def test_fast_path_equals_full_path_and_direct_detection(archives):
    total = 0
    for path, written in archives:
        fast = scan_file(path)
        full = scan_file(path, prefilter=False)
        assert fast.errors == [] and full.errors == []
        assert fast.records == full.records == len(written)
        assert fast.findings == full.findings, path
        assert fast.findings == _expected(written), path
        # The prefilter must actually filter: hard negatives and filler pages are skipped early.
        assert fast.candidates < full.candidates
        total += len(fast.findings)
    assert total > 0


def test_planted_claims_are_found_in_every_encoding(archives):
    found_charsets = set()
    for path, written in archives:
        docs = {f["document"] for f in scan_file(path).findings}
        for w in written:
            if w["page"].planted:
                assert w["uri"] in docs, (path, w["page"].passages[0].text)
                found_charsets.add(w["page"].charset)
    assert found_charsets == {"utf-8", "gbk", "big5"}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_give_the_same_ordered_results(archives, method, monkeypatch):
    # Linux forks the workers; other systems spawn them and hand over the compiled databases.
    from claimwatch.scan import engine

    monkeypatch.setattr(engine, "_start_method", lambda: method)
    paths = [p for p, _ in archives]
    one = [(r.path, r.findings, r.errors, r.records) for r in run_local(paths, workers=1)]
    two = [(r.path, r.findings, r.errors, r.records) for r in run_local(paths, workers=2)]
    assert one == two
    assert any(findings for _, findings, _, _ in one)
    assert [p for p, *_ in one] == paths


def test_resource_and_wet_style_records_are_scanned(tmp_path):
    page = make_pages(1)[0]
    path = str(tmp_path / "r.warc.gz")
    text = page.passages[0].text.encode("utf-8")
    write_resource_warc(path, [("urn:doc:1", page.body, f"text/html; charset={page.charset}"),
                               ("urn:doc:2", text, "text/plain")])
    findings, errors = file_findings(path)
    assert errors == []
    assert {f["document"] for f in findings} == {"urn:doc:1", "urn:doc:2"}
    wet = str(tmp_path / "x.warc.wet.gz")
    big5 = make_pages(20)[18]  # a Traditional-Chinese claim page
    assert big5.planted and big5.passages[0].lang == "zh-Hant"
    write_resource_warc(wet, [("https://a.example/", text, "text/plain"),
                              ("https://b.example/", big5.passages[0].text.encode("utf-8"), "text/plain"),
                              ("https://c.example/", b"nothing to see here", "text/plain")], rec_type="conversion")
    findings, errors = file_findings(wet)
    assert errors == []
    assert [f["document"] for f in findings][:1] == ["https://a.example/"]
    assert {f["document"] for f in findings} == {"https://a.example/", "https://b.example/"}


def _run(args, **kw):
    return subprocess.run(CLAIMWATCH + ["scan", *args], capture_output=True, text=True, timeout=120, **kw)


def test_cli_jsonl_and_parquet_outputs_match(archives, tmp_path):
    paths = [p for p, _ in archives]
    j = tmp_path / "f.jsonl"
    q = tmp_path / "f.parquet"
    r1 = _run(["--out", str(j), *paths])
    r2 = _run(["--out", str(q), "--workers", "2", *paths])
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    rows = [json.loads(line) for line in j.read_text(encoding="utf-8").splitlines()]
    assert rows == [f for p in paths for f in scan_file(p).findings]
    assert pq.read_table(q).to_pylist() == rows
    summary = r1.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"scan: {len(paths)} files, 150 records (") and f"{len(rows)} findings, 0 errors" in summary
    stdout = _run(["--format", "jsonl", *paths])
    assert [json.loads(line) for line in stdout.stdout.splitlines()] == rows


def test_cli_directories_and_manifests(archives, tmp_path):
    paths = [p for p, _ in archives]
    folder = os.path.dirname(paths[0])
    manifest = tmp_path / "paths.txt"
    manifest.write_text("# cc-pyspark style\n" + "\n".join(paths) + "\n\n" + str(tmp_path / "gone.warc.gz") + "\n")
    by_dir = _run(["--format", "jsonl", folder])
    by_manifest = _run(["--format", "jsonl", f"@{manifest}"])
    assert by_dir.returncode == 0
    assert by_manifest.stdout == by_dir.stdout
    # The manifest's missing entry is a read error of that file: reported, counted, exit 1.
    assert by_manifest.returncode == 1
    errs = [line for line in by_manifest.stderr.splitlines() if line.startswith("claimwatch: read error")]
    assert errs == [f"claimwatch: read error: {tmp_path / 'gone.warc.gz'}: no such file"]


@pytest.mark.parametrize(
    "args, message",
    [(["/nonexistent/x.warc.gz"], "no such file or directory"),
     (["--out", "x.csv", "PLACEHOLDER"], "--out must end in .jsonl or .parquet"),
     (["--workers", "0", "PLACEHOLDER"], "--workers must be at least 1"),
     (["--master", "local[2]", "PLACEHOLDER"], "--master needs --engine spark"),
     (["@/nonexistent/manifest.txt"], "no such manifest")],
)
def test_cli_usage_errors_exit_2(archives, args, message):
    args = [archives[0][0] if a == "PLACEHOLDER" else a for a in args]
    r = _run(args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]  # exactly one line
    assert message in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not CORPORA.is_dir(), reason="shared corpora not present")
def test_cli_every_corpus_file_scanned_or_rejected(tmp_path):
    files = sorted(str(p) for p in CORPORA.rglob("*") if p.is_file())
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    r = _run(["--format", "jsonl", "--workers", "2", *files, str(empty)])
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    errors = [line for line in lines[:-1]]
    assert all(ERROR_LINE.match(line) for line in errors), errors
    assert f"claimwatch: read error: {empty}: offset 0: empty file" in errors
    assert any("README.md: offset 0: not a WARC or ARC file" in line for line in errors)
    summary = lines[-1]
    assert summary.startswith(f"scan: {len(files) + 1} files,") and f"{len(errors)} errors" in summary
    for line in r.stdout.splitlines():
        json.loads(line)


def test_text_format_one_line_per_finding(archives):
    from typer.testing import CliRunner

    import claimwatch.cli.scan  # noqa: F401  (registers the command on the app)
    from claimwatch.cli import app

    path = archives[0][0]
    expected = scan_file(path).findings
    r = CliRunner().invoke(app, ["scan", path])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == len(expected) > 0
    for line, f in zip(lines, expected):
        doc, category, rule, match, score, excerpt = line.split("\t")
        assert (doc, category, rule, match) == (f["document"], f["category"], f["rule"], f["match"])
        assert float(score) == pytest.approx(f["score"], abs=0.005) and excerpt


def test_markup_cue_words_do_not_make_html_pages_candidates(tmp_path, monkeypatch):
    # A lone weak term ("fear" in a story) on a page whose markup is full of cue words (<body>,
    # "user", "type", a tracking script): as HTML only its text counts, and the page is not
    # extracted at all; the same bytes served as text/plain are (every byte counts there). Pages
    # with the cue in their text, and planted claims, still pass: findings equal the full path.
    from claimwatch.scan import worker

    shell = ("<!DOCTYPE html><html><head><title>Stories</title><script>window.dataLayer.push({{type: 'user',"
             " device: 'camera'}})</script></head><body class='user'><div data-type='person'>{}</div></body></html>")
    lone = shell.format("<p>She felt fear in the dark forest.</p>").encode()
    cued = shell.format("<p>The camera detects fear on every face of the visitors.</p>").encode()
    claim = shell.format("<p>本平台支持少数民族识别功能，可实时识别维吾尔族人员。</p>").encode()
    docs = [("https://h.example/lone", lone, "text/html"), ("https://h.example/plain", lone, "text/plain"),
            ("https://h.example/cued", cued, "text/html"), ("https://h.example/claim", claim, "text/html"),
            ("https://h.example/filler", shell.format("<p>Lorem ipsum dolor sit amet.</p>").encode(), "text/html")]
    path = str(tmp_path / "h.warc.gz")
    write_resource_warc(path, docs * 5)
    asked = []
    real = worker._reads_as_html
    monkeypatch.setattr(worker, "_reads_as_html", lambda p, c: asked.append(c) or real(p, c))
    fast = scan_file(path)
    full = scan_file(path, prefilter=False)
    assert fast.findings == full.findings and any("ethnicity" in f["category"] for f in fast.findings)
    assert fast.candidates == 15  # plain, cued and claim pages; never the lone HTML one
    assert len(asked) == 20  # asked once per payload with an anchor, never for the filler
