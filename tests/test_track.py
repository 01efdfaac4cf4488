"""Claim identity and lifecycle events from hand-built ArchivedCaptures (real extract + detect)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from claimwatch.archive.types import ArchivedCapture, RecordRef
from claimwatch.store import open_store, queries
from claimwatch.track import ingest, ingest_capture

URL = "https://vendor.example/products/nv-9000"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Invented vendor marketing text (claims about a product's capabilities; no real people or data).
ETHNIC = "NV-9000 智能摄像机支持维吾尔族识别，可自动区分维族与汉族人员。"
EMOTION = "ClassSense 课堂系统可实时识别学生的情绪，并向教师报告专注度和情绪状态。"
FILLER = "我们的产品防水防尘，适用于各种户外环境。"
FILLER2 = "全新外观设计，安装更加方便，质保三年。"


def page(*paras: str, title: str = "NV-9000 产品介绍", style: str = "") -> bytes:
    body = "".join(f"<p{style}>{p}</p>\n" for p in paras)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1>\n{body}</body></html>").encode()


class Clock:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> datetime:
        self.n += 1
        return T0 + timedelta(days=self.n)


def archived(body: bytes | None, *, at: datetime, status: int | None = 200, url: str = URL,
             final_url: str | None = None, error: str | None = None, probe: bytes | None = None,
             probe_status: int | None = None, ctype: str | None = "text/html; charset=utf-8",
             truncated: bool = False, redirects=()) -> ArchivedCapture:
    cid = uuid.uuid4().hex
    warc = "claimwatch-00001.warc.gz"
    meta = RecordRef(warc=warc, offset=900, record_id=f"<urn:uuid:{uuid.uuid4()}>", record_type="metadata",
                     target_uri=url, block_sha256=hashlib.sha256(cid.encode()).hexdigest(), payload_sha256=None)
    resp = None
    records = [meta]
    payload = body or b""
    psha = hashlib.sha256(payload).hexdigest() if status is not None else None
    if status is not None:
        resp = RecordRef(warc=warc, offset=100, record_id=f"<urn:uuid:{uuid.uuid4()}>", record_type="response",
                         target_uri=final_url or url, block_sha256="00" * 32, payload_sha256=psha)
        records = [resp, meta]
    return ArchivedCapture(
        capture_id=cid, url=url, final_url=(final_url or url) if status is not None else None, captured_at=at,
        status=status, error=error, vendor="Nimbus (fictional)", resolved_ip="127.0.0.1",
        content_type=ctype if status is not None else None, payload=payload, payload_sha256=psha,
        redirects=list(redirects), response=resp, records=records, probe_status=probe_status,
        probe_payload=probe, truncated=truncated,
    )


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'claimwatch.db'}") as st:
        yield st


def run(store, a: ArchivedCapture) -> list[dict]:
    with store.session() as s:
        return [queries.event_record(e) for e in ingest(s, a)]


def outcome(store, a: ArchivedCapture) -> tuple[str, list[str]]:
    with store.session() as s:
        res = ingest_capture(s, a)
        return res.capture.outcome, [e.kind for e in res.events]


def all_claims(store) -> list[dict]:
    with store.session() as s:
        return [queries.claim_record(c) for c in queries.claims(s)]


def all_events(store) -> list[dict]:
    with store.session() as s:
        return [queries.event_record(e) for e in queries.events(s)]


def test_first_capture_reports_each_claim_once(store):
    clock = Clock()
    a = archived(page(FILLER, ETHNIC, EMOTION), at=clock())
    evs = run(store, a)
    assert [e["event"] for e in evs] == ["claim_appeared", "claim_appeared"]
    assert [e["category"] for e in evs] == ["ethnicity", "emotion"]  # in text order
    assert evs[0]["previous_capture"] is None
    assert evs[0]["capture"] == {"id": a.capture_id, "warc": a.response.warc, "record_id": a.response.record_id,
                                 "sha256": a.payload_sha256}
    assert "维吾尔族" in evs[0]["excerpt"]
    cl = all_claims(store)
    assert {c["status"] for c in cl} == {"live"} and all(c["removed_at"] is None for c in cl)


def test_cosmetic_edits_keep_claim_identity(store):
    clock = Clock()
    run(store, archived(page(FILLER, ETHNIC, EMOTION), at=clock()))
    ids = [c["claim_id"] for c in all_claims(store)]
    # New markup, attributes, whitespace, surrounding sentences, Traditional script, full-width punctuation.
    trad = "NV-9000 智能攝像機支持維吾爾族識別，可自動區分維族與漢族人員。"
    emo = EMOTION.replace("，", " ,  ").replace("实时", "<b>实时</b>")
    v2 = page(FILLER2, "第二段完全不同的介绍文字。", trad, emo, style=' class="lead"', title="NV-9000 新版")
    assert run(store, archived(v2, at=clock())) == []
    # Words edited inside the claim sentence (still the same claim).
    v3 = page("NV-9000 高清智能摄像机全面支持维吾尔族识别，能够自动区分维族与汉族人员。", EMOTION)
    assert run(store, archived(v3, at=clock())) == []
    after = all_claims(store)
    assert [c["claim_id"] for c in after] == ids
    assert all(c["status"] == "live" for c in after)
    assert after[0]["last_seen"] == (T0 + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert after[0]["first_seen"] == (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")


def test_removed_then_reappeared(store):
    clock = Clock()
    a1 = archived(page(ETHNIC, EMOTION), at=clock())
    run(store, a1)
    a2 = archived(page(EMOTION, FILLER), at=clock())
    evs = run(store, a2)
    assert [(e["event"], e["category"]) for e in evs] == [("claim_removed", "ethnicity")]
    assert evs[0]["previous_capture"]["id"] == a1.capture_id and evs[0]["capture"]["id"] == a2.capture_id
    ethnic = next(c for c in all_claims(store) if c["category"] == "ethnicity")
    assert ethnic["status"] == "removed" and ethnic["removed_at"] == evs[0]["at"]
    assert run(store, archived(page(EMOTION, FILLER), at=clock())) == []  # stays removed, no repeat
    evs = run(store, archived(page(ETHNIC, EMOTION), at=clock()))
    assert [(e["event"], e["claim_id"]) for e in evs] == [("claim_reappeared", ethnic["claim_id"])]
    assert len(all_claims(store)) == 2


def test_page_gone_once_then_restored(store):
    clock = Clock()
    run(store, archived(page(ETHNIC, EMOTION), at=clock()))
    a404 = archived(b"<h1>Not Found</h1>", status=404, at=clock())
    evs = run(store, a404)
    assert [e["event"] for e in evs] == ["page_gone"] and evs[0]["claim_id"] is None
    assert {c["status"] for c in all_claims(store)} == {"page_gone"}
    assert run(store, archived(b"", status=410, at=clock())) == []  # still gone: nothing new
    evs = run(store, archived(page(EMOTION), at=clock()))
    assert [(e["event"], e["category"]) for e in evs] == [
        ("page_restored", None), ("claim_reappeared", "emotion"), ("claim_removed", "ethnicity")]
    assert evs[0]["previous_capture"]["record_id"] is not None
    st = {c["category"]: c["status"] for c in all_claims(store)}
    assert st == {"emotion": "live", "ethnicity": "removed"}


def test_failures_conclude_nothing(store):
    clock = Clock()
    a1 = archived(page(ETHNIC), at=clock())
    run(store, a1)
    assert outcome(store, archived(b"<h1>502 Bad Gateway</h1>", status=502, at=clock())) == ("failed", [])
    neterr = archived(None, status=None, error="connection refused", at=clock())
    assert outcome(store, neterr) == ("failed", [])
    assert outcome(store, archived(b"rate limited", status=429, at=clock())) == ("failed", [])
    assert all_claims(store)[0]["status"] == "live"
    # The next real answer is compared with the last capture that concluded something.
    evs = run(store, archived(page(FILLER), at=clock()))
    assert [e["event"] for e in evs] == ["claim_removed"]
    assert evs[0]["previous_capture"]["id"] == a1.capture_id
    # A capture without a response cites its metadata record.
    with store.session() as s:
        (h,) = [c for c in queries.history(s, URL) if c.capture_id == neterr.capture_id]
        assert h.record_type == "metadata" and h.record_id == neterr.records[0].record_id


def test_redirect_to_home_is_page_gone(store):
    clock = Clock()
    run(store, archived(page(ETHNIC), at=clock()))
    home = page("欢迎来到我们的官网", FILLER, title="首页")
    got = outcome(store, archived(home, at=clock(), final_url="https://vendor.example/",
                                  redirects=[(URL, 301)]))
    assert got == ("gone_redirect", ["page_gone"])


def test_redirect_to_moved_page_with_the_claim_is_not_gone(store):
    clock = Clock()
    run(store, archived(page(ETHNIC), at=clock()))
    got = outcome(store, archived(page(FILLER, ETHNIC), at=clock(), final_url=URL + ".html",
                                  redirects=[(URL, 301)]))
    assert got == ("ok", [])


@pytest.mark.parametrize("kind", ["probe-identical", "probe-similar", "wording-zh-hant", "wording-en"])
def test_soft_404(store, kind):
    clock = Clock()
    run(store, archived(page(ETHNIC, EMOTION), at=clock()))
    if kind == "probe-identical":
        body = page("抱歉，您要的内容暂时无法显示，请返回首页继续浏览我们的产品与解决方案。", title="提示")
        a = archived(body, at=clock(), probe=body, probe_status=200)
    elif kind == "probe-similar":
        tmpl = "<html><title>提示</title><body>抱歉，地址 {} 对应的内容暂时无法显示，请返回首页继续浏览我们的产品与解决方案。</body></html>"
        a = archived(tmpl.format(URL).encode(), at=clock(),
                     probe=tmpl.format("/" + "5e" * 12 + "-claimwatch-probe").encode(), probe_status=200)
    elif kind == "wording-zh-hant":
        a = archived(page("返回首頁", title="頁面不存在"), at=clock())
    else:
        a = archived(b"<html><head><title>Oops</title></head><body><h2>Sorry, page not found.</h2>"
                     b"<a href='/'>Home</a></body></html>", at=clock())
    assert outcome(store, a) == ("soft_404", ["page_gone"])
    assert {c["status"] for c in all_claims(store)} == {"page_gone"}


def test_long_page_mentioning_404_is_not_soft_404(store):
    clock = Clock()
    text = [ETHNIC, "错误码 404 表示设备未注册，请参考安装手册。", FILLER, FILLER2] * 3
    assert outcome(store, archived(page(*text), at=clock())) == ("ok", ["claim_appeared"])


def test_truncated_body_does_not_prove_removal(store):
    clock = Clock()
    run(store, archived(page(ETHNIC, EMOTION), at=clock()))
    assert outcome(store, archived(page(EMOTION), at=clock(), truncated=True)) == ("ok", [])


def test_ingest_is_idempotent_and_deterministic(tmp_path, db_url):
    clock = Clock()
    caps = [
        archived(page(ETHNIC, EMOTION), at=clock()),
        archived(page(EMOTION), at=clock()),
        archived(b"", status=404, at=clock()),
        archived(b"", status=503, at=clock()),
        archived(page(ETHNIC, EMOTION, FILLER), at=clock()),
    ]
    dumps = []
    for url in (db_url, f"sqlite:///{tmp_path / 'second.db'}"):
        with open_store(url) as st:
            for a in caps:
                run(st, a)
            assert run(st, caps[0]) == []  # already indexed
            dumps.append(json.dumps([all_claims(st), all_events(st)], ensure_ascii=False))
    assert dumps[0] == dumps[1]
    kinds = [e["event"] for e in json.loads(dumps[0])[1]]
    assert kinds == ["claim_appeared", "claim_appeared", "claim_removed", "page_gone", "page_restored",
                     "claim_reappeared", "claim_reappeared"]


def test_traditional_big5_edition_is_the_same_claim(store):
    clock = Clock()
    run(store, archived(page(FILLER, EMOTION), at=clock()))
    trad = "ClassSense 課堂系統可實時識別學生的情緒，並向教師報告專注度和情緒狀態。"
    body = page("我們的產品防水防塵，適用於各種戶外環境。", trad, title="課堂解決方案").replace(b"utf-8", b"big5")
    big5 = body.decode("utf-8").encode("big5")
    a = archived(big5, at=clock(), ctype="text/html; charset=big5")
    assert outcome(store, a) == ("ok", [])
    (claim,) = all_claims(store)
    assert claim["excerpt"] == trad and claim["status"] == "live"
