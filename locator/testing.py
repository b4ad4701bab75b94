"""One way to run `locator serve` in the background for tests and scripts: free port, wait for /healthz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
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


def _answers(url: str) -> bool:
    """Tell whether GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 (an http:// URL we built)
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
            while not _answers(url + "/healthz"):
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
