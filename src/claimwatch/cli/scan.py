"""`claimwatch scan`: bulk detection over WARC/ARC/WET files (local processes or Spark)."""

from __future__ import annotations

import enum
import os
import sys
from typing import List, Optional

import typer

from claimwatch.cli import app
from claimwatch.cli.common import EXIT_CHECK_FAILED, EXIT_OK, Format, FormatOption, fail, finished


class Engine(str, enum.Enum):
    local = "local"
    spark = "spark"


@app.command()
def scan(
    paths: List[str] = typer.Argument(..., help="WARC/ARC/WET files, directories (recursive), or @FILE listing paths."),
    workers: int = typer.Option(1, "--workers", "-w", help="Worker processes (local) or local[N] threads (spark)."),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local (processes on this machine) or spark."),
    master: Optional[str] = typer.Option(None, "--master", help="Spark master URL (default local[WORKERS])."),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write findings to FILE.jsonl or FILE.parquet instead of stdout."),
    fmt: Format = FormatOption,
    no_prefilter: bool = typer.Option(False, "--no-prefilter", help="Run extract+detect on every record (slow; for verification)."),
) -> None:
    """Scan web archives for claims; findings in the `detect` JSONL form. Exit 1 if any file or record failed to read."""
    from claimwatch.scan.output import OUT_SUFFIXES, FindingsWriter
    from claimwatch.scan.prestart import files_for
    from claimwatch.scan.progress import ProgressBar, Stats
    from claimwatch.scan.sources import UsageError

    if workers < 1:
        fail("--workers must be at least 1")
    if master is not None and engine is not Engine.spark:
        fail("--master needs --engine spark")
    if out is not None:
        if not out.endswith(OUT_SUFFIXES):
            fail(f"--out must end in .jsonl or .parquet: {out}")
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            fail(f"--out directory does not exist: {parent}")
    try:
        files = files_for(list(paths))  # (the list the entry point made, if it made one)
    except UsageError as exc:
        fail(str(exc))

    if engine is Engine.local and workers == 1:
        from claimwatch.scan.readers import expect

        # The inflate helper starts on the first files now (the console entry point has usually
        # started it on these very files already, before Typer's import: then this does nothing),
        # while the detector is imported and built (~0.2-0.3 s), and before the progress bar starts a
        # thread (the helper is a fork).
        expect(files)
    stats = Stats()
    total = 0
    for p in files:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass
    try:
        writer = FindingsWriter(out, fmt.value)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")

    bar = ProgressBar(total) if engine is Engine.local else ProgressBar(total, enabled=False)
    try:
        if engine is Engine.spark:
            from claimwatch.scan.spark_job import run_spark

            results = run_spark(files, master=master or f"local[{workers}]", prefilter=not no_prefilter)
        else:
            from claimwatch.scan.engine import run_local

            results = run_local(files, workers=workers, prefilter=not no_prefilter, progress=bar.advance)
        for res in results:
            stats.add(res)
            for line in res.errors:
                bar.print_line(f"claimwatch: read error: {line}")
            writer.write(res.findings)
    except BrokenPipeError:
        # `claimwatch scan ... | head`: the reader is gone, stop quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        bar.close()
        results.close()  # stops the worker pool or the Spark session now
        raise typer.Exit(EXIT_OK)
    finally:
        bar.close()
        writer.close()
    sys.stderr.write(stats.summary() + "\n")
    sys.stderr.flush()
    if engine is Engine.local:
        # Output closed and flushed, worker pool joined: nothing is left for the interpreter's
        # teardown to do. (Spark keeps its normal shutdown.)
        finished()
    raise typer.Exit(EXIT_CHECK_FAILED if stats.errors else EXIT_OK)

