"""Evidence commands: capture, events, claims, history, verify, reindex."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer

from claimwatch.cli import app
from claimwatch.cli.common import (EXIT_BAD_INPUT, EXIT_CHECK_FAILED, Format, FormatOption, emit_jsonl, fail,
                                   one_line, say)
from claimwatch.config import settings

# Width of the excerpt shown in text output; JSONL always carries the whole excerpt.
EXCERPT_WIDTH = 90


def _short(text: str | None, width: int = EXCERPT_WIDTH) -> str:
    if not text:
        return ""
    one = one_line(text)
    return one if len(one) <= width else one[: width - 1] + "…"


def _line(*cols: str) -> None:
    sys.stdout.write("  ".join(c for c in cols if c != "") + "\n")


@contextmanager
def _progress(total: int | None, label: str, enabled: bool):
    """A Rich progress bar on stderr, only when stderr is a terminal (never in pipes or logs)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    # Rich is imported here, not at module level: every command's start-up pays for this module.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    cols = [SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*cols, console=Console(stderr=True), transient=True) as p:
        task = p.add_task(label, total=total)
        yield lambda n: p.update(task, completed=n)


@contextmanager
def _store():
    from claimwatch.store import StoreError, open_store

    try:
        store = open_store(settings().database_url)
    except StoreError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    try:
        yield store
    except StoreError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    finally:
        store.close()


def _when(iso: str | None) -> str:
    """Seconds are enough to read; JSONL keeps the full timestamp."""
    return f"{iso[:19]}Z" if iso else ""


def _event_text(e: dict, glosses: dict[str, str]) -> None:
    cid = e["capture"]["id"][:12]
    if not e["claim_id"]:
        _line(_when(e["at"]), f"{e['event']:<16}", f"{'':<19}", f"{'':<10}", e["url"], f"capture {cid}")
        return
    _line(_when(e["at"]), f"{e['event']:<16}", f"{e['category']:<19}", e["claim_id"][:10], e["url"], f"capture {cid}")
    gloss = glosses.get(e["claim_id"], "")
    _line(" " * 20, f"“{_short(e['excerpt'])}”" + (f"  ({gloss})" if gloss else ""))


@app.command()
def capture(
    urls: list[str] = typer.Argument(..., metavar="URL...", help="Pages to capture (http or https)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Vendor name recorded with the capture."),
    fmt: Format = FormatOption,
) -> None:
    """Fetch, archive (WARC + ledger), detect and track each URL."""
    from claimwatch.archive import Archive
    from claimwatch.capture.fetch import FetchInputError, validate_url
    from claimwatch.capture.pipeline import capture_url
    from claimwatch.store import StoreError, open_store

    for url in urls:
        try:
            validate_url(url)
        except FetchInputError as exc:
            fail(str(exc), EXIT_BAD_INPUT)
    s = settings()
    try:
        archive = Archive(s.home)
    except Exception as exc:  # noqa: BLE001 - archive errors are one line for the user
        fail(f"cannot open the archive in {s.home}: {exc}", EXIT_BAD_INPUT)
    store = None
    db_errors: list[str] = []
    fetch_failures = 0
    try:
        store = open_store(s.database_url)
    except StoreError:
        store = None  # the evidence is still captured and archived; only indexing fails
    try:
        with _progress(len(urls), "capturing", enabled=len(urls) > 1) as advance:
            for n, url in enumerate(urls, 1):
                try:
                    # Without a usable store, capture_url still archives and reports db_error.
                    out = capture_url(url, vendor, s, store=store, archive=archive)
                except FetchInputError as exc:
                    fail(str(exc), EXIT_BAD_INPUT)
                except Exception as exc:  # noqa: BLE001 - e.g. disk full while archiving
                    fail(f"capture of {url} failed: {one_line(exc, 300)}", EXIT_BAD_INPUT)
                if out.db_error:
                    db_errors.append(out.db_error)
                _print_outcome(out, fmt)
                if out.outcome == "failed":
                    # Archived as a failed capture (never as absence), but the fetch itself failed.
                    fetch_failures += 1
                    a = out.archived
                    why = a.error or f"HTTP {a.status}"
                    say("error", f"capture of {url} failed: {one_line(why, 300)} (recorded as a failed capture)")
                advance(n)
    finally:
        if store is not None:
            store.close()
    if db_errors:
        fail(db_errors[0], EXIT_BAD_INPUT)
    if fetch_failures:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _print_outcome(out, fmt: Format) -> None:
    if fmt is Format.jsonl:
        emit_jsonl(out.record())
        sys.stdout.flush()
        return
    a = out.archived
    status = str(a.status) if a.status is not None else "ERR"
    final = f"-> {a.final_url}" if a.final_url and a.final_url != a.url else ""
    digest = f"sha256:{a.payload_sha256[:16]}…" if a.payload_sha256 else "sha256:-"
    kinds = ", ".join(e["event"] for e in out.events)
    _line(status, f"{out.outcome or 'not-indexed':<13}", a.url, final, digest,
          f"{out.findings} finding{'s' if out.findings != 1 else ''}",
          f"{len(out.events)} new event{'s' if len(out.events) != 1 else ''}" + (f" ({kinds})" if kinds else ""))
    if a.error:
        _line("   ", "error:", _short(a.error, 200))
    for e in out.events:
        if e["claim_id"]:
            _line("   ", f"{e['event']:<16}", e["category"], f"“{_short(e['excerpt'])}”")
    sys.stdout.flush()


@app.command()
def events(fmt: Format = FormatOption) -> None:
    """Claim and page events, oldest first."""
    from claimwatch.store import queries

    with _store() as store, store.session() as s:
        records = [queries.event_record(e) for e in queries.events(s)]
        glosses = {c.id: c.gloss for c in queries.claims(s)} if fmt is Format.text else {}
    for e in records:
        if fmt is Format.jsonl:
            emit_jsonl(e)
        else:
            _event_text(e, glosses)


@app.command()
def claims(fmt: Format = FormatOption) -> None:
    """Every claim with first_seen, last_seen, removed_at and status (live|removed|page_gone)."""
    from claimwatch.store import queries

    with _store() as store, store.session() as s:
        records = [queries.claim_record(c) for c in queries.claims(s)]
    for c in records:
        if fmt is Format.jsonl:
            emit_jsonl(c)
            continue
        _line(c["claim_id"][:10], f"{c['status']:<9}", f"{c['category']:<19}", c["url"])
        _line("          ", f"“{_short(c['excerpt'])}”")
        _line("          ", f"gloss: {c['gloss']}")
        _line("          ", f"first seen {_when(c['first_seen'])}", f"last seen {_when(c['last_seen'])}",
              f"removed {_when(c['removed_at'])}" if c["removed_at"] else "")


@app.command()
def history(
    url: str = typer.Argument(..., help="The URL as it was captured."),
    fmt: Format = FormatOption,
) -> None:
    """Every capture of URL: time, status, final URL, digest, WARC file/record and findings."""
    from claimwatch.store import queries

    with _store() as store, store.session() as s:
        if queries.source_by_url(s, url) is None:
            fail(f"no capture of {url} in the database (capture it first, or check the exact URL)", EXIT_BAD_INPUT)
        records = [queries.capture_record(c) for c in queries.history(s, url)]
    for h in records:
        if fmt is Format.jsonl:
            emit_jsonl(h)
            continue
        status = str(h["status"]) if h["status"] is not None else "ERR"
        final = f"-> {h['final_url']}" if h["final_url"] and h["final_url"] != h["url"] else ""
        _line(_when(h["at"]), status, f"{h['outcome']:<13}", final, f"sha256:{h['sha256'] or '-'}")
        _line("    ", f"{h['warc']} @{h['offset']}", h["record_id"] or "", f"capture {h['capture_id']}")
        if h["error"]:
            _line("    ", "error:", _short(h["error"], 200))
        for f in h["findings"]:
            _line("    ", f"- {f['category']}", f"[{f['rule']}]", f"“{_short(f['excerpt'])}”", f"({f['gloss']})")


@app.command()
def verify() -> None:
    """Recompute every WARC digest and the ledger hash chain; exit 1 naming the first break."""
    from claimwatch.archive import Archive

    s = settings()
    archive = Archive(s.home)
    if not archive.warc_files() and not any(s.ledger_dir.glob("*")):
        # "ok" over nothing would mislead someone pointing at the wrong folder.
        fail(f"nothing to verify: no archive under {s.home} (set CLAIMWATCH_HOME)", EXIT_BAD_INPUT)
    try:
        report = archive.verify()
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        fail(f"verify could not run: {one_line(exc, 300)}", EXIT_BAD_INPUT)
    for w in report.warnings:
        say("warning", w)
    if not report.ok:
        more = f" (+{len(report.breaks) - 1} more)" if len(report.breaks) > 1 else ""
        fail(f"verify failed: {report.first_break}{more}", EXIT_CHECK_FAILED)
    sys.stdout.write(
        f"verify: ok: {report.warc_files} WARC files, {report.records} records, "
        f"{report.ledger_entries} ledger entries, chain intact\n"
    )
    if report.head_hash:
        # Publishing this hash elsewhere (e-mail, notary, a tweet) anchors the chain: entries
        # deleted from its end are then detectable too.
        sys.stdout.write(f"verify: ledger head {report.head_hash}\n")


@app.command()
def reindex() -> None:
    """Rebuild the database from the archive and ledger alone."""
    from claimwatch.store import StoreError
    from claimwatch.track.reindex import reindex as rebuild

    s = settings()
    try:
        from claimwatch.archive import ledger

        total = sum(1 for _ in ledger.iter_entries(s.ledger_dir))
    except Exception:  # noqa: BLE001 - the bar is cosmetic; reindex reports real errors below
        total = None
    try:
        with _progress(total, "reindexing", enabled=True) as advance:
            result = rebuild(s, progress=advance)
    except StoreError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - archive read errors are one line for the user
        fail(f"reindex failed: {one_line(exc, 300)}", EXIT_BAD_INPUT)
    moved = f"; unreadable old database kept as {result.set_aside}" if result.set_aside else ""
    if result.recovered:
        moved += f"; {result.recovered} capture(s) left un-ledgered by a crash were re-ledgered"
    sys.stdout.write(f"reindexed {result.captures} captures: {result.claims} claims, {result.events} events{moved}\n")
