"""detect(): robustness, determinism and purity."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import time

import pytest

from claimwatch.detect import detect
from claimwatch.detect.finding import Finding
from support_detect import check_offsets

CLAIM = "平台识别维族人员后推送告警。The appliance classifies each face as Uyghur and raises an alert."


def test_empty_and_whitespace():
    assert detect("") == []
    assert detect(" \n\t ") == []


def test_rejects_non_str():
    import pytest

    with pytest.raises(TypeError):
        detect(b"bytes")  # type: ignore[arg-type]


def test_five_megabytes_without_hits_is_fast():
    detect("warm up")
    text = ("The quick brown fox jumps over the lazy dog. 今天天气很好，我们去公园散步。\n" * 80000)[: 5_000_000]
    t = time.perf_counter()
    assert detect(text) == []
    assert time.perf_counter() - t < 3.0


def test_binary_garbage_and_lone_surrogates():
    rng = random.Random(7)
    garbage = "".join(chr(rng.randrange(0, 0x110000)) for _ in range(50000))
    found = detect(garbage)  # must not raise; surrogates included
    check_offsets(garbage, found)
    text = "\ud800平台识别维族人员后推送告警\udfff"
    found = detect(text)
    assert [f.category for f in found] == ["ethnicity"]
    check_offsets(text, found)
    assert detect("\x00\x01\x02" * 1000) == []


def test_deterministic_and_no_state_between_calls():
    first = detect(CLAIM)
    for _ in range(3):
        detect("别的文本：民族风披肩")
        assert detect(CLAIM) == first


def test_findings_are_immutable_and_picklable():
    found = detect(CLAIM)
    assert found
    assert pickle.loads(pickle.dumps(found)) == found
    import dataclasses
    import pytest

    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].score = 0.0  # type: ignore[misc]


def test_same_result_in_a_fresh_process_without_network_or_cwd(tmp_path):
    """detect() needs nothing but its package: no network, no files in the working directory, no
    environment; the result in a fresh interpreter equals the in-process result."""
    code = (
        "import json, socket, builtins\n"
        "def _no(*a, **k): raise RuntimeError('I/O attempted')\n"
        "socket.socket = _no\n"
        "from claimwatch.detect import detect\n"
        "from claimwatch.detect.matcher import matcher\n"
        "matcher()\n"  # the lexicon is read from the package when compiled, before I/O is forbidden
        "builtins.open = _no\n"
        f"print(json.dumps([f.to_record('d') for f in detect({CLAIM!r})], ensure_ascii=False))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [f.to_record("d") for f in detect(CLAIM)]


def test_module_state_is_unchanged_by_calls():
    import claimwatch.detect.matcher as m
    import claimwatch.detect.normalize as n

    detect(CLAIM)
    before = (id(m._matcher), id(n._table), len(m._matcher.entries))
    for _ in range(5):
        detect(CLAIM + " 民族风")
    assert (id(m._matcher), id(n._table), len(m._matcher.entries)) == before
    with pytest.raises(TypeError):
        n.norm_table()[0x41] = 0x42  # read-only
    assert isinstance(n._translation, tuple)


def test_finding_type():
    assert all(isinstance(f, Finding) for f in detect(CLAIM))


def test_dense_claims_on_one_huge_line_stay_bounded():
    text = ("平台识别维族人员后推送告警，" + "本段为设备参数介绍" * 30) * 3000  # ~2.5 MB, no sentence end
    t = time.perf_counter()
    found = detect(text)
    assert time.perf_counter() - t < 20
    assert len(found) >= 1000
    assert max(len(f.excerpt) for f in found) <= 1200
    check_offsets(text, found[:50])
    starts = [f.start for f in found]
    assert starts == sorted(starts)
