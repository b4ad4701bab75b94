"""A local HTTP server that serves fixed answers by path, for the download tests (127.0.0.1 only)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# path → (status, body, announced Content-Length): a length above the body's simulates a cut connection.
Routes = dict[str, tuple[int, bytes, int]]


@contextmanager
def serve_routes(routes: Routes, content_type: str) -> Iterator[str]:
    """Serve `routes` (404 elsewhere) on a free local port for the block; yield the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            status, body, length = routes.get(self.path.split("?")[0], (404, b"introuvable", 11))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the next poll: 50 ms, not the default half second per test
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
