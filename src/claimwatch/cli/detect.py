"""`claimwatch detect`: findings in local files or stdin; no data directory is touched.

Every bad path gets one `claimwatch: error: PATH: ...` line on stderr and the other paths are still
processed; the exit code is 2 if any path was bad. Limit notes (a cut input, a PDF read up to its page
limit) are `claimwatch: note: PATH: ...` lines on stderr.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import List

import typer

from claimwatch.cli import app
from claimwatch.cli.common import EXIT_BAD_INPUT, EXIT_OK, Format, FormatOption, emit_jsonl, fail, one_line, say

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz")
STDIN = "-"


class BadInput(Exception):
    """One path cannot be read; the message is one line."""


@app.command()
def detect(
    paths: List[str] = typer.Argument(
        ..., metavar="PATH",
        help="Files (.txt .html .htm .pdf .json .h .c .md, .warc[.gz] .arc[.gz] .wet[.gz]) or - for stdin.",
    ),
    fmt: Format = FormatOption,
) -> None:
    """Find claims of prohibited analytics in documents (detection only; nothing is stored)."""
    _utf8_stdout(fmt)
    try:
        bad = sum(0 if _one(path, fmt) else 1 for path in paths)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        _silence_stdout()
        raise typer.Exit(EXIT_OK)
    except typer.Exit:
        raise
    except Exception as exc:  # the command boundary: one line, never a traceback
        fail(f"detect: {type(exc).__name__}: {exc}")
    raise typer.Exit(EXIT_BAD_INPUT if bad else EXIT_OK)


def _one(path: str, fmt: Format) -> bool:
    """Print the findings of one path; False if it was bad input."""
    try:
        if path != STDIN and path.lower().endswith(ARCHIVE_SUFFIXES):
            records, errors = _archive(path)
        else:
            records, errors = _document(path), []
    except BadInput as exc:
        _stderr("error", path, str(exc))
        return False
    for record in records:
        _print(record, fmt)
    if not records and fmt is Format.text:
        sys.stdout.write(f"{_label(path)}: no findings\n")
    for line in errors:
        _stderr("error", None, line)
    return not errors


def _document(path: str) -> list[dict]:
    from claimwatch.extract import DEFAULT_LIMITS, ExtractError, extract

    data = _read(path, DEFAULT_LIMITS.max_input_bytes)
    try:
        doc = extract(data, filename=None if path == STDIN else path)
    except ExtractError as exc:
        raise BadInput(str(exc)) from None
    for note in doc.notes:
        _stderr("note", path, note)
    from claimwatch.detect import detect as detect_text

    try:
        findings = detect_text(doc.text)
    except Exception as exc:
        raise BadInput(f"detection failed: {type(exc).__name__}: {exc}") from None
    return [f.to_record(document=path, record_id=None) for f in findings]


def _archive(path: str) -> tuple[list[dict], list[str]]:
    _check_file(path)
    try:
        from claimwatch.scan import file_findings
    except ImportError as exc:
        raise BadInput(f"web archives need claimwatch.scan, which is not available ({exc})") from None
    try:
        return file_findings(path)
    except Exception as exc:  # file_findings promises not to raise; one bad archive must not stop the rest
        raise BadInput(f"cannot scan web archive: {type(exc).__name__}: {exc}") from None


def _read(path: str, limit: int) -> bytes:
    """At most limit + 1 bytes: one more than the limit tells extract() the input was cut,
    without reading a huge file into memory."""
    if path == STDIN:
        try:
            return _read_stream(sys.stdin.buffer, limit + 1)
        except OSError as exc:
            raise BadInput(f"cannot read stdin: {exc.strerror or exc}") from None
    _check_file(path)
    try:
        with open(path, "rb") as f:
            return _read_stream(f, limit + 1)
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}") from None


def _read_stream(stream, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _check_file(path: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput("no such file") from None
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput("is a directory (give files; `claimwatch scan` walks directories of web archives)")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise BadInput("not a regular file")


def _print(record: dict, fmt: Format) -> None:
    if fmt is Format.jsonl:
        emit_jsonl(record)
        return
    where = _label(record["document"])
    if record.get("record_id"):
        where += f" {record['record_id']}"
    excerpt = one_line(record["excerpt"])
    sys.stdout.write(
        f"{where}: {record['category']} ({record['rule']}) score {record['score']:.2f}\n"
        f"  match:   {record['match']} [{record['start']}:{record['end']}]\n"
        f"  gloss:   {record['gloss']}\n"
        f"  excerpt: {excerpt}\n"
    )


def _label(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _stderr(level: str, path: str | None, message: str) -> None:
    say(level, f"{_label(path)}: {message}" if path is not None else message)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _utf8_stdout(fmt: Format) -> None:
    """JSONL is UTF-8 whatever the locale; text on a non-UTF-8 terminal degrades instead of failing."""
    try:
        if fmt is Format.jsonl:
            sys.stdout.reconfigure(encoding="utf-8")
        else:
            sys.stdout.reconfigure(errors="replace")
    except (AttributeError, ValueError, OSError):
        pass  # not a reconfigurable text stream (e.g. some test runners)
