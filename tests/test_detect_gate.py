"""gate.py, the prefilter's second stage: never a false negative w.r.t. detect(extract(bytes)), and it
really rejects pages whose only lexicon hit is a lone weak term.

The pages are invented vendor-style passages built from the lexicon's own entries (every category
and mode, weak and strong terms, cues of every group, values), arranged the ways the rules read
them from afar (other paragraphs, header lines, table cells, JSON containers, enum comments, short
value lists) and written in every encoding and escape form the prefilter covers.
"""

from __future__ import annotations

import functools
import json
import random
import re

import opencc
import pytest

from claimwatch.detect import detect
from claimwatch.detect import gate as gate_mod
from claimwatch.detect.prefilter import _get, may_contain_claim
from claimwatch.extract import ExtractError, extract
from claimwatch.extract.sniff import sniff
from claimwatch.lexicon import load_lexicon
from support_paths import SHARED

LEX = load_lexicon()
S2T = [opencc.OpenCC(c) for c in ("s2t", "s2tw", "s2hk")]
DEV = SHARED / "eval" / "claims-dev.jsonl"


def _strip(s: str) -> str:
    return s[:-1] if s.endswith("*") else s


def _term(rng: random.Random, cat: str, strength: str | None = None) -> str:
    terms = [t.text for t in LEX.categories[cat].terms if strength is None or t.strength == strength]
    return _strip(rng.choice(terms or [t.text for t in LEX.categories[cat].terms]))


def _cue(rng: random.Random, group: str) -> str:
    word = rng.choice(LEX.cues[group])
    return _strip(word) + (rng.choice(["", "s", "ing"]) if word.endswith("*") else "")


def _value(rng: random.Random, cat: str) -> str:
    return rng.choice(LEX.categories[cat].values or ("其他",))


def _initials(cat: str) -> list[str]:
    return sorted({v[0] for v in LEX.categories[cat].values})


MODE_CUES = {
    "attribute": ["capability_strong", "capability_weak", "subject", "device", "biometric", "code"],
    "scoring": ["penalty", "subject", "behaviour"],
    "predictive": ["police", "profiling", "subject", "capability_strong"],
    "scraping": ["scrape_face", "scrape_source"],
    "rbi": ["realtime", "rbi_match", "public_space", "biometric"],
}
FILLER = ["公司简介：我们专注于智慧城市解决方案。", "产品参数：200万像素，支持PoE供电。", "Lorem ipsum dolor sit amet.",
          "Contact our sales team for pricing.", "天气晴朗，适合出行。", "Firmware 2.1 release notes."]


def _piece(rng: random.Random) -> str:
    """One invented passage around some category's terms."""
    cat = rng.choice(list(LEX.categories))
    mode = LEX.categories[cat].mode
    t = _term(rng, cat, rng.choice(["weak", "weak", "strong", None]))
    cue = lambda: _cue(rng, rng.choice(MODE_CUES[mode]))  # noqa: E731
    v = lambda: _value(rng, cat)  # noqa: E731
    shape = rng.randrange(15)
    if shape == 14:  # every cue group the category's weak-term rule needs, in one sentence
        need = {"attribute": ["capability_strong", "subject"], "scoring": ["penalty", "subject", "behaviour"],
                "predictive": ["police", "profiling", "subject"], "scraping": ["scrape_face", "scrape_source"],
                "rbi": ["realtime", "rbi_match", "public_space"]}[mode]
        cues = [_cue(rng, g) for g in need]
        rng.shuffle(cues)
        return rng.choice(["{0}{t}{1}{2}。", "{0} {t} {1} {2}.", "{0}：{t}，{1}{2}。"]).format(*cues, "", t=t)
    if shape == 0:
        return f"{t}。"  # a lone term
    if shape == 1:
        return f"本平台{cue()}{t}{cue()}。"
    if shape == 2:
        return f"The system can {cue()} {t} with {cue()} {cue()}."
    if shape == 3:  # the cue in another paragraph (scoring reads the paragraph)
        return f"{cue()}：每月更新。\n{t}低于600的{cue()}将被{cue()}。\n{cue()}"
    if shape == 4:  # header line, then an indented list
        return f"{cue()}{cue()}:\n  - {t}\n  - {v()}\n  - {v()}"
    if shape == 5:  # a pipe table
        return f"| 字段 | {cue()} |\n| --- | --- |\n| {t} | {v()} / {v()} |"
    if shape == 6:  # a JSON-ish container key and its children
        return f'"{t}_values": [\n    "{v()}",\n    "{v()}"\n]'
    if shape == 7:  # an enum with comments
        return f"typedef enum {{\n  EM_X_0 = 0,  // {t}\n  EM_X_1,  // {v()}\n  EM_X_2,  // {v()}\n}} EM_X;"
    if shape == 8:  # a short value list
        ini = _initials(cat) or ["黄", "白"]
        items = [rng.choice(ini) for _ in range(rng.randint(2, 4))]
        sep = rng.choice(["、", "/", ", ", " | ", "，", "／"])
        open_, close = rng.choice([("（", "）"), ("(", ")"), (": ", ""), ("：", "")])
        lead = rng.choice(["", "", cue(), "int attr;  // ", "attr = 0  # "])  # code: the list alone decides
        return f"{lead}{t}{open_}{sep.join(items)}{close}"
    if shape == 9:  # table cells one per line (HTML tables come out like this)
        return f"{cue()}\n{t}\n{v()} / {v()}\n{cue()}"
    if shape == 10:  # two terms of the category
        return f"{t}、{_term(rng, cat)}等{cue()}。"
    if shape == 11:  # code field
        return f"face.{t.replace(' ', '_')} = {v()};  // {cue()}"
    if shape == 12:  # a denial or a report: only removes findings
        return f"{_cue(rng, rng.choice(['denial', 'report', 'self_declared']))}{t}{cue()}。"
    return f"{rng.choice(FILLER)}{t}{rng.choice(FILLER)}"


def page(rng: random.Random) -> str:
    parts = [_piece(rng) if rng.random() < 0.7 else rng.choice(FILLER) for _ in range(rng.randint(1, 4))]
    return "\n".join(parts) + "\n"


FORMS = ["utf-8", "gb18030", "big5", "cp1252", "html-dec", "html-hex", "json-ascii", "json", "utf-16",
         "utf-16-be", "html-utf8"]


def render(text: str, how: str, variant: int = 0) -> tuple[bytes, str] | None:
    """(payload, file name) of `text` written in `how`, None if the text cannot be."""
    if how == "big5":
        text = S2T[variant % 3].convert(text)
    if how in ("html-dec", "html-hex", "html-utf8"):
        if how == "html-dec":
            text = "".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in text)
        elif how == "html-hex":
            text = "".join(f"&#x{ord(c):X};" if ord(c) > 127 else c for c in text)
        tags = [("<p>", "</p>"), ("<li class='type'>", "</li>"), ("<td><b>", "</b></td>"), ("<div>", "</div><br>")]
        body = "".join(f"{tags[(i + variant) % 4][0]}{line}{tags[(i + variant) % 4][1]}\n"
                       for i, line in enumerate(text.split("\n")))
        # markup full of cue words, none of it visible: the gate with html=True must not need it
        return (f"<!DOCTYPE html><html><head><title>t</title><style>body {{ font-family: x }}</style>"
                f"<script>dataLayer.push({{'type': 'face detection'}});</script></head>"
                f"<body><!-- user support --><input type='text' value='user'>{body}</body></html>").encode(), "p.html"
    if how.startswith("json"):
        return json.dumps({"doc": {"text": text, "lines": text.split("\n")}},
                          ensure_ascii=how == "json-ascii", indent=1).encode(), "p.json"
    enc = {"utf-16": "utf-16"}.get(how, how)
    try:
        return text.encode(enc), "p.txt"
    except UnicodeEncodeError:
        return None


def findings(data: bytes, name: str) -> list:
    try:
        return detect(extract(data, filename=name).text)
    except ExtractError:
        return []


def anchor_pass(data: bytes) -> bool:
    """The first stage alone (as before the gate): some reading has an anchor."""
    return _get().first_anchor(data) is not None


@pytest.fixture(scope="module")
def corpus():
    """[(payload, file name, has a finding, passes the first stage)] of generated pages."""
    rng = random.Random(20261122)
    out = []
    for i in range(1500):
        text = page(rng)
        got = render(text, FORMS[i % len(FORMS)], i)
        if got is None:
            continue
        data, name = got
        out.append((data, name, bool(findings(data, name)), anchor_pass(data)))
    return out


def is_html(data: bytes, name: str) -> bool:
    """What the scanner knows: the extractor will parse these bytes as HTML."""
    return sniff(data, None, name)[0] == "html"


def violations(corpus) -> list[bytes]:
    return [data for data, name, found, _a in corpus
            if found and not (may_contain_claim(data) and may_contain_claim(data, html=is_html(data, name)))]


def test_invariant_on_generated_pages(corpus):
    assert violations(corpus) == []
    positives = sum(found for _d, _n, found, _a in corpus)
    rejected = sum(a and not may_contain_claim(d) for d, _n, _f, a in corpus)
    assert len(corpus) > 1300 and positives > 300  # the generator really makes claims ...
    assert rejected > 100  # ... and pages the first stage passes and the gate rejects
    html = [(d, n) for d, n, found, a in corpus if a and not found and n.endswith(".html")]
    assert sum(not may_contain_claim(d, html=True) for d, _n in html) > 50  # markup's cue words ignored


def _dev_rows():
    if not DEV.is_file():
        pytest.skip("shared dev set not present")
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_positives_pass_in_every_form():
    rows = [r for r in _dev_rows() if r["labels"]]
    assert len(rows) >= 20
    checked = 0
    for r in rows:
        for i, how in enumerate(FORMS):
            got = render(r["text"], how, i)
            if got is None:
                continue
            data, name = got
            if findings(data, name):
                checked += 1
                assert may_contain_claim(data), (r["id"], how)
    assert checked > 150


LONE_WEAK = [
    "Download the app and collect points with every purchase.",
    "这款粉底适合各种肤色，质地轻薄。",
    "她在小说的结尾感到一阵恐惧，夜色深沉。",
    "The race starts at nine; runners collect their numbers at the gate.",
    "本店会员积分可以兑换礼品。",
    "Our protest song playlist is updated weekly.",
]


@pytest.mark.parametrize("text", LONE_WEAK)
def test_lone_weak_terms_are_rejected(text):
    # Not wrapped in HTML here: raw bytes hold the markup too, and "<body>" is a subject cue's word.
    rejected = 0
    for how in ("utf-8", "gb18030", "big5", "json-ascii", "utf-16"):
        data, name = render(text, how) or render(text, "json-ascii")  # big5 lacks a character: still five
        assert anchor_pass(data), (text, how)  # the first stage lets it through ...
        assert not findings(data, name)
        assert not may_contain_claim(data), (text, how)  # ... the gate does not
        rejected += 1
    assert rejected == 5


# Short value lists in a code comment: a weak term, no cue and no second entry; only the list
# ("enum-comment" needs a value list) makes the finding.
SHORT_LISTS = [
    (f"int tone;  // {lst}", how)
    for lst in ("肤色（黄、白、黑）", "肤色：黄／白／黑", "肤色（黄，白）", "肤色 (黄 | 白)")
    for how in ("utf-8", "gb18030", "big5", "html-dec", "html-hex", "json-ascii", "utf-16", "utf-16-be")
] + [(f"tone = 0  # {lst}", how) for lst in ("race: W/B/A", "race (y, w)", "race: Ｗ／Ｂ")
     for how in ("utf-8", "cp1252", "json-ascii", "html-dec", "utf-16")]


def test_short_value_lists_pass():
    g = _get().gate
    found = 0
    for text, how in SHORT_LISTS:
        got = render(text, how, found)
        if got is None or not findings(*got):
            continue
        found += 1
        assert may_contain_claim(got[0]), (text, how)
    assert found >= 40
    # in plain bytes, nothing but the list can pass these pages
    for text in ("int tone;  // 肤色（黄、白、黑）", "tone = 0  # race: W/B/A"):
        terms, strong, cues = g.facts(text.encode())
        assert len(terms["race"]) == 1 and not strong and not cues & gate_mod.ATTRIBUTE_CUES


def test_spaces_are_what_re_calls_white_space():
    assert set(gate_mod.SPACES) == {chr(c) for c in range(0x110000) if re.match(r"\s", chr(c))}


def test_short_list_forms_in_raw_bytes():
    for data in ("int tone;  // 肤色（黄、白、黑）".encode("hz"), "int tone;  // 膚色（黃、白、黑）".encode("big5"),
                 b"int tone; // race (W&nbsp;,&nbsp;B)", b"int tone; // race: W&#160;/&#160;B",
                 b'{"c": "race: W\\/B"}', "int tone; // race：Ｗ，Ｂ".encode("gb18030")):
        assert may_contain_claim(data), data
    # an item that is not an initial of the values, or one item only: no value list, no finding
    for text in ("int tone;  // 肤色（浅）", "int tone;  // 肤色（浅、深）", "int tone; // race (x, z)"):
        data = text.encode()
        assert not findings(data, "p.txt") and not may_contain_claim(data), text


FAR = [
    "| 字段 | 说明 |\n| --- | --- |\n| 肤色 | 黄色 / 白色 |\n",  # values in a table row, a cue in the header
    "人脸属性\n肤色\n黄色 / 白色\n",  # table cells one per line
    "skin_tone_values:\n  - yellow\n  - white\n",  # a container key and its children
    "人员结构化属性：\n  - 性别\n  - 民族\n",  # the capability in the lead-in line only
    "typedef enum {\n  EM_NATION_0,  // 民族\n  EM_NATION_1,  // 汉族\n} EM_NATION;\n",
    "居民诚信积分每月公布。\n\n低于600分的居民将被限制乘坐高铁。\n",
]


def test_html_markup_is_not_text():
    from claimwatch.detect.markup import visible

    page = (b"<!DOCTYPE html><html><head><title>About body</title><script>x.push({type: 1})</script>"
            b"<style>p { font-family: serif }</style></head><body class='user'><!-- support -->"
            b"<p>She felt <b>fear</b> in the story.</p><p>\xe6\x81\x90\xe6\x83\xa7</p>"
            b"<textarea><i title='religion'></textarea></body></html>")
    text = visible(page)
    for hidden in (b"push", b"font-family", b"user", b"support", b"DOCTYPE"):
        assert hidden not in text
    # text the parser keeps (the title, a textarea's raw content) stays, and inline tags join
    for kept in (b"About body", b"<i title='religion'>", b"fear in the story.", "\u6050\u60e7".encode()):
        assert kept in text
    # unclosed comments and scripts run to the end, as in the parser
    assert visible(b"a<!-- b c") == b"a" and visible(b"a<script>b c") == b"a"
    # HZ bytes may be "<" and ">": left alone
    assert visible(b"~{<a~} x") == b"~{<a~} x"
    lone = "<html><body><p>小说里的恐惧。</p><script>track(user)</script></body></html>".encode()
    assert not findings(lone, "p.html") and may_contain_claim(lone) and not may_contain_claim(lone, html=True)


def test_cues_far_from_the_term():
    found = 0
    for text in FAR:
        for i, how in enumerate(("utf-8", "gb18030", "big5", "html-dec", "json-ascii", "utf-16")):
            got = render(text, how, i)
            if got and findings(*got):
                found += 1
                assert may_contain_claim(got[0]), (text, how)
    assert found >= 25


def test_a_word_of_weak_and_strong_terms_counts_as_strong():
    g = _get().gate
    # "religious" is a word of weak and strong religion terms; with the strong term's other word
    # present, the page counts the strong term
    _, strong, _ = g.facts(b"religious affiliation")
    assert "religion" in strong
    _, strong, _ = g.facts(b"religious")
    assert "religion" not in strong
    # each literal stands for one or more words, each once
    per = [g._lit_words[a:b] for a, b in zip(g._lit_start, g._lit_start[1:])]
    assert len(per) == len(g.literals) and all(len(set(ws)) == len(ws) >= 1 for ws in per)


# One page per mode whose only way to a finding is that mode's weak-term rule (no strong term).
MODE_PAGES = {
    "scoring": ["居民信用分低于600将被限制乘坐高铁。", "Residents with a low reputation score are barred from housing."],
    "predictive": ["民警对风险人员进行画像。", "Police rank offenders by risk for every resident."],
    "scraping": ["平台从互联网批量爬取人脸照片。", "We scrape photos from public websites in bulk."],
    "rbi": ["实时比对黑名单，人流密集的车站告警。", "Realtime matching against the blacklist in crowded squares."],
}


@pytest.mark.parametrize("mode", sorted(MODE_PAGES))
def test_every_mode_weak_rule_passes(mode, monkeypatch):
    found = 0
    for text in MODE_PAGES[mode]:
        for how in ("utf-8", "gb18030", "big5", "html-dec", "json-ascii", "utf-16", "cp1252"):
            got = render(text, how)
            if got and findings(*got):
                found += 1
                assert {f.category for f in findings(*got)} <= {c for c, k in LEX.categories.items() if k.mode == mode}
                html = is_html(*got)
                assert may_contain_claim(got[0]) and may_contain_claim(got[0], html=html), (text, how)
                # mutation: the mode's weak rule forgotten -- the page is lost
                with monkeypatch.context() as mp:
                    mp.setitem(gate_mod.WEAK_NEEDS, mode, (frozenset({"no such group"}),))
                    assert not may_contain_claim(got[0], html=html), (text, how)
    assert found >= 6


def test_mutations_are_caught(corpus, monkeypatch):
    """The generated pages are strong enough to catch a gate that misses a rule path."""
    g = _get().gate
    assert violations(corpus) == []
    with monkeypatch.context() as mp:  # drop one attribute cue group
        mp.setattr(gate_mod, "ATTRIBUTE_CUES", gate_mod.ATTRIBUTE_CUES - {"capability_weak"})
        assert violations(corpus)
    with monkeypatch.context() as mp:  # drop the short-list patterns
        mp.setattr(g, "_short_list", lambda data: False)
        assert violations(corpus)
        assert not may_contain_claim("int tone;  // 肤色（黄、白、黑）".encode())
    with monkeypatch.context() as mp:  # a word stands only for its first entry
        by_word = {w: ids[:1] for w, ids in g._by_word.items()}
        mp.setattr(g, "_by_word", by_word)
        assert violations(corpus)
    assert violations(corpus) == []


# --- Word boundaries: English entries count only where they may start / end a word -------------

BOUNDARY_CLAIMS = [
    "Our cameras detect whether a woman wears a veil.",
    "The system can classify ethnicity of each face.",
    "Residents with a low reputation score are barred from housing.",
    "Police rank offenders by risk for every resident.",
    "We scrape photos from public websites in bulk.",
    "Realtime matching against the blacklist in crowded squares.",
    "Emotion recognition detects anger in every passenger.",
    "The camera recognizes race and religion of pedestrians.",
]
GBK_TRAIL = "丄丅丆丏丒"  # GBK b"\x81A" ... b"\x81E": the second byte is a letter
BIG5_TRAIL = "丁七丈三"  # Big5 b"\xa4B", b"\xa4C", b"\xa4V", b"\xa4T"
GB4 = "ä"  # GB18030 four bytes b"\x810\x8a1": the last one is a digit
# Per form: what may stand right before a word, and right after it (besides nothing).
BOUNDARY_FORMS = {
    "gb18030": ([*GBK_TRAIL, GB4, "Ａ", "（", "-", "_"], ["s", "S", "s" + GBK_TRAIL[0], GBK_TRAIL[1], "_x", "-"]),
    "big5": ([*BIG5_TRAIL, "-", "_"], ["s", "S" + BIG5_TRAIL[0], BIG5_TRAIL[1], "_x"]),
    "utf-16": ([*GBK_TRAIL, "Ａ", "中"], ["s", "Ｓ", "中"]),
    "json": (["中", "é", "\n", "\t", "-"], ["s", "中", "\n", "\u00e9s"]),
    "html-ref": (["中", "©", "é"], ["s", "中", "©"]),
    # markup next to the word: block tags break the text, inline ones join it
    "html-block": (["abc<p>", "</td><td>", "x<br>", "q<div>", "<b>", "no<b>", "x<!-- c -->", "<p>a"],
                   ["<p>x", "</li><li>z", "<b>s</b>", "s<br>k", "<i>x</i>", "<p>"]),
}


def _boundary_page(rng: random.Random, how: str) -> tuple[bytes, str]:
    before, after = BOUNDARY_FORMS[how]
    words = []
    for w in rng.choice(BOUNDARY_CLAIMS).rstrip(".").split(" "):
        left = rng.choice(before) if rng.random() < 0.5 else ""
        right = rng.choice(after) if rng.random() < 0.4 else ""
        words.append(left + w + right)
    text = " ".join(words) + "."
    if how in ("gb18030", "big5", "utf-16"):
        return text.encode(how), "p.txt"
    if how == "json":
        return json.dumps({"doc": {"text": text}}, ensure_ascii=True).encode(), "p.json"  # \u4e2d, \n, \t
    if how == "html-ref":  # numeric references with and without ";", "&copy" without it
        refs = [lambda c: f"&#{ord(c)}", lambda c: f"&#{ord(c)};", lambda c: f"&#x{ord(c):x}"]
        text = "".join(("&copy" if c == "©" else rng.choice(refs)(c)) if ord(c) > 127 else c for c in text)
    return f"<!DOCTYPE html><html><body><p>{text}</p></body></html>".encode(), "p.html"


_CLAIM_WORDS = b"|".join(sorted({w.encode() for c in BOUNDARY_CLAIMS for w in re.findall(r"[a-z]{4,}", c.lower())}))
_TOUCHING = re.compile(rb"[a-z0-9](?:%s)|(?:%s)s?[a-z0-9]" % (_CLAIM_WORDS, _CLAIM_WORDS), re.IGNORECASE)


def _letter_next_to_a_word(data: bytes) -> bool:
    """Whether some letter or digit byte touches a word of the claims (the case under test)."""
    return _TOUCHING.search(data) is not None


@pytest.fixture(scope="module")
def boundary_corpus():
    """{form: [(payload, file name, has a finding)]}, every page built to tempt the boundary checks."""
    rng = random.Random(7)
    out = {}
    for how in BOUNDARY_FORMS:
        pages = []
        for _ in range(120):
            data, name = _boundary_page(rng, how)
            pages.append((data, name, bool(findings(data, name))))
        out[how] = pages
    return out


def boundary_violations(pages) -> list[bytes]:
    return [data for data, name, found in pages
            if found and not (may_contain_claim(data) and may_contain_claim(data, html=is_html(data, name)))]


def test_boundaries_never_lose_a_finding(boundary_corpus):
    from claimwatch.detect.markup import visible

    for how, pages in boundary_corpus.items():
        assert boundary_violations(pages) == [], how
        # positives where a letter byte touches a word (UTF-16: were it written in GB18030; markup:
        # once the gate has removed it)
        shown = {"utf-16": lambda d: d.decode("utf-16").encode("gb18030"), "html-block": visible}.get(how, bytes)
        tempting = [d for d, _n, found in pages if found and _letter_next_to_a_word(shown(d))]
        assert len(tempting) >= 15, how


def test_boundary_mutations_are_caught(boundary_corpus, monkeypatch):
    from claimwatch.detect.markup import visible
    from claimwatch.detect.matcher import matcher

    pf = _get()
    rebuilt = {  # safety rules compiled into the boundary database: the gate is built again
        "_TRAIL_MIN": (0x100, ("gb18030", "big5")),  # trail bytes read as letters of their own
        "_ESCAPE_LEAD": (frozenset(), ("json", "html-ref")),  # \u4e2d, &#20013 read as letters
    }
    for name, (value, forms) in rebuilt.items():
        with monkeypatch.context() as mp:
            mp.setattr(gate_mod, name, value)
            mp.setattr(pf, "gate", gate_mod.Gate(matcher(), LEX))
            for how in forms:
                assert boundary_violations(boundary_corpus[how]), (name, how)
    with monkeypatch.context() as mp:  # removed markup read as joined text
        mp.setattr(gate_mod, "visible_marked", lambda data: (visible(data), visible(data)))
        assert boundary_violations(boundary_corpus["html-block"])
    for pages in boundary_corpus.values():
        assert boundary_violations(pages) == []


def test_iso_2022_and_hz_pages_are_not_checked(monkeypatch):
    # ISO-2022-JP: "女" is b"=w" between ESC shifts, then ESC ( B: the "B" before "veil" is no letter
    text = "Our cameras detect whether a woman wears a 女veil."
    page = f'<html><head><meta charset="iso-2022-jp"></head><body><p>{text}</p></body></html>'.encode("iso-2022-jp")
    assert b"\x1b(Bveil" in page and findings(page, "p.html")
    assert may_contain_claim(page) and may_contain_claim(page, html=True)
    with monkeypatch.context() as mp:  # mutation: the guard off -- the page is lost
        mp.setattr(gate_mod, "shifted", lambda data: False)
        assert not may_contain_claim(page, html=True)
    hz = "Our cameras detect whether a woman wears a 丁veil.".encode("hz")
    assert b"~}veil" in hz and may_contain_claim(hz)


def test_boundaries_reject_words_inside_words():
    g = _get().gate
    # "veil" (a strong religion term) inside "surveillance": on every page of a surveillance vendor
    for data in (b"Our surveillance cameras cover every entrance.", "监控：surveillance cameras".encode("gbk"),
                 b"<p>Surveillance <b>cameras</b></p>", b'{"t": "surveillance cameras"}'):
        assert anchor_pass(data)
        terms, strong, _cues = g.facts(data)
        assert "religion" not in terms and "religion" not in strong, data
        assert not may_contain_claim(data) and not may_contain_claim(data, html=True), data
    # the same word standing alone, pluralised, after a removed tag, after a trail byte: counted
    for data, html in ((b"a veil.", False), (b"veils", False), (b"VEILS!", False), (b"<b>sur</b>veil", True),
                       (b"x<p>veil", True), ("丄veil".encode("gbk"), False), (b"\\u4e2dveil", False),
                       (b"&#20013veil", False), (b"&copyveil", True), ("ａveil".encode(), False)):
        if html:
            data = visible_cuts_facts(g, data)
        else:
            data = g.facts(data)
        assert "religion" in data[1], data
    # letters between the last removed tag and the word are letters of the text ("no<b>xveil")
    assert "religion" not in visible_cuts_facts(g, b"<p>no<b>xveil</b></p>")[1]
    assert "religion" not in visible_cuts_facts(g, b"<p>x</p>veilz")[1]  # open before, not after
    # a word split by inline markup is not in the marked bytes: counted, as its edges were not judged
    assert "religion" in visible_cuts_facts(g, b"x<p>ve<b>il</b>")[1]
    with pytest.MonkeyPatch.context() as mp:  # mutation: no such fallback -- "x\nveil" is lost
        mp.setattr(gate_mod._Page, "straddles", lambda self, word: False)
        assert "religion" not in visible_cuts_facts(g, b"x<p>ve<b>il</b>")[1]
    # ... also where the word overlaps itself, which bytes.count would not see ("abab" at 1 spans it)
    assert gate_mod._Page(b"xababab", b"xab\x00abab", True).straddles(b"abab")
    assert not gate_mod._Page(b"xababab", b"x\x00ababab", True).straddles(b"abab")
    assert not gate_mod._Page(b"x veil", b"x\x00 veil", True).straddles(b"veil")
    # a plural "s" followed by a letter is no plural ("veilsx"); the first occurrence does not decide
    assert "religion" not in g.facts(b"veilsx surveillance")[1]
    assert "religion" in g.facts(b"surveillance surveillance, veil")[1]


def visible_cuts_facts(g, data: bytes):
    """The gate's facts of an HTML page as passes(html=True) reads it."""
    from claimwatch.detect.markup import visible_marked

    return g.facts(*visible_marked(data))


# Invented English vendor pages with no claim: many hold "surveillance" and common cue words.
VENDOR_PAGES = [
    "Our surveillance cameras cover every entrance, parking lot and loading dock. Footage is stored for "
    "30 days on encrypted servers in your own data centre.",
    "The surveillance platform supports H.265 compression, PoE power and remote firmware updates over a "
    "secure channel. Installers configure it from a browser.",
    "Video surveillance for retail: count visitors at each door, measure queue length and receive alerts "
    "when a shelf is empty.",
    "Download the surveillance management software for Windows and Linux. The release notes list the "
    "supported camera models and known issues.",
    "Contact our sales team for a quote on surveillance kits for warehouses, schools and offices. "
    "Delivery within five working days.",
    "Night vision up to 30 m, IP67 weatherproof housing, two-way audio and motion-triggered recording "
    "make this our best-selling outdoor surveillance camera.",
    "Manage thousands of surveillance devices from one dashboard, with role-based access, audit logs and "
    "scheduled health reports.",
    "Case study: a logistics park replaced 400 analogue surveillance cameras with 4K network cameras and "
    "cut storage costs by half.",
    "Our surveillance recorders unveil a new storage engine: faster search across months of footage.",
    "Thermal surveillance cameras watch perimeter fences at night and raise an alarm when a vehicle stops.",
]


def test_vendor_pages_without_claims_are_rejected(monkeypatch):
    g = _get().gate
    forms = [(text.encode(), f"<html><body><p>{text}</p></body></html>".encode()) for text in VENDOR_PAGES]
    for text in VENDOR_PAGES:
        assert not findings(text.encode(), "p.txt"), text
    assert all(anchor_pass(raw) for raw, _h in forms)
    rejected = sum(not may_contain_claim(raw) for raw, _h in forms)
    rejected_html = sum(not may_contain_claim(h, html=True) for _r, h in forms)
    with monkeypatch.context() as mp:  # without boundaries: the words inside words count
        mp.setattr(g, "_lit_open", [True] * len(g._lit_open))
        before = sum(not may_contain_claim(raw) for raw, _h in forms)
    assert rejected == rejected_html == len(forms), (rejected, rejected_html)
    assert before == 0, before  # all of them passed on "veil" in "surveillance" (and cue words in words)


def test_limits_the_gate_assumes():
    from claimwatch.extract.jsontext import render
    from claimwatch.extract.limits import DEFAULT_LIMITS

    # where the text may be cut (and any word end there), the gate does not judge word ends
    assert (gate_mod.MAX_CHARS, gate_mod.MAX_HTML_BYTES, gate_mod.MAX_INPUT_BYTES) == (
        DEFAULT_LIMITS.max_chars, DEFAULT_LIMITS.max_html_bytes, DEFAULT_LIMITS.max_input_bytes)
    # rendered JSON grows by less than JSON_GROWTH per byte, even nested deep or full of exponents
    for doc in ("[" * 400 + "]" * 400, "[" + ",".join(["1e15"] * 500) + "]", '{"a":' * 100 + "0" + "}" * 100,
                "[" * 20 + ",".join(["[]"] * 300) + "]" * 20):
        assert len(render(json.loads(doc))) < gate_mod.JSON_GROWTH * len(doc), doc[:20]
    # a payload too large to judge word ends: "veil" before a letter counts
    g = _get().gate
    big = b"x" * (gate_mod.MAX_CHARS // gate_mod.JSON_GROWTH) + b" veilx"
    assert "religion" not in g.facts(b" veilx")[1]
    assert "religion" in g.facts(big, check_right=False)[1]
    assert g.passes(b"Our cameras detect whether a woman wears a veilx " + big)


# --- Short words looked for later ("of", "to", "a"): a small scan, only where needed -------------

@functools.cache
def _word_literal_sets(words: tuple[str, ...]) -> list[set[bytes]]:
    from claimwatch.detect.normalize import norm_table
    from claimwatch.detect.rawforms import literals, variants

    var = variants(norm_table(), {c for w in words for c in w})
    return [{lit.lower() for lit in literals(w, var)} for w in words]


def _present_by_hand(g, data: bytes) -> dict[int, int]:
    """Every word one of whose literals occurs in `data` (caseless), found without Hyperscan."""
    low = data.lower()
    return {i: gate_mod._ALL for i, lits in enumerate(_word_literal_sets(tuple(g.words)))
            if any(lit in low for lit in lits)}


def test_short_words_are_left_out_of_the_main_scan_only_where_safe():
    g = _get().gate
    later = {w for _others, words in g._later_entries for w in words}
    names = sorted(g.words[w] for w in later)
    assert {"of", "to", "a", "in"} <= set(names), names
    assert all(n.isascii() and len(n) < gate_mod.MIN_BOUNDED for n in names)
    for ws, *_rest in g._entries:  # each entry holding one also needs a word of the main scan
        if later.intersection(ws):
            assert set(ws) - later
    main = {w for pid in range(len(g.literals)) for w in g._lit_words[g._lit_start[pid] : g._lit_start[pid + 1]]}
    assert not later & main and all(len(lit) > 1 for lit in g.literals)


def test_short_words_are_found_wherever_they_are():
    g = _get().gate
    of = g.words.index("of")
    race_of = [e for e in g._entries if [g.words[w] for w in e[0]] == ["race", "of"]]
    assert race_of  # the lexicon's term "race of" (else pick another entry with a short word)
    filler = b"lorem ipsum dolor sit amet " * 1500  # no "of" in 40 KB
    for data, has in [(b"the race starts at nine", False), (b"race " + filler + b"of", True),
                      (filler + b"OF the race", True), ("race ｏｆ".encode(), True), ("race ｏｆ".encode("gbk"), True),
                      (b"race " + filler + b"off", True), (b"race" + filler, False)]:
        present = g._present(data, True)
        assert (of in present) == has, data[-40:]
        terms = g._collect(present, None)[0]
        assert len(terms.get("race", ())) == (2 if has else 1), data[-40:]
    # not looked for where no entry could use it: no race (nor any other long word of its entries)
    assert of not in g._present(b"a sentence of words", True)


def test_short_words_give_the_facts_a_full_scan_gives():
    """Random pages of lexicon words, short words and filler in several encodings: the facts from
    the two scans equal those from every word's literals looked for by hand."""
    g = _get().gate
    rng = random.Random(7)
    later = sorted({g.words[w] for _o, ws in g._later_entries for w in ws})
    longer = sorted({g.words[w] for others, _ws in g._later_entries for w in others})
    pool = later + longer + rng.sample(g.words, 120) + ["lorem", "ipsum", "the", "该系统", "and"]
    for n in range(250):
        words = [rng.choice(pool) for _ in range(rng.randint(1, 30))]
        text = " ".join(w.upper() if rng.random() < 0.2 else w for w in words)
        data = text.encode(rng.choice(["utf-8", "gb18030", "big5"]), "ignore")
        assert g._collect(g._present(data, False), None) == g._collect(_present_by_hand(g, data), None), text
