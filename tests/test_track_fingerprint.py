"""Normalisation and similarity behind claim identity, and the outcome rules that need no detector."""

from __future__ import annotations

from datetime import UTC, datetime

from claimwatch.archive.types import ArchivedCapture
from claimwatch.track.classify import basic_outcome, is_soft_404, redirected_elsewhere, redirected_home
from claimwatch.track.fingerprint import fingerprint, normalize, similarity


def test_normalize_ignores_script_markup_case_space_and_punctuation():
    simp = normalize("本系统支持维吾尔族识别，可区分维族与汉族。")
    assert normalize("本系統支持<b>維吾爾族</b>識別 ， 可區分維族與漢族！") == simp
    assert normalize("本系统支持维吾尔族识别,可区分维族与汉族.") == simp  # half-width punctuation
    assert normalize("Emotion  Recognition&nbsp;for\nClassrooms") == normalize("emotion recognition for classrooms")
    assert normalize("ＡＢＣ１２３") == "abc123"  # NFKC folds full-width forms
    assert fingerprint(simp) == fingerprint(normalize("本系統支持維吾爾族識別，可區分維族與漢族。"))


def test_similarity_tolerates_small_edits_not_different_claims():
    a = normalize("NV-9000 智能摄像机支持维吾尔族识别，可自动区分维族与汉族人员。")
    edited = normalize("NV-9000 高清智能摄像机全面支持维吾尔族识别，能够自动区分维族与汉族人员。")
    other = normalize("ClassSense 课堂系统可实时识别学生的情绪。")
    assert similarity(a, a) == 1.0
    assert similarity(a, edited) >= 0.6
    assert similarity(a, other) < 0.3
    assert similarity(a, other, floor=0.6) < 0.6


def _cap(url, status=200, final_url=None, payload=b"", probe=None, probe_status=None):
    return ArchivedCapture(capture_id="x", url=url, final_url=final_url or url, captured_at=datetime.now(UTC),
                           status=status, error=None, vendor=None, resolved_ip=None, content_type="text/html",
                           payload=payload, payload_sha256=None, redirects=[], response=None, records=[],
                           probe_status=probe_status, probe_payload=probe)


def test_status_rules():
    assert basic_outcome(_cap("http://v.example/a", status=None)) == "failed"
    for code in (500, 502, 503, 429, 403, 401):
        assert basic_outcome(_cap("http://v.example/a", status=code)) == "failed"
    for code in (404, 410):
        assert basic_outcome(_cap("http://v.example/a", status=code)) == "gone_http"
    assert basic_outcome(_cap("http://v.example/a", status=200)) is None


def test_redirect_rules():
    assert not redirected_elsewhere(_cap("http://v.example/a/", final_url="https://v.example/a"))
    assert not redirected_elsewhere(_cap("http://v.example:80/a", final_url="http://v.example/a#top"))
    assert redirected_elsewhere(_cap("http://v.example/a", final_url="http://v.example/b"))
    assert redirected_home(_cap("http://v.example/products/a", final_url="http://v.example/"))
    assert redirected_home(_cap("http://v.example/products/a", final_url="http://v.example/index.html"))
    assert not redirected_home(_cap("http://v.example/", final_url="http://v.example/index.html"))


def test_soft_404_wording_needs_a_short_page_without_findings():
    short = "抱歉，您访问的页面不存在"
    assert is_soft_404(_cap("http://v.example/a"), short, None, None, has_findings=False)
    assert is_soft_404(_cap("http://v.example/a"), "返回首頁", "找不到網頁", None, has_findings=False)
    assert not is_soft_404(_cap("http://v.example/a"), short, None, None, has_findings=True)
    long = "产品介绍。" * 200 + "错误码404表示设备未注册。"
    assert not is_soft_404(_cap("http://v.example/a"), long, "NV-9000", None, has_findings=False)
    assert not is_soft_404(_cap("http://v.example/a"), "型号 X14045 摄像机", None, None, has_findings=False)


def test_soft_404_probe_skipped_for_the_root_page():
    body = b"<html>home page of the vendor</html>"
    assert is_soft_404(_cap("http://v.example/a", payload=body, probe=body, probe_status=200),
                       "home page of the vendor", None, "home page of the vendor", has_findings=False)
    assert not is_soft_404(_cap("http://v.example/", payload=body, probe=body, probe_status=200),
                           "home page of the vendor", None, "home page of the vendor", has_findings=False)


def test_short_api_doc_mentioning_not_found_is_a_page():
    doc = "GET /v1/devices/{id} returns the device, or an error (HTTP 404) when it is not found."
    assert not is_soft_404(_cap("http://v.example/docs/devices"), doc, "Devices API", None, has_findings=False)
    assert not is_soft_404(_cap("http://v.example/docs/devices"), "设备不在线时找不到该设备的状态。", "设备状态",
                           None, has_findings=False)
    assert is_soft_404(_cap("http://v.example/docs/devices"), "Error 404. The page you are looking for is gone.",
                       "Vendor", None, has_findings=False)
