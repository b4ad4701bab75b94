"""A local HTTP server that serves fixed answers by path, for the download tests (127.0.0.1 only); posts
sent from a thread whose arrival at a real server a test can wait for."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

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


def server_has_read(server_port: int, client_port: int) -> bool:
    """Tell whether the server has read every byte the client sent on this connection (its receive queue
    is empty, in /proc/net/tcp): the request is in the server's hands, not waiting in the kernel."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return int(fields[4].split(":")[1], 16) == 0
    return False


class PendingPost:
    """A POST sent from a thread on a connection of its own, whose answer the test collects later.

    `sent` is set once the request has left the client; `read_by_server()` tells whether the server has
    read it all; `answer()` waits for the response (a safety net of `timeout` seconds).
    """

    def __init__(self, base: str, path: str, form: dict[str, str], cookies: str = "", timeout: float = 120):
        host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.sent = threading.Event()
        self.done = threading.Event()
        self.client_port = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = ""
        self.error: BaseException | None = None
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "close"}
        if cookies:
            headers["Cookie"] = cookies
        self._request = (path, urlencode(form), headers)
        self._conn = http.client.HTTPConnection(host, self.port, timeout=timeout)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._conn.connect()
            self.client_port = self._conn.sock.getsockname()[1]
            path, body, headers = self._request
            self._conn.request("POST", path, body=body, headers=headers)
            self.sent.set()
            response = self._conn.getresponse()
            self.status, self.headers = response.status, dict(response.getheaders())
            self.body = response.read().decode(errors="replace")
        except BaseException as err:  # noqa: BLE001 (handed to the test by answer())
            self.error = err
        finally:
            self.sent.set()
            self.done.set()
            self._conn.close()

    def read_by_server(self) -> bool:
        """Tell whether the request was sent and the server has read all of it."""
        return self.sent.is_set() and server_has_read(self.port, self.client_port)

    def answer(self, timeout: float = 120) -> PendingPost:
        """Wait for the response; raise what the client met, if anything."""
        assert self.done.wait(timeout), "no answer"
        if self.error is not None:
            raise self.error
        return self


def wait_until(condition, timeout: float = 60, what: str = "condition") -> None:
    """Check `condition()` until it holds (a safety net of `timeout` seconds, then the test fails)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: still false after {timeout:.0f} s"
        time.sleep(0.01)  # a polling step, not what the test waits for
