"""The matcher's, the gate's and the prefilter's derived tables travel through hsdb.made_bytes (the
scanner's disk cache): from the cache they must equal freshly derived ones, and their keys must
follow every input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from claimwatch.detect import gate as gate_mod
from claimwatch.detect import prefilter as prefilter_mod
from claimwatch.detect.matcher import Entry, Matcher, _entries, _entries_from_rows, matcher
from claimwatch.lexicon import Lexicon, load_lexicon
from claimwatch.lexicon.load import lexicon_key

# A digest of everything the gate and the matcher derive, printed by a fresh process.
PROBE = r"""
import hashlib, json, sys
from claimwatch.scan import hscache
hscache.warm_up(export=False)
sys.path.insert(0, sys.argv[1])
from test_startup_cache import digests
from claimwatch.detect.prefilter import _get
from claimwatch.detect.matcher import matcher
pf = _get()
print(json.dumps(digests(matcher(), pf.gate, (pf.keys, pf.literals, pf._key_of, pf.wide_literals))))
"""


def digests(m: Matcher, g: gate_mod.Gate, prefilter_tables: tuple) -> dict[str, str]:
    def h(value) -> str:
        return hashlib.sha256(repr(value).encode("utf-8", "surrogatepass")).hexdigest()

    return {
        "matcher": h((m.entries, m._patterns, m._fanout, m._terms_db._ids, m._terms_db._fixed, m._all_db._ids,
                      m._all_db._fixed)),
        "gate": h((g.modes, g.words, g._entries, g._role, g._word_bytes, g._by_word, g.literals, g._lit_start,
                   g._lit_words, g._lit_open, sorted(g._short_cats), len(g._short_dbs))),
        "prefilter": h(prefilter_tables),
    }


def _unkeyed_copy(lex: Lexicon) -> Lexicon:
    return Lexicon(dict(lex.categories), dict(lex.cues))


def test_tables_from_the_cache_equal_freshly_derived_ones(tmp_path):
    env = {**os.environ, "CLAIMWATCH_CACHE_DIR": str(tmp_path / "cache")}
    here = os.path.dirname(__file__)
    runs = [json.loads(subprocess.run([sys.executable, "-c", PROBE, here], env=env, capture_output=True, text=True,
                                      timeout=300, check=True).stdout) for _ in range(2)]  # fills, then loads
    names = {p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in (tmp_path / "cache").iterdir()}
    assert {"matcher-tables", "gate-tables", "prefilter-tables"} <= names
    # a lexicon without a key (a copy) is always derived, never cached
    lex = _unkeyed_copy(load_lexicon())
    m = Matcher(lex)
    fresh = digests(m, gate_mod.Gate(m, lex), prefilter_mod._tables(m))
    assert runs[0] == runs[1] == fresh


def test_only_the_packaged_lexicon_has_a_key():
    lex = load_lexicon()
    copy = _unkeyed_copy(lex)
    assert copy == lex and lexicon_key(lex) and lexicon_key(copy) is None
    assert matcher().key and Matcher(copy).key is None
    assert gate_mod._tables_key(matcher(), lex)
    assert gate_mod._tables_key(matcher(), copy) is None
    assert gate_mod._tables_key(Matcher(copy), lex) is None


def test_gate_key_follows_its_settings(monkeypatch):
    m, lex = matcher(), load_lexicon()
    base = gate_mod._tables_key(m, lex)
    changed = {
        "MIN_BOUNDED": gate_mod.MIN_BOUNDED + 1,
        "_TRAIL_MIN": 0x100,
        "_ESCAPE_LEAD": frozenset(),
        "CUE_GROUPS": gate_mod.CUE_GROUPS - {"subject"},
        "SPACES": gate_mod.SPACES[1:],
        "SEPARATORS": gate_mod.SEPARATORS[1:],
        "_EXTRA_SPACE": gate_mod._EXTRA_SPACE[1:],
        "_FORM_GROUPS": gate_mod._FORM_GROUPS[1:],
        "MAX_COMBINATIONS": gate_mod.MAX_COMBINATIONS // 2,
        "ENCODINGS": gate_mod.ENCODINGS[1:],
    }
    keys = set()
    for name, value in changed.items():
        with monkeypatch.context() as mp:
            mp.setattr(gate_mod, name, value)
            keys.add(gate_mod._tables_key(m, lex))
    assert base not in keys and len(keys) == len(changed)
    assert gate_mod._tables_key(m, lex) == base


def test_prefilter_key_follows_its_settings(monkeypatch):
    m = matcher()
    base = prefilter_mod._tables_key(m)
    changed = {"MAX_COMBINATIONS": prefilter_mod.MAX_COMBINATIONS // 2, "_ENCODINGS": prefilter_mod._ENCODINGS[1:],
               "_ESCAPES": prefilter_mod._ESCAPES[1:], "BOMS": prefilter_mod.BOMS[1:]}
    keys = set()
    for name, value in changed.items():
        with monkeypatch.context() as mp:
            mp.setattr(prefilter_mod, name, value)
            keys.add(prefilter_mod._tables_key(m))
    assert base is not None and base not in keys and len(keys) == len(changed)
    assert prefilter_mod._tables_key(Matcher(_unkeyed_copy(load_lexicon()))) is None  # always derived


def test_entries_rebuilt_from_rows_equal_the_dataclass_ones():
    made = _entries(load_lexicon())
    rows = [tuple(getattr(e, name) for name in Entry.__slots__) for e in made]
    rebuilt = _entries_from_rows(rows)
    assert rebuilt == made and [hash(e) for e in rebuilt] == [hash(e) for e in made]
    assert all(type(e) is Entry for e in rebuilt)
