"""Store: migrations, model round-trips and one-line errors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from claimwatch.store import StoreError, open_store
from claimwatch.store import queries
from claimwatch.store.models import Base, Capture, Claim, Event, Finding, Source

T0 = datetime(2026, 3, 1, 8, 30, 5, 123456, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def test_migrations_create_the_model_schema(db_url):
    with open_store(db_url) as store:
        with store.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"sources", "captures", "claims", "findings", "events", "alembic_version"} <= tables
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0001"
            # The shipped migration and the models describe the same schema.
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == []
    # Opening again is a no-op upgrade, not an error.
    with open_store(db_url) as store:
        with store.session() as s:
            assert queries.capture_count(s) == 0


def _capture(source: Source, cid: str, at: datetime, **kw) -> Capture:
    defaults = dict(status=200, final_url=source.url, content_type="text/html", payload_sha256="ab" * 32,
                    warc="claimwatch-1.warc.gz", record_id=f"<urn:uuid:{cid}>", record_offset=1234,
                    record_type="response", sha256="ab" * 32, outcome="ok", truncated=False)
    defaults.update(kw)
    return Capture(capture_id=cid, source=source, captured_at=at, **defaults)


def test_round_trip_records(db_url):
    url = "https://vendor.example/产品/nv-9000"
    with open_store(db_url) as store:
        with store.session() as s:
            src = Source(url=url, host="vendor.example", vendor="Nimbus")
            c0 = _capture(src, "c0", T0)
            c1 = _capture(src, "c1", T1, status=404, outcome="gone_http", payload_sha256=None, sha256="cd" * 32)
            s.add_all([src, c0, c1])
            s.flush()
            claim = Claim(id="k1", source=src, category="ethnicity", fingerprint="f", normalized="支持维吾尔族识别",
                          terms="维吾尔族", excerpt="支持維吾爾族識別。", gloss="Uyghur", first_seen=T0, last_seen=T0,
                          removed_at=T1, status="page_gone", first_capture=c0, last_capture=c0)
            s.add(claim)
            s.flush()
            c0.findings.append(Finding(category="ethnicity", rule="ethnicity.attr", match="維吾爾族", start=2,
                                       end=6, excerpt="支持維吾爾族識別。", gloss="Uyghur", score=0.9, claim_id="k1"))
            s.add(Event(kind="claim_appeared", source_id=src.id, url=url, at=T0, claim_id="k1",
                        category="ethnicity", excerpt=claim.excerpt, capture=c0, previous_capture=None))
            s.add(Event(kind="page_gone", source_id=src.id, url=url, at=T1, capture=c1, previous_capture=c0))

        with store.session() as s:
            evs = [queries.event_record(e) for e in queries.events(s)]
            assert [e["event"] for e in evs] == ["claim_appeared", "page_gone"]
            assert evs[0]["at"] == "2026-03-01T08:30:05.123456Z"
            assert evs[0]["previous_capture"] is None
            assert evs[1]["capture"] == {"id": "c1", "warc": "claimwatch-1.warc.gz", "record_id": "<urn:uuid:c1>",
                                         "sha256": "cd" * 32}
            assert evs[1]["previous_capture"]["id"] == "c0"
            (cl,) = [queries.claim_record(c) for c in queries.claims(s)]
            assert cl["status"] == "page_gone" and cl["removed_at"] == "2026-03-02T09:00:00Z"
            assert cl["excerpt"] == "支持維吾爾族識別。" and cl["url"] == url
            hist = [queries.capture_record(c) for c in queries.history(s, url)]
            assert [h["capture_id"] for h in hist] == ["c0", "c1"]
            assert hist[0]["findings"][0]["match"] == "維吾爾族" and hist[0]["offset"] == 1234
            assert hist[1]["status"] == 404 and hist[1]["findings"] == []
            # Times come back timezone-aware UTC on both backends.
            assert s.scalar(select(Capture.captured_at).where(Capture.capture_id == "c0")) == T0


def test_foreign_keys_are_enforced(db_url):
    from claimwatch.store.db import StoreError as SE

    with open_store(db_url) as store:
        with pytest.raises(SE, match="reindex"):
            with store.session() as s:
                s.add(Finding(capture_id=999, category="x", rule="r", match="m", start=0, end=1, excerpt="e",
                              gloss="g", score=0.5))


def test_corrupted_sqlite_gives_one_line_error(tmp_path):
    db = tmp_path / "claimwatch.db"
    db.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreError) as err:
        open_store(f"sqlite:///{db}")
    msg = str(err.value)
    assert "\n" not in msg and "claimwatch reindex" in msg


def test_unreachable_postgres_gives_one_line_error():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(StoreError) as err:
        open_store(f"postgresql+psycopg://someone:secret@127.0.0.1:{port}/nothing")
    msg = str(err.value)
    assert "\n" not in msg and "claimwatch reindex" in msg and "secret" not in msg


def test_unsupported_database_url():
    with pytest.raises(StoreError, match="unsupported"):
        open_store("mysql://x@localhost/db")


def test_database_from_a_newer_version_is_refused_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'claimwatch.db'}"
    with open_store(url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError) as err:
        open_store(url)
    assert "upgrade claimwatch" in str(err.value) and "\n" not in str(err.value)
