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


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    line = " ".join(str(message).split())
    sys.stderr.write(f"claimwatch: error: {line}\n")
    raise typer.Exit(code)


def emit_jsonl(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
