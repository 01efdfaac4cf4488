"""Explicit size limits for extraction (documented in docs/extract.md).

Input beyond a limit is never an error: it is cut, `Extracted.truncated` is set and a note says
where and why, so a huge or hostile document still yields the text it starts with.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_input_bytes: int = 64 * MiB  # bytes looked at, of any kind of document
    max_html_bytes: int = 32 * MiB  # bytes of HTML handed to the parser
    max_html_depth: int = 256  # element nesting kept; deeper tags are flattened
    max_pdf_pages: int = 2_000  # pages read from a PDF
    max_pdf_seconds: float = 120.0  # wall-clock budget for reading one PDF's pages
    max_chars: int = 16_000_000  # characters of extracted text returned

    def __post_init__(self) -> None:
        for name in ("max_input_bytes", "max_html_bytes", "max_html_depth", "max_pdf_pages", "max_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")
        if self.max_pdf_seconds <= 0:
            raise ValueError("Limits.max_pdf_seconds must be positive")


DEFAULT_LIMITS = Limits()


def human_bytes(n: int) -> str:
    """Sizes for notes: '64 MiB', '1.5 KiB', '12 bytes'."""
    for unit, size in (("GiB", 1024**3), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
