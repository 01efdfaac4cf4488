"""The scanner's cache of compiled Hyperscan databases: faster start-up, never different results."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

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
        data[-10] ^= 0xFF  # one flipped byte: the entry's CRC-32 no longer matches
        path.write_bytes(bytes(data))
    assert hscache.load(cache) == {}
    assert _run(cache) == reference  # recompiled, same results
    assert sorted(hscache.load(cache)) == reference["keys"]  # and written again


def test_torn_and_old_layout_entries_are_ignored(tmp_path):
    cache = tmp_path / "cache"
    hscache.save({"a": b"x" * 100, "b": b"y" * 100, "c": b"z" * 100}, cache)
    assert sorted(hscache.load(cache)) == ["a", "b", "c"]
    prefix = hscache.code_fingerprint()
    torn = cache / f"{prefix}-a.hsdb"
    torn.write_bytes(torn.read_bytes()[:-1])
    old = cache / f"{prefix}-b.hsdb"  # the layout before the CRC: SHA-256 hex, then the blob
    old.write_bytes(hashlib.sha256(b"y" * 100).hexdigest().encode() + b"y" * 100)
    assert hscache.load(cache) == {"c": b"z" * 100}
    hscache.save({"a": b"x" * 100}, cache)  # an existing name is left alone...
    assert "a" not in hscache.load(cache)
    hscache.save({"a": b"x" * 100}, cache, replace=True)  # ...unless replaced
    assert hscache.load(cache)["a"] == b"x" * 100


def test_unwritable_cache_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    hscache.save({"k": b"blob"}, blocker / "cache")  # silently skipped
    assert hscache.load(blocker / "cache") == {}


def test_entries_of_another_code_version_are_not_used_and_old_ones_are_pruned(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    foreign_old = cache / "000000000000-k.hsdb"
    foreign_new = cache / "111111111111-k.hsdb"
    for path in (foreign_old, foreign_new):
        path.write_bytes(hscache._header(b"blob") + b"blob")  # intact, but another version's
    month_ago = time.time() - hscache.STALE_AFTER - 60
    os.utime(foreign_old, (month_ago, month_ago))
    assert hscache.load(cache) == {}  # written by other code: never read
    hscache.save({"k": b"blob"}, cache)
    assert hscache.load(cache) == {"k": b"blob"}
    assert not foreign_old.exists()  # stale: removed
    assert foreign_new.exists()  # maybe another installed version's: kept


def test_prefilter_literal_list_from_the_cache_equals_a_fresh_one(tmp_path):
    probe = (
        "import json\n"
        "from claimwatch.scan import hscache\n"
        "hscache.warm_up()\n"
        "from claimwatch.detect.prefilter import _get\n"
        "p = _get()\n"
        "print(json.dumps([len(p.literals), [x.hex() for x in p.literals[::97]], p._key_of[::89]]))\n"
    )
    env = {**os.environ, "CLAIMWATCH_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                           timeout=120, check=True).stdout for _ in range(2)]
    assert any(name.name.split("-", 1)[1].startswith("prefilter-tables-") for name in (tmp_path / "cache").iterdir())
    assert runs[0] == runs[1] and json.loads(runs[0])[0] > 1000
