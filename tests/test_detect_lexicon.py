"""The lexicon as data: loading, validation, and adding a term by editing YAML only."""

from __future__ import annotations

import pytest
import yaml

from claimwatch.detect.matcher import Matcher
from claimwatch.lexicon import CATEGORY_IDS, Lexicon, LexiconError, load_lexicon
from claimwatch.lexicon.load import parse_category, parse_cues


def test_all_categories_present_with_glossed_terms():
    lex = load_lexicon()
    assert tuple(lex.categories) == CATEGORY_IDS
    for cat in lex.categories.values():
        assert cat.terms
        assert any(t.strength == "strong" for t in cat.terms) or cat.mode != "attribute"
        for t in cat.terms:
            assert t.gloss and t.strength in ("strong", "weak")
        # both languages are represented
        assert any(not t.text.isascii() for t in cat.terms), cat.id
        assert any(t.text.isascii() for t in cat.terms), cat.id


def test_lexicon_is_simplified_only():
    """Traditional forms are folded by normalisation; listing them would only duplicate terms."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    for cat in load_lexicon().categories.values():
        for t in cat.terms:
            assert t2s.convert(t.text) == t.text, (cat.id, t.text)


@pytest.mark.parametrize("bad,msg", [
    ({"category": "nope", "terms": [{"term": "x", "gloss": "x", "strength": "weak"}]}, "category must be"),
    ({"category": "race", "terms": []}, "non-empty terms"),
    ({"category": "race", "terms": [{"term": "x", "strength": "weak"}]}, "no English gloss"),
    ({"category": "race", "terms": [{"term": "x", "gloss": "g", "strength": "medium"}]}, "strength"),
    ({"category": "race", "terms": [{"term": "x", "gloss": "g", "strength": "weak", "colour": 1}]}, "unknown key"),
    ({"category": "race", "mode": "magic", "terms": [{"term": "x", "gloss": "g", "strength": "weak"}]}, "mode"),
])
def test_validation_errors_name_the_problem(bad, msg):
    with pytest.raises(LexiconError, match=msg):
        parse_category(bad, "test.yaml")


def test_cue_groups_validated():
    with pytest.raises(LexiconError, match="missing"):
        parse_cues({"cues": {"subject": ["face"]}}, "cues.yaml")


def test_adding_a_term_by_yaml_only():
    """A reviewer's YAML edit (new term) is picked up by the compiler without code changes."""
    lex = load_lexicon()
    doc = yaml.safe_load("""
category: ethnicity
mode: attribute
terms:
  - {term: 东乡族, gloss: Dongxiang ethnic group, strength: strong}
""")
    extra = parse_category(doc, "test.yaml")
    cat = lex.categories["ethnicity"]
    merged = type(cat)(**{**{f: getattr(cat, f) for f in cat.__slots__}, "terms": cat.terms + extra.terms})
    m = Matcher(Lexicon({**lex.categories, "ethnicity": merged}, lex.cues))
    from claimwatch.detect.normalize import normalize

    hits = m.scan(normalize("平台可识别東鄉族人员"))
    assert any(h.entry.kind == "term" and h.entry.text == "东乡族" and h.start == 5 for h in hits)
