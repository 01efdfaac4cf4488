"""One URL end to end: fetch -> WARC -> ledger -> database.

The order is the evidence order: the archive (WARC records, then the ledger entry) is written
before the database is touched, so when indexing fails the evidence is already safe and
`claimwatch reindex` can rebuild the index from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from claimwatch.archive import Archive, ArchiveError
from claimwatch.archive.types import ArchivedCapture
from claimwatch.capture.fetch import fetch
from claimwatch.config import Settings
from claimwatch.config import settings as current_settings
from claimwatch.store import Store, StoreError, open_store
from claimwatch.store.lock import index_lock
from claimwatch.store.queries import event_record, indexed_below, iso
from claimwatch.track import ingest_capture


@dataclass
class CaptureOutcome:
    url: str
    archived: ArchivedCapture
    outcome: str | None = None  # ok | gone_http | gone_redirect | soft_404 | failed; None if not indexed
    findings: int = 0
    events: list[dict] = field(default_factory=list)  # `claimwatch events` records concluded now
    db_error: str | None = None  # set when the evidence is archived but the index was not updated

    def record(self) -> dict:
        """The `claimwatch capture --format jsonl` object."""
        a = self.archived
        return {
            "url": self.url,
            "capture_id": a.capture_id,
            "at": iso(a.captured_at),
            "status": a.status,
            "outcome": self.outcome,
            "final_url": a.final_url,
            "sha256": a.payload_sha256,
            "findings": self.findings,
            "events": self.events,
            "error": a.error,
            "db_error": self.db_error,
        }


def catch_up(store: Store, archive: Archive, upto: int | None) -> int:
    """Index ledgered captures before ledger index `upto` that the database misses (a database
    failure during an earlier capture, or a new database next to an existing archive), so the
    live index stays exactly what `reindex` would build. Returns how many were added."""
    if not upto:
        return 0
    with store.session() as session:
        if indexed_below(session, upto) >= upto:
            return 0
    added = 0
    for a in archive.iter_captures():
        if a.ledger_index is not None and a.ledger_index >= upto:
            break
        with store.session() as session:
            added += ingest_capture(session, a).new
    return added


def index_capture(store: Store, archived: ArchivedCapture) -> tuple[str, int, list[dict]]:
    """Ingest one archived capture and commit; (outcome, number of findings, event records)."""
    with store.session() as session:
        res = ingest_capture(session, archived)
        return res.capture.outcome, len(res.capture.findings), [event_record(e) for e in res.events]


def capture_url(url: str, vendor: str | None = None, settings: Settings | None = None, *,
                store: Store | None = None, archive: Archive | None = None, **fetch_options) -> CaptureOutcome:
    """Capture `url`. Raises FetchInputError for a URL that cannot be fetched at all and the
    archive's error when the evidence cannot be written; a database failure after archiving is
    reported in `CaptureOutcome.db_error` (the evidence stays)."""
    s = settings or current_settings()
    archive = archive or Archive(s.home)
    exchange = fetch(url, vendor=vendor, **fetch_options)
    with index_lock(s.home):
        archived = archive.write(exchange)
        result = CaptureOutcome(url=url, archived=archived)
        try:
            st = store or open_store(s.database_url)
            try:
                catch_up(st, archive, archived.ledger_index)
                result.outcome, result.findings, result.events = index_capture(st, archived)
            finally:
                if store is None:
                    st.close()
        except StoreError as exc:
            result.db_error = f"capture {archived.capture_id} of {url} is archived but not indexed: {exc}"
        except ArchiveError as exc:
            result.db_error = (f"capture {archived.capture_id} of {url} is archived but not indexed: the archive "
                               f"could not be read back ({exc}); run `claimwatch verify`")
    return result
