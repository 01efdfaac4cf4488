"""fetch() against a loopback server: every hop recorded, errors observed rather than raised."""

from __future__ import annotations

import gzip
import time

import brotli
import pytest

from claimwatch.capture.fetch import USER_AGENT, FetchInputError, fetch
from support_http import LoopbackServer, Route, closed_port

PAGE = ("<html><head><title>VisionGrid</title></head><body><p>Our analytics platform flags "
        "crowd density in transit hubs. 平台支持客流统计。</p></body></html>").encode("utf-8")


@pytest.fixture()
def srv():
    with LoopbackServer() as s:
        yield s


def _h(headers, name):
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def test_200_html(srv):
    srv.route("/p", body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
    ex = fetch(srv.url("/p"), vendor="VisionGrid")
    assert ex.error is None and ex.vendor == "VisionGrid"
    assert len(ex.hops) == 1
    hop = ex.hops[0]
    assert (hop.status, hop.reason, hop.http_version) == (200, "OK", "HTTP/1.1")
    assert hop.body == PAGE and not hop.body_truncated
    assert _h(hop.response_headers, "content-type") == "text/html; charset=utf-8"
    assert _h(hop.request_headers, "user-agent") == USER_AGENT
    assert "claimwatch/" in USER_AGENT
    assert _h(hop.request_headers, "host") == f"127.0.0.1:{srv.port}"
    assert ex.resolved_ip == "127.0.0.1"
    assert ex.started_at.tzinfo is not None
    # The server really received what the hop says was sent.
    method, path, sent = srv.requests[0]
    assert (method, path) == ("GET", "/p") and dict(sent)["User-Agent"] == USER_AGENT
    # Soft-404 baseline: the probe asked the same host for a random path and got the real 404.
    assert ex.probe is not None and ex.probe.status == 404
    assert ex.probe.url.startswith(srv.base + "/") and ex.probe.url.endswith("-claimwatch-probe")


def test_redirect_chain_relative_and_absolute(srv):
    srv.route("/a", status=301, redirect="/b")
    srv.route("/b", status=302, redirect=srv.url("/c/"))
    srv.route("/c/", status=307, redirect="d?x=1")
    srv.route("/c/d", body=b"final", headers={"Content-Type": "text/plain"})
    ex = fetch(srv.url("/a"), probe=False)
    assert ex.error is None
    assert [(h.url, h.status) for h in ex.hops] == [
        (srv.url("/a"), 301), (srv.url("/b"), 302), (srv.url("/c/"), 307), (srv.url("/c/d?x=1"), 200)]
    assert _h(ex.hops[0].response_headers, "location") == "/b"
    assert ex.hops[-1].body == b"final"
    assert ex.probe is None


def test_redirect_loop_is_an_error_with_hops(srv):
    srv.route("/loop", status=302, redirect="/loop")
    ex = fetch(srv.url("/loop"), max_redirects=3)
    assert ex.error.startswith("too many redirects")
    assert len(ex.hops) == 4 and all(h.status == 302 for h in ex.hops)
    assert ex.probe is None


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_statuses_are_answers_not_errors(srv, status):
    srv.route("/x", status=status, body=b"status page", headers={"Content-Type": "text/html"})
    ex = fetch(srv.url("/x"))
    assert ex.error is None  # an HTTP answer arrived: it is an observation, recorded as such
    assert [h.status for h in ex.hops] == [status]
    assert ex.hops[0].body == b"status page"
    assert ex.probe is None  # the soft-404 baseline is only needed for 2xx answers


def test_soft404_site_probe_answers_200(srv):
    srv.default = Route(status=200, headers=[("Content-Type", "text/html")], body=b"<p>Welcome home</p>")
    srv.route("/gone-product", status=302, redirect="/")
    ex = fetch(srv.url("/gone-product"))
    assert ex.hops[-1].status == 200 and ex.hops[-1].url == srv.url("/")
    assert ex.probe is not None and ex.probe.status == 200 and ex.probe.body == b"<p>Welcome home</p>"


def test_timeout_is_recorded(srv):
    srv.route("/slow", body=b"late", delay=2.0)
    t0 = time.monotonic()
    ex = fetch(srv.url("/slow"), timeout=0.3)
    assert time.monotonic() - t0 < 1.8
    assert ex.hops == [] and ex.error.startswith("timeout")
    assert "\n" not in ex.error


def test_connection_refused():
    ex = fetch(f"http://127.0.0.1:{closed_port()}/", timeout=2)
    assert ex.hops == [] and ex.resolved_ip is None
    assert ex.error.startswith("connect error") and "\n" not in ex.error


def test_tls_error_against_plain_http_port(srv):
    srv.route("/", body=b"plain")
    ex = fetch(f"https://127.0.0.1:{srv.port}/", timeout=3)
    assert ex.hops == []
    assert ex.error.startswith("tls error"), ex.error


def test_dns_failure_is_recorded():
    ex = fetch("http://no-such-host.invalid/", timeout=3)
    assert ex.hops == [] and ex.error and "\n" not in ex.error


def test_50mb_response_is_cut_at_the_limit(srv):
    chunk = (b"<p>sensor dashboard row</p>\n" * 2048)  # 57 KiB
    total = 50 * 2**20

    def body():
        sent = 0
        while sent < total:
            yield chunk
            sent += len(chunk)

    srv.route("/big", body=body, headers={"Content-Type": "text/html"})
    ex = fetch(srv.url("/big"), probe=False)
    hop = ex.hops[0]
    assert ex.error is None
    assert hop.body_truncated and len(hop.body) == 20 * 2**20
    assert hop.body == (chunk * (len(hop.body) // len(chunk) + 1))[: len(hop.body)]
    assert ex.extra["truncated_at_bytes"] == 20 * 2**20


def test_body_exactly_at_limit_is_not_truncated(srv):
    srv.route("/exact", body=b"x" * 1000)
    ex = fetch(srv.url("/exact"), max_bytes=1000, probe=False)
    assert len(ex.hops[0].body) == 1000 and not ex.hops[0].body_truncated
    ex = fetch(srv.url("/exact"), max_bytes=999, probe=False)
    assert ex.hops[0].body_truncated


def test_gzip_and_br_bodies_kept_as_received(srv):
    text = "情绪识别 emotion analytics demo text ".encode("utf-8") * 50
    srv.route("/gz", body=text, gzip=True, headers={"Content-Type": "text/plain; charset=utf-8"})
    srv.route("/br", body=text, br=True, chunked=True, headers={"Content-Type": "text/plain; charset=utf-8"})
    gz = fetch(srv.url("/gz"), probe=False).hops[0]
    assert _h(gz.response_headers, "content-encoding") == "gzip"
    assert gz.body != text and gzip.decompress(gz.body) == text
    br = fetch(srv.url("/br"), probe=False).hops[0]
    assert _h(br.response_headers, "transfer-encoding") == "chunked"
    assert brotli.decompress(br.body) == text  # chunking undone, Content-Encoding kept


def test_non_html_content(srv):
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    srv.route("/doc.pdf", body=pdf, headers={"Content-Type": "application/pdf"})
    hop = fetch(srv.url("/doc.pdf"), probe=False).hops[0]
    assert hop.body == pdf and _h(hop.response_headers, "content-type") == "application/pdf"


@pytest.mark.parametrize("url", ["", "   ", "ftp://example.com/x", "http://", "https:///path",
                                 "javascript:alert(1)", "example.com/page", "http://exa mple.com/",
                                 "http://[::1/"])
def test_invalid_urls_raise_one_line(url):
    with pytest.raises(FetchInputError) as info:
        fetch(url)
    assert "\n" not in str(info.value) and str(info.value)


def test_redirect_to_unsupported_scheme(srv):
    srv.route("/m", status=302, redirect="mailto:sales@example.com")
    ex = fetch(srv.url("/m"))
    assert [h.status for h in ex.hops] == [302]
    assert ex.error.startswith("redirect to unsupported URL")


def test_chinese_url_and_gbk_page(srv):
    page = "<html><meta charset=gbk><p>智能客流统计平台。</p></html>".encode("gbk")
    srv.route("/%E4%BA%A7%E5%93%81/%E5%AE%A2%E6%B5%81", body=page,
              headers={"Content-Type": "text/html; charset=GBK"})
    ex = fetch(srv.url("/产品/客流?lang=中文"))
    assert ex.error is None and ex.hops[0].status == 200 and ex.hops[0].body == page
    assert ex.hops[0].url == srv.url("/产品/客流?lang=中文")  # as requested
    assert srv.requests[0][1] == "/%E4%BA%A7%E5%93%81/%E5%AE%A2%E6%B5%81?lang=%E4%B8%AD%E6%96%87"


def test_connection_dropped_mid_body(srv):
    srv.route("/short", body=b"only ten b", headers={"Content-Length": "1000", "Connection": "close"})
    ex = fetch(srv.url("/short"), timeout=3)
    assert ex.error and "\n" not in ex.error
    assert [h.status for h in ex.hops] == [200] and ex.hops[0].body_truncated


def test_bad_limits_rejected():
    with pytest.raises(FetchInputError):
        fetch("http://127.0.0.1/", max_bytes=0)
    with pytest.raises(FetchInputError):
        fetch("http://127.0.0.1/", timeout=0)


def test_serve_version_switches_whole_sites(srv, tmp_path):
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    (v1 / "products").mkdir(parents=True)
    (v1 / "index.html").write_text("<p>home v1</p>", "utf-8")
    (v1 / "products" / "index.html").write_text("<p>产品 v1</p>", "utf-8")
    v2.mkdir()
    (v2 / "index.html").write_text("<p>home v2</p>", "utf-8")
    (v2 / "_routes.json").write_text(
        '{"/products/": {"status": 301, "redirect": "/"}, "/gone": {"status": 410, "body": "gone"}}', "utf-8")
    srv.serve_version(v1)
    ex = fetch(srv.url("/products/"), probe=False)
    assert ex.hops[-1].body == "<p>产品 v1</p>".encode()
    assert _h(ex.hops[-1].response_headers, "content-type") == "text/html; charset=utf-8"
    srv.serve_version(v2)
    ex = fetch(srv.url("/products/"), probe=False)
    assert [h.status for h in ex.hops] == [301, 200] and ex.hops[-1].body == b"<p>home v2</p>"
    assert fetch(srv.url("/gone"), probe=False).hops[0].status == 410
    assert fetch(srv.url("/products/index.html"), probe=False).hops[0].status == 404
