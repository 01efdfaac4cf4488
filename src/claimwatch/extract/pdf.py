"""Text of a PDF with pypdf, within explicit page, character and time limits.

pypdf runs non-strict so that the damaged files found on vendor sites (broken cross-reference
tables, wrong offsets) are recovered by scanning for objects. Encrypted PDFs are read when they
open with the empty user password (permission-only encryption, common on brochures).
"""

from __future__ import annotations

import io
import logging
import time
import warnings

from .limits import Limits


class PdfError(Exception):
    """The PDF cannot be read; the message is one line."""


def pdf_text(data: bytes, limits: Limits) -> tuple[str, str | None, bool, list[str]]:
    """(text, title, truncated, notes)."""
    from pypdf import PdfReader

    notes: list[str] = []
    with _quiet():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
        except Exception as exc:  # pypdf raises many types for damaged files
            raise PdfError(f"PDF unreadable: {_one_line(exc)}") from None
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise PdfError(f"PDF is encrypted and cannot be opened: {_one_line(exc)}") from None
            if not opened:
                raise PdfError("PDF is encrypted with a password")
            notes.append("PDF is encrypted with an empty password; read anyway")
        try:
            count = len(reader.pages)
        except Exception as exc:
            raise PdfError(f"PDF unreadable: page tree: {_one_line(exc)}") from None
        title = _title(reader)
        parts: list[str] = []
        chars = 0
        truncated = False
        deadline = time.monotonic() + limits.max_pdf_seconds
        last = min(count, limits.max_pdf_pages)
        bad_pages = 0
        for i in range(last):
            if time.monotonic() > deadline:
                notes.append(f"PDF read for {limits.max_pdf_seconds:g} s: stopped after page {i} of {count}")
                truncated = True
                break
            if chars > limits.max_chars:
                notes.append(f"PDF text limit of {limits.max_chars} characters reached at page {i} of {count}")
                truncated = True
                break
            try:
                text = reader.pages[i].extract_text() or ""
            except Exception:
                # One damaged page must not lose the rest of the document.
                bad_pages += 1
                text = ""
            parts.append(text.strip("\n"))
            chars += len(text)
        else:
            if count > last:
                notes.append(f"PDF has {count} pages; read the first {last} (page limit)")
                truncated = True
        if bad_pages:
            notes.append(f"{bad_pages} PDF page(s) could not be read")
        if count and bad_pages == len(parts) and parts:
            raise PdfError("PDF unreadable: no page could be read")
    # Pages are separated by a blank line so no sentence runs across a page break.
    return "\n\n".join(p for p in parts if p), title, truncated, notes


def _title(reader) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta else None
    except Exception:
        return None
    return " ".join(str(title).split()) or None if title else None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


class _quiet:
    """pypdf reports recoverable damage through logging and warnings; the caller gets notes."""

    def __enter__(self):
        self._logger = logging.getLogger("pypdf")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        self._logger.setLevel(self._level)
        return False
