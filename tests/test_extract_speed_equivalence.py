"""The fast paths of extract/ give exactly what the straightforward code gave.

html_text (inline elements unwrapped so that lexbor's text separator marks the blocks, white space
collapsed by str.split()), decode (one strict decode standing in for the sample check plus the
full decode) and looks_binary (one translate) were rewritten for the bulk scanner. The code they
replaced is kept below, frozen, as the reference; every input is run through both and the results
must be identical, character for character: hand-made edge cases, seeded random markup and bytes,
the HTML of tests/data, the pages of the shared real WARC files and, when the benchmark corpus has
been generated, the pages the scanner's prefilter passes.
"""

from __future__ import annotations

import functools
import glob
import importlib
import json
import random
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from claimwatch.extract import charset as cs
from claimwatch.extract import extract
from claimwatch.extract import html as hx
from support_paths import CORPORA

sx = importlib.import_module("claimwatch.extract.sniff")  # the package re-exports a function of that name

ROOT = Path(__file__).resolve().parent.parent


# --- the reference: the code as it was before the fast paths -----------------------------------

def ref_html_text(markup: str, max_depth: int) -> tuple[str, str | None, list[str]]:
    notes: list[str] = []
    markup = markup.replace(hx._MARK, "")
    flattened = hx._cap_depth(markup, max_depth)
    if flattened is not None:
        markup = flattened
        notes.append(f"HTML nested deeper than {max_depth} elements; deeper tags ignored")
    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title")
    title = hx._collapse(title_node.text(deep=True)) if title_node is not None else None
    root = tree.body or tree.root
    if root is None:
        return "", title or None, notes
    for node in reversed(root.css(",".join(hx.DROP))):
        node.decompose()
    for node in reversed(root.css("pre,textarea,plaintext,listing,xmp")):
        node.replace_with(hx._MARK + node.text(deep=True).replace("\n", hx._MARK) + hx._MARK)
    for node in root.css("br"):
        node.replace_with(hx._MARK)
    for node in root.css(",".join(hx.BLOCKS)):
        node.insert_before(hx._MARK)
        node.insert_after(hx._MARK)
    raw = hx._SPACE_RE.sub(" ", root.text(deep=True))
    lines = (part.strip() for part in raw.split(hx._MARK))
    return "\n".join(line for line in lines if line), title or None, notes


def ref_utf8_evident(data: bytes) -> bool:
    sample = cs._window(data)
    if sample.isascii():
        return False
    text, errors = cs._sample(sample, "utf-8")
    return errors == 0 and sum(1 for ch in text if ord(ch) >= 0x80) >= 2


def ref_decode(data: bytes, *, declared: str | None = None, html: bool = False, cut: bool = False) -> cs.Decoded:
    notes: list[str] = []
    bom = cs.sniff_bom(data)
    if bom:
        name, skip = bom
        return cs.Decoded(cs._decode_all(data[skip:], name, cut), name, notes)
    for source, label in (("HTTP header", declared), ("<meta>", cs.meta_charset(data) if html else None)):
        if not label:
            continue
        codec = cs.normalize_label(label)
        if codec is None:
            notes.append(f"unknown charset {label!r} in {source} ignored")
            continue
        if source == "<meta>" and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
        chosen, errors = cs._best_of_family(data, codec)
        if not codec.startswith("utf-") and ref_utf8_evident(data):
            notes.append(f"charset {label!r} from {source} does not fit the bytes; decoded as utf-8")
            return cs.Decoded(cs._decode_all(data, "utf-8", cut), "utf-8", notes)
        if codec in cs._WEAK or errors:
            detected = cs._detect(data)
            if detected and cs._convincing(detected, codec, errors):
                notes.append(f"charset {label!r} from {source} does not fit the bytes; decoded as {detected[0]}")
                return cs.Decoded(cs._decode_all(data, detected[0], cut), detected[0], notes)
        return cs.Decoded(cs._decode_all(data, chosen, cut), chosen, notes)
    utf16 = cs.utf16_guess(data[:8192])
    if utf16:
        return cs.Decoded(cs._decode_all(data, utf16, cut), utf16, notes)
    detected = cs._detect(data)
    if detected:
        return cs.Decoded(cs._decode_all(data, detected[0], cut), detected[0], notes)
    if not data:
        return cs.Decoded("", None, notes)
    best = min(("utf-8", "gb18030", "big5hkscs"), key=lambda c: cs._sample(cs._window(data), c)[1])
    notes.append(f"charset not recognised; decoded as {best} with replacement characters")
    return cs.Decoded(cs._decode_all(data, best, cut), best, notes)


def ref_looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    if cs.utf16_guess(sample):
        return False
    nul = sample.count(0)
    control = sum(sample.count(b) for b in sx._CONTROL)
    return nul > len(sample) // 100 or (nul + control) > len(sample) // 20


# --- comparison helpers --------------------------------------------------------------------------

def same_html(markup: str, max_depth: int = 256) -> None:
    assert hx.html_text(markup, max_depth) == ref_html_text(markup, max_depth), markup[:300]


def _outcome(fn, *args, **kw):
    # A codec error must stay the same error.
    try:
        d = fn(*args, **kw)
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return type(exc).__name__, str(exc)
    return d.text, d.charset, d.notes


def same_decode(data: bytes, declared: str | None, html: bool, cut: bool = False) -> None:
    new = _outcome(cs.decode, data, declared=declared, html=html, cut=cut)
    old = _outcome(ref_decode, data, declared=declared, html=html, cut=cut)
    assert new == old, (data[:200], declared, cut)
    assert cs._utf8_evident(data) == ref_utf8_evident(data), data[:200]
    assert sx.looks_binary(data) == ref_looks_binary(data), data[:200]


# --- hand-made HTML --------------------------------------------------------------------------------

EDGE_HTML = [
    "",
    "   ",
    "plain text, no tags at all",
    "<p>one</p><p>two</p>",
    "<div>outer <div>inner <p>para</p> tail</div> after</div>",
    "<div><p>a</p>b<span>c</span><p>d</p></div>e",
    "word<b>bold</b>word <i> italic </i> end",
    "<p>人脸<span>属性</span>分析</p><p>民族<b>识别</b></p>",
    "<pre>line 1\n  indented line 2\n\n\tline 4</pre> after <pre></pre>",
    "<p>before<pre>\nfirst\r\nsecond  </pre>after</p>",
    "<textarea>a\nb  c</textarea><xmp><b>not bold</b>\nx</xmp><listing>l1\nl2</listing>",
    "<div>a<br>b<br/>c<br />d</br>e</div>",
    "<table><caption>Cap</caption><tr><th>h1</th><th>h2</th></tr><tr><td>c1</td><td> c2 </td></tr></table>",
    "<table>stray text<tr><td>cell</td></tr>more stray</table>",
    "<dl><dt>Attribute output</dt><dd>gender, age band</dd><dt>skin tone</dt><dd>yellow / white</dd></dl>",
    "<ul><li>one<li>two<ul><li>nested</li></ul><li>three</ul><ol><li>x</li></ol>",
    "<p hidden>hidden paragraph</p><div style='display:none'>also hidden</div><span hidden>span</span>",
    "<script>var x = '<p>no</p>';</script><style>p{}</style><noscript>ns</noscript><template><p>t</p></template>x",
    "<svg><text>svg text</text><title>t</title></svg><math><mi>x</mi></math><iframe>if</iframe>visible",
    "<object>obj<p>inside</p></object><embed src=x>after embed",
    "<noembed>raw <p> text</noembed><noframes>frames <b>x</b></noframes>",
    "a&nbsp;b&nbsp;&nbsp;c &amp; &lt;tag&gt; &quot;q&quot; &#x3000;d&#12288;e &#8203;f&#x200b;g",
    "x&#x1c;y&#x85;z&#x2028;w&#x2029;v&#x202f;u&#x205f;t&#x1680;s &#11;r",
    "marker&#xfdd0;inside <p>&#xFDD0;</p> and literal \ufdd0 char",
    "tabs\tand\r\nnewlines\r and\fform\vfeed\u00a0nbsp\u2000en\u2003em\u200bzw\u3000ideo",
    "  <p>  leading and trailing  </p>  ",
    "<div>\n  <p>\n    indented\n    text\n  </p>\n</div>\n",
    "<p>unclosed <div>div in p <p>second",
    "<div class='x>y'>attr with gt</div><p title=\"a\nb\">attr nl</p>",
    "<<p>>double<</p>> <p <b>broken</b> </ </p",
    "<!-- comment <p>not</p> -->vis<!-- unclosed comment <div>",
    "<!doctype html><html><head><title> The  Title </title></head><body><p>body</p></body></html>",
    "<html><head><title>t1</title></head><body><title>t2</title><p>x</p></body></html>",
    "<frameset><frame src=a></frameset>",
    "<head><meta charset=utf-8></head>",
    "<body><h1>H</h1><h2>h2</h2><header>hd</header><footer>ft</footer><nav>nv</nav><main>mn</main></body>",
    "<form><label>L</label><button>B</button><select><option>o1</option><option>o2</select><fieldset>"
    "<legend>lg</legend></fieldset></form>",
    "<details><summary>S</summary>body</details><dialog>dlg</dialog><figure><img alt=x><figcaption>fc"
    "</figcaption></figure>",
    "<center>c</center><address>ad</address><blockquote>bq</blockquote><hr><menu><li>m</li></menu>",
    "<P>UPPER</P><DIV>Case</DIV><Br>x<TD>y",
    "<custom-el>custom</custom-el><tdfoo>unknown</tdfoo><p>x</p>",
    "<plaintext>everything <p> after is text\n second",
    "<object><pre>pre\nin object</pre></object>x<pre>a<script>s</script>\nb<object>o</object>c</pre>",
    "<pre>outer<pre>inner\nline</pre>\ntail</pre><textarea>t<noscript>n</noscript></textarea>",
    "<template><pre>t</pre></template><svg><pre>in svg</pre></svg><pre><svg><text>s</text></svg>\nz</pre>",
    "<div>" * 300 + "deep" + "</div>" * 300,
    "<span>" * 400 + "deep inline" + "</span>" * 400,
    "<div>" * 40 + "<p>mid</p>" + "</div>" * 20 + "tail" + "</div>" * 20,
    "".join(f"<div><p>row {i}</p>text {i}<br></div>" for i in range(500)),
]


@pytest.mark.parametrize("markup", EDGE_HTML, ids=range(len(EDGE_HTML)))
def test_html_text_edge_cases(markup):
    same_html(markup)
    same_html(markup, max_depth=3)


# --- seeded random markup --------------------------------------------------------------------------

_TOKENS = (
    ["<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<b>", "</b>", "<a href='#'>", "</a>", "<br>",
     "<li>", "</li>", "<ul>", "</ul>", "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "<th>",
     "<dl>", "<dt>", "<dd>", "</dl>", "<pre>", "</pre>", "<textarea>", "</textarea>", "<h2>", "</h2>",
     "<script>x<p>y</script>", "<style>.a{}</style>", "<!-- c -->", "<!--", "-->", "<svg>", "</svg>",
     "<template>", "</template>", "<img alt=z>", "<hr>", "<section>", "</section>", "<option>",
     "<noembed>", "</noembed>", "<xmp>", "</xmp>", "<", ">", "</", "&", "&amp;", "&nbsp;", "&#x3000;",
     "&#8203;", "&#xfdd0;", "&#133;", "&lt;p&gt;", "<p hidden>", "<P>", "</DIV>", "<img alt=i>", "<wbr>",
     "<span></span>", "<i><!-- c --></i>", "<a><div>in a</div></a>", "<select><option>o</option></select>",
     "<ruby>r<rt>t</rt></ruby>", "<input>", "<em>", "</em>", "<label>", "</label>", "<tbody>", "<col>",
     "<font>", "</font>", "<custom-tag>", "</custom-tag>", "<?pi x?>", "<![CDATA[c]]>"]
    + ["word", "text", "人脸", "识别", "維族", "分析", "claim", "x.", "。", "!"] * 3
    + [" ", "  ", "\n", "\n  ", "\t", "\r\n", "\u00a0", "\u3000", "\u200b", "\u2003", "\f", "\v"] * 3
    + ["\x1c", "\x85", "\u2028", "\u202f", "\u1680", "\u205f", "\ufdd0"]
)


_SPLIT_ONLY = "\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029\u202f\u205f"


def _random_markup(rng: random.Random) -> str:
    return "".join(rng.choice(_TOKENS) for _ in range(rng.randint(0, 120)))


def test_html_text_random_markup():
    rng = random.Random(20261122)
    for _ in range(1500):
        markup = _random_markup(rng)
        if rng.random() < 0.5:  # and half of them none of the white space str.split() knows but not _SPACE_RE
            markup = "".join(ch for ch in markup if ch not in _SPLIT_ONLY)
        same_html(markup)


def test_html_text_regex_path_for_white_space_only_str_split_knows():
    # A text holding such white space (anywhere) is collapsed by the regex: same result.
    rng = random.Random(8)
    for markup in EDGE_HTML + [_random_markup(rng) for _ in range(300)]:
        odd = rng.choice(_SPLIT_ONLY)
        same_html(markup + odd)
        same_html(odd + " <p> a" + odd + "\u200b b </p>" + markup)


# --- charsets --------------------------------------------------------------------------------------

ZH = "本平台支持属性分析功能，可实时识别并在发现后自动推送。产品介绍：视频结构化服务器。"
ZH_T = "產品介紹：本平臺支持屬性分析功能，可即時識別並自動推送。視訊結構化伺服器。"
LATIN = "Produktbeschreibung: Gerät für Überwachung, café, naïve — “quotes” € ™"


def _byte_cases() -> list[tuple[bytes, str | None]]:
    """(bytes, declared label) covering every branch of decode()."""
    pages = []
    for text, enc in ((ZH, "utf-8"), (ZH, "gbk"), (ZH, "gb18030"), (ZH_T, "big5"), (ZH_T, "utf-8"),
                      (ZH_T, "gbk"), (LATIN, "utf-8"), (LATIN, "cp1252"), ("plain ascii only", "ascii"),
                      (ZH + "𠀀", "gb18030"), (ZH + "\ufffd", "utf-8"), (ZH + "\ufffd", "gb18030"),
                      (ZH_T, "big5hkscs")):
        body = text.encode(enc)
        for meta in ("", f'<meta charset="{enc}">', '<meta charset="gb2312">', '<meta charset="utf-16">'):
            pages.append(f"<html><head>{meta}</head><body><p>".encode() + body + b"</p></body></html>")
        pages.append(body)
    extra = []
    for page in pages:
        extra.append(page[:-3])  # cut inside the closing markup (or a character)
        extra.append(page[: len(page) // 2])  # likely inside a multibyte character
        extra.append(page[:20] + b"\xff\xfe\x80" + page[20:])  # junk bytes in the middle
        extra.append(page + b"\xe4\xb8")  # truncated UTF-8 at the very end
        extra.append(b"<p>" + b"x" * 300 + page)  # a long ASCII head
    pages += extra
    pages += [b"", b"\xef\xbb\xbf" + ZH.encode(), b"\xff\xfe" + ZH.encode("utf-16-le"), ZH.encode("utf-16-le"),
              "维族".encode("gbk"), "維族".encode("big5"), b"\x1c\x1d" * 400, b"\x00" * 50 + b"text",
              ("<p>ascii page</p>" * 20).encode("utf-16-le"), ("<p>ascii page</p>" * 20).encode("utf-16-be")]
    # No UTF-16/32 labels: their handling changed on purpose after the speed work (BOM-less input used
    # to fail as unreadable); tests/test_extract.py covers it.
    labels = [None, "utf-8", "UTF8", "gbk", "gb2312", "big5", "iso-8859-1", "us-ascii", "windows-1252",
              "shift_jis", "no-such-charset"]
    return [(p, label) for p in pages for label in labels]


@pytest.fixture
def shared_detection(monkeypatch):
    # Detection (unchanged, shared by both sides) dominates the run time: compute it once per input.
    monkeypatch.setattr(cs, "_detect", functools.lru_cache(maxsize=None)(cs._detect))


def test_decode_every_branch(shared_detection):
    rng = random.Random(11)
    for data, label in _byte_cases():
        same_decode(data, label, html=rng.random() < 0.7, cut=rng.random() < 0.3)


def test_encoded_replacement_character_is_an_error_of_a_legacy_declaration():
    # Valid GB18030, but it encodes U+FFFD: the sample check counts that as an error, so detection
    # may overrule the declaration (here Windows-1252 reads every byte as Latin text).
    data = b"<p>Nous sommes caf\xe9t\xe9s, prix \x84\x31\xa4\x37 ok</p>"
    assert data.decode("gb18030").count("\ufffd") == 1
    got = cs.decode(data, declared="gbk", html=True)
    assert got.charset == "cp1252" and "does not fit the bytes" in got.notes[0]
    same_decode(data, "gbk", html=True)


def test_gbk_codec_decodes_like_gb18030_wherever_it_decodes():
    # charset._clean_decode tries Python's faster GBK codec first for GB18030.
    for first in range(256):
        for second in [None, *range(256)]:
            data = bytes([first]) if second is None else bytes([first, second])
            try:
                text = data.decode("gbk")
            except UnicodeDecodeError:
                continue
            assert data.decode("gb18030") == text, data
    four_byte = "𠀀€".encode("gb18030")
    assert cs._clean_decode(four_byte, "gb18030") == "𠀀€"


def test_decode_random_bytes(shared_detection):
    rng = random.Random(7)
    pieces = [ZH.encode("gbk"), ZH.encode("utf-8"), ZH_T.encode("big5"), LATIN.encode("cp1252"), b"<p>ascii</p>",
              b"\xef\xbf\xbd", "\ufffd".encode("gb18030"), b"\x80", b"\xe4", b"\xa4\x40", b"\x84\x31", b"\n"]
    for _ in range(800):
        data = b"".join(rng.choice(pieces)[: rng.randint(1, 60)] for _ in range(rng.randint(1, 12)))
        same_decode(data, rng.choice([None, "utf-8", "gbk", "big5", "latin1"]), html=rng.random() < 0.5,
                    cut=rng.random() < 0.3)


def test_sample_window_boundary():
    # Larger than the detection sample: the sample ends inside a character.
    big = ("<p>" + ZH * 4000 + "</p>").encode("utf-8")
    assert len(big) > cs.SAMPLE_BYTES
    for shift in range(4):
        data = b"<" * shift + big
        for label in (None, "utf-8", "gbk"):
            same_decode(data, label, html=True)
    gb = ("<p>" + ZH * 6000 + "</p>").encode("gbk")
    for shift in range(2):
        same_decode(b" " * shift + gb, "gbk", html=True)
        same_decode(b" " * shift + gb + "\ufffd".encode("gb18030"), "gbk", html=True)


# --- real documents ---------------------------------------------------------------------------------

def _tests_data_html() -> list[tuple[bytes, str | None]]:
    out = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("fmt") not in ("html", "h"):
                continue
            enc = row.get("enc") or "utf-8"
            try:
                data = row["text"].encode(enc)
            except (UnicodeEncodeError, LookupError):
                continue
            out.append((data, None))
            out.append((data, f"text/html; charset={enc}"))
    return out


def _warc_pages(paths: list[str], predicate=None) -> list[tuple[bytes, str | None]]:
    from claimwatch.scan.httpmsg import DecodeError, http_payload
    from claimwatch.scan.readers import NotAnArchive, ReadError, iter_file

    out = []
    for path in paths:
        try:
            items = list(iter_file(path))
        except (NotAnArchive, OSError, ValueError):
            continue
        for item in items:
            if type(item) is ReadError or not item.block.startswith(b"HTTP/"):
                continue
            try:
                payload, ctype, _status = http_payload(item.block)
            except DecodeError:
                continue
            if payload and (predicate is None or predicate(payload)):
                out.append((payload, ctype))
    return out


def _same_documents(docs: list[tuple[bytes, str | None]]) -> None:
    from claimwatch.extract import DEFAULT_LIMITS
    from claimwatch.extract.sniff import sniff

    for data, ctype in docs:
        try:
            kind, _notes = sniff(data, ctype, None)
        except sx.NotText:
            continue
        if kind == "pdf":
            continue
        same_decode(data, cs.charset_from_content_type(ctype), html=kind == "html")
        if kind == "html":
            text = cs.decode(data, declared=cs.charset_from_content_type(ctype), html=True).text.lstrip("\ufeff")
            same_html(text, DEFAULT_LIMITS.max_html_depth)
        extract(data, content_type=ctype)  # and the whole path runs


def test_tests_data_documents():
    docs = _tests_data_html()
    assert len(docs) >= 10
    _same_documents(docs)


@pytest.mark.skipif(not CORPORA.is_dir(), reason="shared WARC corpora not present")
def test_real_warc_pages():
    paths = sorted(str(p) for p in CORPORA.rglob("*") if p.is_file() and ".warc" in p.name or p.suffix == ".arc")
    docs = _warc_pages(paths)
    assert docs
    _same_documents(docs)


BENCH = sorted(glob.glob(str(ROOT / "bench" / "_data" / "cc-like-0*.warc.gz")))


@pytest.mark.skipif(not BENCH, reason="benchmark corpus not generated (bench/scan_bench.py)")
def test_bench_prefilter_candidates():
    from claimwatch.detect.prefilter import may_contain_claim

    docs = _warc_pages(BENCH[:2], may_contain_claim)
    assert docs
    _same_documents(docs)


# ---------------------------------------------------------------- charset detection's character counts

def _western_reference(sample: bytes) -> bool:
    text, errors = cs._sample(sample, "cp1252")
    if errors:
        return False
    high = [ch for ch in text if ord(ch) >= 0x80]
    letters = sum(1 for ch in high if cs.unicodedata.category(ch)[0] == "L")
    ascii_letters = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return letters <= ascii_letters and all(
        ("\u00a0" <= ch <= "\u024f") or ("\u2010" <= ch <= "\u203a") or ch in "\u20ac\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
        for ch in high
    )


@pytest.mark.parametrize("seed", range(6))
def test_western_and_chinese_counts_match_the_per_character_loops(seed, monkeypatch):
    # _western and _chinese count characters with regular expressions and bytes.translate instead
    # of Python loops over the sample; same answers on random Latin-1/CP1252/GBK/Big5 byte mixes.
    rng = random.Random(seed)
    pieces = [b"plain English text ", b"caf\xe9 ", b"\x93quoted\x94 ", b"\x80 ", "中文字符".encode("gbk"),
              "繁體中文".encode("big5"), b"\x81\x40", b"\xa4\x40", b"\xff\xfe", bytes(range(0x80, 0x100))]
    for _ in range(300):
        sample = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        assert cs._western(sample) == _western_reference(sample), sample
    # _chinese: the CJK letters it scores are those the loop picked
    real_findall = cs._CJK_RANGE.findall
    seen = []
    monkeypatch.setattr(cs, "_CJK_RANGE", type("R", (), {"findall": staticmethod(lambda t: seen.append(t) or real_findall(t))}))
    for _ in range(50):
        sample = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        cs._chinese(sample)
    assert seen and all(real_findall(t) == [ch for ch in t if ord(ch) >= 0x2E80] for t in seen)
