"""An SDK enum is a claim through its value lines, not through every line naming the enum."""

from __future__ import annotations

from claimwatch.detect import detect
from support_detect import check_offsets

# Invented SDK header text (no real vendor).
ENUM = """接口 XK_GetFaceAttr() 返回的 nation 字段为民族属性。
typedef enum tagXK_NATION {
    XK_NATION_UNKNOWN = 0,
    XK_NATION_HAN     = 1,   // 汉族
    XK_NATION_UYGUR   = 2,   // 维吾尔族
    XK_NATION_OTHER   = 3,   // 其他
} XK_NATION;
"""


def test_lines_that_only_repeat_the_enum_name_are_not_claims():
    found = detect(ENUM)
    check_offsets(ENUM, found)
    excerpts = [f.excerpt.strip() for f in found if f.category == "ethnicity"]
    assert any("汉族" in e for e in excerpts) and any("维吾尔族" in e for e in excerpts)
    assert not any("UNKNOWN" in e or "OTHER" in e or e.startswith("}") for e in excerpts), excerpts


def test_value_line_of_a_weak_identifier_still_counts():
    text = "typedef enum { XK_SKIN_YELLOW = 1, // 黄种人\n XK_SKIN_WHITE = 2 } XK_SKIN;\n"
    assert "race" in {f.category for f in detect(text)}
