"""Rebuild the database from the archive and ledger alone.

SQLite: the new index is built in a side file and swapped in at the end; an unreadable old file
is kept as `claimwatch.db.corrupt-<UTC stamp>` (never silently deleted), a healthy one is
replaced. PostgreSQL: claimwatch's tables are dropped and rebuilt.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from claimwatch.archive import Archive
from claimwatch.config import Settings
from claimwatch.store.lock import index_lock
from claimwatch.store.db import StoreError, drop_everything, make_engine, open_store, sqlite_path
from claimwatch.track.ingest import ingest_capture

BATCH = 200  # captures per transaction


@dataclass
class ReindexResult:
    captures: int
    claims: int
    events: int
    set_aside: Path | None  # where an unreadable old SQLite file was moved
    recovered: int = 0  # complete captures a crash had left without a ledger entry


def _sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def sqlite_is_healthy(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return bool(ok) and ok[0] == "ok" and "alembic_version" in tables


def _fill(store, archive: Archive, progress: Callable[[int], None] | None) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from claimwatch.store.models import Claim, Event

    n = 0
    it = iter(archive.iter_captures())
    done = False
    while not done:
        with store.session() as session:
            for _ in range(BATCH):
                archived = next(it, None)
                if archived is None:
                    done = True
                    break
                ingest_capture(session, archived)
                n += 1
                if progress:
                    progress(n)
    with store.session() as session:
        claims = session.scalar(select(func.count()).select_from(Claim)) or 0
        events = session.scalar(select(func.count()).select_from(Event)) or 0
    return n, claims, events


def reindex(settings: Settings, progress: Callable[[int], None] | None = None) -> ReindexResult:
    """Rebuild; captures wait for it (they take the same lock), so nothing is indexed twice or lost."""
    with index_lock(settings.home):
        return _reindex(settings, progress)


def _reindex(settings: Settings, progress: Callable[[int], None] | None) -> ReindexResult:
    archive = Archive(settings.home)
    # A crash between the WARC write and the ledger append leaves a complete capture that only
    # the ledger can vouch for; re-ledger it first so the rebuilt index includes it.
    recovered = archive.recover() if archive.warc_files() else 0
    path = sqlite_path(settings.database_url)
    if path is None:
        engine = make_engine(settings.database_url)
        try:
            drop_everything(engine)
        except Exception as exc:  # noqa: BLE001 - any driver error is one line for the user
            raise StoreError(f"cannot reset the database for reindex: {' '.join(str(exc).split())[:300]}") from None
        finally:
            engine.dispose()
        with open_store(settings.database_url) as store:
            n, claims, events = _fill(store, archive, progress)
        return ReindexResult(n, claims, events, None, recovered)

    path = path.resolve()
    tmp = path.with_name(f"{path.name}.reindex-{os.getpid()}")
    for p in _sidecars(tmp):
        p.unlink(missing_ok=True)
    try:
        with open_store(f"sqlite:///{tmp}") as store:
            n, claims, events = _fill(store, archive, progress)
    except BaseException:
        for p in _sidecars(tmp):
            p.unlink(missing_ok=True)
        raise
    set_aside = None
    if path.exists():
        if sqlite_is_healthy(path):
            for p in _sidecars(path):
                p.unlink(missing_ok=True)
        else:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            set_aside = path.with_name(f"{path.name}.corrupt-{stamp}")
            for src, dst in zip(_sidecars(path), _sidecars(set_aside)):
                if src.exists():
                    os.replace(src, dst)
    else:
        # A stray WAL next to a missing database would be replayed into the new one.
        for p in _sidecars(path)[1:]:
            p.unlink(missing_ok=True)
    os.replace(tmp, path)
    return ReindexResult(n, claims, events, set_aside, recovered)
