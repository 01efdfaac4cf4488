"""The scanner's cache of compiled Hyperscan databases: faster start-up, never different results."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from claimwatch.scan import hscache

PROBE = r"""
import json, sys
from claimwatch.detect import detect, hsdb
from claimwatch.detect.prefilter import may_contain_claim
from claimwatch.scan import hscache
hscache.warm_up()
text = sys.argv[1]
print(json.dumps({
    "findings": [f.to_record("t") for f in detect(text)],
    "prefilter": [may_contain_claim(text.encode(enc)) for enc in ("utf-8", "gb18030")]
                 + [may_contain_claim(sys.argv[2].encode("big5"))],
    "keys": sorted(hsdb.export_compiled()),
}, ensure_ascii=False))
"""
TEXT = "人脸属性结构化：支持民族属性识别（维族、汉族），准确率不低于90%。"
TEXT_TRADITIONAL = "臉部屬性結構化：支援民族屬性識別（維族、漢族）。"


def _run(cache_dir) -> dict:
    env_cmd = [sys.executable, "-c", PROBE, TEXT, TEXT_TRADITIONAL]

    env = {**os.environ, "CLAIMWATCH_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(env_cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_cache_is_written_then_used_with_identical_results(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(cache)  # compiles and writes the cache
    files = sorted(p.name for p in cache.glob("*.hsdb"))
    assert files and len(files) == len(cold["keys"])
    assert cold["findings"] and all(cold["prefilter"])
    warm = _run(cache)  # loads from the cache
    assert warm == cold
    assert sorted(hscache.load(cache)) == cold["keys"]


def test_damaged_cache_entries_are_ignored(tmp_path):
    cache = tmp_path / "cache"
    reference = _run(cache)
    for path in cache.glob("*.hsdb"):
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF  # one flipped byte: the entry's SHA-256 no longer matches
        path.write_bytes(bytes(data))
    assert hscache.load(cache) == {}
    assert _run(cache) == reference  # recompiled, same results


def test_unwritable_cache_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    hscache.save({"k": b"blob"}, blocker / "cache")  # silently skipped
    assert hscache.load(blocker / "cache") == {}
