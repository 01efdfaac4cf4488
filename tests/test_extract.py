"""extract(): charset detection, formats, visible-text rules and limits, on files written to disk."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from claimwatch.extract import DEFAULT_LIMITS, ExtractError, Extracted, Limits, extract
from support_extract import (
    EN_CLAIM,
    ZH_SIMPLIFIED,
    ZH_TRADITIONAL,
    cjk_pdf_bytes,
    encrypted_pdf_bytes,
    pdf_bytes,
)


def roundtrip(tmp_path: Path, name: str, data: bytes, **kw) -> Extracted:
    """Write the document to a real file and extract what is read back, named as the file."""
    path = tmp_path / name
    path.write_bytes(data)
    return extract(path.read_bytes(), filename=str(path), **kw)


# --- charsets ---------------------------------------------------------------------------------

HTML_TEMPLATE = "<html><head>{meta}<title>{title}</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize("encoding,text,expect", [
    ("utf-8", ZH_SIMPLIFIED, "utf-8"),
    ("gbk", ZH_SIMPLIFIED, "gb18030"),
    ("gb2312", ZH_SIMPLIFIED, "gb18030"),
    ("gb18030", ZH_SIMPLIFIED + "𠀀", "gb18030"),  # a four-byte GB18030 character
    ("big5", ZH_TRADITIONAL, "big5hkscs"),
    ("utf-8", ZH_TRADITIONAL, "utf-8"),
    ("gbk", ZH_TRADITIONAL, "gb18030"),  # GBK also encodes traditional characters
])
@pytest.mark.parametrize("declared", ["header", "meta", "neither"])
def test_charset_html(tmp_path, encoding, text, expect, declared):
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">' if declared == "meta" else ""
    title = "产品介绍" if text.startswith(ZH_SIMPLIFIED) else "產品介紹"
    data = HTML_TEMPLATE.format(meta=meta, title=title, body=text).encode(encoding)
    ctype = f"text/html; charset={encoding}" if declared == "header" else None
    doc = roundtrip(tmp_path, "page.html", data, content_type=ctype)
    assert doc.kind == "html"
    assert doc.text == text
    assert doc.title == title
    assert doc.charset == expect
    assert doc.notes == []


@pytest.mark.parametrize("encoding,text", [
    ("utf-8", ZH_SIMPLIFIED), ("gbk", ZH_SIMPLIFIED), ("gb18030", ZH_SIMPLIFIED), ("big5", ZH_TRADITIONAL),
    ("utf-8", ZH_TRADITIONAL), ("gbk", "维族"), ("big5", "維族"), ("gbk", "人臉"), ("big5", "臉部特徵"),
])
def test_charset_plain_text_without_declaration(tmp_path, encoding, text):
    # Short texts fool statistical detectors; GBK vs Big5 must still come out right.
    assert roundtrip(tmp_path, "note.txt", text.encode(encoding)).text == text


def test_meta_charset_html5_form(tmp_path):
    data = f'<!doctype html><meta charset="big5"><p>{ZH_TRADITIONAL}</p>'.encode("big5")
    doc = roundtrip(tmp_path, "a.htm", data)
    assert doc.text == ZH_TRADITIONAL and doc.charset == "big5hkscs"


def test_header_charset_outranks_meta(tmp_path):
    # The page says gb2312 in <meta> but the server (right) says UTF-8.
    data = HTML_TEMPLATE.format(meta='<meta charset="gb2312">', title="t", body=ZH_SIMPLIFIED).encode("utf-8")
    doc = roundtrip(tmp_path, "a.html", data, content_type="text/html; charset=UTF-8")
    assert doc.text == ZH_SIMPLIFIED and doc.charset == "utf-8"


def test_wrong_meta_charset_is_overruled_by_the_bytes(tmp_path):
    data = HTML_TEMPLATE.format(meta='<meta charset="utf-8">', title="t", body=ZH_SIMPLIFIED).encode("gbk")
    doc = roundtrip(tmp_path, "a.html", data)
    assert doc.text == ZH_SIMPLIFIED and doc.charset == "gb18030"
    assert any("does not fit" in n for n in doc.notes)


def test_latin1_server_default_does_not_garble_gbk(tmp_path):
    # Servers often send charset=ISO-8859-1 by default whatever the page is.
    data = HTML_TEMPLATE.format(meta="", title="t", body=ZH_SIMPLIFIED).encode("gbk")
    doc = roundtrip(tmp_path, "a.html", data, content_type="text/html; charset=ISO-8859-1")
    assert doc.text == ZH_SIMPLIFIED and doc.charset == "gb18030"


def test_latin1_declared_and_latin_text_is_kept(tmp_path):
    data = "<p>Analyse d’émotions – café</p>".encode("cp1252")
    doc = roundtrip(tmp_path, "a.html", data, content_type="text/html; charset=iso-8859-1")
    assert doc.text == "Analyse d’émotions – café" and doc.charset == "cp1252"


def test_unknown_declared_charset_is_ignored_with_a_note(tmp_path):
    doc = roundtrip(tmp_path, "a.html", f"<p>{ZH_SIMPLIFIED}</p>".encode(), content_type="text/html; charset=x-nonsense")
    assert doc.text == ZH_SIMPLIFIED
    assert any("x-nonsense" in n for n in doc.notes)


def test_english_page_with_one_gbk_punctuation_mark(tmp_path):
    text = "Patient demographics — race field (self-reported)."
    assert roundtrip(tmp_path, "a.txt", text.encode("gbk")).text == text


def test_western_legacy_text(tmp_path):
    text = "Détection d’émotions au travail – résumé"
    doc = roundtrip(tmp_path, "a.txt", text.encode("cp1252"))
    assert doc.text == text and doc.charset == "cp1252"


@pytest.mark.parametrize("bom_encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_byte_order_marks(tmp_path, bom_encoding):
    data = ZH_SIMPLIFIED.encode(bom_encoding)
    if bom_encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    doc = roundtrip(tmp_path, "a.txt", data)
    assert doc.text == ZH_SIMPLIFIED


def test_utf16_without_bom(tmp_path):
    assert roundtrip(tmp_path, "a.txt", EN_CLAIM.encode("utf-16-le")).text == EN_CLAIM


@pytest.mark.parametrize("encoding,text", [("utf-8", ZH_SIMPLIFIED), ("gbk", ZH_SIMPLIFIED), ("big5", ZH_TRADITIONAL)])
def test_truncated_multibyte_sequence_is_replaced_not_raised(tmp_path, encoding, text):
    data = text.encode(encoding)[:-1]  # the last character loses its final byte
    doc = roundtrip(tmp_path, "cut.txt", data)
    assert doc.text == text[:-1] + "\ufffd"


def test_junk_bytes_inside_text_become_replacement_characters(tmp_path):
    data = ZH_SIMPLIFIED.encode() + b"\xff\xfe\xfd" + EN_CLAIM.encode()
    doc = roundtrip(tmp_path, "mixed.txt", data)
    assert doc.text.startswith(ZH_SIMPLIFIED) and doc.text.endswith(EN_CLAIM)
    assert "\ufffd" in doc.text


# --- formats ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kind", [("a.txt", "text"), ("README.md", "text"), ("face_attr.h", "code"), ("sdk.c", "code")])
def test_text_and_code_as_is(tmp_path, name, kind):
    body = f"/* {EN_CLAIM} */\n#define ATTR_ETHNICITY 7  // {ZH_SIMPLIFIED}\r\n\n  indented line\n"
    doc = roundtrip(tmp_path, name, body.encode("gbk"))
    assert doc.kind == kind
    assert doc.text == body.replace("\r\n", "\n")


def test_header_file_in_big5(tmp_path):
    body = f"typedef enum {{ SKIN_YELLOW, SKIN_WHITE, SKIN_BLACK }} skin_t; /* {ZH_TRADITIONAL} */\n"
    doc = roundtrip(tmp_path, "skin.h", body.encode("big5"))
    assert doc.text == body and doc.charset == "big5hkscs"


def test_json_rendered_one_value_per_line_with_escapes_decoded(tmp_path):
    obj = {"code": 0, "data": {"faces": [{"is_minority": 1, "minority_type": "维族/藏族"}], "note": None}}
    doc = roundtrip(tmp_path, "resp.json", json.dumps(obj).encode())  # ensure_ascii: \uXXXX escapes
    assert doc.kind == "json"
    lines = doc.text.splitlines()
    assert '"minority_type": "维族/藏族"' in [line.strip() for line in lines]
    assert '"is_minority": 1,' in [line.strip() for line in lines]
    assert "\\u" not in doc.text


def test_json_sniffed_without_a_name(tmp_path):
    doc = extract(b'{"attr": "\\u60c5\\u7eea"}')
    assert doc.kind == "json" and '"attr": "情绪"' in doc.text


def test_invalid_json_is_read_as_text(tmp_path):
    doc = roundtrip(tmp_path, "broken.json", '{"minority_type": "维族", '.encode())
    assert doc.kind == "text" and doc.text == '{"minority_type": "维族", '
    assert doc.notes == ["not valid JSON; read as text"]


def test_deeply_nested_json_does_not_crash(tmp_path):
    data = b"[" * 100_000 + b'"x"' + b"]" * 100_000
    doc = roundtrip(tmp_path, "deep.json", data)
    assert doc.kind == "text" and doc.text.startswith("[[[")


def test_moderately_nested_json_renders(tmp_path):
    data = b'{"a":' * 500 + b'"\\u7ef4\\u65cf"' + b"}" * 500
    doc = roundtrip(tmp_path, "deep.json", data)
    assert doc.kind == "json" and '"a": "维族"' in doc.text


def test_pdf_english_text_and_title(tmp_path):
    data = pdf_bytes([EN_CLAIM + "\nSecond line of the brochure.", "Page two: real-time alerts."], title="Brochure")
    doc = roundtrip(tmp_path, "brochure.pdf", data)
    assert doc.kind == "pdf" and doc.title == "Brochure" and not doc.truncated
    assert doc.text == EN_CLAIM + "\nSecond line of the brochure.\n\nPage two: real-time alerts."


def test_pdf_chinese_simplified_and_traditional(tmp_path):
    data = cjk_pdf_bytes([("STSong-Light", ZH_SIMPLIFIED), ("MSung-Light", ZH_TRADITIONAL)])
    doc = roundtrip(tmp_path, "产品手册.pdf", data)
    assert doc.text.splitlines() == [ZH_SIMPLIFIED, ZH_TRADITIONAL]


def test_pdf_found_by_magic_whatever_the_name(tmp_path):
    doc = roundtrip(tmp_path, "download.html", pdf_bytes([EN_CLAIM]), content_type="text/html")
    assert doc.kind == "pdf" and doc.text == EN_CLAIM
    assert doc.notes == ["content is a PDF although declared html"]


def test_pdf_link_serving_an_html_page(tmp_path):
    doc = roundtrip(tmp_path, "spec.pdf", b"<!DOCTYPE html><html><body><p>Please log in</p></body></html>")
    assert doc.kind == "html" and doc.text == "Please log in"


def test_pdf_with_broken_xref_is_recovered(tmp_path):
    doc = roundtrip(tmp_path, "damaged.pdf", pdf_bytes([EN_CLAIM], xref=False))
    assert doc.text == EN_CLAIM


def test_pdf_unreadable(tmp_path):
    with pytest.raises(ExtractError, match=r"^PDF unreadable: "):
        roundtrip(tmp_path, "junk.pdf", b"%PDF-1.7\n" + b"garbage without objects\n" * 10)


def test_pdf_encrypted_with_a_password(tmp_path):
    with pytest.raises(ExtractError, match="encrypted"):
        roundtrip(tmp_path, "locked.pdf", encrypted_pdf_bytes(EN_CLAIM, "secret"))


def test_pdf_encrypted_with_empty_password_is_read(tmp_path):
    doc = roundtrip(tmp_path, "restricted.pdf", encrypted_pdf_bytes(EN_CLAIM, ""))
    assert doc.text == EN_CLAIM and any("encrypted" in n for n in doc.notes)


def test_pdf_with_10000_pages_is_cut_at_the_page_limit(tmp_path):
    data = pdf_bytes([f"Brochure page text {i % 7}" for i in range(10_000)])
    started = time.monotonic()
    doc = roundtrip(tmp_path, "huge.pdf", data)
    elapsed = time.monotonic() - started
    assert doc.truncated
    assert doc.notes == [f"PDF has 10000 pages; read the first {DEFAULT_LIMITS.max_pdf_pages} (page limit)"]
    assert len(doc.text.split("\n\n")) == DEFAULT_LIMITS.max_pdf_pages
    assert elapsed < 30


def test_pdf_text_limit(tmp_path):
    doc = extract(pdf_bytes([EN_CLAIM] * 50), limits=Limits(max_chars=500))
    assert doc.truncated and len(doc.text) == 500
    assert any("text limit" in n for n in doc.notes)


# --- HTML visible text ------------------------------------------------------------------------

def test_visible_text_rules(tmp_path):
    page = """<!DOCTYPE html><html><head><title>Face &amp; attribute SDK</title>
    <style>p { color: red } .claim { display: block }</style>
    <script>var hidden = "<p>script text must not appear</p>";</script></head>
    <body><noscript>enable JavaScript</noscript><template><p>template text</p></template>
    <svg><text>svg label</text></svg>
    <h1>Product   features</h1>
    <p>Detects the   wearer's
       mask and <b>ethnicity</b>&nbsp;(Han&nbsp;/&nbsp;Uyghur).</p>
    <ul><li>Emotion analysis<li>Crowd counting</ul>
    <table><tr><th>Attribute</th><th>Accuracy</th></tr><tr><td>Skin tone</td><td>97%</td></tr></table>
    line one<br>line two
    <pre>code line 1
code line 2</pre>
    <div>5 &lt; 6 &amp; &#x7ef4;&#26063;</div>
    </body></html>"""
    doc = roundtrip(tmp_path, "product.html", page.encode())
    assert doc.title == "Face & attribute SDK"
    assert doc.text.splitlines() == [
        "Product features",
        "Detects the wearer's mask and ethnicity (Han / Uyghur).",
        "Emotion analysis",
        "Crowd counting",
        "Attribute", "Accuracy", "Skin tone", "97%",
        "line one", "line two",
        "code line 1", "code line 2",
        "5 < 6 & 维族",
    ]
    for hidden in ("script text", "color: red", "enable JavaScript", "template text", "svg label"):
        assert hidden not in doc.text


def test_inline_elements_do_not_split_chinese_words(tmp_path):
    doc = roundtrip(tmp_path, "a.html", "<p>支持<span>维</span><b>族</b>识别</p>".encode())
    assert doc.text == "支持维族识别"


def test_deeply_nested_html_does_not_crash_or_hang(tmp_path):
    data = ("<html><body>" + "<div>" * 100_000 + "deep claim text" + "</div>" * 100_000
            + "<p>after</p></body></html>").encode()
    started = time.monotonic()
    doc = roundtrip(tmp_path, "deep.html", data)
    assert time.monotonic() - started < 20
    assert doc.text.splitlines() == ["deep claim text", "after"]
    assert any("nested deeper" in n for n in doc.notes)


def test_ordinary_nesting_is_left_alone(tmp_path):
    # Thousands of siblings (and unclosed <p>/<li>) are not depth.
    page = "<ul>" + "<li><p>item" * 3000 + "</ul>" + "<div><div><div>end</div></div></div>"
    doc = roundtrip(tmp_path, "list.html", page.encode())
    assert doc.notes == [] and doc.text.splitlines()[-1] == "end" and doc.text.count("item") == 3000


def test_html_limit(tmp_path):
    page = ("<p>" + EN_CLAIM + "</p>\n") * 100
    doc = extract(page.encode(), filename="a.html", limits=Limits(max_html_bytes=1000))
    assert doc.truncated and doc.text.startswith(EN_CLAIM) and len(doc.text) < 1000
    assert any("max_html_bytes" in n for n in doc.notes)


# --- limits and bad input ---------------------------------------------------------------------

def test_empty_and_blank_input(tmp_path):
    for data in (b"", b"   \n\t"):
        doc = roundtrip(tmp_path, "empty.txt", data)
        assert doc.text == "" and not doc.truncated and doc.notes == [] and doc.kind == "text"
    assert extract(b"", filename="x.pdf").kind == "pdf"


def test_input_limit_cuts_and_says_so(tmp_path):
    text = ZH_SIMPLIFIED * 10
    data = text.encode("utf-8")
    doc = roundtrip(tmp_path, "long.txt", data, limits=Limits(max_input_bytes=100))
    assert doc.truncated
    # 100 bytes = 33 characters of 3 bytes + 1 byte of the 34th, which is dropped, not garbled.
    assert doc.text == text[:33]
    assert doc.notes == ["input larger than 100 bytes; read the first 100 bytes (max_input_bytes)"]


def test_input_limit_cut_inside_a_gbk_character(tmp_path):
    text = ZH_SIMPLIFIED * 10
    doc = extract(text.encode("gbk"), limits=Limits(max_input_bytes=101))
    assert doc.text == text[:50] and doc.truncated


def test_char_limit(tmp_path):
    doc = extract((EN_CLAIM + "\n").encode() * 10, limits=Limits(max_chars=120))
    assert doc.truncated and doc.text == ((EN_CLAIM + "\n") * 10)[:120]


def test_large_input_real_default_limit(tmp_path):
    # 65 MiB of generated text: more than max_input_bytes (64 MiB).
    path = tmp_path / "big.txt"
    line = (EN_CLAIM + "\n").encode()
    with open(path, "wb") as f:
        block = line * ((1 << 20) // len(line) + 1)
        while f.tell() < DEFAULT_LIMITS.max_input_bytes + (1 << 20):
            f.write(block)
    with open(path, "rb") as f:
        data = f.read(DEFAULT_LIMITS.max_input_bytes + 1)
    path.unlink()  # pytest keeps recent tmp dirs; do not leave 65 MiB behind
    doc = extract(data, filename=str(path))
    assert doc.truncated and doc.text.startswith(EN_CLAIM)
    # The input is cut at 64 MiB, then the text at max_chars (16 million characters).
    assert len(doc.text) == DEFAULT_LIMITS.max_chars
    assert doc.notes == ["input larger than 64 MiB; read the first 64 MiB (max_input_bytes)",
                         f"text cut at {DEFAULT_LIMITS.max_chars} characters (max_chars)"]


@pytest.mark.parametrize("data,what", [
    (os.urandom(20_000), "binary data"),
    (b"\x89PNG\r\n\x1a\n" + os.urandom(500), "PNG image"),
    (b"PK\x03\x04" + os.urandom(500), "ZIP archive"),
    (b"\x1f\x8b\x08\x00" + os.urandom(500), "gzip data"),
    (b"\x7fELF\x02\x01\x01" + bytes(500), "ELF executable"),
    (b"text\x00" * 200, "binary data"),
])
def test_binary_junk_is_refused_with_one_line(tmp_path, data, what):
    with pytest.raises(ExtractError) as err:
        roundtrip(tmp_path, "upload.txt", data)
    message = str(err.value)
    assert message.startswith("not a text document: ") and what in message and "\n" not in message


def test_only_extract_error_escapes(tmp_path):
    # Whatever the bytes, the caller sees an Extracted or an ExtractError.
    samples = [b"%PDF-" + os.urandom(3000), b"<html>" + os.urandom(3000), b"{" + os.urandom(3000),
               b"\xef\xbb\xbf" + os.urandom(3000), b"\xff\xfe" + os.urandom(3001)]
    for data in samples:
        for name in ("a.pdf", "a.html", "a.json", "a.txt", None):
            try:
                extract(data, filename=name)
            except ExtractError as exc:
                assert "\n" not in str(exc)


def test_limits_validate():
    with pytest.raises(ValueError):
        Limits(max_pdf_pages=0)


def test_utf8_page_with_a_stale_gb2312_meta(tmp_path):
    # Converted to UTF-8 but still declaring gb2312: GBK-decoding these bytes gives no errors, only nonsense.
    data = HTML_TEMPLATE.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
                                title="t", body="维族").encode("utf-8")
    doc = roundtrip(tmp_path, "a.html", data)
    assert doc.text == "维族" and doc.charset == "utf-8"
    assert doc.notes == ["charset 'gb2312' from <meta> does not fit the bytes; decoded as utf-8"]


def test_nested_dropped_and_preformatted_elements(tmp_path):
    page = "<svg><script>s()</script><style>x{}</style></svg><pre>a<pre>b\nc</pre>d</pre><p>after</p>" * 3
    doc = roundtrip(tmp_path, "a.html", page.encode())
    assert doc.text.splitlines() == ["a", "b", "c", "d", "after"] * 3


@pytest.mark.parametrize("ctype,kind", [
    ("application/json; charset=utf-8", "json"), ("application/vnd.api+json", "json"),
    ("text/plain", "text"), ("text/x-c", "code"), ("application/xhtml+xml", "html"),
])
def test_content_type_decides_the_kind(ctype, kind):
    doc = extract(b'{"emotion": "angry"}', content_type=ctype)
    assert doc.kind == kind and "angry" in doc.text


@pytest.mark.parametrize("encoding,text", [("gbk", ZH_SIMPLIFIED), ("big5", ZH_TRADITIONAL)])
def test_charset_judged_by_the_text_after_a_long_ascii_head(tmp_path, encoding, text):
    # 300 KB of inline script before the first Chinese character, no declaration anywhere.
    head = "<html><head><script>" + "var config = {a: 1, b: 'two'};\n" * 10_000 + "</script></head><body>"
    data = head.encode() + f"<p>{text}</p></body></html>".encode(encoding)
    doc = roundtrip(tmp_path, "a.html", data)
    assert doc.text == text


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "utf-16be", "unicode", "utf-32"])
@pytest.mark.parametrize("served", ["utf-8", "utf-16-le", "utf-16-be"])
def test_utf16_label_without_bom_is_read_by_the_bytes(label, served):
    """A UTF-16 label without a BOM: the NUL bytes decide the byte order; bytes without any NUL
    (a server labelling its UTF-8 pages UTF-16) are detected instead of failing as unreadable."""
    page = "<p>人脸属性：支持民族识别 (ethnicity), accuracy 90%</p>"
    ex = extract(page.encode(served), content_type=f"text/html; charset={label}")
    assert ex.text == "人脸属性：支持民族识别 (ethnicity), accuracy 90%"
    if served == "utf-8":
        assert ex.charset == "utf-8"
        assert any("does not fit the bytes" in n for n in ex.notes)
