"""prefilter.may_contain_claim(bytes): never a false negative w.r.t. detect(extract(bytes))."""

from __future__ import annotations

import json
import random

import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimwatch.detect import detect
from claimwatch.detect.prefilter import anchor_ends, anchor_patterns, anchor_terms, longest_anchor, may_contain_claim
from claimwatch.extract import ExtractError, extract
from test_detect import NEGATIVES, POSITIVES

S2T = [opencc.OpenCC(c) for c in ("s2t", "s2tw", "s2hk")]
FRAGMENTS = [t for _, t in POSITIVES] + list(NEGATIVES.values()) + [
    "公司简介：我们专注于智慧城市解决方案。",
    "Contact us for a demo of our video platform.",
    "typedef enum { EM_NATION_TYPE_UYGUR, // 维族\n} EM_NATION;",
    "人脸属性：民族（汉族/维族/其他）",
    "skin tone: yellow / white / black (face attribute)",
    '{"ethnicity": "UYGHUR", "gender": "male"}',
]
FILLER = ["天气晴朗。", "Lorem ipsum dolor sit amet. ", "产品参数：200万像素。", "\n", " ", "价格：￥1999。"]


def render(text: str, fmt: str, style: str) -> str:
    if fmt == "html":
        body = text
        if style == "ncr-dec":
            body = "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in text)
        elif style == "ncr-hex":
            body = "".join(f"&#x{ord(c):X};" if ord(c) > 127 else c for c in text)
        elif style == "inline-tags":
            body = text.replace(" ", " <span class='w'></span> ")
        return f"<html><head><title>t</title></head><body><p>{body}</p></body></html>"
    if fmt == "json":
        return json.dumps({"desc": text, "items": text.split("。")}, ensure_ascii=(style == "ascii"))
    return text


def encode(text: str, enc: str, variant: int) -> bytes | None:
    if enc == "big5":
        text = S2T[variant % 3].convert(text)
    try:
        return text.encode(enc)
    except UnicodeEncodeError:
        return None


def check(data: bytes, filename: str) -> bool:
    """Assert the invariant for one payload; return whether detect found something."""
    try:
        text = extract(data, filename=filename).text
    except ExtractError:
        return False
    found = detect(text)
    if found:
        assert may_contain_claim(data), (filename, data[:300], found)
    # The scanner's split form: anchors looked for by the caller (anchor_ends), the rest here.
    ends = anchor_ends(data)
    if not ends:
        assert may_contain_claim(data, raw_clear=True) == may_contain_claim(data), (filename, data[:300])
    if found:
        assert ends or may_contain_claim(data, raw_clear=True), (filename, data[:300], found)
    return bool(found)


def _naive_ends(data: bytes) -> list[int]:
    low = data.lower()  # the database is caseless for ASCII letters only, like bytes.lower()
    out = []
    for lit in set(anchor_patterns()):
        lit = lit.lower()
        at = low.find(lit)
        while at >= 0:
            out.append(at + len(lit))
            at = low.find(lit, at + 1)
    return sorted(out)


def test_anchor_ends_reports_every_occurrence():
    rng = random.Random(5)
    for _ in range(20):
        parts = [rng.choice(FRAGMENTS + FILLER) for _ in range(rng.randint(2, 8))]
        text = "".join(parts) * rng.randint(1, 3)
        for enc in ("utf-8", "gb18030", "big5"):
            data = encode(text, enc, 0)
            if data is not None:
                assert anchor_ends(data) == _naive_ends(data)
    assert anchor_ends(b"UYGHUR uyghur Uyghur") == [6, 13, 20]
    assert longest_anchor() == max(map(len, anchor_patterns()))


def test_anchor_lists_are_exposed():
    keys = anchor_terms()
    assert "维族" in keys and "uyghur" in keys
    assert len(anchor_patterns()) > len(keys)
    assert all(isinstance(p, bytes) for p in anchor_patterns())


@pytest.mark.parametrize("data,expected", [
    ("维族".encode("gbk"), True),
    ("維族".encode("big5"), True),
    ("\ufeff維族".encode("utf-16-le"), True),
    ("人脸识别 維族".encode("utf-16-be"), True),
    # No BOM and no ASCII, so no NUL byte: the extractor's detection may still read UTF-16 (found by
    # the property test below)
    ("景区出入口对戴面纱人员进行自动识别并告警。".encode("utf-16-be"), True),
    ("景区出入口对戴面纱人员进行自动识别并告警。".encode("utf-16-le"), True),
    (b"&#32500;&#26063;", True),
    (b"&#x7EF4;&#x65CF;", True),
    (b'"\\u7ef4\\u65cf"', True),
    ("ＵＹＧＨＵＲ".encode("utf-8"), True),
    (b"SKIN<br/>\n  TONE detection", True),
    # a lone weak term: the anchor stage passes it, the gate (gate.py) does not
    (b"SKIN<br/>\n  TONE", False),
    (b"", False),
    (b"hello world, nothing to see", False),
    ("今天天气很好".encode("gbk"), False),
])
def test_known_payloads(data, expected):
    assert may_contain_claim(data) is expected


def test_generated_documents_all_encodings_and_forms():
    rng = random.Random(20240601)
    hits = 0
    total = 0
    for i in range(600):
        parts = [rng.choice(FRAGMENTS + FILLER) for _ in range(rng.randint(1, 5))]
        text = "".join(parts)
        fmt = rng.choice(["txt", "html", "json", "h"])
        style = rng.choice(["plain", "ncr-dec", "ncr-hex", "inline-tags", "ascii"])
        enc = rng.choice(["utf-8", "gb18030", "big5", "utf-16"])
        data = encode(render(text, fmt, style), enc, i)
        if data is None:
            continue
        total += 1
        hits += check(data, f"doc{i}.{fmt}")
    assert total > 400 and hits > 100  # the generator really produces claims


_words = st.sampled_from(FRAGMENTS + FILLER + ["维族", "維吾爾族", "Uyghur", "skin-tone", "1：N", "民族"])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.one_of(_words, st.text(max_size=30)), min_size=1, max_size=6),
    fmt=st.sampled_from(["txt", "html", "json", "h"]),
    style=st.sampled_from(["plain", "ncr-dec", "ncr-hex", "ascii"]),
    enc=st.sampled_from(["utf-8", "gb18030", "big5", "utf-16", "utf-16-be"]),
    variant=st.integers(0, 2),
)
def test_invariant_property(parts, fmt, style, enc, variant):
    text = "".join(parts)
    data = encode(render(text, fmt, style), enc, variant)
    if data is not None:
        check(data, f"doc.{fmt}")


def test_plain_text_without_anchors_is_rejected():
    data = ("这是一家做物联网网关的公司。We ship routers worldwide.\n" * 200).encode("utf-8")
    assert not may_contain_claim(data)


def test_pdf_with_claim_in_compressed_stream_passes():
    from support_extract import cjk_pdf_bytes

    data = cjk_pdf_bytes([("STSong-Light", "人脸属性：输出性别、年龄及民族（汉族/维族/其他）。")])
    assert "维族".encode("utf-8") not in data  # the text is not visible in the raw bytes
    found = detect(extract(data, filename="spec.pdf").text)
    assert {f.category for f in found} == {"ethnicity"}
    assert may_contain_claim(data)
