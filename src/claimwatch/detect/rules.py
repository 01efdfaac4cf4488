"""Second stage: decide, per excerpt unit and category, whether the unit makes a claim.

A unit is the sentence / list item / table row / source line around a term hit.  The decision uses
only the lexicon hits inside the unit (terms, cues, masks, negatives) plus a little syntax (source-code
enum members and field definitions).  See docs/detector.md for the rule table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from claimwatch.detect.matcher import CUE, HARD_NEG, MASK, NEG, TERM, VALUE, Hit
from claimwatch.lexicon import load_lexicon

# An enum member / #define with a trailing comment:  EM_RACE_YELLOW,  // 黄种人
_ENUM_LINE = re.compile(r"^\s*(#define\s+)?[a-z_][a-z0-9_]*\s*(=\s*[^,;/]+?)?\s*,?\s*(//|/\*|#|--)")
# A field definition: is_minority: ..., "ethnicity": ..., face.race = ...
_FIELD = re.compile(r"^\s*[-*•]?\s*([\"'`][a-z_][\w.]*[\"'`]|[a-z][a-z0-9]*[_.][\w.]*)\s*[:=(（]")
_PLAIN_FIELD = re.compile(r"^\s*[-*•]?\s*[a-z][a-z0-9]*\s*[:=]")
_COMMENT = re.compile(r"(^|[^:/])//|/\*")
_ITEM = re.compile(r"\s*(?:[-*•·]|\d{1,3}[.)、])\s*\S")
_ALARM = {"报警", "告警", "预警", "警情", "比中", "alarm", "alert", "warning", "watchlist"}
DENIAL_REACH = 40  # characters between a denial and the term / capability it negates
DENIAL_AFTER_REACH = 20  # ... between the term / capability and a denial written after it


@dataclass(slots=True)
class UnitContext:
    norm: str  # normalised text of the unit
    offset: int = 0  # where the unit starts in the whole text (hit offsets are global)
    cues: dict[str, list[Hit]] = field(default_factory=dict)
    terms: dict[str, list[Hit]] = field(default_factory=dict)
    header_terms: dict[str, list[Hit]] = field(default_factory=dict)  # from lead-ins / parent lines
    coded: dict[str, int] = field(default_factory=dict)  # terms written as coded values "2-维吾尔族"
    para_cues: set[str] = field(default_factory=set)  # cue groups elsewhere in the unit's paragraph
    para_terms: dict[str, set[str]] = field(default_factory=dict)  # category -> term texts there
    values: dict[str, set[str]] = field(default_factory=dict)
    own_values: set[str] = field(default_factory=set)  # categories with a value in the unit itself
    negatives: set[str] = field(default_factory=set)  # categories with a topic negative
    hard_negatives: set[str] = field(default_factory=set)
    container: bool = False  # the unit is a container-key line (`"race_labels": [`)
    child_terms: dict[str, set[int]] = field(default_factory=dict)  # its children: term indices ...
    child_values: dict[str, set[str]] = field(default_factory=dict)  # ... and attribute values
    key_cats: set[str] = field(default_factory=set)  # categories named by a parent container key

    def has(self, group: str) -> bool:
        return bool(self.cues.get(group))

    def cue_texts(self, group: str) -> set[str]:
        return {h.entry.text for h in self.cues.get(group, ())}


# A list of one-character items right after a term, in parentheses or after a colon:
# "肤色（黄、白、黑）", "肤色：黄/白/黑", "skin colour (Y, W, B)".
_SHORT_LIST = re.compile(r"\s*[(:]\s*([^\W\d_])((?:\s*[、/,|]\s*[^\W\d_])+)\s*(?=[)、/,|。;.\s]|$)")
_INITIALS: dict[str, frozenset[str]] = {}


def _initials(cat: str) -> frozenset[str]:
    """First characters of the category's attribute values (黄色 -> 黄, yellow -> y)."""
    got = _INITIALS.get(cat)
    if got is None:
        got = _INITIALS[cat] = frozenset(v[0] for v in load_lexicon().categories[cat].values if v)
    return got


def _short_values(norm_unit: str, offset: int, h: Hit) -> set[str]:
    """Abbreviated values listed right after a weak term: each item one character, each the initial
    of one of the category's values, so "肤色（黄、白、黑）" is a value list and "肤色（浅）" is not."""
    m = _SHORT_LIST.match(norm_unit, h.end - offset)
    if not m:
        return set()
    items = {m.group(1), *re.findall(r"[^\W\d_]", m.group(2))}
    initials = _initials(h.entry.group)
    if len(items) < 2 or not items <= initials:
        return set()
    return {f"{i}." for i in items}


_CODE_BEFORE = re.compile(r"(?:^|[\s,;，；(（/|])\d{1,3}\s*[-=:：.、)）]\s*$")


def build_context(norm_unit: str, offset: int, hits: list[Hit], header_hits: list[Hit] = (),
                  para_hits: list[Hit] = (), child_hits: list[Hit] | None = None,
                  key_spans: list[tuple[int, int]] = (), label_hits: list[Hit] = ()) -> UnitContext:
    """Group the hits of one unit (and of its header spans); drop terms and cues inside a mask phrase.

    `para_hits` (the rest of the unit's paragraph) only contribute cue group names, used by the
    scoring rules whose evidence is often spread over two sentences.  `child_hits` (not None when
    the unit is a container-key line) are the block it introduces: its terms and values make the
    value list.  `key_spans` are header lines that are container keys: a term there names the
    attribute whose values the unit lists.  `label_hits` come from the table / definition-list cells
    around a cell-like unit: their terms and values join the value list, and their cues count only
    when the unit is a value line itself (a strong term, or a value list with the cells)."""
    ctx = UnitContext(norm_unit, offset, container=child_hits is not None)
    child_masks = [(h.start, h.end) for h in child_hits or () if h.entry.kind == MASK]
    for h in child_hits or ():
        if any(s <= h.start and h.end <= e for s, e in child_masks):
            continue
        if h.entry.kind == TERM:
            ctx.child_terms.setdefault(h.entry.group, set()).add(h.entry.term_index)
        elif h.entry.kind == VALUE:
            ctx.child_values.setdefault(h.entry.group, set()).add(h.entry.text)
    para_masks = [(h.start, h.end) for h in para_hits if h.entry.kind == MASK]
    for h in para_hits:
        if h.entry.kind in (CUE, TERM) and not any(s <= h.start and h.end <= e for s, e in para_masks):
            if h.entry.kind == CUE:
                ctx.para_cues.add(h.entry.group)
            else:
                ctx.para_terms.setdefault(h.entry.group, set()).add(h.entry.text)
    masks = [(h.start, h.end, h.entry.group) for h in (*hits, *header_hits, *label_hits) if h.entry.kind == MASK]

    def masked(h: Hit, only: str | None) -> bool:
        return any(s <= h.start and h.end <= e and (only is None or g == only) for s, e, g in masks)

    for h in header_hits:
        if h.entry.kind == TERM:
            if not masked(h, h.entry.group):
                ctx.header_terms.setdefault(h.entry.group, []).append(h)
                if any(s <= h.start and h.end <= e for s, e in key_spans):
                    ctx.key_cats.add(h.entry.group)
    n_unit = len(hits)
    for i, h in enumerate((*hits, *header_hits)):
        k = h.entry.kind
        if k == TERM:
            if i >= n_unit:  # header terms only count towards value lists (above)
                continue
            if not masked(h, h.entry.group):
                ctx.terms.setdefault(h.entry.group, []).append(h)
                if not h.entry.strong and (short := _short_values(norm_unit, offset, h)):
                    ctx.values.setdefault(h.entry.group, set()).update(short)
                    ctx.own_values.add(h.entry.group)
                if _CODE_BEFORE.search(norm_unit, 0, h.start - offset):
                    ctx.coded[h.entry.group] = ctx.coded.get(h.entry.group, 0) + 1
        elif k == CUE:
            if not masked(h, None):
                ctx.cues.setdefault(h.entry.group, []).append(h)
        elif k == VALUE:
            if not masked(h, None):
                ctx.values.setdefault(h.entry.group, set()).add(h.entry.text)
                if i < n_unit:
                    ctx.own_values.add(h.entry.group)
        elif k == NEG:
            ctx.negatives.add(h.entry.group)
        elif k == HARD_NEG:
            ctx.hard_negatives.add(h.entry.group)
    if label_hits:
        _add_labels(ctx, label_hits, masked)
    return ctx


def _add_labels(ctx: UnitContext, label_hits: list[Hit], masked) -> None:
    label_terms: dict[str, set[int]] = {}
    label_values: dict[str, set[str]] = {}
    for h in label_hits:
        if h.entry.kind == TERM and not masked(h, h.entry.group):
            label_terms.setdefault(h.entry.group, set()).add(h.entry.term_index)
        elif h.entry.kind == VALUE and not masked(h, None):
            label_values.setdefault(h.entry.group, set()).add(h.entry.text)
    value_line = False
    for cat, hs in ctx.terms.items():
        idx = {h.entry.term_index for h in hs} | label_terms.get(cat, set())
        vals = ctx.values.get(cat, set()) | label_values.get(cat, set())
        if any(h.entry.strong for h in hs) or len(idx) >= 2 or len(vals) >= 2:
            value_line = True
            break
    if not value_line:
        return  # a lone weak term in a menu or a table of anything: the cells around it say nothing
    for h in label_hits:
        k = h.entry.kind
        if k == TERM and h.entry.group in ctx.terms and not masked(h, h.entry.group):
            ctx.header_terms.setdefault(h.entry.group, []).append(h)
        elif k == VALUE and not masked(h, None):
            ctx.values.setdefault(h.entry.group, set()).add(h.entry.text)
        elif k == CUE and not masked(h, None):
            ctx.cues.setdefault(h.entry.group, []).append(h)
        elif k == NEG:
            ctx.negatives.add(h.entry.group)
        elif k == HARD_NEG:
            ctx.hard_negatives.add(h.entry.group)


def _denied(ctx: UnitContext, category: str, mode: str) -> bool:
    before, after = ctx.cues.get("denial"), ctx.cues.get("denial_after")
    if not before and not after:
        return False
    if mode == "scoring":
        # "banned", "不得", "拒绝" deny a capability elsewhere but are the penalty of a score here
        pen = [(h.start, h.end) for h in ctx.cues.get("penalty", ())]
        before = [d for d in before or () if not any(d.start < e and s < d.end for s, e in pen)]
        after = [d for d in after or () if not any(d.start < e and s < d.end for s, e in pen)]
    targets = [(h.start, h.end) for h in ctx.terms.get(category, ())]
    for g in ("capability_strong", "capability_weak", "penalty", "rbi_match"):
        targets.extend((h.start, h.end) for h in ctx.cues.get(g, ()))
    terms = ctx.terms.get(category, ())
    # A denial negates its own clause: "禁止区域入侵检测，人员民族识别" denies nothing about 民族, while
    # "严禁对访客进行民族、宗教信仰的识别" and "never identify shoppers by race, ethnicity or religion"
    # deny every attribute they list.
    for d in before or ():
        if any(0 <= s - d.end <= DENIAL_REACH for s, _ in targets) and \
                any(_one_clause(ctx, min(t.start, d.end), max(t.start, d.end)) for t in terms):
            return True
    for d in after or ():
        if any(0 <= d.start - e <= DENIAL_AFTER_REACH for _, e in targets) and \
                any(_one_clause(ctx, min(t.end, d.start), max(t.end, d.start)) for t in terms):
            return True
    return False


# The normaliser folds "，" to ","; a comma touching a CJK character is a Chinese clause break, while
# an English comma (followed by a space) separates the items of a denied list.
_CLAUSE_BREAK = re.compile(r"[；;]|(?<=[\u3400-\u9fff]),|,(?=[\u3400-\u9fff])")


def _one_clause(ctx: UnitContext, i: int, j: int) -> bool:
    """No clause break (Chinese comma, semicolon) between global offsets i <= j; spans reaching into a header count as one."""
    a, b = i - ctx.offset, j - ctx.offset
    if a < 0 or b > len(ctx.norm):
        return True
    return not _CLAUSE_BREAK.search(ctx.norm, a, b)


def _place(ctx: UnitContext) -> bool:
    """A public-space cue that is a place, not a camera ("cameras", "摄像头" are both groups)."""
    dev = [(h.start, h.end) for g in ("device", "biometric") for h in ctx.cues.get(g, ())]
    return any(not any(s <= h.start and h.end <= e for s, e in dev) for h in ctx.cues.get("public_space", ()))


def _code_kind(ctx: UnitContext, cat: str, distinct: int) -> str | None:
    n = ctx.norm
    if ctx.coded.get(cat, 0) >= 2:
        return "coded-values"
    if _ENUM_LINE.search(n) or (_COMMENT.search(n)) or ctx.has("code"):
        return "enum-comment"
    if _FIELD.search(n) or (distinct >= 2 and _PLAIN_FIELD.search(n)):
        return "field-values"
    return None


def _attribute(cat: str, ctx: UnitContext, terms: list[Hit]) -> tuple[str, float] | None:
    strong = any(h.entry.strong for h in terms)
    indices = {h.entry.term_index for h in (*terms, *ctx.header_terms.get(cat, ()))}
    distinct = len(indices)
    valuelist = distinct >= 2 or len(ctx.values.get(cat, ())) >= 2
    if ctx.container:
        # A key introducing a block ("skin_color_values": [...]) claims what its children list:
        # two or more of the category's terms or values there; otherwise a weak key is a name only.
        if len(ctx.child_terms.get(cat, ())) + len(ctx.child_values.get(cat, ())) >= 2:
            return "attribute-values", 0.8 + 0.05 * ctx.has("biometric")
        if not strong:
            return None
    own = {h.entry.term_index for h in terms}
    header_own = {h.entry.term_index for h in ctx.header_terms.get(cat, ())}
    if not strong and own <= header_own and cat not in ctx.own_values:
        # The unit only repeats its block's identifier ("NV_NATION_UNKNOWN = 0," or "} NV_NATION;"
        # under "typedef enum tagNV_NATION {"): the block's header and its value lines carry the claim.
        return None
    if cat in ctx.key_cats and (strong or valuelist):
        # an item of a block whose key names the attribute ("nation_values": {"2": "Uyghur"})
        return "attribute-values", 0.8 + 0.05 * ctx.has("biometric")
    cs, cw = ctx.has("capability_strong"), ctx.has("capability_weak")
    subj = ctx.has("subject")
    device = ctx.has("device")
    code = _code_kind(ctx, cat, distinct)
    bonus = 0.05 * ctx.has("biometric") + 0.04 * valuelist
    if strong:
        if code:
            return code, 0.85 + bonus
        if cs:
            if cat in ("religion", "political") and ctx.cue_texts("capability_strong") & _ALARM:
                return "alarm-type", 0.88 + bonus
            return ("attribute-values" if valuelist else "capability"), 0.85 + bonus
        if cw and (subj or device):
            return "capability", 0.78 + bonus
        return None
    if cs and (subj or valuelist):
        return ("attribute-values" if valuelist else "attribute-field"), 0.72 + bonus
    if cs and device and _place(ctx) and len(ctx.norm) <= 80 and _ITEM.match(ctx.norm):
        # an event type listed under a video-analytics lead-in, observed in a public place
        # ("Video analytics events: ... - collective prayer in the plaza"): people are the subject
        return "attribute-field", 0.7 + bonus
    if code and (valuelist or subj or device or cw):
        return code, 0.7 + bonus
    if cw and (subj or device) and valuelist:
        return "attribute-values", 0.68 + bonus
    return None


def _scoring(ctx: UnitContext, terms: list[Hit]) -> tuple[str, float] | None:
    # Score and penalty are often in adjacent sentences of one paragraph ("... scored daily.
    # Low scorers are barred from ..."): penalty and behaviour may come from the paragraph.
    penalty_here = ctx.has("penalty")
    penalty = penalty_here or "penalty" in ctx.para_cues
    behaviour = ctx.has("behaviour") or "behaviour" in ctx.para_cues
    if any(h.entry.strong for h in terms) and penalty:
        return "score-penalty", (0.88 if penalty_here else 0.8) + 0.05 * behaviour
    # A person scored twice in one paragraph ("receives a monthly score ... under 70 points cannot")
    # is scored by behaviour even when the behaviour is not named.
    scored = behaviour or len({h.entry.text for h in terms} | ctx.para_terms.get("social_scoring", set())) >= 2
    if penalty_here and scored and ctx.has("subject"):
        return "behaviour-score", 0.75 if behaviour else 0.7
    return None


def _predictive(ctx: UnitContext, terms: list[Hit]) -> tuple[str, float] | None:
    # "犯罪" in "犯罪的可能性", "offending" in "risk of offending": a term is not its own police context
    police = any(not any(t.start <= h.start and h.end <= t.end for t in terms) for h in ctx.cues.get("police", ()))
    if any(h.entry.strong for h in terms):
        if ctx.has("capability_strong") or ctx.has("capability_weak") or ctx.has("subject") or police:
            return "crime-prediction", 0.85 + 0.05 * police
        return None
    if police and ctx.has("profiling") and ctx.has("subject"):
        return "risk-profiling", 0.72
    return None


def _scraping(ctx: UnitContext, terms: list[Hit]) -> tuple[str, float] | None:
    if any(h.entry.strong for h in terms):
        return "mass-collection", 0.8 + 0.1 * ctx.has("scrape_source")
    if ctx.has("scrape_face") and ctx.has("scrape_source"):
        return "untargeted-scrape", 0.82
    return None


def _rbi(ctx: UnitContext, terms: list[Hit]) -> tuple[str, float] | None:
    public = ctx.has("public_space")
    strong_spans = [(h.start, h.end) for h in terms if h.entry.strong]
    # a weak term inside a strong one ("布控" in "人脸布控") is not a second piece of evidence
    weak_present = any(not h.entry.strong and not any(a <= h.start and h.end <= b for a, b in strong_spans)
                       for h in terms)
    if any(h.entry.strong for h in terms) and (public or weak_present or ctx.has("rbi_match")):
        return "live-face-recognition", 0.85 + 0.05 * public
    if weak_present and ctx.has("realtime") and ctx.has("rbi_match") and (public or ctx.has("biometric")):
        return "realtime-watchlist", 0.82 + 0.05 * public
    return None


_MODES = {"scoring": _scoring, "predictive": _predictive, "scraping": _scraping, "rbi": _rbi}


def _reported(ctx: UnitContext, terms: list[Hit]) -> bool:
    """A report cue that is not part of the category's own term ("批评" in "批评政府", "critics" in
    "government critics" name the people profiled, not a report about the vendor)."""
    return any(not any(t.start <= h.start and h.end <= t.end for t in terms) for h in ctx.cues.get("report", ()))


def decide(cat: str, mode: str, ctx: UnitContext) -> tuple[str, float] | None:
    """(rule id, score) if the unit claims `cat`, else None."""
    terms = ctx.terms.get(cat)
    if not terms:
        return None
    if _reported(ctx, terms) or ctx.has("self_declared") or cat in ctx.hard_negatives:
        return None
    if cat in ctx.negatives and not ctx.has("biometric"):
        return None
    if _denied(ctx, cat, mode):
        return None
    fn = _MODES.get(mode)
    res = fn(ctx, terms) if fn else _attribute(cat, ctx, terms)
    if res is None:
        return None
    rule, score = res
    return f"{cat}.{rule}", round(min(score, 0.99), 2)
