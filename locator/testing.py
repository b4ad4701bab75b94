"""For tests and scripts: run `locator serve` in the background (free port, wait for /healthz), and
play slow clients against it (the slow-socket drill)."""

from __future__ import annotations

import errno
import heapq
import http.client
import os
import random
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

# One test or benchmark client is one address: the per-address limits would throttle it.
HIGH_RATE_LIMITS = {
    "LOCATOR_RATE_LIMIT_API": "100000000 per minute",
    "LOCATOR_RATE_LIMIT_PAGES": "100000000 per minute",
}


class ServerURL(str):
    """The base URL of a running server (`http://127.0.0.1:PORT`), with its port and process."""

    port: int
    process: subprocess.Popen
    _errors: int  # file descriptor of the server's error output

    def log(self) -> str:
        """Return what the server has written to its error output so far (its log)."""
        size = os.fstat(self._errors).st_size
        return os.pread(self._errors, size, 0).decode(errors="replace")


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str, timeout: float) -> bool:
    """Tell whether GET url answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (an http:// URL we built)
            return r.status == 200
    except OSError:
        return False


@contextmanager
def serve_in_background(
    db: str | Path,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    threads: int | None = None,
    command: Sequence[str | Path] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 60.0,
) -> Iterator[ServerURL]:
    """Serve `db` on a free local port for the block; yield its URL once /healthz is 200."""
    # `env` comes after the high rate limits (a test may set its own); `command` replaces
    # `python -m locator.cli` (an installed `locator` script); a server that exits or never answers
    # raises RuntimeError with the end of its error output.
    port = free_port()
    argv = [str(c) for c in (command or (sys.executable, "-m", "locator.cli"))]
    argv += ["serve", "--db", str(db), "--port", str(port), "--workers", str(workers)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    full_env = {**os.environ, **HIGH_RATE_LIMITS, **(env or {})}
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.port = port
    # Errors go to a file, not a pipe: a chatty server never blocks on a pipe nobody reads.
    with tempfile.TemporaryFile() as errors:
        url._errors = errors.fileno()
        url.process = proc = subprocess.Popen(  # noqa: S603 (our own command line)
            argv, stdout=subprocess.DEVNULL, stderr=errors, env=full_env, cwd=cwd
        )
        try:
            deadline = time.monotonic() + timeout
            # Each probe may take what is left of the deadline: a busy machine answers late, not never.
            while not _answers(url + "/healthz", max(1.0, deadline - time.monotonic())):
                if proc.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    tail = errors.read().decode(errors="replace")[-2000:]
                    state = "exited" if proc.poll() is not None else f"did not answer within {timeout:.0f} s"
                    raise RuntimeError(f"locator serve {state}: {tail}")
                time.sleep(0.1)  # the server is starting: real time is what we wait for
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def raise_file_limit(wanted: int) -> int:
    """Raise this process's open-file limit toward `wanted` (up to the hard limit); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def loopback_addresses(count: int, first: int = 2) -> list[str]:
    """Return `count` distinct 127.x.y.z source addresses (Linux answers on all of 127.0.0.0/8)."""
    return [f"127.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" for n in range(first, first + count)]


def healthz_seconds(port: int, source: str, timeout: float) -> float | None:
    """GET /healthz on a new connection from `source`; return the seconds to a 200, None if unanswered."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", "/healthz", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return time.monotonic() - start if response.status == 200 else None
    except OSError:
        return None
    finally:
        conn.close()


class SlowClients:
    """A slowloris: sockets that open a request and add one header line every few seconds, never ending it.

    Each socket sends its next line after a random pause in `every` (seconds). A socket the server
    closes is counted (`closed`) and, with `reopen`, opened again at its next turn, as an attacker
    would. One background thread drives every socket (an epoll selector): `start()`, then `stop()`.
    """

    def __init__(self, port: int, every: tuple[float, float] = (10.0, 18.0), reopen: bool = True):
        self.port, self.every, self.reopen = port, every, reopen
        self.opened = self.closed = 0  # sockets opened in all (reopenings included), closed by the server
        self.lines = 0  # header lines sent in all
        self._selector = selectors.DefaultSelector()
        self._due: list[tuple[float, int, str]] = []  # (when, slot, source address): a line or a reopening
        self._sockets: dict[int, socket.socket] = {}  # slot → its open socket
        self._slots = 0
        self._random = random.Random(16)  # noqa: S311 (pauses, not secrets)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def open_now(self) -> int:
        """Sockets open right now, as far as the client side knows."""
        return len(self._sockets)

    def open_slots(self) -> set[int]:
        """The sockets open right now, by their number (1, 2… in the order `open` opened them)."""
        with self._lock:
            return set(self._sockets)

    def wait_for(self, condition: Callable[[SlowClients], bool], timeout: float) -> bool:
        """Wait until `condition(self)` holds (checked at each line sent, socket closed); say if it does."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)

    def open(self, sources: Sequence[str]) -> None:
        """Open one socket from each source address (repeat an address for several), at once."""
        with self._lock:
            for source in sources:
                self._slots += 1
                self._connect(self._slots, source, time.monotonic())

    def start(self) -> SlowClients:
        """Start sending the lines, in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and close every socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
        self._selector.close()

    def _later(self, slot: int, source: str, now: float) -> None:
        heapq.heappush(self._due, (now + self._random.uniform(*self.every), slot, source))

    def _connect(self, slot: int, source: str, now: float) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((source, 0))
            code = sock.connect_ex(("127.0.0.1", self.port))
        except OSError:
            code = -1
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.closed += 1
        else:
            self.opened += 1
            self._sockets[slot] = sock
            self._selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, (slot, source))
        self._later(slot, source, now)

    def _drop(self, slot: int) -> None:
        sock = self._sockets.pop(slot)
        self._selector.unregister(sock)
        sock.close()
        self.closed += 1
        self._changed.notify_all()

    def _send(self, slot: int, line: bytes) -> bool:
        try:
            self._sockets[slot].send(line)
        except OSError:
            self._drop(slot)
            return False
        self.lines += 1
        self._changed.notify_all()
        return True

    def _tick(self, now: float) -> None:
        """Send the lines whose time has come; reopen the sockets the server closed."""
        while self._due and self._due[0][0] <= now:
            _when, slot, source = heapq.heappop(self._due)
            if slot not in self._sockets:
                if self.reopen:
                    self._connect(slot, source, now)
                continue
            self._send(slot, b"X-Lent: %d\r\n" % slot)
            self._later(slot, source, now)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                now = time.monotonic()
                self._tick(now)
                wait = min(0.2, max(0.0, self._due[0][0] - now)) if self._due else 0.2
            for key, events in self._selector.select(timeout=wait):
                slot, _source = key.data
                with self._lock:
                    if self._sockets.get(slot) is not key.fileobj:
                        continue
                    if events & selectors.EVENT_WRITE:  # connected, or failed to
                        if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            self._drop(slot)
                        elif self._send(slot, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
                            self._selector.modify(key.fileobj, selectors.EVENT_READ, key.data)
                    elif events & selectors.EVENT_READ:  # the server closed it (it never answers)
                        try:
                            data = key.fileobj.recv(4096)
                        except OSError:
                            data = b""
                        if not data:
                            self._drop(slot)
