"""WARC writing/reading, the hash-chained ledger and verification: the evidence store of record."""

from claimwatch.archive.archive import Archive
from claimwatch.archive.errors import ArchiveError
from claimwatch.archive.types import ArchivedCapture, Exchange, Hop, RecordRef
from claimwatch.archive.verify import VerifyReport

__all__ = ["Archive", "ArchiveError", "ArchivedCapture", "Exchange", "Hop", "RecordRef", "VerifyReport"]
