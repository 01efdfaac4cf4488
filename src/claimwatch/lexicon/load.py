"""Load and validate the lexicon YAML files shipped in this package.

The lexicon is data: a reviewer adds a term by editing a YAML file (schema in docs/detector.md).
Loading does no normalisation; the detector folds Traditional / full-width / upper-case forms
when it compiles the lexicon.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

# libyaml's safe loader parses the same documents ~10x faster than the pure-Python one (start-up).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CATEGORY_IDS: tuple[str, ...] = (
    "ethnicity",
    "race",
    "religion",
    "political",
    "trade_union",
    "sexual_orientation",
    "emotion",
    "social_scoring",
    "predictive_policing",
    "face_scraping",
    "remote_biometric_id",
)
MODES = ("attribute", "scoring", "predictive", "scraping", "rbi")
STRENGTHS = ("strong", "weak")
CUE_GROUPS = (
    "capability_strong", "capability_weak", "subject", "device", "biometric", "denial", "denial_after", "report",
    "self_declared",
    "penalty", "behaviour", "police", "profiling", "scrape_face", "scrape_source", "realtime",
    "public_space", "rbi_match", "code",
)
_TERM_KEYS = {"term", "gloss", "strength", "not_after", "not_before"}
_CATEGORY_KEYS = {"category", "label", "eu_ai_act", "mode", "terms", "masks", "negatives", "hard_negatives", "values"}


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as written in the YAML (Simplified Chinese or English)
    gloss: str
    strength: str  # "strong" | "weak"
    not_after: tuple[str, ...] = ()  # the term does not count when directly preceded by one of these
    not_before: tuple[str, ...] = ()  # ... or directly followed by one of these


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    label: str
    eu_ai_act: str
    mode: str
    terms: tuple[Term, ...]
    masks: tuple[str, ...]  # phrases inside which a term hit is not this category's term
    negatives: tuple[str, ...]  # topic words: silence a unit unless a biometric cue is present
    hard_negatives: tuple[str, ...]  # silence a unit always
    values: tuple[str, ...]  # attribute values (e.g. yellow/white/black) that support a weak term


@dataclass(frozen=True, slots=True)
class Lexicon:
    categories: dict[str, Category]
    cues: dict[str, tuple[str, ...]]


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise LexiconError(f"{where}: expected a list of non-empty strings")
    return tuple(str(v) for v in value)


def _check_mapping(raw, allowed: frozenset | set, where: str, shape: str) -> None:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: {shape}")
    unknown = set(raw) - allowed
    if unknown:
        raise LexiconError(f"{where}: unknown key(s) {sorted(unknown)}")


def _term(raw, where: str) -> Term:
    _check_mapping(raw, _TERM_KEYS, where, "a term must be a mapping with term/gloss/strength")
    text = str(raw.get("term", "")).strip()
    gloss = str(raw.get("gloss", "")).strip()
    strength = raw.get("strength")
    if not text:
        raise LexiconError(f"{where}: empty term")
    if not gloss:
        raise LexiconError(f"{where}: term {text!r} has no English gloss")
    if strength not in STRENGTHS:
        raise LexiconError(f"{where}: term {text!r} strength must be one of {STRENGTHS}")
    return Term(text, gloss, strength, _strings(raw.get("not_after"), f"{where} {text} not_after"),
                _strings(raw.get("not_before"), f"{where} {text} not_before"))


def parse_category(doc, where: str) -> Category:
    _check_mapping(doc, _CATEGORY_KEYS, where, "top level must be a mapping")
    cid = doc.get("category")
    if cid not in CATEGORY_IDS:
        raise LexiconError(f"{where}: category must be one of {CATEGORY_IDS}, got {cid!r}")
    mode = doc.get("mode", "attribute")
    if mode not in MODES:
        raise LexiconError(f"{where}: mode must be one of {MODES}")
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms:
        raise LexiconError(f"{where}: needs a non-empty terms list")
    parsed = tuple(_term(t, f"{where} terms[{i}]") for i, t in enumerate(terms))
    seen: set[str] = set()
    for t in parsed:
        if t.text.lower() in seen:
            raise LexiconError(f"{where}: term {t.text!r} listed twice")
        seen.add(t.text.lower())
    return Category(
        id=cid,
        label=str(doc.get("label", cid)),
        eu_ai_act=str(doc.get("eu_ai_act", "")),
        mode=mode,
        terms=parsed,
        masks=_strings(doc.get("masks"), f"{where} masks"),
        negatives=_strings(doc.get("negatives"), f"{where} negatives"),
        hard_negatives=_strings(doc.get("hard_negatives"), f"{where} hard_negatives"),
        values=_strings(doc.get("values"), f"{where} values"),
    )


def parse_cues(doc, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("cues"), dict):
        raise LexiconError(f"{where}: expected a top-level 'cues' mapping")
    cues = doc["cues"]
    unknown = set(cues) - set(CUE_GROUPS)
    missing = set(CUE_GROUPS) - set(cues)
    if unknown or missing:
        raise LexiconError(f"{where}: unknown cue groups {sorted(unknown)}, missing {sorted(missing)}")
    return {name: _strings(cues[name], f"{where} {name}") for name in CUE_GROUPS}


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The packaged lexicon (read once per process; the result is immutable)."""
    root = resources.files(__package__)
    categories: dict[str, Category] = {}
    cues = None
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            doc = yaml.load(entry.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{entry.name}: invalid YAML: {exc}".splitlines()[0]) from None
        if entry.name == "cues.yaml":
            cues = parse_cues(doc, entry.name)
            continue
        cat = parse_category(doc, entry.name)
        if cat.id in categories:
            raise LexiconError(f"{entry.name}: category {cat.id} defined twice")
        categories[cat.id] = cat
    missing = set(CATEGORY_IDS) - set(categories)
    if missing:
        raise LexiconError(f"lexicon: missing categories {sorted(missing)}")
    if cues is None:
        raise LexiconError("lexicon: cues.yaml missing")
    return Lexicon({cid: categories[cid] for cid in CATEGORY_IDS}, cues)
