"""`claimwatch verify`: recompute every digest and the ledger chain, name the first break.

Checks, in order:
  ledger  every complete line parses, its hash is the SHA-256 of its canonical JSON without "hash",
          index counts up from 0 and prev equals the previous entry's hash (across files); a record
          is claimed by at most one entry.
  WARC    every file is read member by member from offset 0: each gzip member must decompress with a
          valid CRC, hold one well-formed record whose WARC-Block-Digest (and WARC-Payload-Digest)
          match the bytes; a ledgered member must match the ledger's offset, length, record id,
          type, block SHA-256 and the SHA-256 of its compressed bytes (so even a flipped byte in a
          gzip header field that CRCs do not cover is caught).
  cover   every ledgered record exists; records before the last ledgered record of a file must all
          be ledgered; what follows it (a crash's un-ledgered tail) is a warning, not a break.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from claimwatch.archive import ledger
from claimwatch.archive.digests import digest_matches, sha256_hex
from claimwatch.archive.payload import split_http
from claimwatch.archive.warcfile import MemberError, iter_records

MAX_LISTED = 50


@dataclass
class VerifyReport:
    ok: bool = True
    first_break: str | None = None
    breaks: list[str] = field(default_factory=list)  # at most MAX_LISTED
    warnings: list[str] = field(default_factory=list)
    warc_files: int = 0
    records: int = 0
    ledger_entries: int = 0
    captures: int = 0  # ledgered captures (entries)
    unledgered_records: int = 0
    head_hash: str | None = None  # hash of the newest entry: publish it to anchor the chain externally

    def fail(self, message: str) -> None:
        message = " ".join(message.split())
        if self.ok:
            self.ok = False
            self.first_break = message
        if len(self.breaks) < MAX_LISTED:
            self.breaks.append(message)


def verify(archive) -> VerifyReport:
    report = VerifyReport()
    claimed = _check_ledger(archive.ledger_dir, report)
    seen: set[tuple[str, int]] = set()
    unreadable: dict[str, int] = {}  # file -> offset where reading stopped
    for path in archive.warc_files():
        report.warc_files += 1
        stop = _check_warc(path, claimed, seen, report)
        if stop is not None:
            unreadable[path.name] = stop
    for (name, offset), (where, lr, _) in sorted(claimed.items()):
        if (name, offset) in seen:
            continue
        if unreadable.get(name) == offset:
            continue  # already reported where reading failed
        if name in unreadable and offset > unreadable[name]:
            report.fail(f"{where}: record {lr['record_id']} at archive/{name} offset {offset} not checked: the file is unreadable from offset {unreadable[name]}")
        else:
            report.fail(f"{where}: record {lr['record_id']} at archive/{name} offset {offset} not found in the WARC files")
    return report


def _check_ledger(ledger_dir, report: VerifyReport) -> dict:
    claimed: dict[tuple[str, int], tuple[str, dict]] = {}
    prev, expect = ledger.GENESIS, 0
    files = ledger.ledger_files(ledger_dir)
    for line in ledger.iter_lines(ledger_dir):
        try:
            if ledger.is_torn(line):
                # Only a file's last line can lack a newline; the writer then moved on to a new file.
                report.warnings.append(f"{line.where}: torn last line ignored (interrupted write)")
                continue
            entry = ledger.parse(line)
        except ledger.LedgerFormatError as exc:
            report.fail(str(exc))
            continue
        where = f"{line.where} (entry {entry.get('index')})"
        if ledger.entry_hash(entry) != entry.get("hash"):
            report.fail(f"{where}: entry hash does not match its content")
        if entry.get("index") != expect:
            report.fail(f"{where}: index {entry.get('index')} where {expect} was expected")
        if entry.get("prev") != prev:
            report.fail(f"{where}: prev does not match the hash of the entry before it (chain broken)")
        prev, expect = entry.get("hash"), expect + 1
        report.head_hash = prev
        report.ledger_entries += 1
        report.captures += 1
        for lr in entry.get("records") or []:
            try:
                key = (lr["warc"], int(lr["offset"]))
            except (KeyError, TypeError, ValueError):
                report.fail(f"{where}: malformed record reference")
                continue
            if key in claimed:
                report.fail(f"{where}: record at archive/{key[0]} offset {key[1]} is already claimed by {claimed[key][0]}")
            claimed[key] = (where, lr, entry)
    if not files:
        report.warnings.append("no ledger files")
    return claimed


def _check_warc(path, claimed: dict, seen: set, report: VerifyReport) -> int | None:
    """Check one file; returns the offset where reading failed, if it did."""
    name = path.name
    ledgered_offsets = sorted(o for (n, o) in claimed if n == name)
    last_ledgered = ledgered_offsets[-1] if ledgered_offsets else -1
    tail_records = 0
    stop = None
    with open(path, "rb") as fh:
        try:
            for rec in iter_records(fh, 0):
                report.records += 1
                place = f"archive/{name} offset {rec.offset} record {rec.record_id or '?'}"
                _check_digests(rec, place, report)
                key = (name, rec.offset)
                if key in claimed:
                    seen.add(key)
                    where, lr, entry = claimed[key]
                    problems = []
                    if lr.get("record_id") != rec.record_id:
                        problems.append(f"record id is {rec.record_id}, ledger says {lr.get('record_id')}")
                    if lr.get("type") != rec.record_type:
                        problems.append(f"type is {rec.record_type}, ledger says {lr.get('type')}")
                    if lr.get("length") != rec.length:
                        problems.append(f"stored length {rec.length} != ledger {lr.get('length')}")
                    if lr.get("stored_sha256") != rec.stored_sha256:
                        problems.append("SHA-256 of the stored (compressed) bytes differs from the ledger")
                    if lr.get("block_sha256") != sha256_hex(rec.block):
                        problems.append("block SHA-256 differs from the ledger")
                    if rec.record_type == "metadata" and not problems:
                        problems += _metadata_vs_entry(rec, entry)
                    if problems:
                        report.fail(f"{place} ({where}): " + "; ".join(problems))
                elif rec.offset < last_ledgered:
                    report.fail(f"{place}: record is not covered by the ledger but lies between ledgered records")
                else:
                    tail_records += 1
        except MemberError as exc:
            place = f"archive/{name} offset {exc.offset}"
            if exc.offset <= last_ledgered:
                report.fail(f"{place}: {exc}")
            else:
                report.warnings.append(f"{place}: un-ledgered partial tail ignored ({exc})")
            stop = exc.offset
    if tail_records:
        report.unledgered_records += tail_records
        report.warnings.append(f"archive/{name}: {tail_records} un-ledgered record(s) after the last ledgered record (left by an interrupted capture: a complete one is re-ledgered by the next write, an incomplete one is kept but never ledgered)")
    return stop


def _metadata_vs_entry(rec, entry: dict) -> list[str]:
    """The entry's capture_id/url must be the ones its metadata record states."""
    try:
        meta = json.loads(rec.block.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ["metadata record is not valid JSON"]
    problems = []
    for key in ("capture_id", "url"):
        if isinstance(meta, dict) and meta.get(key) != entry.get(key):
            problems.append(f"ledger {key} {entry.get(key)!r} differs from the metadata record's")
    return problems


def _check_digests(rec, place: str, report: VerifyReport) -> None:
    block_digest = rec.get("WARC-Block-Digest")
    if not block_digest:
        report.fail(f"{place}: no WARC-Block-Digest")
    elif not digest_matches(block_digest, rec.block):
        report.fail(f"{place}: WARC-Block-Digest does not match the record block")
    payload_digest = rec.get("WARC-Payload-Digest")
    if payload_digest:
        if rec.record_type in ("response", "request"):
            _, payload = split_http(rec.block)
        else:
            payload = rec.block
        if not digest_matches(payload_digest, payload):
            report.fail(f"{place}: WARC-Payload-Digest does not match the payload")
