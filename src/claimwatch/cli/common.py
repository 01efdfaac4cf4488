"""What every command shares: output formats, exit codes and the one-line error rule."""

from __future__ import annotations

import enum
import json
import sys
from typing import NoReturn

import typer


class Format(str, enum.Enum):
    text = "text"
    jsonl = "jsonl"


EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2

FormatOption = typer.Option(Format.text, "--format", help="Output format: text or jsonl.")

# Set by a command that has finished, closed its output files and flushed its streams, right before
# it exits: the real entry point (cli.main) may then end the process without the interpreter's
# teardown (freeing every module and object: ~0.1 s after a scan). Nothing else reads it.
_finished = False


def finished() -> None:
    """Tell `main()` that the running command has nothing left to close or flush."""
    global _finished
    _finished = True


def one_line(message: object, limit: int | None = None) -> str:
    """`message` with all whitespace folded to single spaces, cut to `limit` characters."""
    line = " ".join(str(message).split())
    return line if limit is None else line[:limit]


def say(level: str, message: object) -> None:
    """One line on stderr: `claimwatch: LEVEL: message` (error, warning, note, ...)."""
    sys.stderr.write(f"claimwatch: {level}: {one_line(message)}\n")


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    say("error", message)
    raise typer.Exit(code)


def emit_jsonl(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
