"""URL -> `Exchange`: one HTTP GET per hop, redirects followed by hand so every hop is evidence.

Bodies are kept exactly as received (Content-Encoding not removed; HTTP chunking is undone by the
HTTP library and re-framed by the archive). Network trouble never raises: it becomes
`Exchange.error`, because a failed capture is an observation too (but never one of absence).
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

import httpx

from claimwatch import __version__
from claimwatch.archive.types import Exchange, Hop

USER_AGENT = f"claimwatch/{__version__} (+https://github.com/claimwatch/claimwatch; evidence preservation)"
DEFAULT_MAX_BYTES = 20 * 2**20
PROBE_MAX_BYTES = 256 * 2**10
PROBE_MAX_REDIRECTS = 3
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_READ_CHUNK = 64 * 1024


class FetchInputError(ValueError):
    """The URL cannot be fetched at all (bad scheme, no host, ...). One-line message."""


class _HopError(Exception):
    """A network failure; carries the hop that was partly received, if any."""

    def __init__(self, message: str, partial: Hop | None = None, ip: str | None = None):
        super().__init__(message)
        self.partial = partial
        self.ip = ip


def validate_url(url: str) -> httpx.URL:
    if not isinstance(url, str) or not url.strip():
        raise FetchInputError("empty URL")
    if any(c.isspace() for c in url) or len(url) > 8192:
        raise FetchInputError(f"invalid URL (whitespace or longer than 8192 characters): {url[:80]!r}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchInputError(f"invalid URL {url[:200]!r}: {_one_line(exc)}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchInputError(f"unsupported URL scheme {parsed.scheme or '(none)'!r} in {url[:200]!r}; use http or https")
    if not parsed.host:
        raise FetchInputError(f"URL has no host: {url[:200]!r}")
    return parsed


def _one_line(exc: BaseException | str) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:500]


def _describe(exc: Exception) -> str:
    msg = _one_line(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout: {msg}"
    if isinstance(exc, httpx.ConnectError):
        lower = msg.lower()
        if "ssl" in lower or "certificate" in lower or "tls" in lower:
            return f"tls error: {msg}"
        if "name or service" in lower or "nodename" in lower or "getaddrinfo" in lower or "name resolution" in lower:
            return f"dns error: {msg}"
        return f"connect error: {msg}"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {msg}"
    return f"{type(exc).__name__}: {msg}"


def _server_ip(resp: httpx.Response) -> str | None:
    stream = resp.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        addr = stream.get_extra_info("server_addr")
    except Exception:  # backend-specific; the IP is useful, never essential
        return None
    return addr[0] if addr else None


def _request_headers(user_agent: str) -> dict[str, str]:
    return {
        "User-Agent": user_agent,
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en,zh-CN;q=0.9,zh-TW;q=0.8,zh;q=0.7",
        "Accept-Encoding": "gzip, deflate, br",
    }


class _Session:
    """Builds requests like an httpx.Client but sends them straight to the transport: the client's
    own redirect bookkeeping would choke on odd Location values we want to record, not crash on."""

    def __init__(self, timeout: float):
        self.transport = httpx.HTTPTransport(retries=0)
        self.client = httpx.Client(transport=self.transport, timeout=timeout, trust_env=False,
                                   follow_redirects=False)

    def close(self) -> None:
        self.client.close()


def _get_hop(session: _Session, url: str, headers: dict[str, str], max_bytes: int,
             deadline: float) -> tuple[Hop, str | None]:
    """One GET, body read raw up to max_bytes. Raises _HopError on network failure."""
    try:
        request = session.client.build_request("GET", url, headers=headers)
    except (httpx.InvalidURL, ValueError) as exc:
        raise _HopError(f"invalid URL {url[:200]!r}: {_one_line(exc)}") from None
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    try:
        resp = session.transport.handle_request(request)
    except httpx.HTTPError as exc:
        raise _HopError(_describe(exc)) from None
    ip = _server_ip(resp)
    body = bytearray()
    truncated = False
    error = None
    try:
        chunks = resp.iter_raw(_READ_CHUNK)
        for chunk in chunks:
            room = max_bytes - len(body)
            if len(chunk) >= room:
                body += chunk[:room]
                # Only a truncation if bytes were actually left unread.
                truncated = len(chunk) > room or _more_data(chunks)
                break
            body += chunk
            if time.monotonic() > deadline:
                error = "timeout: total time limit exceeded while reading the body"
                break
    except httpx.HTTPError as exc:
        error = _describe(exc)
    finally:
        resp.close()
    hop = Hop(
        url=url,
        method="GET",
        request_headers=sent,
        status=resp.status_code,
        reason=resp.reason_phrase or "",
        http_version=resp.http_version or "HTTP/1.1",
        response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers.raw],
        body=bytes(body),
        body_truncated=truncated or error is not None,
    )
    if error:
        raise _HopError(error, partial=hop, ip=ip)
    return hop, ip


def _more_data(chunks) -> bool:
    try:
        return any(chunks)
    except httpx.HTTPError:
        return False


def _chain(session, url, headers, *, max_bytes, max_redirects, deadline):
    """Follow redirects by hand. Returns (hops, resolved_ip, error)."""
    hops: list[Hop] = []
    ip = None
    current = url
    while True:
        try:
            hop, ip = _get_hop(session, current, headers, max_bytes, deadline)
        except _HopError as exc:
            if exc.partial is not None:
                hops.append(exc.partial)
                ip = exc.ip
            return hops, ip, str(exc)
        hops.append(hop)
        location = _header(hop.response_headers, "location")
        if hop.status not in REDIRECT_STATUSES or location is None:
            return hops, ip, None
        if len(hops) > max_redirects:
            return hops, ip, f"too many redirects (more than {max_redirects})"
        try:
            nxt = httpx.URL(current).join(location.strip())
        except (httpx.InvalidURL, ValueError) as exc:
            return hops, ip, f"invalid redirect Location {location[:200]!r}: {_one_line(exc)}"
        if nxt.scheme not in ("http", "https") or not nxt.host:
            return hops, ip, f"redirect to unsupported URL {str(nxt)[:200]!r}"
        current = str(nxt)
        if time.monotonic() > deadline:
            return hops, ip, "timeout: total time limit exceeded while following redirects"


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def fetch(url: str, *, vendor: str | None = None, timeout: float = 20.0,
          max_bytes: int = DEFAULT_MAX_BYTES, max_redirects: int = 10, probe: bool = True,
          user_agent: str = USER_AGENT, total_timeout: float | None = None) -> Exchange:
    """Fetch `url` (GET), following up to `max_redirects` redirects, each hop recorded.

    `timeout` bounds connecting and each read; `total_timeout` (default 3 x timeout) bounds the whole
    chain so a server dripping bytes cannot hold a capture forever. Bodies beyond `max_bytes` are cut
    (`Hop.body_truncated`). Invalid URLs raise FetchInputError; everything else is in the Exchange.
    """
    validate_url(url)
    if not (timeout > 0 and max_bytes > 0 and max_redirects >= 0):
        raise FetchInputError("timeout and max_bytes must be positive, max_redirects not negative")
    started = datetime.now(timezone.utc)
    deadline = time.monotonic() + (total_timeout if total_timeout is not None else 3 * timeout)
    headers = _request_headers(user_agent)
    extra: dict = {}
    session = _Session(timeout)
    try:
        hops, ip, error = _chain(session, url, headers, max_bytes=max_bytes,
                                 max_redirects=max_redirects, deadline=deadline)
        probe_hop = None
        if probe and error is None and hops and 200 <= hops[-1].status < 300:
            probe_hop = _probe(session, hops[-1].url, headers, timeout, extra)
    finally:
        session.close()
    if any(h.body_truncated for h in hops) and error is None:
        extra["truncated_at_bytes"] = max_bytes
    return Exchange(url=url, started_at=started, hops=hops, resolved_ip=ip, error=error,
                    vendor=vendor, probe=probe_hop, extra=extra)


def probe_url(final_url: str) -> str:
    u = httpx.URL(final_url)
    return str(u.copy_with(path=f"/{secrets.token_hex(12)}-claimwatch-probe", query=None, fragment=None))


def _probe(session, final_url, headers, timeout, extra) -> Hop | None:
    """Ask the same host for a page that cannot exist: a 200 here means the site soft-404s."""
    target = probe_url(final_url)
    hops, _ip, error = _chain(session, target, headers, max_bytes=PROBE_MAX_BYTES,
                              max_redirects=PROBE_MAX_REDIRECTS,
                              deadline=time.monotonic() + 2 * timeout)
    extra["probe_url"] = target
    if len(hops) > 1:
        extra["probe_redirects"] = [[h.url, h.status] for h in hops[:-1]]
    if error:
        extra["probe_error"] = error
        return None
    return hops[-1] if hops else None
