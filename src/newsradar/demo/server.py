"""A loopback HTTP server for the demo's sample site (``{base}`` in files becomes its URL)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["SITE", "SiteServer"]

SITE = Path(__file__).with_name("site")
_TYPES = {".xml": "application/rss+xml; charset=utf-8", ".html": "text/html; charset=utf-8"}


class SiteServer:
    """Serve ``root`` on 127.0.0.1 in a background thread."""

    def __init__(self, root: Path = SITE, port: int = 0) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = (root / self.path.split("?", 1)[0].lstrip("/")).resolve()
                if not path.is_relative_to(root.resolve()) or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes().replace(b"{base}", outer.base.encode())
                self.send_response(200)
                self.send_header("Content-Type", _TYPES.get(path.suffix, "text/plain"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
