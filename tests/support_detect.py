"""Shared helpers for the detector tests (invented vendor-style text only)."""

from __future__ import annotations

from claimwatch.detect import Finding, detect
from claimwatch.extract import extract


def cats(text: str) -> set[str]:
    return {f.category for f in detect(text)}


def check_offsets(text: str, findings: list[Finding]) -> None:
    for f in findings:
        assert text[f.start:f.end] == f.match, f
        assert f.match in f.excerpt, f
        assert f.excerpt in text, f
        assert f.gloss
        assert 0.0 <= f.score <= 1.0
        assert f.rule.startswith(f.category + "."), f


def html_cats(markup: str, encoding: str = "utf-8") -> set[str]:
    """Categories found in an HTML snippet, through the real extractor (offsets checked)."""
    text = extract(markup.encode(encoding), content_type="text/html").text
    found = detect(text)
    check_offsets(text, found)
    return {f.category for f in found}
