"""The worker's shortcut for records whose stored bytes hold no anchor (worker.scan_file):
`httpmsg.plain_body_start` and `prefilter.only_raw_reading` may only say "nothing to find" where
the full path (http_payload, then may_contain_claim with raw_clear=True) says so too."""

from __future__ import annotations

import codecs
import gzip
import itertools
import random

import pytest

from claimwatch.detect.prefilter import anchor_ends, may_contain_claim, only_raw_reading
from claimwatch.scan.httpmsg import http_payload, plain_body_start
from support_warc import chunk

BODIES = {
    "ascii": b"<html><body><p>Plain product copy about lenses and storage.</p></body></html>\n" * 40,
    "ascii-odd": b"<p>odd length body</p>" * 31 + b"x",
    "utf8-zh": "<p>智能摄像机产品说明，支持多路存储与远程管理。</p>".encode() * 40,
    "gbk-zh": "<p>智能摄像机产品说明，支持多路存储与远程管理。</p>".encode("gbk") * 40,
    "big5-zh": "<p>智慧攝影機產品說明，支援多路儲存與遠端管理。</p>".encode("big5") * 40,
    "utf16le-bom": codecs.BOM_UTF16_LE + "智能摄像机 product".encode("utf-16-le") * 30,
    "utf16be-bom": codecs.BOM_UTF16_BE + "智能摄像机 product".encode("utf-16-be") * 30,
    "utf16le-nobom": "智能摄像机 product".encode("utf-16-le") * 30,
    "utf16le-cjk-only": "智能摄像机产品说明书".encode("utf-16-le") * 30,  # no NUL, no BOM
    "utf32": "camera".encode("utf-32"),
    "pdf": b"%PDF-1.7\n" + bytes(range(1, 256)) * 8,
    "nul-inside": b"<p>text</p>\x00<p>more</p>" * 10,
    "empty": b"",
    # with a claim, written so that the raw bytes hold no anchor but a wide reading does
    "claim-utf16le": "该摄像机支持维吾尔族人脸识别".encode("utf-16-le") * 3,
    "claim-utf16be": codecs.BOM_UTF16_BE + "supports Uyghur ethnicity recognition".encode("utf-16-be"),
}


def _blocks():
    for (name, body), te, ce in itertools.product(BODIES.items(), (None, "chunked"), (None, "gzip")):
        head = [b"HTTP/1.1 200 OK", b"Content-Type: text/html"]
        data = body
        if ce:
            head.append(b"Content-Encoding: " + ce.encode())
            data = gzip.compress(data, mtime=0)
        if te:
            head.append(b"Transfer-Encoding: " + te.encode())
            data = chunk(data, 97)
        for eol in (b"\r\n", b"\n"):
            yield f"{name}/{te}/{ce}/{len(eol)}", eol.join(head) + eol + eol + data
    for name, body in BODIES.items():
        yield f"{name}/not-http", body
    yield "headers-only", b"HTTP/1.1 302 Found\r\nLocation: /x\r\n"


@pytest.mark.parametrize("name, block", list(_blocks()))
def test_shortcut_agrees_with_the_full_path(name, block):
    start = plain_body_start(block)
    payload = http_payload(block)[0]
    if start is None:
        assert b"-encoding:" in block.lower()  # only a coded body needs the full split
        return
    assert block[start:] == payload  # the body as http_payload gives it, without a copy
    if only_raw_reading(block, start) and not anchor_ends(payload):
        assert payload and not may_contain_claim(payload, raw_clear=True), name


def test_shortcut_takes_the_common_cases_and_leaves_the_others():
    def quick(body: bytes) -> bool:
        block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
        return only_raw_reading(block, plain_body_start(block))

    assert quick(BODIES["ascii"]) and quick(BODIES["ascii-odd"])
    assert quick(BODIES["utf8-zh"] + b"x")  # odd length: no UTF-16 reading without BOM or NUL
    for name in ("utf16le-bom", "utf16be-bom", "utf16le-nobom", "utf32", "pdf", "nul-inside", "empty",
                 "claim-utf16le", "claim-utf16be"):
        assert not quick(BODIES[name]), name
    # even-length non-ASCII bodies go to the full check (it decides on UTF-8 / UTF-16 validity)
    assert not quick(BODIES["utf8-zh"]) and not quick(BODIES["gbk-zh"])
    # the claims above are found by the full check, on a reading the shortcut never vouches for
    for name in ("claim-utf16le", "claim-utf16be"):
        assert not anchor_ends(BODIES[name]) and may_contain_claim(BODIES[name], raw_clear=True), name


def test_shortcut_on_random_bytes():
    rng = random.Random(7)
    alphabet = [b"a", b"<p>", b" ", b"\xe4\xb8\xad", b"\xd6\xd0", b"\x00", b"\xff\xfe", b"%PDF-", b"\r\n"]
    for _ in range(3000):
        body = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        block = b"HTTP/1.0 200\r\n\r\n" + body
        start = plain_body_start(block)
        assert block[start:] == body
        if only_raw_reading(block, start) and not anchor_ends(body):
            assert not may_contain_claim(body, raw_clear=True)


def _legacy_pages(n: int, seed: int) -> list[bytes]:
    """Even-length GBK / Big5 pages of random common characters: not UTF-8, and many decode
    strictly as UTF-16 -- the payloads whose wide readings the raw-bytes pre-check spares."""
    rng = random.Random(seed)
    common = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
    pages = []
    for i in range(n):
        text = "".join(rng.choice(common) for _ in range(rng.randrange(200, 2000)))
        data = text.encode("gbk" if i % 2 else "big5", "ignore")
        pages.append(data if len(data) % 2 == 0 else data + b"x")
    return pages


def test_nul_free_utf16_precheck_drops_only_readings_without_an_anchor(monkeypatch):
    from claimwatch.detect import prefilter
    from claimwatch.detect.rawforms import wide_readings

    pf = prefilter._get()
    pages = _legacy_pages(120, 5)
    # UTF-16 readings with an anchor in them: a claim written in UTF-16 without BOM or NUL bytes
    # (CJK only), alone, in a longer text, and big-endian
    text = "该摄像机支持维吾尔族人脸识别"
    filler = "产品说明书记录存储管理" * 20
    claims = [text.encode("utf-16-le"), (filler + text + filler).encode("utf-16-le"),
              text.encode("utf-16-be"), (filler + text).encode("utf-16-be")]
    assert all(b"\x00" not in c and wide_readings(c) for c in claims)
    pages += claims
    spared = sum(bool(wide_readings(p)) and pf._no_wide_anchor(p) for p in pages)
    assert spared > 40  # the shortcut is taken for many legacy pages ...
    new = [may_contain_claim(p) for p in pages] + [may_contain_claim(p, raw_clear=True) for p in pages]
    monkeypatch.setattr(pf, "_no_wide_anchor", lambda data: False)  # the full path: every wide reading decoded
    old = [may_contain_claim(p) for p in pages] + [may_contain_claim(p, raw_clear=True) for p in pages]
    assert new == old  # ... and changes no answer
    n = len(pages)
    assert all(new[n - 4 : n]) and all(new[-4:])  # the claims pass, raw bytes scanned or not


def test_reader_hands_over_only_the_offsets_of_records_turned_away(tmp_path):
    # The parallel reader asks `skip` about each record whose block holds no anchor, and yields
    # the offset of those it turns away instead of the record: one item per record all the same,
    # the others as the exact reader gives them, and the scan's findings and counts unchanged.
    from claimwatch.scan import inflate, readers, worker
    from support_warc import make_pages, write_warc

    if not inflate.AVAILABLE:
        pytest.skip("no inflate helper here")
    path = str(tmp_path / "s.warc.gz")
    write_warc(path, make_pages(300, filler_paragraphs=40))
    asked = []

    def skip(block, http):
        asked.append(block)
        assert not anchor_ends(block) and http == block.startswith(b"HTTP/")
        return worker._nothing_to_find(block, http)

    fast = list(readers.iter_file(path, anchors=worker.anchors(), parallel=True, skip=skip))
    exact = list(readers.iter_file(path, parallel=False))
    assert len(fast) == len(exact) and asked
    skipped = 0
    for got, want in zip(fast, exact):
        if type(got) is int:
            skipped += 1
            assert got == want.offset and worker._nothing_to_find(want.block, worker._is_http(want))
        else:
            assert (got.offset, got.record_id, got.block) == (want.offset, want.record_id, want.block)
    assert 0 < skipped < len(fast)  # (claim pages hold anchors: never turned away)
    with_skip = worker.scan_file(path, parallel=True)
    without = worker.scan_file(path, parallel=False)
    assert with_skip.findings == without.findings and with_skip.records == without.records == len(exact)
    assert with_skip.findings
