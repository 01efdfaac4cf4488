"""SQLAlchemy 2 models: the database is an index over the archive, rebuilt by `claimwatch reindex`.

Every row is derived from archived captures (ledger order), so nothing here is evidence by itself;
the WARC file/record columns point back to the evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations name the same things on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Capture outcomes (what a capture proves about the page).
OK = "ok"
GONE_HTTP = "gone_http"
GONE_REDIRECT = "gone_redirect"
SOFT_404 = "soft_404"
FAILED = "failed"
GONE_OUTCOMES = frozenset({GONE_HTTP, GONE_REDIRECT, SOFT_404})

# Claim statuses (design.md contract).
LIVE = "live"
REMOVED = "removed"
PAGE_GONE = "page_gone"


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite has no time zones), always returned timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """One tracked URL (as requested, not the final URL of a redirect)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(Text, index=True)
    vendor: Mapped[str | None] = mapped_column(Text)

    captures: Mapped[list[Capture]] = relationship(back_populates="source", order_by="Capture.id")


class Capture(Base):
    """One archived capture of a source; `id` order is ledger order."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[str] = mapped_column(Text, unique=True)  # the archive's id
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    ledger_index: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    payload_sha256: Mapped[str | None] = mapped_column(Text)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # The record an event cites: the response record, or the metadata record when no response
    # arrived. `sha256` is the payload digest of a response, else the block digest of that record.
    warc: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str | None] = mapped_column(Text)
    record_offset: Mapped[int | None] = mapped_column(BigInteger)
    record_type: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)  # ok | gone_http | gone_redirect | soft_404 | failed

    source: Mapped[Source] = relationship(back_populates="captures")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="capture", order_by="Finding.id", cascade="all, delete-orphan"
    )


class Claim(Base):
    """One category asserted at one place of one source URL, followed across captures."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    category: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)  # hash of the normalised excerpt
    normalized: Mapped[str] = mapped_column(Text)  # normalised excerpt, for similarity matching
    terms: Mapped[str] = mapped_column(Text)  # normalised matched terms, "\n"-joined
    excerpt: Mapped[str] = mapped_column(Text)  # as last seen
    gloss: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(Text)  # live | removed | page_gone
    first_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    last_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))

    source: Mapped[Source] = relationship()
    first_capture: Mapped[Capture] = relationship(foreign_keys=[first_capture_id])
    last_capture: Mapped[Capture] = relationship(foreign_keys=[last_capture_id])


class Finding(Base):
    """A detector finding in one capture's extracted text."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    match: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    excerpt: Mapped[str] = mapped_column(Text)
    gloss: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id"), index=True)

    capture: Mapped[Capture] = relationship(back_populates="findings")


class Event(Base):
    """A lifecycle event; `seq` order is the order events were concluded (ledger order)."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id"), index=True)
    category: Mapped[str | None] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    previous_capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))

    capture: Mapped[Capture] = relationship(foreign_keys=[capture_id])
    previous_capture: Mapped[Capture | None] = relationship(foreign_keys=[previous_capture_id])
