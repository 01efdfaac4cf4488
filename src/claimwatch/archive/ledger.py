"""The ledger: append-only JSON-lines files forming one SHA-256 hash chain over all captures.

Files are ledger/ledger-000001.jsonl, ledger-000002.jsonl, ... read in order as one chain.
Each line is the canonical JSON (sorted keys, no spaces, UTF-8) of
    {index, prev, capture_id, url, at, records: [...], hash}
where hash = SHA-256 of the canonical JSON of the entry without "hash", and prev is the previous
entry's hash ("0"*64 for the first). A file's last line without a newline is a torn write (crash
while appending): readers ignore it, and the writer never appends after it, it starts the next file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from claimwatch.archive.errors import ArchiveError

GENESIS = "0" * 64
FILE_RE = re.compile(r"^ledger-(\d{6,})\.jsonl$")


def canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def make_entry(index: int, prev: str, capture_id: str, url: str, at: str, records: list[dict]) -> dict:
    entry = {"index": index, "prev": prev, "capture_id": capture_id, "url": url, "at": at,
             "records": records}
    entry["hash"] = entry_hash(entry)
    return entry


@dataclass
class Line:
    file: Path
    line_no: int  # 1-based
    text: bytes
    terminated: bool

    @property
    def where(self) -> str:
        return f"{self.file.parent.name}/{self.file.name} line {self.line_no}"


def ledger_files(ledger_dir: Path) -> list[Path]:
    if not ledger_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in ledger_dir.iterdir() if (m := FILE_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def iter_lines(ledger_dir: Path) -> Iterator[Line]:
    for path in ledger_files(ledger_dir):
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, 1):
                terminated = raw.endswith(b"\n")
                yield Line(path, n, raw.rstrip(b"\n"), terminated)


class LedgerFormatError(ArchiveError):
    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")


def parse(line: Line) -> dict:
    try:
        entry = json.loads(line.text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerFormatError(line.where, f"not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(entry, dict) or not {"index", "prev", "hash", "records"} <= entry.keys():
        raise LedgerFormatError(line.where, "not a ledger entry")
    return entry


def is_torn(line: Line) -> bool:
    """An unterminated last line that is an interrupted write (ignored), not an entry.

    Raises LedgerFormatError when it is a complete object followed by junk: no crash makes that."""
    if line.terminated:
        return False
    try:
        text = line.text.decode("utf-8")
        _, end = json.JSONDecoder().raw_decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return True
    if text[end:]:
        raise LedgerFormatError(line.where, "unterminated last line holds an entry followed by unexpected bytes")
    return False


def iter_entries(ledger_dir: Path) -> Iterator[tuple[Line, dict]]:
    """Entries in order; torn last lines (interrupted writes) are skipped."""
    for line in iter_lines(ledger_dir):
        if is_torn(line):
            continue
        yield line, parse(line)


def last_entry(ledger_dir: Path) -> dict | None:
    """The newest complete entry, read from the end of the newest file(s) without scanning all."""
    for path in reversed(ledger_files(ledger_dir)):
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block = 1 << 16
            pos = size
            tail = b""
            while pos > 0:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                tail = fh.read(step) + tail
                lines = tail.split(b"\n")
                if len(lines) >= 2 or pos == 0:
                    # lines[-1] is b"" (file ends with a newline) or an unterminated last line.
                    if lines[-1]:
                        last = Line(path, -1, lines[-1], False)
                        if not is_torn(last):
                            return parse(last)
                    complete = lines[:-1]
                    if len(complete) >= 2 or (pos == 0 and complete):
                        return parse(Line(path, -1, complete[-1], True))
            # file holds no complete line: look at the previous file
    return None


def needs_new_file(path: Path) -> bool:
    """True if appending to `path` would build on a torn line."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) != b"\n"


def append(ledger_dir: Path, entry: dict, *, fault: Callable[[str], None] | None = None) -> Path:
    """Append one entry and fsync. Caller holds the archive lock."""
    files = ledger_files(ledger_dir)
    if not files:
        path = ledger_dir / "ledger-000001.jsonl"
    else:
        path = files[-1]
        if needs_new_file(path):
            seq = int(FILE_RE.match(path.name).group(1)) + 1
            path = ledger_dir / f"ledger-{seq:06d}.jsonl"
    data = canonical(entry) + b"\n"
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if fault is not None:
            # Crash-test hook: let tests stop between the two halves of one line.
            half = len(data) // 2
            os.write(fd, data[:half])
            fault("ledger_partial")
            data = data[half:]
        while data:
            n = os.write(fd, data)
            data = data[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(ledger_dir)
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
