"""How many real documents pass the scanner's prefilter (both stages), and which anchors let them through.

    .venv/bin/python bench/prefilter_selectivity.py DIR [DIR ...] [--limit 600] [--max-bytes 45000]

The scan benchmark's filler text is made of invented words, so its pages pass the prefilter only
where a claim or a hard negative was planted. Real text is different: many lexicon terms are common
words ("download", "behaviour", "member", "points"), and an anchor is matched as a plain byte string,
so "rated" also matches "generated" (the gate then counts English entries only where an occurrence
may sit on word boundaries). This reads the text-like files under DIR (any encoding the
prefilter covers; nothing is fetched), and prints the share that pass the anchor stage alone, the
share that also pass the gate (gate.py) -- counting every byte, and with `html=True` for the files
the extractor reads as HTML -- the share in which `detect` then finds a claim, and the anchors
that let files through. Every file passing the prefilter pays for HTML-to-text and the detector in
a scan. A file with a finding that the gate rejects would be a bug: it is counted and named.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

from claimwatch.detect import detect
from claimwatch.detect.prefilter import _get as prefilter, may_contain_claim
from claimwatch.extract import ExtractError, extract
from claimwatch.extract.sniff import NotText, sniff

TEXT_SUFFIXES = {".txt", ".md", ".rst", ".html", ".htm", ".xml", ".json", ""}


def files_under(dirs: list[str], min_bytes: int) -> list[Path]:
    out = []
    for d in dirs:
        for p in Path(d).rglob("*"):
            try:
                if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and p.stat().st_size >= min_bytes:
                    out.append(p)
            except OSError:
                continue
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--limit", type=int, default=600, help="files sampled (seeded)")
    ap.add_argument("--max-bytes", type=int, default=45_000, help="bytes read per file (a web page's size)")
    ap.add_argument("--min-bytes", type=int, default=3_000)
    args = ap.parse_args()
    paths = files_under(args.dirs, args.min_bytes)
    random.Random(1).shuffle(paths)
    anchored = gated = gated_html = found = total = 0
    missed: list[str] = []
    anchors: collections.Counter[str] = collections.Counter()
    for p in paths:
        if total >= args.limit:
            break
        data = p.read_bytes()[: args.max_bytes]
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue  # binary
        total += 1
        if b"%PDF-" in data[:1024] or prefilter().first_anchor(data) is None:
            continue  # the first stage alone (PDFs always pass; none here)
        anchored += 1
        anchors[prefilter().first_anchor(data)] += 1
        try:
            html = sniff(data, None, p.name)[0] == "html"
        except NotText:
            html = False
        every_byte = may_contain_claim(data)
        with_html = may_contain_claim(data, html=html)
        gated += every_byte
        gated_html += with_html
        try:
            hit = bool(detect(extract(data, filename=p.name).text))
        except ExtractError:
            hit = False
        found += hit
        if hit and not with_html:
            missed.append(str(p))
    if not total:
        sys.exit("no text files found")
    print(f"files: {total}; pass the anchor stage: {anchored} ({anchored / total:.0%}); "
          f"pass the gate: {gated} ({gated / total:.0%}), with html= for HTML files: {gated_html} "
          f"({gated_html / total:.0%}); with a finding: {found}; findings the gate rejected: {len(missed)}")
    print("first anchor of the files passing the anchor stage:",
          ", ".join(f"{k} {n}" for k, n in anchors.most_common(15)))
    for m in missed:
        print("MISSED (a bug):", m)

if __name__ == "__main__":
    main()
