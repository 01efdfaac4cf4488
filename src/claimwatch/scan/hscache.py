"""A disk cache of the detector's compiled Hyperscan databases, for fast scanner start-up.

It also keeps the detector's other `hsdb.made_bytes` results: the parsed lexicon (JSON), the
normalisation table's changed code points, and the matcher's, the gate's and the prefilter's
derived tables (the prefilter's: its keys and literal lists).

Compiling the lexicon's databases costs seconds in every process; a scan of many files starts
several processes (workers, Spark executors). The parent warms up once — loading the cache or
compiling — and gives the serialised databases to its workers. The cache is best-effort: a missing,
unwritable or damaged cache only costs the compile time, never a wrong result (every entry carries
its length and a CRC-32 of its bytes, and the detector uses a database only for exactly the
patterns it was compiled from).

Location: $CLAIMWATCH_CACHE_DIR, else $XDG_CACHE_HOME/claimwatch, else ~/.cache/claimwatch.
Entry names start with a fingerprint of the detector's code and lexicon files (and the Python and
Hyperscan versions), so an upgrade never reads what an older version made; such stale entries are
removed once they are a month old (not at once: two installed versions may share the cache).
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import sys
import tempfile
import time
from pathlib import Path

from isal.isal_zlib import crc32

from claimwatch.detect import hsdb

_SUFFIX = ".hsdb"
# Entry layout: this magic, the blob's length and CRC-32 (little-endian), the blob. The check only
# guards against torn or damaged files (entries are already named by the code's fingerprint): a
# CRC-32 catches those, and at ~15 GB/s (ISA-L) it costs under a millisecond for the ~9 MB a start
# reads, where a SHA-256 cost ~30 ms.
_MAGIC = b"claimwatch-hsdb-2\n"
_HEADER = struct.Struct("<QI")
STALE_AFTER = 30 * 86400  # seconds; entries of other code versions older than this are removed


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """12 hex digits over the detector's source and lexicon files and the library versions."""
    import hyperscan

    import claimwatch.detect
    import claimwatch.lexicon

    h = hashlib.sha256(f"python {sys.version_info[:2]} hyperscan {hyperscan.__version__}\n".encode())
    for pkg in (claimwatch.detect, claimwatch.lexicon):
        root = Path(pkg.__file__).parent
        for path in sorted(p for p in root.iterdir() if p.suffix in (".py", ".yaml")):
            h.update(f"{pkg.__name__}/{path.name}\n".encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    explicit = os.environ.get("CLAIMWATCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimwatch"


def load(directory: Path | None = None) -> dict[str, bytes]:
    """Intact entries of the cache (damaged or foreign files are ignored)."""
    directory = directory or cache_dir()
    prefix = code_fingerprint() + "-"
    blobs: dict[str, bytes] = {}
    try:
        entries = list(directory.glob(f"{prefix}*{_SUFFIX}"))
    except OSError:
        return blobs
    for path in entries:
        try:
            with open(path, "rb") as fh:
                head, blob = fh.read(len(_MAGIC) + _HEADER.size), fh.read()
        except OSError:
            continue
        if _intact(head, blob):
            blobs[path.name[len(prefix) : -len(_SUFFIX)]] = blob
    return blobs


def _header(blob: bytes) -> bytes:
    return _MAGIC + _HEADER.pack(len(blob), crc32(blob))


def _intact(head: bytes, blob: bytes) -> bool:
    """Whether `blob` is what an entry starting with `head` was written with (not another layout,
    not torn, not damaged)."""
    return bool(blob) and head == _header(blob)


def save(blobs: dict[str, bytes], directory: Path | None = None, *, replace: bool = False) -> None:
    """Write entries not yet cached (`replace`: these too, e.g. ones that did not load intact);
    atomic per entry; silent when the cache can't be written."""
    directory = directory or cache_dir()
    prefix = code_fingerprint() + "-"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _prune(directory, prefix)
        for key, blob in blobs.items():
            target = directory / f"{prefix}{key}{_SUFFIX}"
            if not replace and target.exists():
                continue
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_header(blob))
                    fh.write(blob)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    except OSError:
        pass


def _prune(directory: Path, prefix: str) -> None:
    cutoff = time.time() - STALE_AFTER
    for path in directory.glob(f"*{_SUFFIX}"):
        try:
            if not path.name.startswith(prefix) and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def warm_up(prefilter: bool = True, *, export: bool = True) -> dict[str, bytes]:
    """Build the detector (and prefilter) databases in this process, from the cache when possible.

    Returns the serialised databases, to hand to other processes with `hsdb.preload` (empty when
    `export` is False and the cache already held everything: serialising costs time for nothing
    when no other process needs them).
    """
    from claimwatch.detect import warm_up as build

    cached = load()
    hsdb.preload(cached)
    build(prefilter=prefilter)
    if not export and hsdb.built_keys() <= cached.keys():
        return {}
    blobs = hsdb.export_compiled()
    missing = {key: blob for key, blob in blobs.items() if key not in cached}
    if missing:
        save(missing, replace=True)  # (a damaged entry that did not load is written again)
    return blobs
