"""The local engine: one task per file, over worker processes, results merged in input order.

The parent builds the detector's Hyperscan databases once (from the on-disk cache when it can,
see hscache.py) and hands them, serialised, to `spawn`ed workers, which then load them in
milliseconds instead of each compiling for seconds.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator
from functools import partial

from claimwatch.detect import hsdb
from claimwatch.scan import hscache
from claimwatch.scan.worker import FileResult, scan_file


def _task(path: str, prefilter: bool) -> FileResult:
    return scan_file(path, prefilter=prefilter)


def run_local(
    paths: list[str],
    *,
    workers: int = 1,
    prefilter: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[FileResult]:
    """Yield one FileResult per path, in the order of `paths`, whatever order the workers finish in.

    With one worker everything runs in this process (fine-grained progress); with more, progress
    advances per finished file.
    """
    blobs = hscache.warm_up(prefilter=prefilter)
    if workers <= 1 or len(paths) <= 1:
        for path in paths:
            yield scan_file(path, prefilter=prefilter, progress=progress)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes=min(workers, len(paths)), initializer=hsdb.preload, initargs=(blobs,)) as pool:
        # imap keeps input order; chunksize 1 so a big file does not hold back a batch of small ones.
        for res in pool.imap(partial(_task, prefilter=prefilter), paths, chunksize=1):
            if progress is not None:
                progress(res.size, res.records)
            yield res
