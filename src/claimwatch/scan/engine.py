"""The local engine: one task per file, over worker processes, results merged in input order.

Worker processes are started with `spawn`, so each one imports the detector and compiles its own
Hyperscan database (a compiled database and its scratch space are not safe to share across a fork).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator
from functools import partial

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
    if workers <= 1 or len(paths) <= 1:
        for path in paths:
            yield scan_file(path, prefilter=prefilter, progress=progress)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes=min(workers, len(paths))) as pool:
        # imap keeps input order; chunksize 1 so a big file does not hold back a batch of small ones.
        for res in pool.imap(partial(_task, prefilter=prefilter), paths, chunksize=1):
            if progress is not None:
                progress(res.size, res.records)
            yield res
