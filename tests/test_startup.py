"""`claimwatch scan` ends without the interpreter's teardown (cli.main): outputs and exit codes must
be exactly those of a normal exit.

Each run below goes through the real entry point in a subprocess, and is compared with the same
command run in-process by Typer's CliRunner, which never takes the shortcut.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimwatch.scan.worker import scan_file
from support_warc import make_pages, write_warc

CLAIMWATCH = str(Path(sys.executable).parent / "claimwatch")

# main() as the console script runs it, plus two probes: an atexit handler (must still run) and an
# object whose finaliser only the interpreter's teardown runs (shows whether the teardown happened).
PROBED_MAIN = """\
import atexit, os, sys
from claimwatch.__main__ import main

class Probe:
    def __del__(self, _write=os.write):
        _write(2, b"probe: teardown\\n")

probe = Probe()
atexit.register(lambda: os.write(2, b"probe: atexit\\n"))
sys.argv[0] = "claimwatch"
sys.exit(main())
"""


@pytest.fixture(scope="module")
def warcs(tmp_path_factory):
    """A WARC with claims, and a copy cut off in the middle of a record (a read error)."""
    d = tmp_path_factory.mktemp("startup")
    good = str(d / "good.warc.gz")
    write_warc(good, make_pages(40, seed=11, host="s.example"))
    data = Path(good).read_bytes()
    cut = d / "cut.warc.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    return good, str(cut)


def _in_process(args: list[str]):
    import claimwatch.cli.scan  # noqa: F401  (registers the command on the app)
    from claimwatch.cli import app

    return CliRunner().invoke(app, ["scan", *args])


def _summary_free(stderr: str) -> list[str]:
    """stderr lines without the summary's timing ("0.12s (3.4 MB/s)")."""
    return [line.rsplit(", ", 1)[0] if line.startswith("scan: ") else line for line in stderr.splitlines()]


def test_console_script_output_and_exit_code_match_a_normal_exit(warcs, tmp_path):
    good, cut = warcs
    for args in (["--format", "jsonl", good, cut], ["--format", "jsonl", good], [good, cut],
                 ["--workers", "2", "--format", "jsonl", good, cut]):
        real = subprocess.run([CLAIMWATCH, "scan", *args], capture_output=True, text=True, timeout=120)
        ref = _in_process(args)
        assert real.returncode == ref.exit_code, (args, real.stderr)
        assert real.stdout == ref.stdout, args
        assert _summary_free(real.stderr) == _summary_free(ref.stderr), args
        assert "Traceback" not in real.stderr
    # the last run: exit 1 for the cut file, every finding of the good file on stdout (flushed)
    assert real.returncode == 1
    assert [json.loads(line) for line in real.stdout.splitlines()][: len(scan_file(good).findings)] == \
        scan_file(good).findings
    assert any(line.startswith(f"claimwatch: read error: {cut}: offset ") for line in real.stderr.splitlines())
    assert real.stderr.splitlines()[-1].startswith("scan: 2 files, ")


def test_opencc_version_read_without_importing_it_is_its_version():
    # the normalisation table's cache key names OpenCC's version without importing OpenCC
    import opencc

    from claimwatch.detect import normalize

    assert normalize._opencc_version() == opencc.__version__


def test_scan_and_detect_import_no_numpy(warcs, tmp_path):
    # Importing NumPy cost ~0.2 s of every process's start-up: the detector and the extractor do
    # without it (normalize.py, matcher.Utf8Text, html._lines). Any attempt to import it fails here.
    good, _ = warcs
    code = (
        "import os, sys\n"
        "class NoNumpy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'numpy':\n"
        "            os.write(2, b'probe: numpy\\n')\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoNumpy())\n"
        "from claimwatch.detect import detect\n"
        "assert detect('Face attributes include ethnicity (Uyghur / Han).')\n"
        "sys.argv[0] = 'claimwatch'\n"
        "from claimwatch.__main__ import main\n"
        "sys.exit(main())\n"
    )
    out = tmp_path / "f.jsonl"
    run = subprocess.run([sys.executable, "-c", code, "scan", good, "--out", str(out)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "probe: numpy" not in run.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == scan_file(good).findings != []


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_output_file_is_complete_and_closed(warcs, tmp_path, suffix):
    good, cut = warcs
    out = tmp_path / f"f{suffix}"
    real = subprocess.run([CLAIMWATCH, "scan", "--out", str(out), good, cut], capture_output=True, text=True,
                          timeout=120)
    assert real.returncode == 1, real.stderr
    ref_out = tmp_path / f"ref{suffix}"
    ref = _in_process(["--out", str(ref_out), good, cut])
    assert ref.exit_code == 1
    if suffix == ".jsonl":
        assert out.read_bytes() == ref_out.read_bytes()
        assert out.read_bytes().endswith(b"\n")
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(out).to_pylist() == pq.read_table(ref_out).to_pylist()
    assert real.stdout == ""
    assert real.stderr.splitlines()[-1].startswith("scan: 2 files, ")


def test_closed_stdout(warcs, tmp_path):
    # Python starts with sys.stdout None when descriptor 1 is closed; --out needs no stdout.
    good, _ = warcs
    out = tmp_path / "f.jsonl"
    real = subprocess.run(f"'{CLAIMWATCH}' scan --out '{out}' '{good}' >&-", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert real.returncode == 0, real.stderr
    assert "Traceback" not in real.stderr and real.stderr.startswith("scan: 1 files, ")
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == scan_file(good).findings


def test_teardown_skipped_only_after_a_finished_scan_and_atexit_still_runs(warcs, tmp_path):
    good, _ = warcs

    def run(*args: str, **env: str):
        return subprocess.run([sys.executable, "-c", PROBED_MAIN, *args], capture_output=True, text=True,
                              timeout=120, env={**os.environ, **env})

    done = run("scan", "--format", "jsonl", good)
    assert done.returncode == 0
    assert "probe: atexit" in done.stderr
    assert "probe: teardown" not in done.stderr  # the shortcut was taken
    assert len(done.stdout.splitlines()) == len(scan_file(good).findings)
    # An empty cache directory: the databases are compiled and saved before the scan, so the
    # shortcut never cuts a cache write short; the next run loads them and finds the same.
    cache = tmp_path / "cache"
    first = run("scan", "--format", "jsonl", good, CLAIMWATCH_CACHE_DIR=str(cache))
    assert first.returncode == 0 and first.stdout == done.stdout
    entries = sorted(p.name for p in cache.iterdir())
    assert entries and not any(name.startswith(".tmp-") for name in entries)
    second = run("scan", "--format", "jsonl", good, CLAIMWATCH_CACHE_DIR=str(cache))
    assert second.stdout == done.stdout and sorted(p.name for p in cache.iterdir()) == entries
    # Usage errors and other commands exit the normal way.
    usage = run("scan", "--workers", "0", good)
    assert usage.returncode == 2
    assert "probe: atexit" in usage.stderr and "probe: teardown" in usage.stderr
    version = run("--version")
    assert version.returncode == 0 and "probe: teardown" in version.stderr


def test_cached_lexicon_and_normalisation_table_equal_the_built_ones():
    # What a warm cache hands in (hsdb.made_bytes) must give exactly what building from scratch gives.
    from claimwatch.detect import normalize
    from claimwatch.lexicon import load

    files = load.lexicon_files()
    made: dict[str, bytes] = {}

    def cache(key, make):
        if key not in made:
            made[key] = make()
        return made[key]

    from_yaml = load._build(files, load._parse_yaml(files))
    assert load._build(files, load._documents(files, cache)) == from_yaml  # made: JSON written
    assert load._build(files, load._documents(files, cache)) == from_yaml  # found: JSON read back
    assert from_yaml == load.load_lexicon()
    (blob,) = made.values()
    assert blob and not blob.startswith(b"\x00")
    # documents JSON cannot carry exactly (a date) are never cached: the YAML is parsed instead
    for odd in ([("x.yaml", b"a: 2024-01-01\nb: [1, two]\n")], [("y.yaml", b"1: one\n")]):
        made.clear()
        assert list(load._documents(odd, cache)) == list(load._parse_yaml(odd))
        assert list(made.values()) == [b""]

    blob = normalize._changes()
    n = len(blob) // 8
    moved = [int.from_bytes(blob[i : i + 4], "little") for i in range(0, 8 * n, 4)]
    table = dict(zip(moved[:n], moved[n:]))
    assert moved[:n] == sorted(moved[:n]) and len(table) == n > 5000
    assert table == normalize._build()
    assert normalize.norm_table() == table
