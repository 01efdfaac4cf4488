"""A fictional vendor site on 127.0.0.1 whose pages change version by version.

Unknown paths answer 200 with a "page not found" page, as many real vendor sites do: that is
the soft-404 the tracker has to see through.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = Path(__file__).parent / "site"

NV9000 = "/products/nv9000.html"
CLASSSENSE = "/en/classsense.html"
SDK = "/sdk/face-attr.html"

# path -> ("file", name) | ("status", code) | ("redirect", location) | ("soft404", None)
VERSIONS: list[tuple[str, dict[str, tuple[str, str | int | None]]]] = [
    ("first crawl: three product pages", {
        NV9000: ("file", "nv9000-v1.html"),
        CLASSSENSE: ("file", "classsense-v1.html"),
        SDK: ("file", "sdk-nation.gbk.html"),
    }),
    ("redesign: new markup, layout and surrounding text, same claims", {
        NV9000: ("file", "nv9000-v2.html"),
        CLASSSENSE: ("file", "classsense-v2.html"),
        SDK: ("file", "sdk-nation.gbk.html"),
    }),
    ("after press enquiries: a sentence deleted, a page redirected home, the SDK page soft-404s", {
        NV9000: ("file", "nv9000-v3.html"),
        CLASSSENSE: ("redirect", "/"),
        SDK: ("soft404", None),
    }),
    ("later: the product page answers 404, the SDK page is back", {
        NV9000: ("status", 404),
        CLASSSENSE: ("redirect", "/"),
        SDK: ("file", "sdk-nation.gbk.html"),
    }),
]


class _Handler(BaseHTTPRequestHandler):
    server_version = "NimbusWeb/1.0"

    def log_message(self, *args) -> None:  # keep the demo output readable
        pass

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        routes = self.server.routes  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        if path == "/":
            spec = ("file", "home.html")
        else:
            spec = routes.get(path, ("soft404", None))
        kind, arg = spec
        if kind == "file":
            name = str(arg)
            # The GBK page relies on its <meta> charset, like many old vendor pages.
            ctype = "text/html" if name.endswith(".gbk.html") else "text/html; charset=utf-8"
            self._send(200, (SITE / name).read_bytes(), {"Content-Type": ctype})
        elif kind == "redirect":
            self._send(302, b"", {"Location": str(arg)})
        elif kind == "status":
            self._send(int(arg), b"<h1>404 Not Found</h1>", {"Content-Type": "text/html"})
        else:
            self._send(200, (SITE / "notfound.html").read_bytes(), {"Content-Type": "text/html; charset=utf-8"})


class DemoSite:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes = VERSIONS[0][1]  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def set_version(self, index: int) -> str:
        title, routes = VERSIONS[index]
        self.httpd.routes = routes  # type: ignore[attr-defined]
        return title

    def __enter__(self) -> "DemoSite":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
