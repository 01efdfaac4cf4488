"""Scan one archive file: the unit of work for local worker processes and Spark executors alike.

Hot path per record: FastWARC hands over the block, `httpmsg` strips/decodes the HTTP message,
and the Hyperscan prefilter looks at the raw payload bytes (on the parallel reader, the stream
has already been scanned for its anchors: see readers.iter_file(anchors=)). Its first stage
passes payloads holding a lexicon term, its second (the gate) only those whose lexicon words could
satisfy some detector rule (a lone weak term such as "download" cannot). Only those pay for charset
detection, HTML-to-text and the detector (see docs/scan.md for the pass rates).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from claimwatch.detect import detect
from claimwatch.detect.prefilter import anchor_database, longest_anchor, may_contain_claim, only_raw_reading
from claimwatch.extract import ExtractError, extract
from claimwatch.extract.sniff import NotText, sniff
from claimwatch.scan.anchorscan import AnchorScan
from claimwatch.scan.httpmsg import DecodeError, http_payload, plain_body_start
from claimwatch.scan.readers import NotAnArchive, ReadError, iter_file

# Report progress to the caller every this many records (keeps callback overhead negligible).
PROGRESS_EVERY = 256


@dataclass
class FileResult:
    path: str
    findings: list[dict] = field(default_factory=list)  # detect-JSONL dicts, in record order
    errors: list[str] = field(default_factory=list)  # "PATH: offset N: message" lines
    records: int = 0  # document records read (response/resource/conversion)
    candidates: int = 0  # records that passed the prefilter (or all, with prefilter off)
    size: int = 0  # bytes of the file as stored


_anchors: tuple[AnchorScan, int] | None = None  # this process's anchor scan (one object: see inflate.use_scan)


def anchors() -> tuple[AnchorScan, int]:
    """The prefilter's anchor scan (as AnchorScan: an inflate helper loads it cheaply) and the
    length of its longest literal, for iter_file(anchors=)."""
    global _anchors
    if _anchors is None:
        _anchors = (AnchorScan(anchor_database()), longest_anchor())
    return _anchors


def error_line(path: str, offset: int | None, message: str) -> str:
    where = f"{path}: offset {offset}: " if offset is not None else f"{path}: "
    return where + " ".join(str(message).split())


def record_findings(payload: bytes, content_type: str | None, document: str, record_id: str | None) -> list[dict]:
    """Findings of one payload: extract + detect, ordered by position. Undecodable input gives none."""
    try:
        ex = extract(payload, content_type=content_type, filename=None)
    except ExtractError:
        # Images, fonts and other non-text records are normal in a crawl: not a read error.
        return []
    found = detect(ex.text)
    found.sort(key=lambda f: (f.start, f.end, f.category, f.rule))
    return [f.to_record(document, record_id) for f in found]


def _reads_as_html(payload: bytes, content_type: str | None) -> bool:
    """Whether extract() parses `payload` as HTML: its own sniff, called as record_findings calls it
    (the sniff reads only the first 8 KB, so extract's input cap does not change the answer)."""
    try:
        return sniff(payload, content_type, None)[0] == "html"
    except NotText:
        return False  # (extract reads nothing of it; False only makes the prefilter look at every byte)


def _nothing_to_find(block: bytes, http: bool) -> bool:
    """For a record whose stored block holds no anchor: True when its payload is a plain piece of the
    block (no Content-Encoding, no chunked body) with no other reading (PDF, UTF-16/32), so that
    the prefilter turns it away -- the common case in a crawl, found without the HTTP split."""
    start = plain_body_start(block) if http else 0
    return start is not None and (start >= len(block) or only_raw_reading(block, start))


def _is_http(rec) -> bool:
    ct = rec.content_type or ""
    return rec.rec_type == "response" and (ct.startswith("application/http") or rec.block.startswith(b"HTTP/"))


def scan_file(
    path: str,
    *,
    prefilter: bool = True,
    progress: Callable[[int, int], None] | None = None,
    parallel: bool | None = None,
) -> FileResult:
    """Read every document record of `path`, detect claims, and report damage line by line.

    Never raises for a bad file: an unreadable file gives one error line and no findings.
    `progress(bytes_done_delta, records_delta)` is called now and then (for the progress bar).
    `parallel`: inflate .warc.gz files in a helper process (readers.iter_file); None: by file size.
    False where every core already runs a scan (many workers, Spark tasks): the helper needs a core.
    """
    res = FileResult(path)
    try:
        res.size = os.path.getsize(path)
        # With the prefilter on, the parallel reader also scans the inflated stream for its anchors.
        # (the parallel reader then hands over only the offset of a record turned away that way)
        items = iter_file(path, anchors=anchors() if prefilter else None, parallel=parallel,
                          skip=_nothing_to_find if prefilter else None)
    except FileNotFoundError:
        res.errors.append(error_line(path, None, "no such file"))
        return res
    except IsADirectoryError:
        res.errors.append(error_line(path, None, "is a directory"))
        return res
    except (NotAnArchive, OSError) as exc:
        res.errors.append(error_line(path, 0 if isinstance(exc, NotAnArchive) else None, exc))
        return res

    done_bytes = 0
    pending = 0
    check = may_contain_claim
    try:
        for item in items:
            if type(item) is ReadError:
                res.errors.append(error_line(path, item.offset, item.message))
                continue
            res.records += 1
            skipped = type(item) is int  # (the offset of a record the reader found _nothing_to_find in)
            if progress is not None:
                pending += 1
                if pending >= PROGRESS_EVERY:
                    at = item if skipped else item.offset
                    progress(at - done_bytes, pending)
                    done_bytes, pending = at, 0
            if skipped:
                continue
            http = _is_http(item)
            if prefilter and item.anchor_free and _nothing_to_find(item.block, http):
                continue  # (no anchor in the stored bytes, and the payload is a plain piece of them)
            if http:
                try:
                    payload, ctype, _status = http_payload(item.block)
                except DecodeError as exc:
                    res.errors.append(error_line(path, item.offset, f"record {item.record_id}: {exc}"))
                    continue
            else:
                payload, ctype = item.block, item.content_type
            if not payload:
                continue
            if prefilter:
                # Anchor-free stored bytes only vouch for a payload that is a piece of them
                # (not one decoded from a Content-Encoding or chunked body).
                raw_clear = item.anchor_free and item.block.endswith(payload)
                # The prefilter's second stage ignores markup on pages the extractor reads as HTML
                # (tags and scripts are full of cue words); anchor-free payloads never get that far.
                html = (lambda: _reads_as_html(payload, ctype)) if not raw_clear else False
                if not check(payload, raw_clear=raw_clear, html=html):
                    continue
            res.candidates += 1
            document = item.uri or f"{path}#{item.offset}"
            try:
                res.findings.extend(record_findings(payload, ctype, document, item.record_id))
            except Exception as exc:  # noqa: BLE001 - one record that breaks extract/detect is reported, the rest scanned
                res.errors.append(error_line(path, item.offset, f"record {item.record_id}: {type(exc).__name__}: {exc}"))
    except OSError as exc:  # e.g. a read error of the disk itself
        res.errors.append(error_line(path, None, exc))
    except Exception as exc:  # noqa: BLE001 - a reader bug on odd input must cost one file, not the run
        res.errors.append(error_line(path, None, f"cannot read: {type(exc).__name__}: {exc}"))
    if progress is not None:
        progress(res.size - done_bytes, pending)
    return res
