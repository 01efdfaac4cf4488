"""Records out of WARC/ARC/WET files: FastWARC for WARC (fast path), warcio for ARC.

Both readers yield `Record`s (the record block exactly as stored) and `ReadError`s (a byte offset
and a one-line message) in file order, so one broken record or a truncated tail never hides the rest
of the file, and a caller can report every problem as `path: offset N: message`.

FastWARC is silent about some damage (a truncated last gzip member yields a short record or
nothing at all), so the FastWARC reader checks each block against its Content-Length and checks
the file's tail after the last record it saw (see `tail.py`).

For .warc.gz files of a few MB and more, gzip inflate runs in a helper process (`inflate.py`)
and FastWARC parses the inflated stream; at the first anomaly that path hands over to the exact reader above, so both give
the same items (tests/test_scan_inflate.py compares them). `iter_file(..., parallel=False)` forces
the exact reader.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from claimwatch.scan import inflate, tail

# Record types whose payload is a document (design: ARC records are responses).
SCAN_TYPES = frozenset({"response", "resource", "conversion"})

# .warc.gz files from this size on are inflated in a helper process by default (the hand-over costs
# about a millisecond per file; the overlap it buys is worth that from a few MB on).
PARALLEL_MIN_BYTES = 4 << 20

# Stable record id for ARC records, which have none: "<arc:BASENAME:OFFSET>" (docs/scan.md).
ARC_ID = "<arc:{name}:{offset}>"


@dataclass(slots=True)
class Record:
    offset: int  # byte offset of the record (of its gzip member for .gz files)
    rec_type: str  # WARC-Type
    uri: str | None  # WARC-Target-URI
    record_id: str | None  # WARC-Record-ID (ARC: ARC_ID)
    content_type: str | None  # WARC Content-Type of the block
    payload_digest: str | None  # WARC-Payload-Digest header as written (only when asked for)
    block: bytes  # the record block as stored (HTTP headers included for HTTP records)
    # True when the reader scanned this record's stored bytes for the prefilter's anchor literals
    # and found none (the parallel path, when asked to): see prefilter.may_contain_claim(raw_clear=).
    anchor_free: bool = False


@dataclass(slots=True)
class ReadError:
    offset: int
    message: str


class NotAnArchive(ValueError):
    """The file is empty, unreadable or not WARC/ARC; the message is one line."""


def sniff(path: str) -> tuple[str, bool]:
    """("warc"|"arc", gzipped) from the first bytes of the file; raises NotAnArchive."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head:
        raise NotAnArchive("empty file")
    gz = head.startswith(b"\x1f\x8b")
    if gz:
        first = rest = head
        try:
            while True:
                d = zlib.decompressobj(31)
                head = d.decompress(rest, 4096)
                # an empty gzip member first (some writers start with one): look at the next one
                if head or not d.eof or not d.unused_data.startswith(b"\x1f\x8b"):
                    break
                rest = d.unused_data
        except zlib.error as exc:
            raise NotAnArchive(f"corrupt gzip data at offset {len(first) - len(rest)}: {exc}") from None
        if not head:
            raise NotAnArchive("truncated gzip data at offset 0")
    first = head.lstrip(b"\r\n")
    if first.startswith(b"WARC/"):
        return "warc", gz
    if first.startswith(b"filedesc://"):
        return "arc", gz
    shown = first[:20].decode("latin-1").encode("unicode_escape").decode("ascii")
    raise NotAnArchive(f"not a WARC or ARC file (starts with {shown!r})")


def iter_file(
    path: str,
    *,
    types: frozenset[str] | None = SCAN_TYPES,
    engine: str | None = None,
    digests: bool = False,
    parallel: bool | None = None,
    anchors: tuple[Callable[[bytes], list[int]], int] | None = None,
    skip: Callable[[bytes, bool], bool] | None = None,
) -> Iterator[Record | ReadError | int]:
    """Records (of `types`, or all when None) and read errors of one file, in file order.

    `engine` forces "fastwarc" or "warcio" (tests compare the two); by default WARC files are
    read with FastWARC and ARC files with warcio (FastWARC has no ARC support).
    `digests` fills Record.payload_digest (off on the hot path: one header lookup less per record).
    `parallel` inflates .warc.gz files in a helper process while FastWARC parses (inflate.py); None:
    for files of at least PARALLEL_MIN_BYTES (on small files the hand-over costs more than it saves).
    False keeps gzip inflate inside FastWARC: the exact path the parallel one falls back to (tests
    compare the two).
    `skip(block, http)`: asked on the parallel path (with `anchors`) about each record whose block
    holds no anchor (`http`: the block is an HTTP message); True yields the record's offset (an int)
    instead of a Record -- most records of a crawl, which the caller would turn away unread.
    Raises NotAnArchive (and OSError) before the first record when the file cannot be read at all.
    """
    fmt, gz = sniff(path)
    if engine is None:
        engine = "fastwarc" if fmt == "warc" else "warcio"
    if engine == "fastwarc":
        if fmt != "warc":
            raise NotAnArchive("FastWARC cannot read ARC files")
        if parallel is None:
            parallel = _parallel_by_default(os.path.getsize(path), fmt, gz)
        if gz and parallel and inflate.AVAILABLE:
            return _iter_parallel(path, types, digests, anchors, skip)
        return _iter_fastwarc(path, gz, types, digests)
    return _iter_warcio(path, fmt, types)


def expect(paths: list[str]) -> None:
    """Announce the files `iter_file(path)` (parallel=None) will be called for next, in this
    order, so that the inflate helper starts on them at once and inflates ahead across files
    (inflate.expect). A one-worker scan calls this before it builds its detector. The files are
    looked at (size, first bytes) a few at a time, as the helper needs more."""
    if inflate.AVAILABLE:
        inflate.expect(paths, ((p, n) for p in paths if (n := _inflated_in_parallel(p))))


def _parallel_by_default(size: int, fmt: str, gz: bool) -> bool:
    """iter_file's choice for parallel=None (and so expect's): gzipped WARC files of
    PARALLEL_MIN_BYTES or more (stored)."""
    return fmt == "warc" and gz and size >= PARALLEL_MIN_BYTES


def _inflated_in_parallel(path: str) -> int:
    """The stored size of `path` if iter_file (parallel=None) reads it through the helper, else 0."""
    try:
        size = os.path.getsize(path)  # (looked at first: small files are not even sniffed)
        return size if size >= PARALLEL_MIN_BYTES and _parallel_by_default(size, *sniff(path)) else 0
    except (OSError, NotAnArchive):
        return 0


# ---------------------------------------------------------------- FastWARC

_TYPE_NAMES = {
    2: "warcinfo", 4: "response", 8: "resource", 16: "request", 32: "metadata",
    64: "revisit", 128: "conversion", 256: "continuation", 512: "unknown",
}  # fastwarc.warc.WarcRecordType values (the enum is not hashable)


def _type_mask(types: frozenset[str] | None):
    from fastwarc.warc import WarcRecordType

    mask = WarcRecordType.any_type
    if types is not None:
        mask = WarcRecordType.no_type
        for name in types:
            mask = mask | getattr(WarcRecordType, name)
    return mask


def _record(rec, pos: int, block: bytes, digests: bool) -> Record:
    """Our Record of a FastWARC record whose block was read whole."""
    h = rec.headers
    rtype = _TYPE_NAMES.get(int(rec.record_type), "unknown")
    # The WARC Content-Type only matters for non-HTTP records (HTTP ones carry their own).
    ctype = None if (rtype == "response" and block.startswith(b"HTTP/")) else h.get("Content-Type")
    return Record(
        pos,
        rtype,
        _norm_uri(h.get("WARC-Target-URI")),
        rec.record_id,
        ctype,
        h.get("WARC-Payload-Digest") if digests else None,
        block,
    )


def _http(rec, block: bytes) -> bool:
    """Whether a FastWARC record's block is an HTTP message (a response whose block starts like one
    or whose WARC Content-Type says so: worker._is_http on the Record)."""
    return int(rec.record_type) == 4 and (
        block.startswith(b"HTTP/") or (rec.headers.get("Content-Type") or "").startswith("application/http"))


def _iter_fastwarc(path: str, gz: bool, types: frozenset[str] | None, digests: bool) -> Iterator[Record | ReadError]:
    from fastwarc.warc import ArchiveIterator

    mask = _type_mask(types)
    last: int | None = None
    last_bad = False  # the last record was already reported: no second error for its tail
    base = 0  # where this FastWARC pass starts: 0, or right after an empty gzip member
    with open(path, "rb") as fh:
        while True:
            # Types are filtered inside FastWARC (no Python per skipped record); the damage check
            # after the loop walks on from the last returned record through whatever was skipped.
            fh.seek(base)
            # By path FastWARC reads the file itself (faster); a resumed pass reads from our handle.
            it = ArchiveIterator(path if base == 0 else fh, record_types=mask, parse_http=False,
                                 verify_digests=False, fsspec_args=False)
            try:
                for rec in it:
                    last = pos = rec.stream_pos  # absolute: FastWARC starts counting at fh.tell()
                    h = rec.headers
                    if not (h.get("Content-Length") or "").strip().isdigit():
                        # FastWARC takes end-of-file for the end of a header cut short; a record
                        # without a Content-Length number is never complete.
                        yield ReadError(pos, "incomplete WARC header (no Content-Length)")
                        last_bad = True
                        continue
                    block = rec.reader.read()
                    want = rec.content_length
                    if len(block) < want:
                        yield ReadError(pos, f"truncated record {rec.record_id}: {len(block)} of {want} bytes")
                        last_bad = True
                        continue
                    last_bad = False
                    yield _record(rec, pos, block, digests)
            except OSError as exc:
                # FastWARC gives no position: walk on from the last good record to find the damage.
                problem = tail.first_problem(path, gz, last)
                at = problem[0] if problem else (last or 0)
                yield ReadError(at, f"cannot parse record: {exc}")
                return
            # FastWARC stops at an empty gzip member as if the file ended there: go on after it.
            resume = tail.after_empty_member(path, base if last is None or last < base else last) if gz else None
            if resume is None or resume <= base:
                break
            base = resume
    problem = None if last_bad else tail.first_problem(path, gz, last)
    if problem is not None:
        yield ReadError(*problem)


def _iter_parallel(path: str, types: frozenset[str] | None, digests: bool, anchors=None,
                   skip=None) -> Iterator[Record | ReadError | int]:
    """`_iter_fastwarc` for .gz files, with gzip inflate in a helper process (see inflate.py).

    `_iter_inflated` yields only what it can vouch for; at its first anomaly (damage of any kind, a
    record that does not start a gzip member, ...) the file is read again with `_iter_fastwarc`,
    skipping the records already yielded, so the output is the exact reader's by construction.
    """
    done = 0
    fast = _iter_inflated(path, types, digests, anchors, skip)
    try:
        while True:
            try:
                item = next(fast)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 - Anomaly, or FastWARC choking on damage: the exact reader decides
                break
            yield item
            done += 1
    finally:
        fast.close()
    yield from itertools.islice(_iter_fastwarc(path, True, types, digests), done, None)


def _iter_inflated(path: str, types: frozenset[str] | None, digests: bool, anchors=None,
                   skip=None) -> Iterator[Record | ReadError | int]:
    """The fast path of `_iter_parallel`; raises inflate.Anomaly (or FastWARC's error) where it cannot go on.

    A record is held back until the next one (or the end of the file) shows that its gzip member
    ended cleanly (CRC and size checked) where the next one starts. Its `anchor_free` looks at its
    block's own bytes when they are still at hand (stream.block_clear), else at everything up to
    the next record read (the block ends there at the latest).
    """
    from fastwarc.warc import ArchiveIterator

    stream = inflate.InflatedStream(path, anchors)
    member_at = stream.member_at
    vouch = stream.vouch
    held: Record | int | None = None  # (an int: the offset of a record `skip` turned away)
    held_u = 0  # inflated offset of the held record
    held_free: bool | None = None  # block_clear() of the held record
    last: int | None = None  # offset of the last record handed out (the exact reader's tail check starts there)
    try:
        it = ArchiveIterator(
            stream, record_types=_type_mask(types), parse_http=False, verify_digests=False,
            fsspec_args=False, stream_detect=False,
        )
        for rec in it:
            u = rec.stream_pos
            pos = member_at(u)
            if held is not None:
                if type(held) is Record:  # (False when no anchors were asked for)
                    held.anchor_free = held_free if held_free is not None else stream.clear(held_u, u)
                yield held
                held = None
            h = rec.headers
            if not (h.get("Content-Length") or "").strip().isdigit():
                raise inflate.Anomaly("no Content-Length")
            block = rec.reader.read()
            if len(block) < rec.content_length:
                raise inflate.Anomaly("short block")
            held_free = stream.block_clear(u, block)
            vouch()
            last = pos
            if held_free and skip is not None and skip(block, _http(rec, block)):
                held = pos
            else:
                held = _record(rec, pos, block, digests)
            held_u = u
        stream.finish()
        if type(held) is Record:
            held.anchor_free = held_free if held_free is not None else stream.clear(held_u, stream.tell_end())
    finally:
        stream.close()
    if held is not None:
        yield held
    # Same tail check as the exact reader: the gzip layer is sound, the WARC layer may not be.
    problem = tail.first_problem(path, True, last)
    if problem is not None:
        yield ReadError(*problem)


def _norm_uri(uri: str | None) -> str | None:
    """The URI as warcio gives it (it strips <> and escapes spaces), so both readers agree."""
    if uri and (" " in uri or uri.startswith("<")):
        if uri.startswith("<") and uri.endswith(">"):
            uri = uri[1:-1]
        uri = uri.replace(" ", "%20")
    return uri


# ---------------------------------------------------------------- warcio

_INC_OFFSET = re.compile(r"Offset:\s*(\d+)")

# warcio logs every URI it rewrites (spaces); that is not our user's business.
logging.getLogger("warcio").setLevel(logging.ERROR)


def _iter_warcio(path: str, fmt: str, types: frozenset[str] | None) -> Iterator[Record | ReadError]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    name = os.path.basename(path)
    warnings = io.StringIO()
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, arc2warc=True, no_record_parse=True)
        seen_errs = 0
        gen = iter(it)
        while True:
            try:
                # warcio reports a lying Content-Length by writing to stderr; keep it off the
                # user's terminal and turn it into a ReadError.
                with contextlib.redirect_stderr(warnings):
                    rec = next(gen)
            except StopIteration:
                break
            except (ArchiveLoadFailed, ValueError, OSError, EOFError, zlib.error) as exc:
                msg = " ".join(str(exc).split())
                yield ReadError(_safe_offset(it, fh), f"cannot parse record: {msg}")
                return
            if it.err_count > seen_errs:
                seen_errs = it.err_count
                m = _INC_OFFSET.findall(warnings.getvalue())
                at = int(m[-1]) if m else it.get_record_offset()
                yield ReadError(at, "record not followed by a blank line (wrong Content-Length?)")
            # get_record_offset() consumes the record, so the block is read first.
            block = rec.raw_stream.read()
            offset = it.get_record_offset()
            h = rec.rec_headers
            rtype = rec.rec_type
            want_s = h.get_header("Content-Length")
            if fmt == "warc" and not (want_s or "").strip().isdigit():
                yield ReadError(offset, "incomplete WARC header (no Content-Length)")
                continue
            if fmt == "arc":
                if rtype == "warcinfo":
                    continue  # the ARC file header (filedesc://): never a document
                if not (want_s or "").isdigit():
                    yield ReadError(offset, f"invalid ARC archive-length {want_s!r}")
                    continue
            if types is not None and rtype not in types:
                continue
            try:
                want = int(want_s or 0)
            except ValueError:
                want = 0
            if len(block) < want:
                yield ReadError(offset, f"truncated record: {len(block)} of {want} bytes")
                continue
            rid = h.get_header("WARC-Record-ID") if fmt == "warc" else ARC_ID.format(name=name, offset=offset)
            yield Record(
                offset,
                rtype,
                h.get_header("WARC-Target-URI"),
                rid,
                h.get_header("Content-Type"),
                h.get_header("WARC-Payload-Digest"),
                block,
            )


def _safe_offset(it, fh) -> int:
    try:
        off = int(it.offset)
        # warcio's offset is meaningless (negative) inside a single-member gzip file.
        return off if off >= 0 else 0
    except Exception:  # warcio internals vary between versions; the file position is a fallback
        return fh.tell()
