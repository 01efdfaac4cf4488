"""What a capture proves about its page: ok, gone (404/410, redirect away, soft-404) or nothing (failed).

A network error, a 5xx, a rate limit or an access refusal is not absence: those captures are
`failed` and nothing is concluded from them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from claimwatch.archive.types import ArchivedCapture
from claimwatch.store.models import FAILED, GONE_HTTP, OK, SOFT_404
from claimwatch.track.fingerprint import normalize, similarity

GONE_STATUSES = frozenset({404, 410, 451})

# Error-page wording (English, Simplified and Traditional Chinese). Compared after normalize(),
# so Traditional forms are covered by their Simplified spelling and case/punctuation don't matter.
# Page-level phrases count in the title or the body of a short page; the weaker ones (a bare
# "not found", "找不到", "404") only in the title, since API docs and manuals use them in passing.
_PAGE_PHRASES = [
    "pagenotfound", "pagedoesnotexist", "pagedoesntexist", "pagecouldnotbefound", "pagecannotbefound",
    "pagecantbefound", "pagenolongerexists", "pageisnolongeravailable", "pageyouarelookingfor",
    "pageyourequested", "nosuchpage", "404notfound", "error404", "404error",
    "页面不存在", "网页不存在", "您访问的页面不存在", "你访问的页面不存在", "页面找不到", "找不到页面",
    "找不到网页", "找不到该页面", "找不到您要的页面", "页面未找到", "页面走丢了", "页面已删除", "页面已被删除",
    "该页面不存在", "访问的页面不存在", "网页走丢了", "页面无法访问", "404页面",
]
_TITLE_PHRASES = [
    "notfound", "doesnotexist", "doesntexist", "nolongeravailable", "couldnotbefound", "cannotbefound",
    "找不到", "不存在", "未找到", "出错了",
]
_PAGE_RE = re.compile("|".join(re.escape(normalize(p)) for p in _PAGE_PHRASES))
_TITLE_RE = re.compile("|".join(re.escape(normalize(p)) for p in _PAGE_PHRASES + _TITLE_PHRASES))
_DIGIT_404 = re.compile(r"(?<![0-9])404(?![0-9])")

# "Short page" limits, in normalised characters (letters/digits only): real product pages with
# claims are longer; an error page is a title, a sentence and some navigation.
SHORT_TEXT = 600
SHORT_TEXT_WITH_TITLE = 2500
# Page text this similar to the host's answer for a random missing path is that answer.
PROBE_SIMILARITY = 0.9


def basic_outcome(a: ArchivedCapture) -> str | None:
    """The outcome decided by the HTTP status alone, or None when the page answered 2xx."""
    if a.status is None:
        return FAILED
    if a.status in GONE_STATUSES:
        return GONE_HTTP
    if 200 <= a.status < 300:
        return None
    # 1xx/3xx without a usable answer, other 4xx (401/403/429 are refusals, not absence), 5xx.
    return FAILED


def _is_root(path: str) -> bool:
    p = path.rstrip("/").lower()
    return p in ("", "/index.html", "/index.htm", "/index.php", "/default.aspx", "/home")


def normalize_url(url: str) -> tuple[str, str, str]:
    """(host, path, query) with default ports, scheme, fragment and a trailing slash ignored."""
    u = urlsplit(url)
    host = (u.hostname or "").lower()
    if u.port and u.port not in (80, 443):
        host += f":{u.port}"
    return host, u.path.rstrip("/") or "/", u.query


def redirected_elsewhere(a: ArchivedCapture) -> bool:
    return bool(a.final_url) and normalize_url(a.final_url) != normalize_url(a.url)


def redirected_home(a: ArchivedCapture) -> bool:
    """Redirected to the site's root while the requested page was not the root itself."""
    if not redirected_elsewhere(a):
        return False
    return _is_root(urlsplit(a.final_url).path) and not _is_root(urlsplit(a.url).path)


# The probe path fetch() asks for: /<24 hex>-claimwatch-probe (possibly URL-quoted or absolute).
_PROBE_PATH = re.compile(r"(?:https?://[^\s/]+)?/?[0-9a-f]{8,64}-claimwatch-probe", re.I)


def _without_paths(text: str, *urls: str | None) -> str:
    for u in urls:
        if not u:
            continue
        parts = urlsplit(u)
        for piece in sorted({u, parts.path, unquote(parts.path)} - {"", "/"}, key=len, reverse=True):
            text = text.replace(piece, " ")
    return text


def is_soft_404(a: ArchivedCapture, text: str, title: str | None, probe_text: str | None, has_findings: bool) -> bool:
    """A 2xx answer that is really a "not found" page."""
    requested_root = _is_root(urlsplit(a.url).path)
    # 1. Same answer as the host gives for a path that cannot exist (skipped for the root page,
    #    which sites commonly serve for unknown paths).
    if not requested_root and a.probe_status is not None and 200 <= a.probe_status < 300 and a.probe_payload:
        if a.payload and a.payload == a.probe_payload:
            return True
        if probe_text is not None:
            # Error pages often echo the requested path: compare without it.
            n_page = normalize(_without_paths(text, a.url, a.final_url))
            n_probe = normalize(_PROBE_PATH.sub(" ", probe_text))
            if n_page and n_probe and similarity(n_page, n_probe, floor=PROBE_SIMILARITY) >= PROBE_SIMILARITY:
                return True
    # 2. Error wording on a short page; a page carrying findings is not an error page.
    if has_findings:
        return False
    body = normalize(text)
    if title:
        t = normalize(title)
        if (_TITLE_RE.search(t) or _DIGIT_404.search(title)) and len(body) <= SHORT_TEXT_WITH_TITLE:
            return True
    return len(body) <= SHORT_TEXT and bool(_PAGE_RE.search(body))


__all__ = ["OK", "FAILED", "GONE_HTTP", "SOFT_404", "basic_outcome", "is_soft_404", "redirected_elsewhere",
           "redirected_home"]
