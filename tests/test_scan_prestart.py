"""The console entry point starts a one-worker scan's inflate helper before the CLI's imports
(scan/prestart.py): its reading of the command line must agree with Typer's whenever it starts one,
and the scan must then keep that helper and give the same output as without the head start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer
import typer.core
from typer.testing import CliRunner

from claimwatch.scan import inflate
from claimwatch.scan import prestart
from claimwatch.scan.prestart import FLAGS, VALUED, planned_paths
from claimwatch.scan.sources import UsageError, expand_inputs
from support_warc import make_pages, write_warc


def _scan_command():
    import claimwatch.cli.scan  # noqa: F401  (registers the command on the app)
    from claimwatch.cli import app

    return typer.main.get_command(app).commands["scan"]


def test_prestart_knows_every_option_of_scan():
    valued, flags = set(), set()
    for p in _scan_command().params:
        if isinstance(p, typer.core.TyperOption):
            (flags if p.is_flag else valued).update(p.opts + p.secondary_opts)
    assert (valued, flags) == (set(VALUED), set(FLAGS))


@pytest.fixture()
def inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.warc.gz", "b.warc", "d/c.warc.gz", "d/e/f.arc", "-dash.warc"):
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        open(name, "wb").close()
    with open("list.txt", "w") as fh:
        fh.write("# manifest\nb.warc\n\na.warc.gz\n")
    return tmp_path


CASES = [
    ["a.warc.gz", "b.warc"],
    ["d", "a.warc.gz"],
    ["@list.txt"],
    ["--out", "x.jsonl", "a.warc.gz"],
    ["-o", "x.jsonl", "a.warc.gz", "--format", "jsonl"],
    ["--out=x.jsonl", "a.warc.gz", "-w", "1"],
    ["-w1", "a.warc.gz", "--workers=01", "--engine", "local"],
    ["--no-prefilter", "b.warc", "--master", "x"],
    ["a.warc.gz", "--", "-dash.warc"],
    ["-w", "2", "a.warc.gz", "--workers=1"],  # (the last one counts)
    # nothing started for these
    ["-w", "-1", "a.warc.gz"],  # (Typer takes -1 as the value; the command then refuses it)
    ["-w", "2", "a.warc.gz"],
    ["--workers=3", "a.warc.gz"],
    ["--workers=1", "a.warc.gz", "-w", "2"],
    ["--engine", "spark", "a.warc.gz"],
    ["--engine=Local", "a.warc.gz"],
    ["a.warc.gz", "--help"],
    ["--bogus", "a.warc.gz"],
    ["-x", "a.warc.gz"],
    ["--no-prefilter=1", "a.warc.gz"],
    ["--workers", "two", "a.warc.gz"],
    ["a.warc.gz", "--out"],
    ["missing.warc.gz"],
    ["@missing.txt"],
    [],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c) or "(none)" for c in CASES])
def test_planned_files_are_what_typer_makes_of_the_command_line(inputs, monkeypatch, argv):
    started: list[list[str]] = []
    monkeypatch.setattr("claimwatch.scan.readers.expect", started.append)
    monkeypatch.setattr(prestart, "_made", None)
    prestart.prestart(list(argv))
    try:
        with _scan_command().make_context("scan", list(argv), resilient_parsing=False) as ctx:
            params = ctx.params
    except Exception:  # noqa: BLE001 - Typer refuses the line (a usage error), or --help exits
        params = None
    if not started:
        # nothing started: Typer refuses the line, or asks for something else than one local
        # worker, or the files are not there (the command reports that)
        if params is not None and params["workers"] == 1 and params["engine"] == "local":
            with pytest.raises(UsageError):
                expand_inputs(params["paths"])
        assert prestart.files_for(["a.warc.gz"]) == ["a.warc.gz"]  # (nothing made here: walked by the command)
        return
    assert params is not None, argv
    assert (params["workers"], params["engine"]) == (1, "local")
    assert planned_paths(list(argv)) == list(params["paths"])
    assert started == [expand_inputs(params["paths"])]
    # the command takes that list, once
    monkeypatch.setattr(prestart, "expand_inputs", lambda paths: pytest.fail("walked again"))
    assert prestart.files_for(list(params["paths"])) == started[0]
    assert prestart._made is None


# The console script's main() with a probe: every inflate helper forked, and whether Typer had been
# imported by then (small test files take the helper too).
PROBED = """\
import atexit, os, sys
from claimwatch.scan import inflate_helper, readers
readers.PARALLEL_MIN_BYTES = 1
forks = []
start = inflate_helper.Helper.__init__
def probe(self, *args):
    forks.append("typer" in sys.modules)
    start(self, *args)
inflate_helper.Helper.__init__ = probe
atexit.register(lambda: os.write(2, f"forks: {forks}\\n".encode()))
sys.argv[0] = "claimwatch"
from claimwatch.__main__ import main
main()
"""


@pytest.mark.skipif(not inflate.AVAILABLE, reason="no inflate helper here (deflate not installed, or no fork)")
def test_console_entry_forks_the_helper_before_typer_and_the_scan_keeps_it(tmp_path):
    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"f{i}.warc.gz"))
        write_warc(paths[-1], make_pages(30, seed=40 + i, filler_paragraphs=20))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", PROBED, "scan", "--format", "jsonl", *args],
                              capture_output=True, text=True, timeout=120)

    import claimwatch.cli.scan  # noqa: F401
    from claimwatch.cli import app

    ref = CliRunner().invoke(app, ["scan", "--format", "jsonl", "--workers", "2", *paths])
    assert ref.exit_code == 0 and ref.stdout.count("\n") >= 2
    early = run(*paths)
    assert early.returncode == 0, early.stderr
    assert early.stdout == ref.stdout
    assert "forks: [False]" in early.stderr  # one helper, forked before Typer's import, kept
    # two workers read in pool processes without a helper: nothing is started early
    two = run("--workers", "2", *paths)
    assert two.stdout == ref.stdout and "forks: []" in two.stderr


def test_python_dash_m_runs_the_same_command():
    out = subprocess.run([sys.executable, "-m", "claimwatch", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("claimwatch ")
