"""Quality gate: the full path (write file in its encoding -> extract -> detect) on labelled passages."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SHARED_DEV = ROOT.parent / "shared" / "eval" / "claims-dev.jsonl"


def _bench():
    spec = importlib.util.spec_from_file_location("detect_eval", ROOT / "bench" / "detect_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["detect_heldout.jsonl", "detect_heldout2.jsonl", "detect_heldout3.jsonl",
                                  "detect_heldout4.jsonl", "detect_heldout5.jsonl",
                                  "detect_heldout6.jsonl", "detect_heldout7.jsonl",
                                  "detect_heldout8.jsonl", "detect_heldout9.jsonl",
                                  "detect_heldout10.jsonl"])
def test_heldout_precision_and_recall(name):
    bench = _bench()
    rows = bench.load(DATA / name)
    assert len(rows) >= 20
    res = bench.run(rows, verbose=False)
    p, r, _ = bench.prf(sum(res["per_cat"].values(), Counter()))
    assert not res["errors"]
    assert p >= 0.95 and r >= 0.95, (p, r, res["fps"], res["fns"])


def test_heldout_covers_every_category_language_and_form():
    bench = _bench()
    rows = [r for n in ("", "2", "3", "4", "5", "6", "7", "8", "9", "10") for r in bench.load(DATA / f"detect_heldout{n}.jsonl")]
    labelled = {c for d in rows for c in d["labels"]}
    assert labelled == set(bench.CATEGORY_IDS)
    assert {d["fmt"] for d in rows} == {"txt", "html", "h", "json"}
    assert {d["enc"] for d in rows} == {"utf-8", "gbk", "big5"}
    assert sum(1 for d in rows if not d["labels"]) >= 60


@pytest.mark.skipif(not SHARED_DEV.is_file(), reason="shared dev set not present")
def test_shared_dev_set():
    bench = _bench()
    res = bench.run(bench.load(SHARED_DEV), verbose=False)
    p, r, _ = bench.prf(sum(res["per_cat"].values(), Counter()))
    assert p >= 0.95 and r >= 0.95, (p, r, res["fps"], res["fns"])


def test_cli_prints_table_and_exits_zero(capsys):
    bench = _bench()
    assert bench.main([str(DATA / "detect_heldout.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "remote_biometric_id" in out and "false negatives" in out
    assert bench.main([str(DATA / "missing.jsonl")]) == 2
