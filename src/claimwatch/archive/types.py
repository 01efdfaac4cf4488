"""Data passed between capture/ (which fetches) and archive/ (which preserves).

capture/ fills an `Exchange`; archive/ writes it as WARC records + a ledger entry and returns
an `ArchivedCapture`. Reading the archive back (reindex) yields the same `ArchivedCapture`s,
so everything above archive/ sees one shape whether a capture is fresh or rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Hop:
    """One HTTP request/response in a redirect chain (the last hop is the final answer)."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str  # e.g. "HTTP/1.1"
    response_headers: list[tuple[str, str]]
    body: bytes  # payload as received on the wire for this hop (Content-Encoding NOT removed)
    body_truncated: bool = False  # size limit hit; the body is a prefix


@dataclass(frozen=True)
class Exchange:
    """Everything observed while fetching one URL."""

    url: str  # as requested
    started_at: datetime  # UTC
    hops: list[Hop]  # empty when no HTTP answer arrived at all
    resolved_ip: str | None
    error: str | None  # network/TLS/timeout/size error text; None when an HTTP answer arrived
    vendor: str | None = None
    # Answer of the same host for a random path that should not exist (soft-404 baseline).
    probe: Hop | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RecordRef:
    """Where one WARC record lives and what it hashes to."""

    warc: str  # file name relative to the archive directory
    offset: int  # byte offset of the record in that file
    record_id: str  # WARC-Record-ID, e.g. "<urn:uuid:…>"
    record_type: str  # request | response | metadata | resource
    target_uri: str
    block_sha256: str  # hex SHA-256 of the record block
    payload_sha256: str | None  # hex SHA-256 of the HTTP payload (response records)


@dataclass(frozen=True)
class ArchivedCapture:
    """A capture as preserved: what archive/ returns after writing, and yields on reading back."""

    capture_id: str  # stable id (uuid4 hex) written into the metadata record
    url: str
    final_url: str | None
    captured_at: datetime  # UTC
    status: int | None  # final HTTP status; None on network error
    error: str | None
    vendor: str | None
    resolved_ip: str | None
    content_type: str | None  # of the final response
    payload: bytes  # final response body with Content-Encoding removed (b"" if none)
    payload_sha256: str | None  # hex SHA-256 of `payload` as stored (None if no response)
    redirects: list[tuple[str, int]]  # (url, status) of each hop before the final one
    response: RecordRef | None  # the final response record
    records: list[RecordRef]  # every record written for this capture, in order
    probe_status: int | None = None
    probe_payload: bytes | None = None
    ledger_index: int | None = None
    truncated: bool = False
