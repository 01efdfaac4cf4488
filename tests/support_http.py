"""A loopback HTTP server for tests: routes are plain data that tests set and change between requests.

Usage:
    with LoopbackServer() as srv:
        srv.route("/a", body=b"<html>hi</html>", headers={"Content-Type": "text/html"})
        srv.route("/old", status=301, redirect="/a")
        fetch(srv.url("/old"))
        srv.route("/a", status=410)          # the site changes between captures

Each route may set: status, reason, headers (dict or list of pairs), body (bytes, or a callable
returning an iterable of byte chunks for big/streamed bodies), redirect (Location, relative or
absolute), delay (seconds slept before the status line), chunked (Transfer-Encoding: chunked),
gzip/br (compress the body and set Content-Encoding).
Unknown paths answer `srv.default` (a plain 404 unless a test replaces it, e.g. with a soft-404 200).
`srv.requests` records (method, path, headers) of every request received.

`srv.serve_version(directory)` loads a whole site version from a directory: every file becomes a route
at its relative path (`index.html` also serves its directory), and an optional `_routes.json`
({"/path": {"status": 410}, "/moved": {"status": 301, "redirect": "/new"}, ...}) adds or overrides
routes. Switching directories (v1/, v2/, ...) between captures simulates a site changing over time.
"""

from __future__ import annotations

import gzip as gzip_mod
import json
import mimetypes
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Body = bytes | Callable[[], Iterable[bytes]]


@dataclass
class Route:
    status: int = 200
    reason: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Body = b""
    redirect: str | None = None
    delay: float = 0.0
    chunked: bool = False
    gzip: bool = False
    br: bool = False


def _pairs(headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return [tuple(h) for h in headers]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        owner = self.server.owner
        owner.requests.append(("GET", self.path, list(self.headers.items())))
        route = owner.lookup(self.path)
        if route.delay:
            time.sleep(route.delay)
        body = route.body
        if callable(body) and (route.gzip or route.br):
            body = b"".join(body())
        if route.gzip:
            body = gzip_mod.compress(body)
        elif route.br:
            import brotli

            body = brotli.compress(body)
        try:
            self.send_response(route.status, route.reason)
            names = set()
            for k, v in route.headers:
                self.send_header(k, v)
                names.add(k.lower())
            if route.redirect is not None:
                self.send_header("Location", route.redirect)
            if route.gzip:
                self.send_header("Content-Encoding", "gzip")
            elif route.br:
                self.send_header("Content-Encoding", "br")
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif not callable(body) and "content-length" not in names:
                self.send_header("Content-Length", str(len(body)))
            elif callable(body):
                # Unknown length: close-delimited body.
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            chunks = body() if callable(body) else ([body] if body else [])
            for chunk in chunks:
                if not chunk:
                    continue
                if route.chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
            if route.chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading (size limit, timeout): expected in tests.
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "LoopbackServer"


class LoopbackServer:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self.default = Route(status=404, headers=[("Content-Type", "text/plain")], body=b"not found\n")
        self.requests: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> "LoopbackServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- addressing
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    # -- routes
    def route(self, path: str, *, status: int = 200, reason: str | None = None, headers=None,
              body: Body = b"", redirect: str | None = None, delay: float = 0.0,
              chunked: bool = False, gzip: bool = False, br: bool = False) -> Route:
        r = Route(status=status, reason=reason, headers=_pairs(headers), body=body,
                  redirect=redirect, delay=delay, chunked=chunked, gzip=gzip, br=br)
        with self._lock:
            self._routes[path] = r
        return r

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()

    def lookup(self, path: str) -> Route:
        with self._lock:
            if path in self._routes:
                return self._routes[path]
            bare = path.split("?", 1)[0]
            return self._routes.get(bare, self.default)

    def serve_version(self, directory: str | Path) -> None:
        """Replace all routes with the files of `directory` (see module docstring)."""
        root = Path(directory)
        routes: dict[str, Route] = {}
        for f in sorted(root.rglob("*")):
            if not f.is_file() or f.name == "_routes.json":
                continue
            rel = "/" + f.relative_to(root).as_posix()
            ctype = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/json", "application/javascript"):
                ctype += "; charset=utf-8"
            route = Route(headers=[("Content-Type", ctype)], body=f.read_bytes())
            routes[rel] = route
            if f.name in ("index.html", "index.htm"):
                parent = rel[: -len(f.name)]
                routes[parent] = route
                if parent != "/":
                    routes[parent.rstrip("/")] = route
        spec_file = root / "_routes.json"
        if spec_file.exists():
            for path, spec in json.loads(spec_file.read_text("utf-8")).items():
                spec = dict(spec)
                if "body" in spec and isinstance(spec["body"], str):
                    spec["body"] = spec["body"].encode("utf-8")
                spec["headers"] = _pairs(spec.get("headers"))
                routes[path] = Route(**spec)
        with self._lock:
            self._routes = routes


def closed_port() -> int:
    """A loopback TCP port with nothing listening (bound then released)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
