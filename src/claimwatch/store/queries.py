"""Read queries and the JSONL record shapes of `events`, `claims` and `history` (design.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from claimwatch.store.models import Capture, Claim, Event, Source


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z suffix."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def capture_ref(c: Capture | None) -> dict | None:
    """The `capture` / `previous_capture` object of an event."""
    if c is None:
        return None
    return {"id": c.capture_id, "warc": c.warc, "record_id": c.record_id, "sha256": c.sha256}


def event_record(e: Event) -> dict:
    return {
        "event": e.kind,
        "url": e.url,
        "at": iso(e.at),
        "claim_id": e.claim_id,
        "category": e.category,
        "excerpt": e.excerpt,
        "capture": capture_ref(e.capture),
        "previous_capture": capture_ref(e.previous_capture),
    }


def claim_record(c: Claim) -> dict:
    return {
        "claim_id": c.id,
        "url": c.source.url,
        "vendor": c.source.vendor,
        "category": c.category,
        "excerpt": c.excerpt,
        "gloss": c.gloss,
        "first_seen": iso(c.first_seen),
        "last_seen": iso(c.last_seen),
        "removed_at": iso(c.removed_at),
        "status": c.status,
        "first_capture": c.first_capture.capture_id,
        "last_capture": c.last_capture.capture_id,
    }


def capture_record(c: Capture) -> dict:
    """One line of `claimwatch history`."""
    return {
        "capture_id": c.capture_id,
        "url": c.source.url,
        "at": iso(c.captured_at),
        "status": c.status,
        "outcome": c.outcome,
        "error": c.error,
        "final_url": c.final_url,
        "content_type": c.content_type,
        "sha256": c.payload_sha256,
        "warc": c.warc,
        "record_id": c.record_id,
        "offset": c.record_offset,
        "record_type": c.record_type,
        "truncated": c.truncated,
        "findings": [
            {
                "category": f.category,
                "rule": f.rule,
                "match": f.match,
                "start": f.start,
                "end": f.end,
                "excerpt": f.excerpt,
                "gloss": f.gloss,
                "score": f.score,
                "claim_id": f.claim_id,
            }
            for f in c.findings
        ],
    }


def events(session: Session) -> list[Event]:
    """All events, oldest first."""
    q = (
        select(Event)
        .options(selectinload(Event.capture), selectinload(Event.previous_capture))
        .order_by(Event.seq)
    )
    return list(session.scalars(q))


def claims(session: Session) -> list[Claim]:
    """All claims in the order they were first seen."""
    q = (
        select(Claim)
        .options(selectinload(Claim.source), selectinload(Claim.first_capture), selectinload(Claim.last_capture))
        .order_by(Claim.first_seen, Claim.first_capture_id, Claim.id)
    )
    return list(session.scalars(q))


def source_by_url(session: Session, url: str) -> Source | None:
    return session.scalar(select(Source).where(Source.url == url))


def history(session: Session, url: str) -> list[Capture]:
    """Every capture of `url` (the URL as requested), oldest first."""
    q = (
        select(Capture)
        .join(Source)
        .where(Source.url == url)
        .options(selectinload(Capture.findings), selectinload(Capture.source))
        .order_by(Capture.id)
    )
    return list(session.scalars(q))


def capture_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Capture)) or 0


def indexed_below(session: Session, ledger_index: int) -> int:
    """How many indexed captures have a ledger index below `ledger_index`."""
    q = select(func.count()).select_from(Capture).where(Capture.ledger_index < ledger_index)
    return session.scalar(q) or 0
