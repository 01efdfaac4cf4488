"""Normalised text for claim identity: what survives markup, layout, script and punctuation edits."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

_TAG = re.compile(r"<[^>]{0,500}>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Traditional -> Simplified, NFKC, casefold, no markup, whitespace, punctuation or symbols."""
    text = _ENTITY.sub(" ", _TAG.sub(" ", text))
    text = unicodedata.normalize("NFKC", _t2s().convert(text)).casefold()
    # Keep letters, digits and marks (categories L*, N*, M*); everything else is layout.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNM")


def fingerprint(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:32]


def _trigrams(s: str) -> set[str]:
    if len(s) < 3:
        return {s} if s else set()
    return {s[i : i + 3] for i in range(len(s) - 2)}


# Excerpts are sentences; beyond this length the comparison is of no extra value and only slow.
_MAX_COMPARE = 2000


def similarity(a: str, b: str, floor: float = 0.0) -> float:
    """0..1: the larger of character-trigram Jaccard and difflib's ratio on normalised text.

    Below `floor` the exact value does not matter to the caller, so the costly ratio is skipped
    when its cheap upper bound cannot reach it."""
    if a == b:
        return 1.0
    a, b = a[:_MAX_COMPARE], b[:_MAX_COMPARE]
    ta, tb = _trigrams(a), _trigrams(b)
    jac = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    sm = SequenceMatcher(None, a, b, autojunk=False)
    for bound in (sm.real_quick_ratio(), sm.quick_ratio()):
        if bound < floor or bound <= jac:
            return jac
    return max(jac, sm.ratio())
