"""Synthetic WARC files for the scan tests and the scan benchmark (no network, no real data).

Every page text below is invented vendor-marketing or unrelated prose in our own wording. Pages come
in English UTF-8, Chinese UTF-8, GBK and Big5; some carry a planted claim about a prohibited
capability, some are hard negatives (words that look alike but are not claims). Records are written
with warcio the way crawlers write them: request + response + metadata per page, one gzip member
per record, optionally chunked / gzip / br encoded bodies and revisit records.
"""

from __future__ import annotations

import gzip as _gzip
import hashlib
import io
import random
from dataclasses import dataclass

import brotli
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class Passage:
    lang: str  # "en", "zh-Hans", "zh-Hant"
    text: str
    claim: bool  # True: a planted claim; False: a hard negative


CLAIMS = [
    Passage("en", "OmniGaze Cloud performs ethnicity recognition on every camera stream and flags Uyghur "
            "and Han pedestrians separately, with an alert when a Uyghur person is detected.", True),
    Passage("en", "Our ClassPulse module uses emotion recognition to monitor students in the classroom "
            "and reports which pupils look angry, bored or anxious during each lesson.", True),
    Passage("en", "The CivicLedger platform assigns each citizen a social score based on their behaviour, "
            "and people with low scores are blacklisted from public services.", True),
    Passage("en", "With live facial recognition, the StationWatch system performs real-time remote "
            "biometric identification of passers-by in public squares against a watchlist.", True),
    Passage("zh-Hans", "本平台支持少数民族识别功能，可实时识别维吾尔族人员，并在发现后自动向值班民警推送报警。", True),
    Passage("zh-Hans", "智慧课堂情绪识别系统可实时分析每一名学生的情绪状态，自动识别愤怒、厌烦等异常情绪。", True),
    Passage("zh-Hant", "本系統提供少數民族識別功能，可即時辨識維吾爾族人員並自動發出警報。", True),
    Passage("zh-Hant", "員工情緒辨識模組可在辦公室內即時分析每位員工的情緒狀態並產生報表。", True),
]

NEGATIVES = [
    Passage("en", "Release 4.2 fixes a race condition in the upload scheduler and speeds up thumbnails.", False),
    Passage("en", "Minority shareholders approved the dividend at the annual general meeting.", False),
    Passage("en", "Our foundation shades range from porcelain to deep espresso skin tones for every look.", False),
    Passage("zh-Hans", "各民族团结一心，共同建设美丽家园。", False),
    Passage("zh-Hans", "本公司产品不提供任何情绪识别或民族识别功能。", False),
    Passage("zh-Hant", "歡迎各界朋友蒞臨參觀本公司的年度產品展覽。", False),
]

FILLER = {
    "en": ("Our cloud video platform stores footage from thousands of cameras and lets operators search "
           "recordings by time and place. Dashboards show storage use, network health and camera uptime. "
           "Firmware updates are signed and rolled out in stages to avoid outages."),
    "zh-Hans": "本公司的视频云平台可以存储数千路摄像机的录像，支持按时间和地点检索。运维看板显示存储使用率、网络状态和设备在线率。",
    "zh-Hant": "本公司的影像雲端平台可儲存數千路攝影機的錄影，支援依時間與地點檢索。維運看板顯示儲存使用率、網路狀態與設備上線率。",
}


def charset_for(lang: str, rng: random.Random) -> str:
    if lang == "zh-Hans":
        return rng.choice(["utf-8", "gbk"])
    if lang == "zh-Hant":
        return rng.choice(["utf-8", "big5"])
    return "utf-8"


def html_page(title: str, paragraphs: list[str], charset: str, declare: bool = True) -> bytes:
    meta = f'<meta charset="{charset}">' if declare else ""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    doc = f"<!DOCTYPE html>\n<html><head>{meta}<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}</body></html>\n"
    return doc.encode(charset)


@dataclass
class Page:
    uri: str
    charset: str
    body: bytes  # the HTML as served, before content/transfer coding
    passages: list[Passage]

    @property
    def planted(self) -> bool:
        return any(p.claim for p in self.passages)


def make_pages(n: int, seed: int = 7, filler_paragraphs: int = 3, host: str = "vendor.example") -> list[Page]:
    """`n` pages cycling through claims, hard negatives and plain filler, reproducible from `seed`."""
    rng = random.Random(seed)
    pool = CLAIMS + NEGATIVES
    pages = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            passage = [CLAIMS[(i // 3) % len(CLAIMS)]]
        elif kind == 1:
            passage = [NEGATIVES[(i // 3) % len(NEGATIVES)]]
        else:
            passage = []
        lang = passage[0].lang if passage else rng.choice(["en", "zh-Hans", "zh-Hant"])
        charset = charset_for(lang, rng)
        paras = [FILLER[lang]] * filler_paragraphs
        if passage:
            paras.insert(rng.randrange(len(paras) + 1), passage[0].text)
        body = html_page(f"Page {i}", paras, charset)
        pages.append(Page(f"https://{host}/p/{i}.html", charset, body, passage))
    del pool
    return pages


def chunk(body: bytes, size: int = 97) -> bytes:
    out = io.BytesIO()
    for i in range(0, len(body), size):
        part = body[i : i + size]
        out.write(b"%x\r\n" % len(part) + part + b"\r\n")
    out.write(b"0\r\n\r\n")
    return out.getvalue()


def encode_body(body: bytes, content_encoding: str | None) -> bytes:
    if content_encoding == "gzip":
        return _gzip.compress(body, mtime=0)
    if content_encoding == "br":
        return brotli.compress(body)
    return body


def write_warc(
    path: str,
    pages: list[Page],
    *,
    gzip: bool = True,
    chunked: bool = False,
    content_encoding: str | None = None,
    revisits: bool = False,
    warcinfo: bool = True,
) -> list[dict]:
    """Write `pages` as a WARC; returns one dict per response record (uri, record_id, page)."""
    written = []
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gzip)
        if warcinfo:
            w.write_record(w.create_warcinfo_record(path.rsplit("/", 1)[-1], {"software": "claimwatch tests"}))
        for i, page in enumerate(pages):
            ctype = f"text/html; charset={page.charset}"
            headers = [("Content-Type", ctype)]
            payload = encode_body(page.body, content_encoding)
            if content_encoding:
                headers.append(("Content-Encoding", content_encoding))
            if chunked:
                payload = chunk(payload)
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(len(payload))))
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            req_http = StatusAndHeaders(f"GET /p/{i}.html HTTP/1.1", [("Host", page.uri.split("/")[2])], is_http_request=True)
            req = w.create_warc_record(page.uri, "request", payload=io.BytesIO(b""), http_headers=req_http)
            resp = w.create_warc_record(page.uri, "response", payload=io.BytesIO(payload), http_headers=http)
            meta = w.create_warc_record(page.uri, "metadata", payload=io.BytesIO(b"fetchTimeMs: 42\r\n"),
                                        warc_content_type="application/warc-fields")
            w.write_record(req)
            w.write_record(resp)
            w.write_record(meta)
            written.append({"uri": page.uri, "record_id": resp.rec_headers.get_header("WARC-Record-ID"), "page": page})
            if revisits:
                digest = resp.rec_headers.get_header("WARC-Payload-Digest")
                rev = w.create_revisit_record(page.uri, digest, page.uri, "2026-01-01T00:00:00Z", http_headers=http)
                w.write_record(rev)
    return written


def write_resource_warc(path: str, docs: list[tuple[str, bytes, str]], rec_type: str = "resource") -> None:
    """A WARC of `resource` records (uri, payload, content type), as wget/webrecorder write them;
    with rec_type="conversion" and text/plain payloads it is a WET file, as Common Crawl writes them."""
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=path.endswith(".gz"))
        for uri, data, ctype in docs:
            w.write_record(w.create_warc_record(uri, rec_type, payload=io.BytesIO(data), warc_content_type=ctype))


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
