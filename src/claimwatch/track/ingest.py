"""One capture into the index: extract, detect, classify, follow claims, conclude events.

The same `ingest` runs for a live capture and for `claimwatch reindex`, and it only reads the
capture and what earlier captures (in ledger order) left in the database, so a rebuild gives the
same claims, ids and events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimwatch.archive.types import ArchivedCapture, RecordRef
from claimwatch.detect import detect
from claimwatch.detect.finding import Finding as DetectedFinding
from claimwatch.extract import ExtractError, extract
from claimwatch.store.models import (
    FAILED,
    GONE_OUTCOMES,
    GONE_REDIRECT,
    LIVE,
    OK,
    PAGE_GONE,
    REMOVED,
    SOFT_404,
    Capture,
    Claim,
    Event,
    Finding,
    Source,
)
from claimwatch.track import classify
from claimwatch.track.fingerprint import fingerprint, normalize, similarity

# Matching a finding to a known claim when its excerpt changed: with a shared matched term a
# moderate similarity is enough (words edited around the claim); without one it must be near-identical.
MATCH_WITH_TERM = 0.6
MATCH_WITHOUT_TERM = 0.85

CLAIM_APPEARED = "claim_appeared"
CLAIM_REMOVED = "claim_removed"
CLAIM_REAPPEARED = "claim_reappeared"
PAGE_GONE_EVENT = "page_gone"
PAGE_RESTORED = "page_restored"


@dataclass
class Candidate:
    """Findings of one category at one place (same normalised excerpt) in this capture."""

    category: str
    excerpt: str
    normalized: str
    fingerprint: str
    terms: set[str]
    glosses: list[str]
    findings: list[DetectedFinding] = field(default_factory=list)

    @property
    def gloss(self) -> str:
        return "; ".join(self.glosses)


@dataclass
class IngestResult:
    capture: Capture
    events: list[Event]
    new: bool  # False when the capture was already indexed


def page_text(data: bytes | None, content_type: str | None, url: str | None = None) -> tuple[str, str | None, bool]:
    """(text, title, truncated); unreadable payloads count as no text."""
    if not data:
        return "", None, False
    try:
        ex = extract(data, content_type=content_type, filename=urlsplit(url).path if url else None)
    except ExtractError:
        return "", None, False
    return ex.text or "", ex.title, bool(ex.truncated)


def candidates(found: list[DetectedFinding]) -> list[Candidate]:
    """Group findings into claim candidates, in order of first appearance in the text."""
    groups: dict[tuple[str, str], Candidate] = {}
    for f in sorted(found, key=lambda f: (f.start, f.end, f.category, f.rule)):
        norm = normalize(f.excerpt) or normalize(f.match)
        key = (f.category, norm)
        c = groups.get(key)
        if c is None:
            c = groups[key] = Candidate(f.category, f.excerpt, norm, fingerprint(norm), set(), [])
        c.findings.append(f)
        c.terms.add(normalize(f.match))
        if f.gloss and f.gloss not in c.glosses:
            c.glosses.append(f.gloss)
    return list(groups.values())


def match_claims(cands: list[Candidate], known: list[Claim]) -> dict[int, Claim]:
    """Candidate index -> known claim of the same category (each claim used at most once)."""
    result: dict[int, Claim] = {}
    used: set[str] = set()
    # 1. Same normalised excerpt: markup, whitespace, punctuation or script changed only.
    by_fp: dict[tuple[str, str], list[Claim]] = {}
    for k in known:
        by_fp.setdefault((k.category, k.fingerprint), []).append(k)
    for i, c in enumerate(cands):
        for k in by_fp.get((c.category, c.fingerprint), []):
            if k.id not in used:
                result[i] = k
                used.add(k.id)
                break
    # 2. Similar excerpt: words edited around the claim. Best pairs first, deterministic ties.
    pairs = []
    for i, c in enumerate(cands):
        if i in result:
            continue
        for k in known:
            if k.id in used or k.category != c.category:
                continue
            shared = bool(c.terms & set(filter(None, k.terms.split("\n"))))
            sim = similarity(c.normalized, k.normalized, floor=MATCH_WITH_TERM if shared else MATCH_WITHOUT_TERM)
            if sim >= MATCH_WITHOUT_TERM or (shared and sim >= MATCH_WITH_TERM):
                pairs.append((-sim, i, k.id, k))
    for _, i, kid, k in sorted(pairs, key=lambda p: p[:3]):
        if i in result or kid in used:
            continue
        result[i] = k
        used.add(kid)
    return result


def claim_id(url: str, category: str, capture_id: str, fp: str) -> str:
    return hashlib.sha256(f"{url}|{category}|{capture_id}|{fp}".encode()).hexdigest()[:24]


def _evidence_record(a: ArchivedCapture) -> RecordRef | None:
    if a.response is not None:
        return a.response
    for r in a.records:
        if r.record_type == "metadata":
            return r
    return a.records[0] if a.records else None


def _source(session: Session, a: ArchivedCapture) -> Source:
    src = session.scalar(select(Source).where(Source.url == a.url))
    if src is None:
        src = Source(url=a.url, host=(urlsplit(a.url).hostname or "").lower(), vendor=a.vendor)
        session.add(src)
        session.flush()
    elif a.vendor and a.vendor != src.vendor:
        src.vendor = a.vendor
    return src


def _previous(session: Session, src: Source, before: int) -> Capture | None:
    """The last capture of the page that concluded something (not failed)."""
    return session.scalar(
        select(Capture)
        .where(Capture.source_id == src.id, Capture.id < before, Capture.outcome != FAILED)
        .order_by(Capture.id.desc())
        .limit(1)
    )


def _outcome(a: ArchivedCapture, text: str, title: str | None, has_findings: bool,
             matches: dict[int, Claim], active: list[Claim]) -> str:
    """What the capture proves about the page (see docs/tracking.md)."""
    outcome = classify.basic_outcome(a)
    if outcome is not None:
        return outcome
    probe_text = page_text(a.probe_payload, None)[0] if a.probe_payload else None
    if classify.is_soft_404(a, text, title, probe_text, has_findings=has_findings):
        return SOFT_404
    if classify.redirected_elsewhere(a):
        if active:
            # A redirect to a page that still carries the claims is a move, not a removal.
            carries_known = any(k.status in (LIVE, PAGE_GONE) for k in matches.values())
            return OK if carries_known else GONE_REDIRECT
        return GONE_REDIRECT if classify.redirected_home(a) else OK
    return OK


def ingest(session: Session, archived: ArchivedCapture) -> list[Event]:
    """Index one archived capture; returns the events it concluded (already added to the session)."""
    return ingest_capture(session, archived).events


def ingest_capture(session: Session, a: ArchivedCapture) -> IngestResult:
    existing = session.scalar(select(Capture).where(Capture.capture_id == a.capture_id))
    if existing is not None:
        return IngestResult(existing, [], new=False)

    src = _source(session, a)
    text, title, cut = page_text(a.payload, a.content_type, a.final_url) if a.status is not None else ("", None, False)
    # A body cut by the fetch or text cut by extract may simply not reach a claim.
    partial = bool(a.truncated) or cut
    found = detect(text) if text else []
    cands = candidates(found)
    known = list(session.scalars(select(Claim).where(Claim.source_id == src.id).order_by(Claim.first_capture_id, Claim.id)))
    active = [k for k in known if k.status in (LIVE, PAGE_GONE)]
    matches = match_claims(cands, known)

    outcome = _outcome(a, text, title, bool(found), matches, active)

    ref = _evidence_record(a)
    cap = Capture(
        capture_id=a.capture_id, source=src, ledger_index=a.ledger_index, captured_at=a.captured_at,
        status=a.status, error=a.error, final_url=a.final_url, content_type=a.content_type,
        payload_sha256=a.payload_sha256, truncated=bool(a.truncated),
        warc=ref.warc if ref else None, record_id=ref.record_id if ref else None,
        record_offset=ref.offset if ref else None, record_type=ref.record_type if ref else None,
        sha256=(a.payload_sha256 if a.response is not None and a.payload_sha256 else (ref.block_sha256 if ref else None)),
        outcome=outcome,
    )
    session.add(cap)
    session.flush()
    previous = _previous(session, src, cap.id)

    events: list[Event] = []
    at: datetime = a.captured_at

    def emit(kind: str, claim: Claim | None = None) -> None:
        ev = Event(kind=kind, source_id=src.id, url=src.url, at=at, claim_id=claim.id if claim else None,
                   category=claim.category if claim else None, excerpt=claim.excerpt if claim else None,
                   capture=cap, previous_capture=previous)
        session.add(ev)
        events.append(ev)

    claim_of: dict[int, Claim] = {}
    if outcome == OK:
        if previous is not None and previous.outcome in GONE_OUTCOMES:
            emit(PAGE_RESTORED)
        for i, c in enumerate(cands):
            k = matches.get(i)
            if k is None:
                k = Claim(id=claim_id(src.url, c.category, a.capture_id, c.fingerprint), source_id=src.id,
                          category=c.category, fingerprint=c.fingerprint, normalized=c.normalized,
                          terms="\n".join(sorted(c.terms)), excerpt=c.excerpt, gloss=c.gloss, first_seen=at,
                          last_seen=at, removed_at=None, status=LIVE, first_capture=cap, last_capture=cap)
                session.add(k)
                kind = CLAIM_APPEARED
            else:
                kind = CLAIM_REAPPEARED if k.status in (REMOVED, PAGE_GONE) else None
                # Follow the claim's current wording so gradual edits keep matching.
                k.fingerprint, k.normalized, k.excerpt, k.gloss = c.fingerprint, c.normalized, c.excerpt, c.gloss
                k.terms = "\n".join(sorted(c.terms | set(filter(None, k.terms.split("\n")))))
                k.last_seen, k.last_capture, k.status, k.removed_at = at, cap, LIVE, None
            claim_of[i] = k
            if kind:
                emit(kind, k)
        # Absence is not concluded from a partial text.
        if not partial:
            seen = {k.id for k in claim_of.values()}
            for k in active:
                if k.id not in seen:
                    k.status, k.removed_at = REMOVED, at
                    emit(CLAIM_REMOVED, k)
    elif outcome in GONE_OUTCOMES:
        if previous is not None and previous.outcome == OK:
            emit(PAGE_GONE_EVENT)
            for k in active:
                if k.status == LIVE:
                    k.status, k.removed_at = PAGE_GONE, at

    for i, c in enumerate(cands):
        k = claim_of.get(i)
        for f in c.findings:
            cap.findings.append(Finding(category=f.category, rule=f.rule, match=f.match, start=f.start, end=f.end,
                                        excerpt=f.excerpt, gloss=f.gloss, score=float(f.score),
                                        claim_id=k.id if k else None))
    session.flush()
    return IngestResult(cap, events, new=True)
