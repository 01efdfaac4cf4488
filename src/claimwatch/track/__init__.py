"""Claim identity across captures, the claim lifecycle and events."""

from claimwatch.track.ingest import IngestResult, ingest, ingest_capture

__all__ = ["IngestResult", "ingest", "ingest_capture"]
