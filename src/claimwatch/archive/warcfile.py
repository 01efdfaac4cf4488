"""WARC files at the byte level: writing one gzip member per record (warcio), reading members back.

The reader is our own (zlib, one member at a time) rather than warcio's ArchiveIterator because
verification needs exact member offsets/lengths, a hash of the stored (compressed) bytes, and a
precise account of where a file stops being readable.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from claimwatch.archive.digests import sha256_hex, warc_digest

WARC_VERSION = "1.1"
_READ = 1 << 20
FILE_RE = re.compile(r"^claimwatch-(\d{8}T\d{6}Z)-(\d+)\.warc\.gz$")


class _Writer(WARCWriter):
    """warcio's writer, but any digest it has to fill in itself is SHA-256, never SHA-1."""

    @staticmethod
    def _create_digester():
        return Digester("sha256")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Written:
    offset: int
    length: int  # bytes of the gzip member in the file
    stored_sha256: str  # hex SHA-256 of those compressed bytes
    block_sha256: str
    payload_sha256: str | None


def write_record(out: BinaryIO, *, record_type: str, record_id: str, date: datetime,
                 target_uri: str | None, content_type: str, block: bytes,
                 payload: bytes | None, extra_headers: list[tuple[str, str]] = ()) -> Written:
    """Append one record as its own gzip member. `payload` is the part the payload digest covers
    (None: no WARC-Payload-Digest header)."""
    headers = [("WARC-Type", record_type), ("WARC-Record-ID", record_id), ("WARC-Date", warc_date(date))]
    if target_uri is not None:
        headers.append(("WARC-Target-URI", target_uri))
    headers.extend(extra_headers)
    headers.append(("WARC-Block-Digest", warc_digest(block)))
    if payload is not None:
        headers.append(("WARC-Payload-Digest", warc_digest(payload)))
    rec_headers = StatusAndHeaders("", headers, protocol=f"WARC/{WARC_VERSION}")
    # http_headers=None: the block is written byte for byte as given (warcio would otherwise
    # re-serialise HTTP headers and could change the bytes our digests describe).
    record = ArcWarcRecord("warc", record_type, rec_headers, io.BytesIO(block), None,
                           content_type, len(block))
    start = out.tell()
    tee = _HashingWriter(out)
    _Writer(tee, gzip=True, warc_version=WARC_VERSION).write_record(record)
    return Written(offset=start, length=tee.count, stored_sha256=tee.hash.hexdigest(),
                   block_sha256=sha256_hex(block),
                   payload_sha256=sha256_hex(payload) if payload is not None else None)


class _HashingWriter:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.count = 0
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.count += len(data)
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()

    def tell(self) -> int:
        return self.out.tell()


# ---------------------------------------------------------------- reading

class MemberError(Exception):
    """A gzip member or WARC record that cannot be read; `offset` says where."""

    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset


@dataclass
class Record:
    offset: int
    length: int
    stored_sha256: str
    headers: list[tuple[str, str]]
    block: bytes

    def get(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def record_id(self) -> str:
        return self.get("WARC-Record-ID") or ""

    @property
    def record_type(self) -> str:
        return self.get("WARC-Type") or ""


def parse_record(data: bytes, offset: int, length: int, stored_sha256: str) -> Record:
    end = data.find(b"\r\n\r\n")
    if not data.startswith(b"WARC/") or end < 0:
        raise MemberError(offset, "not a WARC record (no WARC/ version line or header end)")
    try:
        lines = data[:end].decode("utf-8").split("\r\n")
    except UnicodeDecodeError:
        raise MemberError(offset, "WARC header is not valid UTF-8") from None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise MemberError(offset, f"malformed WARC header line {line[:60]!r}")
        headers.append((name.strip(), value.strip()))
    rec = Record(offset, length, stored_sha256, headers, b"")
    try:
        clen = int(rec.get("Content-Length") or "")
    except ValueError:
        raise MemberError(offset, "missing or invalid Content-Length") from None
    body_start = end + 4
    if len(data) != body_start + clen + 4 or data[body_start + clen :] != b"\r\n\r\n":
        raise MemberError(offset, f"record length does not match Content-Length {clen}")
    rec.block = data[body_start : body_start + clen]
    return rec


def iter_records(fh: BinaryIO, start: int = 0) -> Iterator[Record]:
    """Records from `start` to EOF, one gzip member each. Raises MemberError where reading fails
    (bad gzip data or CRC, a member cut short by a crash, a malformed record)."""
    fh.seek(start)
    pos = start
    pending = b""
    while True:
        data = pending or fh.read(_READ)
        if not data:
            return
        d = zlib.decompressobj(31)
        h = hashlib.sha256()
        n = 0
        parts = []
        while True:
            try:
                parts.append(d.decompress(data))
            except zlib.error as exc:
                raise MemberError(pos, f"gzip data error ({exc})") from None
            if d.eof:
                used = len(data) - len(d.unused_data)
                h.update(data[:used])
                n += used
                pending = d.unused_data
                break
            h.update(data)
            n += len(data)
            data = fh.read(_READ)
            if not data:
                raise MemberError(pos, "file ends inside a gzip member (partial record)")
        yield parse_record(b"".join(parts), pos, n, h.hexdigest())
        pos += n


def read_record_at(fh: BinaryIO, offset: int) -> Record:
    return next(iter_records(fh, offset))


def file_seq(name: str) -> int | None:
    m = FILE_RE.match(name)
    return int(m.group(2)) if m else None
