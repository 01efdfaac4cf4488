"""Progress bar (only when stderr is a terminal) and the end-of-run summary line."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass
class Stats:
    files: int = 0
    records: int = 0
    candidates: int = 0
    bytes: int = 0
    findings: int = 0
    errors: int = 0
    failed_files: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, res) -> None:
        """Count one FileResult (scan.worker) in."""
        self.files += 1
        self.records += res.records
        self.candidates += res.candidates
        self.bytes += res.size
        self.findings += len(res.findings)
        if res.errors:
            self.failed_files += 1
            self.errors += len(res.errors)

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.bytes / elapsed / 1e6 if elapsed > 0 else 0.0
        return (
            f"scan: {self.files} files, {self.records} records ({self.candidates} past the prefilter), {self.bytes} bytes, "
            f"{self.findings} findings, {self.errors} errors, {elapsed:.2f}s ({rate:.1f} MB/s)"
        )


class ProgressBar:
    """A rich progress bar over the total input bytes; a no-op when stderr is not a TTY.

    The bar (and Rich's refresh thread) starts at the first update, so that the local engine can
    fork its workers before any thread exists."""

    def __init__(self, total_bytes: int, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._records = 0
        self._t0 = time.perf_counter()
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        self._progress = Progress(
            TextColumn("scan"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[records]} records ({task.fields[rps]}/s)"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("scan", total=total_bytes, records=0, rps=0)
        self._started = False

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._progress.start()

    def advance(self, nbytes: int, nrecords: int) -> None:
        if not self.enabled:
            return
        self._start()
        self._records += nrecords
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        self._progress.update(self._task, advance=max(nbytes, 0), records=self._records, rps=int(self._records / elapsed))

    def print_line(self, text: str) -> None:
        """One stderr line, above the live bar when there is one."""
        if self.enabled:
            self._start()
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(text + "\n")

    def close(self) -> None:
        if self.enabled and self._started:
            self._progress.stop()
