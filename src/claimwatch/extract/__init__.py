"""bytes -> text: charset detection (UTF-8, GBK/GB18030, Big5), HTML, PDF, JSON, plain text and code.

`extract()` is the only entry point. It never raises anything but `ExtractError` (one-line message),
and it never fails on size: input beyond a limit in `Limits` is cut, with `truncated` and a note.
This package imports nothing else of claimwatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .charset import charset_from_content_type, decode
from .html import html_text
from .jsontext import parse_json, render
from .limits import DEFAULT_LIMITS, Limits, human_bytes
from .pdf import PdfError, pdf_text
from .sniff import KINDS, NotText, sniff

__all__ = ["extract", "Extracted", "ExtractError", "Limits", "DEFAULT_LIMITS", "KINDS"]


class ExtractError(Exception):
    """The input is not a document we can read. str(exc) is one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(slots=True)
class Extracted:
    text: str
    kind: str  # "html" | "pdf" | "json" | "text" | "code"
    charset: str | None = None  # codec the text was decoded with (None for PDF and empty input)
    title: str | None = None
    truncated: bool = False  # a limit cut the input or the text
    notes: list[str] = field(default_factory=list)  # one line each: truncation, charset fixes


def extract(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    limits: Limits | None = None,
) -> Extracted:
    """Text of a document. `content_type` is the HTTP Content-Type (its charset is honoured),
    `filename` a name or URL path whose extension hints at the format."""
    limits = limits or DEFAULT_LIMITS
    kind = "document"
    try:
        return _extract(bytes(data), content_type, filename, limits)
    except ExtractError:
        raise
    except NotText as exc:
        raise ExtractError(f"not a text document: {exc}") from None
    except PdfError as exc:
        raise ExtractError(str(exc)) from None
    except Exception as exc:  # a parser bug must not become a traceback for the user
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ExtractError(f"{kind} unreadable: {type(exc).__name__}: {detail}") from None


def _extract(data: bytes, content_type: str | None, filename: str | None, limits: Limits) -> Extracted:
    notes: list[str] = []
    truncated = False
    if len(data) > limits.max_input_bytes:
        data = data[: limits.max_input_bytes]
        truncated = True
        notes.append(f"input larger than {human_bytes(limits.max_input_bytes)}; read the first "
                      f"{human_bytes(limits.max_input_bytes)} (max_input_bytes)")
    if not data.strip():
        return Extracted(text="", kind=_empty_kind(content_type, filename), truncated=truncated, notes=notes)

    kind, sniff_notes = sniff(data, content_type, filename)
    notes += sniff_notes
    title = None
    charset = None
    if kind == "pdf":
        text, title, cut, pdf_notes = pdf_text(data, limits)
        truncated |= cut
        notes += pdf_notes
    else:
        if kind == "html" and len(data) > limits.max_html_bytes:
            data = data[: limits.max_html_bytes]
            truncated = True
            notes.append(f"HTML larger than {human_bytes(limits.max_html_bytes)}; parsed the first "
                          f"{human_bytes(limits.max_html_bytes)} (max_html_bytes)")
        decoded = decode(data, declared=charset_from_content_type(content_type), html=kind == "html",
                         cut=truncated)
        charset = decoded.charset
        notes += decoded.notes
        text = decoded.text.lstrip("\ufeff")
        if len(text) >= 256 and text.count("\ufffd") > len(text) // 5:
            raise NotText("mostly undecodable bytes")
        if kind == "html":
            text, title, html_notes = html_text(text, limits.max_html_depth)
            notes += html_notes
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if kind == "json":
                try:
                    text = render(parse_json(text))
                except ValueError:
                    kind = "text"
                    if not truncated:  # a cut JSON document is expected not to parse
                        notes.append("not valid JSON; read as text")
    if len(text) > limits.max_chars:
        text = text[: limits.max_chars]
        truncated = True
        notes.append(f"text cut at {limits.max_chars} characters (max_chars)")
    return Extracted(text=text, kind=kind, charset=charset, title=title, truncated=truncated, notes=notes)


def _empty_kind(content_type: str | None, filename: str | None) -> str:
    from .sniff import _from_content_type, _from_filename

    return _from_content_type(content_type) or _from_filename(filename) or "text"
