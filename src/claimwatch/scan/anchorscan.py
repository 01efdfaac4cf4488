"""The prefilter's anchor scan as an object that an inflate helper can be handed late.

`prefilter.anchor_ends` pickles by reference: unpickled in a helper forked before the detector was
built, its first call would build the whole prefilter there (NumPy, the lexicon, the cache: ~0.3 s
of the helper's time). An `AnchorScan` pickles as its compiled database's bytes instead and loads
in a few milliseconds with nothing but Hyperscan (inflate.py forks the helper at the start of a
one-worker scan, before those imports, so that it inflates while the scanner starts up).
Same database, same answer: the end offsets, ascending, of every anchor occurrence.
"""

from __future__ import annotations

import threading

import hyperscan


class AnchorScan:
    def __init__(self, db: hyperscan.Database) -> None:
        self._db = db
        self._local = threading.local()  # a Hyperscan scratch is for one scan at a time

    def __call__(self, data) -> list[int]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        ends: list[int] = []
        self._db.scan(data, match_event_handler=lambda pid, frm, to, flags, ctx: ends.append(to), scratch=scratch)
        ends.sort()
        return ends

    def __reduce__(self):
        return _load, (hyperscan.dumpb(self._db),)


def _load(blob: bytes) -> AnchorScan:
    return AnchorScan(hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK))
