"""detect(text) -> findings: normalise, one multi-pattern scan, rules around the hits."""

from __future__ import annotations

import bisect

from claimwatch.detect.finding import Finding
from claimwatch.detect.matcher import Hit, Utf8Text, matcher
from claimwatch.detect.normalize import normalize
from claimwatch.detect.rules import build_context, decide
from claimwatch.detect.units import (child_span, header_spans, is_container_key, label_spans, paragraph_span, trim,
                                     unit_bounds)
from claimwatch.lexicon import load_lexicon


PARAGRAPH_MODES = {"scoring"}


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
    m = matcher()
    norm = normalize(text)
    utf8 = Utf8Text(norm)
    term_hits = m.term_hits(utf8)
    if not term_hits:
        return []

    # Units around term hits (merged when the same unit is reached twice).
    units: list[tuple[int, int]] = []
    for h in term_hits:
        if units and units[-1][0] <= h.start and h.end <= units[-1][1]:
            continue
        a, b = unit_bounds(norm, h.start, h.end)
        a, b = trim(norm, a, b)
        if units and a < units[-1][1]:
            # windows overlap only when the length cap cut them (a huge line): keep them disjoint and
            # bounded rather than merging them into one giant excerpt
            a = units[-1][1]
        units.append((a, b))
    headers = [header_spans(norm, a) for a, _ in units]
    labels = [label_spans(norm, a, b) for a, b in units]
    # Paragraph context is only used by the scoring rules: only units with such a term pay for it.
    lex = load_lexicon()
    para_units = set()
    ui = 0
    for h in term_hits:
        while ui < len(units) and units[ui][1] < h.end:
            ui += 1
        if ui < len(units) and lex.categories[h.entry.group].mode in PARAGRAPH_MODES:
            para_units.add(ui)
    children = [child_span(norm, a, b) for a, b in units]
    paras = [paragraph_span(norm, a, b) if i in para_units else (a, b) for i, (a, b) in enumerate(units)]
    # Only now look at the context words (cues, masks, negatives), and only inside the windows.
    spans = sorted({sp for hs in (*headers, *labels) for sp in hs} | set(units) | set(paras) | {c for c in children if c})
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    hits = m.context_hits(utf8, merged)
    hit_starts = [h.start for h in hits]

    def hits_in(a: int, b: int) -> list[Hit]:
        i = bisect.bisect_left(hit_starts, a)
        out = []
        while i < len(hits) and hits[i].start < b:
            if hits[i].end <= b:
                out.append(hits[i])
            i += 1
        return out

    findings: list[Finding] = []
    for (a, b), hdr, lbl, (pa, pb), child in zip(units, headers, labels, paras, children):
        header: list[Hit] = []
        for hs, he in hdr:
            header.extend(hits_in(hs, he))
        label = [h for ls, le in lbl for h in hits_in(ls, le)]
        keys = [(hs, he) for hs, he in hdr if is_container_key(norm[hs:he])]
        para = [h for h in hits_in(pa, pb) if h.end <= a or h.start >= b]
        ctx = build_context(norm[a:b], a, hits_in(a, b), header, para,
                            hits_in(*child) if child else None, keys, label)
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
