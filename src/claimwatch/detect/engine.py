"""detect(text) -> findings: normalise, one multi-pattern scan, rules around the hits."""

from __future__ import annotations

import bisect

from claimwatch.detect.finding import Finding
from claimwatch.detect.matcher import TERM, Hit, scan_text
from claimwatch.detect.rules import build_context, decide
from claimwatch.detect.units import header_spans, trim, unit_bounds
from claimwatch.lexicon import load_lexicon


def _best(terms: list[Hit]) -> Hit:
    # strong before weak, then the longest, then the earliest
    return min(terms, key=lambda h: (not h.entry.strong, -(h.end - h.start), h.start))


def detect(text: str) -> list[Finding]:
    """Claims made in `text`, one Finding per (category, excerpt unit), sorted by start offset.

    Pure: no I/O; the only process state is the lexicon compiled on first call.
    """
    if not isinstance(text, str):
        raise TypeError("detect() takes str")
    if not text:
        return []
    codes, hits = scan_text(text)
    term_hits = [h for h in hits if h.entry.kind == TERM]
    if not term_hits:
        return []
    norm = codes.tobytes().decode("utf-32-le", "surrogatepass")

    # Units around term hits (merged when the same unit is reached twice).
    units: list[tuple[int, int]] = []
    for h in term_hits:
        if units and units[-1][0] <= h.start and h.end <= units[-1][1]:
            continue
        a, b = unit_bounds(norm, h.start, h.end)
        a, b = trim(norm, a, b)
        if units and a < units[-1][1]:  # overlapping windows (only with the length cap): merge
            units[-1] = (units[-1][0], max(b, units[-1][1]))
        else:
            units.append((a, b))
    hit_starts = [h.start for h in hits]
    starts = [u[0] for u in units]
    per_unit: list[list[Hit]] = [[] for _ in units]
    for h in hits:
        i = bisect.bisect_right(starts, h.start) - 1
        if i >= 0 and h.end <= units[i][1]:
            per_unit[i].append(h)

    lex = load_lexicon()
    findings: list[Finding] = []
    for (a, b), uh in zip(units, per_unit):
        header: list[Hit] = []
        for hs, he in header_spans(norm, a):
            i = bisect.bisect_left(hit_starts, hs)
            while i < len(hits) and hits[i].start < he:
                if hits[i].end <= he:
                    header.append(hits[i])
                i += 1
        ctx = build_context(norm[a:b], a, uh, header)
        for cat_id, terms in ctx.terms.items():
            res = decide(cat_id, lex.categories[cat_id].mode, ctx)
            if res is None:
                continue
            rule, score = res
            best = _best(terms)
            glosses = []
            for t in sorted(terms, key=lambda h: h.start):
                if t.entry.gloss not in glosses:
                    glosses.append(t.entry.gloss)
            findings.append(Finding(
                category=cat_id,
                rule=rule,
                match=text[best.start:best.end],
                start=best.start,
                end=best.end,
                excerpt=text[a:b],
                gloss="; ".join(glosses),
                score=score,
            ))
    findings.sort(key=lambda f: (f.start, f.category))
    return findings
