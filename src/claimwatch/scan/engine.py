"""The local engine: one task per file, over worker processes, results merged in input order.

The parent builds the detector's Hyperscan databases once (from the on-disk cache when it can,
see hscache.py). On Linux the workers are forked from it and inherit the built lexicon, prefilter
and databases for free; elsewhere (no safe fork) they are spawned and get the databases as bytes,
which load in milliseconds instead of compiling for seconds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from functools import partial

from claimwatch.detect import hsdb
from claimwatch.scan import hscache
from claimwatch.scan.readers import expect
from claimwatch.scan.worker import FileResult, scan_file


def _task(path: str, prefilter: bool, parallel: bool | None) -> FileResult:
    return scan_file(path, prefilter=prefilter, parallel=parallel)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (not on every platform)
        return os.cpu_count() or 1


def _start_method() -> str:
    import multiprocessing as mp  # here: a one-worker scan never needs it (start-up time)

    # fork is only safe on Linux here (macOS system libraries may abort in a forked child).
    return "fork" if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods() else "spawn"


def run_local(
    paths: list[str],
    *,
    workers: int = 1,
    prefilter: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[FileResult]:
    """Yield one FileResult per path, in the order of `paths`, whatever order the workers finish in.

    The databases are built and the worker processes started when this is called, not at the first
    `next()`: a fork must happen before the caller starts threads of its own (a progress bar).
    With one worker everything runs in this process (fine-grained progress); with more, progress
    advances per finished file.
    """
    parallel = workers > 1 and len(paths) > 1
    method = _start_method() if parallel else None
    blobs = hscache.warm_up(prefilter=prefilter, export=parallel and method == "spawn")
    if not parallel:
        expect(paths)  # (already done by `claimwatch scan`, before its imports)
        return (scan_file(path, prefilter=prefilter, progress=progress) for path in paths)
    # Forked workers already hold the databases; spawned ones load the exported bytes first.
    init = {} if method == "fork" else {"initializer": hsdb.preload, "initargs": (blobs,)}
    import multiprocessing as mp

    processes = min(workers, len(paths))
    pool = mp.get_context(method).Pool(processes=processes, **init)
    # A worker's inflate helper (a second process) only pays while a core is left for it.
    parallel = None if processes < _cores() else False
    return _collect(pool, paths, prefilter, parallel, progress)


def _collect(pool, paths: list[str], prefilter: bool, parallel: bool | None, progress) -> Iterator[FileResult]:
    with pool:
        # imap keeps input order; chunksize 1 so a big file does not hold back a batch of small ones.
        for res in pool.imap(partial(_task, prefilter=prefilter, parallel=parallel), paths, chunksize=1):
            if progress is not None:
                progress(res.size, res.records)
            yield res
