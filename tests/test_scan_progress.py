"""The progress bar appears only on a terminal, and forked workers run fine under it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from support_warc import make_pages, write_warc

CLAIMWATCH = str(Path(sys.executable).parent / "claimwatch")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_with_tty_stderr(args: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """Run claimwatch with stderr on a pseudo-terminal (stdout a pipe): (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen([CLAIMWATCH, *args], stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError("scan under a terminal did not finish")
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = proc.stdout.read().decode("utf-8")
    return proc.wait(timeout=timeout), out, seen.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_with_forked_workers(tmp_path):
    paths = []
    for i in range(3):
        path = str(tmp_path / f"{i}.warc.gz")
        write_warc(path, make_pages(40, seed=300 + i, host=f"p{i}.example"))
        paths.append(path)
    for workers in ("1", "2"):
        code, out, term = _run_with_tty_stderr(["scan", "--workers", workers, "--format", "jsonl", *paths])
        assert code == 0, term
        assert [json.loads(line)["category"] for line in out.splitlines()]  # findings still on stdout
        assert "records" in term and "/s" in term  # the live bar: bytes and records per second
        # the bar is transient: erased at the end, leaving the summary as the last line
        assert _ANSI.sub("", term).rstrip().splitlines()[-1].startswith("scan: 3 files, 120 records")


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    path = str(tmp_path / "a.warc.gz")
    write_warc(path, make_pages(5, seed=9))
    proc = subprocess.run([CLAIMWATCH, "scan", "--format", "jsonl", path], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [proc.stderr.strip()]  # the summary line only
    assert proc.stderr.startswith("scan: 1 files, 5 records")
