"""End to end: a fictional vendor site on 127.0.0.1 changes version after version; every version is
fetched, archived, ledgered and tracked through capture_url(), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from support_http import LoopbackServer, closed_port

from claimwatch.archive import Archive
from claimwatch.capture.pipeline import capture_url
from claimwatch.config import Settings
from claimwatch.store import open_store, queries
from claimwatch.track.reindex import reindex

PRODUCT = "/products/nv9000.html"
CLASSROOM = "/solutions/classroom.html"  # served GBK-encoded
API = "/en/api/attributes.html"

# Invented marketing / API-doc wording about product capabilities; no real people or data.
ETHNIC = "NV-9000 智能摄像机支持维吾尔族识别，可自动区分维族与汉族人员。"
ETHNIC_EDITED = "NV-9000 高清智能摄像机全面支持维吾尔族识别，能够自动区分维族与汉族人员。"
EMOTION_ZH = "课堂专注度系统可实时识别学生的情绪，并向教师报告每位学生的情绪状态。"
EMOTION_EN = "The ClassSense module performs emotion recognition on students in the classroom in real time."
ETHNIC_EN = "The face attribute API returns an ethnicity label (Uyghur, Han or other) for every person detected."
FILLER = ["产品防水防尘，适用于各种户外环境。", "支持 PoE 供电，安装便捷，质保三年。", "Contact our sales team for a quote."]


def html(title: str, paras: list[str], *, charset: str = "utf-8", layout: str = "plain") -> bytes:
    if layout == "plain":
        body = "\n".join(f"<p>{p}</p>" for p in paras)
    else:  # the redesign: new markup, classes, nesting and line breaks; same sentences
        body = "\n".join(f'<div class="card">\n  <section><span class="txt">{p}</span></section>\n</div>'
                         for p in paras)
    doc = (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
           f'<body><nav><a href="/">首页</a> | <a href="/products/">产品</a></nav><h1>{title}</h1>\n{body}\n'
           f"<footer>Nimbus Vision（虚构公司）版权所有</footer></body></html>")
    return doc.encode("gbk" if charset == "gbk" else "utf-8")


def serve(srv: LoopbackServer, path: str, body: bytes, charset: str = "utf-8", status: int = 200) -> None:
    srv.route(path, status=status, body=body, headers={"Content-Type": f"text/html; charset={charset}"})


HOME = html("Nimbus Vision 首页", ["欢迎访问 Nimbus Vision 官方网站。", *FILLER])
SOFT404 = html("页面不存在", ["抱歉，您访问的页面不存在或已被删除。"])


def version(srv: LoopbackServer, n: int) -> None:
    """Put the site in state n (1..5)."""
    srv.clear()
    serve(srv, "/", HOME)
    if n == 1:
        serve(srv, PRODUCT, html("NV-9000", [FILLER[0], ETHNIC, FILLER[1]]))
        serve(srv, CLASSROOM, html("课堂解决方案", [EMOTION_ZH, EMOTION_EN], charset="gbk"), charset="gbk")
        serve(srv, API, html("API", [ETHNIC_EN, FILLER[2]]))
    elif n == 2:  # cosmetic: markup, layout, whitespace, surrounding sentences, small wording edits
        serve(srv, PRODUCT, html("NV-9000 全新升级", ["全新外观设计。", ETHNIC_EDITED, "了解更多详情请联系我们。"],
                                 layout="cards"))
        serve(srv, CLASSROOM, html("课堂解决方案（新版）", ["智慧教育的新选择。", EMOTION_ZH, "  " + EMOTION_EN],
                                   charset="gbk", layout="cards"), charset="gbk")
        serve(srv, API, html("API v2", ["Version 2 of the docs.", ETHNIC_EN.replace(" ", "  "), FILLER[2]]))
    elif n == 3:  # claim sentence deleted; page 404; redirect to the home page
        serve(srv, PRODUCT, html("NV-9000 全新升级", ["全新外观设计。", "了解更多详情请联系我们。"], layout="cards"))
        serve(srv, CLASSROOM, b"Not Found", status=404)
        srv.route(API, status=302, redirect="/")
    elif n == 4:  # soft-404 for the product page; classroom back; API answers 503
        srv.default.status = 200
        srv.default.body = SOFT404
        srv.default.headers = [("Content-Type", "text/html; charset=utf-8")]
        serve(srv, PRODUCT, SOFT404)
        serve(srv, CLASSROOM, html("课堂解决方案", [EMOTION_ZH], charset="gbk"), charset="gbk")
        serve(srv, API, b"<h1>503 Service Unavailable</h1>", status=503)
    elif n == 5:  # the product page comes back with its claim
        serve(srv, PRODUCT, html("NV-9000", [ETHNIC]))
        serve(srv, CLASSROOM, html("课堂解决方案", [EMOTION_ZH], charset="gbk"), charset="gbk")
        serve(srv, API, b"<h1>503 Service Unavailable</h1>", status=503)


def dump(url: str) -> tuple[list[dict], list[dict]]:
    with open_store(url) as st, st.session() as s:
        return ([queries.claim_record(c) for c in queries.claims(s)],
                [queries.event_record(e) for e in queries.events(s)])


def test_site_lifecycle(tmp_path, db_url):
    settings = Settings(home=tmp_path / "home", database_url=db_url)
    per_version: list[dict[str, list[str]]] = []
    with LoopbackServer() as srv:
        urls = {p: srv.url(p) for p in (PRODUCT, CLASSROOM, API)}
        for n in range(1, 6):
            version(srv, n)
            got = {}
            for path, url in urls.items():
                out = capture_url(url, vendor="Nimbus Vision (fictional)", settings=settings, timeout=5)
                assert out.db_error is None
                got[path] = (out.outcome, [(e["event"], e["category"]) for e in out.events], out)
            per_version.append(got)
    v1, v2, v3, v4, v5 = per_version

    assert v1[PRODUCT][:2] == ("ok", [("claim_appeared", "ethnicity")])
    assert v1[CLASSROOM][:2] == ("ok", [("claim_appeared", "emotion"), ("claim_appeared", "emotion")])
    assert v1[API][:2] == ("ok", [("claim_appeared", "ethnicity")])
    assert "维吾尔族" in v1[PRODUCT][2].events[0]["excerpt"]
    assert "情绪" in v1[CLASSROOM][2].events[0]["excerpt"]  # decoded from GBK
    for path in urls:  # cosmetic edits only: no event at all
        assert v2[path][:2] == ("ok", []), path
    assert v3[PRODUCT][:2] == ("ok", [("claim_removed", "ethnicity")])
    assert v3[CLASSROOM][:2] == ("gone_http", [("page_gone", None)])
    assert v3[API][:2] == ("gone_redirect", [("page_gone", None)])
    assert v4[PRODUCT][:2] == ("soft_404", [("page_gone", None)])
    assert v4[CLASSROOM][:2] == ("ok", [("page_restored", None), ("claim_reappeared", "emotion"),
                                         ("claim_removed", "emotion")])
    assert v4[API][:2] == ("failed", [])
    assert v5[PRODUCT][:2] == ("ok", [("page_restored", None), ("claim_reappeared", "ethnicity")])
    assert v5[API][:2] == ("failed", [])

    # Every event cites the capture's response record in the archive, and the one compared with.
    removed = v3[PRODUCT][2]
    ev = removed.events[0]
    assert ev["capture"] == {"id": removed.archived.capture_id, "warc": removed.archived.response.warc,
                             "record_id": removed.archived.response.record_id,
                             "sha256": removed.archived.payload_sha256}
    assert ev["previous_capture"]["id"] == v2[PRODUCT][2].archived.capture_id

    claims, events = dump(db_url)
    assert sorted((c["url"].rsplit("/", 1)[1], c["category"], c["status"]) for c in claims) == [
        ("attributes.html", "ethnicity", "page_gone"),
        ("classroom.html", "emotion", "live"),
        ("classroom.html", "emotion", "removed"),
        ("nv9000.html", "ethnicity", "live"),
    ]
    assert len(events) == 13

    # A network error is recorded as a failed capture and concludes nothing.
    dead = f"http://127.0.0.1:{closed_port()}/products/gone.html"
    out = capture_url(dead, settings=settings, timeout=2)
    assert out.outcome == "failed" and out.events == [] and out.archived.error
    assert out.record()["status"] is None

    # The archive verifies; reindex from the archive alone reproduces claims and events exactly.
    assert Archive(settings.home).verify().ok
    before = dump(db_url)
    result = reindex(settings)
    assert result.captures == 16 and result.claims == 4 and result.events == 13
    after = dump(db_url)
    assert json.dumps(after, ensure_ascii=False) == json.dumps(before, ensure_ascii=False)


def test_database_failure_after_archiving_keeps_the_evidence(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "claimwatch.db").write_bytes(b"garbage, not SQLite" * 200)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'claimwatch.db'}")
    with LoopbackServer() as srv:
        version(srv, 1)
        out = capture_url(srv.url(PRODUCT), settings=settings, timeout=5)
    assert out.db_error and "claimwatch reindex" in out.db_error and "\n" not in out.db_error
    assert out.outcome is None
    # The evidence is in the archive, and reindex (over the corrupted file) indexes it.
    assert [a.capture_id for a in Archive(home).iter_captures()] == [out.archived.capture_id]
    result = reindex(settings)
    assert result.captures == 1 and result.set_aside is not None and result.set_aside.exists()
    claims, events = dump(settings.database_url)
    assert [e["event"] for e in events] == ["claim_appeared"]


def test_next_capture_indexes_what_a_failed_database_missed(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "claimwatch.db"
    db.write_bytes(b"garbage, not SQLite" * 200)
    settings = Settings(home=home, database_url=f"sqlite:///{db}")
    with LoopbackServer() as srv:
        version(srv, 1)
        first = capture_url(srv.url(PRODUCT), settings=settings, timeout=5)
        assert first.db_error
        db.unlink()  # the operator removes the broken file instead of running reindex
        version(srv, 3)
        second = capture_url(srv.url(PRODUCT), settings=settings, timeout=5)
    assert second.db_error is None
    # The first capture was indexed before the second, so the removal is seen against it.
    assert [e["event"] for e in second.events] == ["claim_removed"]
    assert second.events[0]["previous_capture"]["id"] == first.archived.capture_id
    live = dump(settings.database_url)
    reindex(settings)
    assert dump(settings.database_url) == live


def test_concurrent_captures_index_in_ledger_order(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'home' / 'claimwatch.db'}")
    with LoopbackServer() as srv:
        version(srv, 1)
        urls = [srv.url(p) for p in (PRODUCT, CLASSROOM, API)] * 3
        with ThreadPoolExecutor(max_workers=4) as pool:
            outs = list(pool.map(lambda u: capture_url(u, settings=settings, timeout=5), urls))
    assert all(o.db_error is None for o in outs)
    with open_store(settings.database_url) as st, st.session() as s:
        order = [c.ledger_index for c in queries.history(s, srv.url(PRODUCT))]
        assert order == sorted(order)
    live = dump(settings.database_url)
    assert [e["event"] for e in live[1]] == ["claim_appeared"] * 4
    reindex(settings)
    assert dump(settings.database_url) == live


def test_reindex_recovers_a_capture_left_unledgered_by_a_crash(tmp_path):
    from claimwatch.capture.fetch import fetch

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'claimwatch.db'}")

    def crash_after_warc(stage: str) -> None:
        if stage == "after_warc":
            raise RuntimeError("simulated crash between WARC and ledger")

    with LoopbackServer() as srv:
        version(srv, 1)
        exchange = fetch(srv.url(PRODUCT), timeout=5)
    try:
        Archive(home, fault=crash_after_warc).write(exchange)
    except RuntimeError:
        pass
    assert list(Archive(home).iter_captures()) == []  # not in the ledger yet
    result = reindex(settings)
    assert result.recovered == 1 and result.captures == 1
    claims, events = dump(settings.database_url)
    assert [e["event"] for e in events] == ["claim_appeared"]
    assert Archive(home).verify().ok
