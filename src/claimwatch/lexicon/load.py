"""Load and validate the lexicon YAML files shipped in this package.

The lexicon is data: a reviewer adds a term by editing a YAML file (schema in docs/detector.md).
Loading does no normalisation; the detector folds Traditional / full-width / upper-case forms
when it compiles the lexicon.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

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


def lexicon_files() -> list[tuple[str, bytes]]:
    """(file name, contents) of the packaged YAML files, by name."""
    root = resources.files(__package__)
    return [(e.name, e.read_bytes()) for e in sorted(root.iterdir(), key=lambda p: p.name) if e.name.endswith(".yaml")]


def _parse_yaml(files: list[tuple[str, bytes]]) -> Iterator:
    """The documents one by one (so a validation error in an earlier file is reported first)."""
    # Imported here: a process that finds the parsed documents in a cache never needs the YAML parser.
    import yaml

    # libyaml's safe loader parses the same documents ~10x faster than the pure-Python one (start-up).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for name, raw in files:
        try:
            doc = yaml.load(raw.decode("utf-8"), Loader=loader)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{name}: invalid YAML: {exc}".splitlines()[0]) from None
        yield doc


def _files_digest(files: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256(b"lexicon json\n")
    for name, raw in files:
        h.update(f"{name} {len(raw)}\n".encode("utf-8", "surrogatepass"))
        h.update(raw)
    return h.hexdigest()


def _documents(files: list[tuple[str, bytes]], cache: Callable[[str, Callable[[], bytes]], bytes] | None,
               digest: str | None = None) -> Iterable:
    """The parsed YAML of `files`; with `cache`, as JSON made (or found) under their `digest`
    (`_files_digest(files)`, computed here if not given)."""
    if cache is None:
        return _parse_yaml(files)

    def make() -> bytes:
        docs = list(_parse_yaml(files))
        # Empty: these documents have values JSON cannot carry exactly (dates, non-string keys).
        try:
            blob = json.dumps(docs, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError):
            return b""
        return blob if json.loads(blob) == docs else b""

    blob = cache("lexicon-documents-" + (digest or _files_digest(files)), make)
    return json.loads(blob) if blob else _parse_yaml(files)


def _build(files: list[tuple[str, bytes]], docs: Iterable) -> Lexicon:
    categories: dict[str, Category] = {}
    cues = None
    for (name, _), doc in zip(files, docs):
        if name == "cues.yaml":
            cues = parse_cues(doc, name)
            continue
        cat = parse_category(doc, name)
        if cat.id in categories:
            raise LexiconError(f"{name}: category {cat.id} defined twice")
        categories[cat.id] = cat
    missing = set(CATEGORY_IDS) - set(categories)
    if missing:
        raise LexiconError(f"lexicon: missing categories {sorted(missing)}")
    if cues is None:
        raise LexiconError("lexicon: cues.yaml missing")
    return Lexicon({cid: categories[cid] for cid in CATEGORY_IDS}, cues)


_lock = threading.Lock()
_lexicon: Lexicon | None = None
_digest: str | None = None  # of the files _lexicon was loaded from


def load_lexicon(cache: Callable[[str, Callable[[], bytes]], bytes] | None = None) -> Lexicon:
    """The packaged lexicon (read once per process; the result is immutable).

    `cache(key, make) -> bytes` (the detector passes `hsdb.made_bytes`) may hand in the parsed
    documents of an earlier process, as JSON keyed by a hash of the files' bytes: parsing the YAML
    is most of the loading time. The result is the same either way; validation always runs.
    Only the first call's `cache` matters.
    """
    global _lexicon, _digest
    if _lexicon is None:
        with _lock:
            if _lexicon is None:
                files = lexicon_files()
                _digest = _files_digest(files)
                _lexicon = _build(files, _documents(files, cache, _digest))
    return _lexicon


def lexicon_key(lex: Lexicon) -> str | None:
    """A hash of the files `lex` was loaded from, if it is the packaged lexicon as load_lexicon()
    returns it; None for any other Lexicon (one a caller built or changed), which has no key.

    For keys of what is made from the lexicon (hsdb.made_bytes): hashing the files costs nothing
    extra, hashing the parsed objects would."""
    return _digest if lex is _lexicon and _lexicon is not None else None
