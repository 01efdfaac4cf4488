"""The Archive: WARC files + ledger under one data directory; the evidence store of record.

Write order for one capture (all under an exclusive lock on archive/.lock):
  1. recover: re-ledger complete captures a crash left un-ledgered; decide whether the newest
     WARC file can be appended to (a torn tail means: start a new file, never touch the old one);
  2. append the capture's records (request/response per hop, probe, then one metadata record),
     flush + fsync the WARC file;
  3. append the ledger entry, fsync.
A crash between any two steps leaves either nothing, an un-ledgered tail (warning in verify,
re-ledgered or skipped by the next write), or a torn ledger line (ignored, never built upon).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from claimwatch import __version__
from claimwatch.archive import ledger
from claimwatch.archive.capture_meta import FORMAT, rebuild, ref_of, to_json, utc
from claimwatch.archive.digests import digest_matches, sha256_hex
from claimwatch.archive.errors import ArchiveError, os_error
from claimwatch.archive.payload import frame_chunked, header
from claimwatch.archive.types import ArchivedCapture, Exchange, Hop
from claimwatch.archive.warcfile import (MemberError, Record, Written, file_seq, iter_records,
                                         new_record_id, read_record_at, write_record)

DEFAULT_WARC_MAX_BYTES = 2**30
ENV_WARC_MAX_BYTES = "CLAIMWATCH_WARC_MAX_BYTES"


def _warc_max_from_env() -> int:
    raw = os.environ.get(ENV_WARC_MAX_BYTES)
    if not raw:
        return DEFAULT_WARC_MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ArchiveError(f"{ENV_WARC_MAX_BYTES} must be a positive number of bytes, got {raw!r}")
    return value


@dataclass
class _Tail:
    current: Path | None  # newest WARC file
    writable: bool  # may the next capture be appended to it?
    pending: list[dict] = field(default_factory=list)  # un-ledgered warcinfo at its start


def ledger_record(warc: str, w: Written, record_id: str, rtype: str) -> dict:
    return {"warc": warc, "offset": w.offset, "length": w.length, "record_id": record_id,
            "type": rtype, "block_sha256": w.block_sha256, "stored_sha256": w.stored_sha256}


def _ledger_record_of(warc: str, rec: Record) -> dict:
    return {"warc": warc, "offset": rec.offset, "length": rec.length, "record_id": rec.record_id,
            "type": rec.record_type, "block_sha256": sha256_hex(rec.block),
            "stored_sha256": rec.stored_sha256}


class Archive:
    def __init__(self, home: Path | str | None = None, *, warc_max_bytes: int | None = None,
                 fault: Callable[[str], None] | None = None):
        if home is None:
            from claimwatch.config import settings

            home = settings().home
        self.home = Path(home)
        self.archive_dir = self.home / "archive"
        self.ledger_dir = self.home / "ledger"
        self.warc_max_bytes = warc_max_bytes if warc_max_bytes else _warc_max_from_env()
        # Test hook: called with a stage name between write steps; raising there simulates a crash.
        self._fault = fault

    # ------------------------------------------------------------ files and locking
    def warc_files(self) -> list[Path]:
        if not self.archive_dir.is_dir():
            return []
        found = [(s, p) for p in self.archive_dir.iterdir() if (s := file_seq(p.name)) is not None]
        return [p for _, p in sorted(found)]

    def _ensure_dirs(self) -> None:
        for d in (self.home, self.archive_dir, self.ledger_dir):
            if d.exists() and not d.is_dir():
                raise ArchiveError(f"cannot write the archive: {d} exists and is not a directory")
            d.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _locked(self):
        fd = os.open(self.archive_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _hook(self, stage: str) -> None:
        if self._fault is not None:
            self._fault(stage)

    # ------------------------------------------------------------ writing
    def write(self, exchange: Exchange) -> ArchivedCapture:
        """Preserve one Exchange; returns it as an ArchivedCapture (same as iter_captures gives)."""
        try:
            self._ensure_dirs()
            with self._locked():
                tail = self._recover_locked()
                return self._write_locked(exchange, tail)
        except OSError as exc:
            raise os_error("write the archive", exc) from None

    def recover(self) -> int:
        """Re-ledger complete captures that a crash left without a ledger entry. Returns how many."""
        try:
            self._ensure_dirs()
            with self._locked():
                before = ledger.last_entry(self.ledger_dir)
                self._recover_locked()
                after = ledger.last_entry(self.ledger_dir)
        except OSError as exc:
            raise os_error("recover the archive", exc) from None
        if after is None:
            return 0
        return after["index"] - (before["index"] if before else -1)

    def _new_file(self, files: list[Path]) -> tuple[Path, object, dict]:
        seq = (file_seq(files[-1].name) + 1) if files else 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = self.archive_dir / f"claimwatch-{stamp}-{seq:05d}.warc.gz"
        fh = open(path, "xb")  # never reuse or overwrite a file name
        info = (f"software: claimwatch/{__version__}\r\n"
                "format: WARC File Format 1.1\r\n"
                "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
                "description: claimwatch evidence archive; see docs/evidence-format.md\r\n"
                f"isPartOf: {self.home.name}\r\n").encode("utf-8")
        rid = new_record_id()
        w = write_record(fh, record_type="warcinfo", record_id=rid, date=datetime.now(timezone.utc),
                         target_uri=None, content_type="application/warc-fields", block=info,
                         payload=None, extra_headers=[("WARC-Filename", path.name)])
        ledger.fsync_dir(self.archive_dir)
        return path, fh, ledger_record(path.name, w, rid, "warcinfo")

    def _write_locked(self, ex: Exchange, tail: _Tail) -> ArchivedCapture:
        files = self.warc_files()
        pending = list(tail.pending)
        use_current = (tail.current is not None and tail.writable
                       and tail.current.stat().st_size < self.warc_max_bytes)
        if use_current:
            path = tail.current
            fh = open(path, "ab")
        else:
            path, fh, info = self._new_file(files)
            pending = [info]
        name = path.name
        captured_at = utc(ex.started_at)
        capture_id = uuid.uuid4().hex
        written: list[tuple[Record, dict]] = []  # (record as stored, ledger record)
        try:
            def put(rtype, rid, target, ctype, block, payload, extra=()):
                target = _uri(target)
                w = write_record(fh, record_type=rtype, record_id=rid, date=captured_at,
                                 target_uri=target, content_type=ctype, block=block,
                                 payload=payload, extra_headers=list(extra))
                rec = Record(w.offset, w.length, w.stored_sha256,
                             [("WARC-Type", rtype), ("WARC-Record-ID", rid),
                              ("WARC-Target-URI", target or "")], block)
                written.append((rec, ledger_record(name, w, rid, rtype)))
                if len(written) == 1:
                    self._hook("warc_partial")
                return rid

            hop_meta = []
            for i, hop in enumerate(ex.hops):
                last = i == len(ex.hops) - 1
                ip = ex.resolved_ip if last else None
                truncation = _truncation(hop, ex.error if last else None)
                req_id, resp_id = self._put_hop(put, hop, ip, truncation)
                hop_meta.append({"url": hop.url, "status": hop.status, "reason": hop.reason,
                                 "request_record": req_id, "response_record": resp_id,
                                 "truncated": hop.body_truncated})
            probe_meta = None
            if ex.probe is not None:
                req_id, resp_id = self._put_hop(put, ex.probe, None, _truncation(ex.probe, None))
                probe_meta = {"url": ex.probe.url, "status": ex.probe.status,
                              "request_record": req_id, "response_record": resp_id,
                              "truncated": ex.probe.body_truncated}
            final = ex.hops[-1] if ex.hops else None
            meta = {
                "format": FORMAT,
                "claimwatch_version": __version__,
                "capture_id": capture_id,
                "url": ex.url,
                "vendor": ex.vendor,
                "captured_at": captured_at.isoformat(),
                "final_url": final.url if final else None,
                "status": final.status if final else None,
                "error": ex.error,
                "resolved_ip": ex.resolved_ip,
                "truncated": bool(final and final.body_truncated),
                "content_type": header(final.response_headers, "content-type") if final else None,
                "redirects": [[h.url, h.status] for h in ex.hops[:-1]],
                "hops": hop_meta,
                "response_record": hop_meta[-1]["response_record"] if hop_meta else None,
                "probe": probe_meta,
                "records": [{"record_id": r.record_id, "type": r.record_type,
                             "target_uri": r.get("WARC-Target-URI"), "warc": name,
                             "offset": r.offset, "length": r.length,
                             "block_sha256": lr["block_sha256"]} for r, lr in written],
                "extra": ex.extra,
            }
            block = to_json(meta)
            meta_id = new_record_id()
            concurrent = [("WARC-Concurrent-To", r.record_id) for r, _ in written]
            refers = [("WARC-Refers-To", meta["response_record"])] if meta["response_record"] else []
            put("metadata", meta_id, ex.url, "application/json", block, block, refers + concurrent)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()
        self._hook("after_warc")

        last = ledger.last_entry(self.ledger_dir)
        records = pending + [lr for _, lr in written]
        entry = ledger.make_entry(last["index"] + 1 if last else 0, last["hash"] if last else ledger.GENESIS,
                                  capture_id, ex.url, captured_at.isoformat(), records)
        ledger.append(self.ledger_dir, entry, fault=self._fault)
        self._hook("after_ledger")
        refs = [ref_of(name, rec) for rec, _ in written]
        return rebuild(meta, refs, {r.record_id: r for r, _ in written}, entry["index"])

    @staticmethod
    def _put_hop(put, hop: Hop, ip: str | None, truncation: str | None) -> tuple[str, str]:
        req_id, resp_id = new_record_id(), new_record_id()
        req_block = _request_head(hop)
        put("request", req_id, hop.url, "application/http; msgtype=request", req_block, b"",
            [("WARC-Concurrent-To", resp_id)])
        head = _response_head(hop)
        te = header(hop.response_headers, "transfer-encoding")
        # The HTTP library hands us the body de-chunked; re-frame it as one chunk so the stored
        # message matches its own Transfer-Encoding header and WARC readers can parse it.
        stored = frame_chunked(hop.body) if te and "chunked" in te.lower() else hop.body
        extra = [("WARC-Concurrent-To", req_id)]
        if ip:
            extra.append(("WARC-IP-Address", ip))
        if truncation:
            extra.append(("WARC-Truncated", truncation))
        put("response", resp_id, hop.url, "application/http; msgtype=response", head + stored,
            stored, extra)
        return req_id, resp_id

    # ------------------------------------------------------------ crash recovery
    def _recover_locked(self) -> _Tail:
        files = self.warc_files()
        names = [p.name for p in files]
        last = ledger.last_entry(self.ledger_dir)
        if not files and last is None:
            return _Tail(None, False)
        if last:
            lr = last["records"][-1]
            if lr["warc"] not in names:
                raise ArchiveError(f"ledgered WARC file archive/{lr['warc']} is missing; run claimwatch verify")
            first, start = names.index(lr["warc"]), lr["offset"] + lr["length"]
        else:
            first, start = 0, 0
        writable, pending = True, []
        for i in range(first, len(files)):
            offset = start if i == first else 0
            size = files[i].stat().st_size
            if size == offset and offset > 0:
                writable, pending = True, []
                continue
            last, writable, pending = self._reledger_tail(files[i], offset, last)
        return _Tail(files[-1], writable, pending)

    def _reledger_tail(self, path: Path, start: int, last: dict | None):
        """Ledger complete captures found after `start`; report whether the file is clean."""
        loose: list[Record] = []
        clean = True
        with open(path, "rb") as fh:
            try:
                for rec in iter_records(fh, start):
                    if not digest_matches(rec.get("WARC-Block-Digest"), rec.block):
                        clean = False
                        break
                    if rec.record_type == "metadata" and (meta := _capture_meta(rec)) is not None:
                        wanted = [r["record_id"] for r in meta.get("records", [])]
                        have = [r.record_id for r in loose if r.record_type != "warcinfo"]
                        if have != wanted:
                            clean = False
                            break
                        records = [_ledger_record_of(path.name, r) for r in loose + [rec]]
                        entry = ledger.make_entry(last["index"] + 1 if last else 0,
                                                  last["hash"] if last else ledger.GENESIS,
                                                  meta["capture_id"], meta["url"],
                                                  meta["captured_at"], records)
                        ledger.append(self.ledger_dir, entry)
                        last, loose = entry, []
                    else:
                        loose.append(rec)
            except MemberError:
                clean = False
        if not clean:
            return last, False, []
        if start == 0 and not loose:
            return last, False, []  # empty file: no warcinfo, do not append to it
        if all(r.record_type == "warcinfo" and r.offset == 0 for r in loose):
            return last, True, [_ledger_record_of(path.name, r) for r in loose]
        return last, False, []

    # ------------------------------------------------------------ reading
    def iter_captures(self) -> Iterator[ArchivedCapture]:
        """Every ledgered capture, in ledger order, rebuilt from the WARC files and the ledger."""
        handles: dict[str, object] = {}
        try:
            for line, entry in _entries(self.ledger_dir):
                refs, by_id, meta = [], {}, None
                for lr in entry["records"]:
                    if lr["type"] == "warcinfo":
                        continue
                    rec = self._read(handles, lr, line)
                    refs.append(ref_of(lr["warc"], rec))
                    by_id[rec.record_id] = rec
                    if rec.record_type == "metadata":
                        meta = _capture_meta(rec)
                if meta is None:
                    raise ArchiveError(f"{line.where}: entry {entry['index']} has no claimwatch metadata record")
                yield rebuild(meta, refs, by_id, entry["index"])
        except OSError as exc:
            raise os_error("read the archive", exc) from None
        finally:
            for fh in handles.values():
                fh.close()

    def _read(self, handles: dict, lr: dict, line) -> Record:
        name = lr["warc"]
        if name not in handles:
            path = self.archive_dir / name
            if not path.is_file():
                raise ArchiveError(f"{line.where}: WARC file archive/{name} is missing")
            handles[name] = open(path, "rb")
        try:
            rec = read_record_at(handles[name], lr["offset"])
        except (MemberError, StopIteration) as exc:
            raise ArchiveError(f"archive/{name} offset {lr['offset']}: unreadable record ({exc}); run claimwatch verify") from None
        if rec.record_id != lr["record_id"]:
            raise ArchiveError(f"archive/{name} offset {lr['offset']}: found {rec.record_id}, ledger says {lr['record_id']}")
        return rec

    def verify(self):
        from claimwatch.archive.verify import verify

        return verify(self)


def _entries(ledger_dir: Path):
    try:
        yield from ledger.iter_entries(ledger_dir)
    except ledger.LedgerFormatError as exc:
        raise ArchiveError(f"{exc}; run claimwatch verify") from None


def _capture_meta(rec: Record) -> dict | None:
    if not (rec.get("Content-Type") or "").startswith("application/json"):
        return None
    try:
        meta = json.loads(rec.block.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def _truncation(hop: Hop, error: str | None) -> str | None:
    if not hop.body_truncated:
        return None
    if error is None:
        return "length"
    return "time" if error.startswith("timeout") else "disconnect"


def _uri(url: str | None) -> str | None:
    """WARC-Target-URI is a URI: percent-encode non-ASCII paths and punycode hosts, as sent."""
    if url is None or url.isascii():
        return url
    import httpx

    try:
        return str(httpx.URL(url))
    except (httpx.InvalidURL, ValueError):
        return url


def _request_head(hop: Hop) -> bytes:
    import httpx

    target = httpx.URL(hop.url).raw_path.decode("ascii")
    lines = [f"{hop.method} {target} {hop.http_version or 'HTTP/1.1'}"]
    lines += [f"{k}: {v}" for k, v in hop.request_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def _response_head(hop: Hop) -> bytes:
    status_line = f"{hop.http_version or 'HTTP/1.1'} {hop.status} {hop.reason}".rstrip()
    lines = [status_line] + [f"{k}: {v}" for k, v in hop.response_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
