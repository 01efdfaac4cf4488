"""Compile Hyperscan databases once, and move compiled ones between processes as bytes.

Compiling the lexicon's databases takes seconds; loading a serialised one takes milliseconds. This
module keeps no files: callers that may do I/O (the bulk scanner, the Spark job) export the
compiled databases as bytes with `export_compiled()`, keep or ship them, and hand them to another
process with `preload()`. The key of a database is a hash of everything its compilation depends on,
so a preloaded database is only ever used for exactly the patterns it was compiled from, and
detection results never depend on whether a database was compiled or loaded.

Other slow-to-make bytes (the prefilter's list of literals, the parsed lexicon, the normalisation
table's changed code points, the matcher's and the gate's derived tables) travel the same way with
`made_bytes()`, keyed by a hash of their inputs; the disk cache (scan/hscache.py) names its entries
by a fingerprint of this code, so a change to how they are made never meets an old entry.
"""

from __future__ import annotations

import array
import hashlib
import threading
from collections.abc import Callable

import hyperscan

_lock = threading.Lock()
_built: dict[str, hyperscan.Database] = {}  # key -> database built or loaded here (serialised on export)
_preloaded: dict[str, bytes] = {}  # key -> serialised database (or made bytes) handed in by a caller
_made: dict[str, bytes] = {}  # key -> bytes made or loaded here by made_bytes()


def _key(expressions: list[bytes], ids: list[int], flags: list[int] | int, literal: bool = False,
         made: str | None = None) -> str:
    h = hashlib.blake2b(digest_size=32)  # (cryptographic like SHA-256, and ~1.7x its speed here)
    h.update(f"hyperscan {hyperscan.__version__}{' literal' if literal else ''}\n".encode())
    if made is not None:
        h.update(f"made {made}\n".encode())
        return h.hexdigest()
    flag_list = flags if isinstance(flags, list) else [flags] * len(expressions)
    # Lengths make the concatenation unambiguous. array.array from a list, not from an iterator or
    # an unpacked list: ~1.5 ms rather than ~5 ms per array of 25k numbers (start-up).
    h.update(array.array("q", [len(expressions)]))
    h.update(array.array("q", ids))
    h.update(array.array("q", flag_list))
    h.update(array.array("q", list(map(len, expressions))))
    h.update(b"".join(expressions))
    return h.hexdigest()


def block_database(
    expressions: list[bytes], ids: list[int], flags: list[int] | int, *, literal: bool = False,
    made: str | None = None,
) -> hyperscan.Database:
    """A block-mode database for these patterns: loaded if preloaded, otherwise compiled.

    `literal`: the expressions are plain byte strings, not regular expressions (Hyperscan's literal
    compiler: no escaping needed, and any byte may occur).
    `made`: the key of the database instead of a hash of the patterns (~10 ms for 25k of them): a
    made_bytes key of the bytes that the expressions, ids and flags are all made from, plus a name
    for this database among those made from them (like made_bytes keys, a change in the code that
    makes them is left to the disk cache's fingerprint)."""
    key = _key(expressions, ids, flags, literal, made)
    with _lock:
        blob = _preloaded.get(key)
    if blob is not None:
        db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
    else:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags, literal=literal)
    with _lock:
        _built[key] = db
    return db


def made_bytes(key: str, make: Callable[[], bytes]) -> bytes:
    """The bytes preloaded under `key`, else `make()` -- for results that are slow to compute.

    `key` must be a hash of everything `make` depends on (the caller's inputs)."""
    with _lock:
        blob = _preloaded.get(key)
    if blob is None:
        blob = make()
    with _lock:
        _made[key] = blob
    return blob


def built_keys() -> set[str]:
    """Keys of the databases (and made bytes) this process has built or loaded."""
    with _lock:
        return set(_built) | set(_made)


def export_compiled() -> dict[str, bytes]:
    """Every database this process has built or loaded, serialised, keyed by its pattern hash,
    and every made_bytes() result."""
    with _lock:
        built = dict(_built)
        made = dict(_made)
    return {**{key: hyperscan.dumpb(db) for key, db in built.items()}, **made}


def preload(blobs: dict[str, bytes]) -> None:
    """Offer serialised databases; each is used only by a later build of exactly its patterns."""
    with _lock:
        _preloaded.update(blobs)
