"""The `claimwatch` command. Commands live in sibling modules and register on `app`."""

from __future__ import annotations

import os
import sys

import typer

from claimwatch import __version__

app = typer.Typer(
    name="claimwatch",
    help=(
        "Find, preserve and track claims that surveillance vendors make about prohibited "
        "analytics, and prove when such a claim is removed. claimwatch reads documents, never people."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claimwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    pass


# The module that registers each command: `claimwatch CMD ...` imports only CMD's module (all of
# them cost ~25 ms more of start-up); anything else (--help, --version, a mistyped command) imports
# them all. A test checks this table against the registered commands.
_MODULE_OF = {"detect": "detect", "scan": "scan", **dict.fromkeys(
    ("capture", "events", "claims", "history", "verify", "reindex"), "evidence")}


def _register(command: str | None = None) -> None:
    # Command modules import `app` from here, so they are imported after it exists.
    from importlib import import_module

    for module in [_MODULE_OF[command]] if command in _MODULE_OF else sorted(set(_MODULE_OF.values())):
        import_module(f"claimwatch.cli.{module}")


def main() -> None:
    # No command does linear algebra, nor imports NumPy itself; pyarrow (Parquet output) imports it when
    # it is installed. With one OpenBLAS thread that import skips starting a BLAS thread pool (~0.05 s
    # of start-up on two busy cores). An explicit setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from claimwatch.cli import common

    _register(sys.argv[1] if len(sys.argv) > 1 else None)
    common._finished = False
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("claimwatch: interrupted\n")
        sys.exit(130)
    except SystemExit as exc:
        if common._finished:
            _exit_now(exc.code)
        raise


def _exit_now(code: object) -> None:
    """End the process at once with `code`, skipping the interpreter's teardown, when that is safe:
    only this entry point (never a test runner's in-process invocation, which swaps the streams),
    no profiler, tracer or coverage tool (they report after the program ends), an integer code, no
    non-daemon thread still running; the atexit handlers (multiprocessing, logging, weakref
    finalizers) still run. Returns if any condition fails (the normal exit follows)."""
    import threading

    code = 0 if code is None else code
    if not isinstance(code, int) or sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__:
        return
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return
    if any(t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    import atexit

    atexit._run_exitfuncs()  # runs each handler once and clears the list
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the descriptor was closed when Python started
                stream.flush()
    except (OSError, ValueError):
        return  # let the normal exit report a failed flush as it always has
    os._exit(code)
