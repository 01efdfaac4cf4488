#!/usr/bin/env python3
"""Score the detector on a labelled passage file (the eval format of ../shared/eval/README.md).

    python bench/detect_eval.py FILE.jsonl [--verbose]

Each passage is written to a temporary file of its format and encoding (txt/html/h/json in
utf-8/gbk/big5) and goes through the full path: claimwatch.extract.extract(bytes, filename=...),
then claimwatch.detect.detect(text).  Precision / recall / F1 are computed on (document, category)
pairs.  Prints the overall figures, a per-category table and the false positive / false negative
lists.  Exit 0 (scoring is a report, not a check); 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from claimwatch.detect import detect
from claimwatch.extract import ExtractError, extract
from claimwatch.lexicon import CATEGORY_IDS

EXT = {"txt": ".txt", "html": ".html", "h": ".h", "json": ".json"}
ENC = {"utf-8": "utf-8", "gbk": "gbk", "big5": "big5"}


def load(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            assert d["fmt"] in EXT and d["enc"] in ENC and isinstance(d["labels"], list)
            assert all(lab in CATEGORY_IDS for lab in d["labels"]) and isinstance(d["text"], str)
        except (ValueError, KeyError, AssertionError):
            raise SystemExit(f"detect_eval: {path}:{n}: not an eval record (id, fmt, enc, labels, text)") from None
        rows.append(d)
    return rows


def run(rows: list[dict], verbose: bool) -> dict:
    per_cat = {c: Counter() for c in CATEGORY_IDS}
    fps, fns, errors = [], [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="detect_eval_") as tmp:
        for d in rows:
            p = Path(tmp) / f"{d['id']}{EXT[d['fmt']]}"
            p.write_bytes(d["text"].encode(ENC[d["enc"]]))
            try:
                ex = extract(p.read_bytes(), filename=p.name)
            except ExtractError as exc:
                errors.append((d["id"], str(exc)))
                ex = None
            findings = detect(ex.text) if ex else []
            got = {f.category for f in findings}
            want = set(d["labels"])
            for c in CATEGORY_IDS:
                if c in got and c in want:
                    per_cat[c]["tp"] += 1
                elif c in got:
                    per_cat[c]["fp"] += 1
                    fps.append((d["id"], c, [f for f in findings if f.category == c], d["text"]))
                elif c in want:
                    per_cat[c]["fn"] += 1
                    fns.append((d["id"], c, d["text"]))
            if verbose:
                mark = "ok " if got == want else "ERR"
                print(f"{mark} {d['id']:8} want={sorted(want)} got={sorted(got)}")
                for f in findings:
                    print(f"      {f.rule:40} {f.score:.2f} {f.match!r}  [{f.gloss}]")
    return {"per_cat": per_cat, "fps": fps, "fns": fns, "errors": errors, "secs": time.perf_counter() - t0}


def prf(c: Counter) -> tuple[float, float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--verbose", "-v", action="store_true")
    a = ap.parse_args(argv)
    if not a.file.is_file():
        print(f"detect_eval: no such file: {a.file}", file=sys.stderr)
        return 2
    rows = load(a.file)
    res = run(rows, a.verbose)
    total = sum(res["per_cat"].values(), Counter())
    p, r, f = prf(total)
    npos = sum(1 for d in rows if d["labels"])
    print(f"{a.file}: {len(rows)} passages ({npos} with claims, {len(rows) - npos} hard negatives), "
          f"{res['secs']:.2f}s full path (extract + detect)")
    print(f"overall  precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}  (tp {total['tp']} fp {total['fp']} fn {total['fn']})")
    print(f"\n{'category':22} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'rec':>6} {'F1':>6}")
    for c in CATEGORY_IDS:
        k = res["per_cat"][c]
        cp, cr, cf = prf(k)
        print(f"{c:22} {k['tp']:>4} {k['fp']:>4} {k['fn']:>4} {cp:>6.2f} {cr:>6.2f} {cf:>6.2f}")
    if res["errors"]:
        print("\nextract errors:")
        for i, e in res["errors"]:
            print(f"  {i}: {e}")
    print(f"\nfalse positives ({len(res['fps'])}):")
    for i, c, fs, text in res["fps"]:
        print(f"  {i} {c}: {fs[0].rule} match={fs[0].match!r} excerpt={fs[0].excerpt[:90]!r}")
    print(f"false negatives ({len(res['fns'])}):")
    for i, c, text in res["fns"]:
        print(f"  {i} {c}: {text[:110]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
