"""The per-capture metadata record (JSON) and rebuilding an ArchivedCapture from stored records."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from claimwatch.archive.digests import sha256_hex
from claimwatch.archive.payload import header, payload_of_response_block
from claimwatch.archive.types import ArchivedCapture, RecordRef
from claimwatch.archive.warcfile import Record

FORMAT = "claimwatch-capture/1"


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def ref_of(warc: str, rec: Record) -> RecordRef:
    """RecordRef from what is stored (digests recomputed from the bytes, not taken from headers)."""
    rtype = rec.record_type
    payload_hex = None
    if rtype == "response":
        stored, _, _ = payload_of_response_block(rec.block)
        payload_hex = sha256_hex(stored)
    return RecordRef(warc=warc, offset=rec.offset, record_id=rec.record_id, record_type=rtype,
                     target_uri=rec.get("WARC-Target-URI") or "", block_sha256=sha256_hex(rec.block),
                     payload_sha256=payload_hex)


def to_json(meta: dict) -> bytes:
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1, default=str).encode("utf-8")


def rebuild(meta: dict, refs: list[RecordRef], records: dict[str, Record],
            ledger_index: int | None) -> ArchivedCapture:
    """ArchivedCapture from a capture's metadata JSON, its RecordRefs and the records by id."""
    response = next((r for r in refs if r.record_id == meta.get("response_record")), None)
    payload, content_type = b"", None
    if response is not None:
        _, pairs, payload = payload_of_response_block(records[response.record_id].block)
        content_type = header(pairs, "content-type")
    probe = meta.get("probe") or {}
    probe_payload = None
    if probe.get("response_record") in records:
        _, _, probe_payload = payload_of_response_block(records[probe["response_record"]].block)
    return ArchivedCapture(
        capture_id=meta["capture_id"],
        url=meta["url"],
        final_url=meta.get("final_url"),
        captured_at=utc(datetime.fromisoformat(meta["captured_at"])),
        status=meta.get("status"),
        error=meta.get("error"),
        vendor=meta.get("vendor"),
        resolved_ip=meta.get("resolved_ip"),
        content_type=content_type,
        payload=payload,
        payload_sha256=response.payload_sha256 if response else None,
        redirects=[(u, s) for u, s in meta.get("redirects", [])],
        response=response,
        records=refs,
        probe_status=probe.get("status"),
        probe_payload=probe_payload,
        ledger_index=ledger_index,
        truncated=bool(meta.get("truncated")),
    )
