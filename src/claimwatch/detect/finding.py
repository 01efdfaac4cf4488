"""The Finding record shared by every caller of the detector."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    category: str  # one of the 11 stable category ids (design.md)
    rule: str  # id of the rule that fired, e.g. "ethnicity.attribute-list"
    match: str  # the matched words, as they appear in the text
    start: int  # character offsets of `match` in the extracted text
    end: int
    excerpt: str  # the sentence / list item / line around the match, original language
    gloss: str  # English gloss of the matched terms
    score: float  # 0..1

    def to_record(self, document: str, record_id: str | None = None) -> dict:
        """The `claimwatch detect` JSONL object (design.md), keys in contract order."""
        d = asdict(self)
        return {
            "document": document,
            "record_id": record_id,
            "category": d["category"],
            "rule": d["rule"],
            "match": d["match"],
            "start": d["start"],
            "end": d["end"],
            "excerpt": d["excerpt"],
            "gloss": d["gloss"],
            "score": d["score"],
        }
