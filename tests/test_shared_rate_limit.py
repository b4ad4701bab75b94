"""Rate-limit counters shared by the workers of one server (the default, shared memory), and by several
servers through RATE_LIMIT_STORAGE, with a real Redis.

`make test` installs Debian's redis-server (Makefile target `redis`); the test starts its own on
127.0.0.1, on a free port, with a temporary directory and no persistence.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from locator.testing import free_port, serve_in_background

LIMIT = 10
URL = "/api/v1/communes/63430"  # Thiers


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on 127.0.0.1 (no snapshot, data in a temp dir); yields (process, port)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: run `make redis` (Debian package redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60  # a safety net: a busy machine starts it late, not never
    while not _ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=60)


def test_two_servers_share_one_limit_and_fail_open_when_redis_goes_away(redis_server, built_store, tmp_path):
    redis_proc, port = redis_server
    env = {
        "LOCATOR_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{port}",
        "LOCATOR_RATE_LIMIT_API": f"{LIMIT} per day",  # one window for the whole test
    }
    http = requests.Session()
    with ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            db = tmp_path / f"{name}.sqlite"
            shutil.copyfile(built_store, db)
            servers.append(stack.enter_context(serve_in_background(db, env)))
        a, b = servers
        answers = [http.get((a, b)[i % 2] + URL, timeout=60).status_code for i in range(LIMIT + 4)]
        assert answers[:LIMIT] == [200] * LIMIT, answers
        assert answers[LIMIT:] == [429] * 4, answers  # both servers refuse: they count together
        assert http.get(a + URL, timeout=60).headers.get("Retry-After")

        redis_proc.terminate()
        redis_proc.wait(timeout=60)
        assert not _ping(port)
        after = [http.get(base + URL, timeout=60) for base in (a, b, a, b)]
        assert [r.status_code for r in after] == [200] * 4  # fail open: answered, not counted
        assert after[0].json()["code"] == "63430"
        for server in servers:
            log = server.log()
            assert "rate-limit storage unreachable" in log and "fail open" in log, log[-2000:]


def _socket_inodes(pid: int) -> set[int]:
    """The socket inodes of a process's open files."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _server_side_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the connection from client_port (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return int(fields[9])
    return None


def _workers(base) -> list[int]:
    master = base.process.pid
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def _connection_in_each_worker(base) -> list[http.client.HTTPConnection]:
    """Open keep-alive connections until one is served by each of the two workers; return one of each."""
    found: dict[int, http.client.HTTPConnection] = {}
    deadline = time.monotonic() + 60  # the second worker may still be starting
    while len(found) < 2 and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", base.port, timeout=30)
        conn.request("GET", "/healthz")  # answered: a worker has accepted it
        conn.getresponse().read()
        inode = _server_side_inode(base.port, conn.sock.getsockname()[1])
        owner = next((w for w in _workers(base) if inode in _socket_inodes(w)), None)
        if owner is not None and owner not in found:
            found[owner] = conn
        else:  # the kernel gave it to a worker we have: try again
            conn.close()
    assert len(found) == 2, f"one worker took every connection for 60 s (workers {_workers(base)})"
    return list(found.values())


@pytest.mark.server
def test_the_workers_of_one_server_share_the_limit_by_default(built_store):
    """Counted per worker, 2 workers accepted up to twice the limit (597 of 700 at 300/min): now the limit."""
    # Each keep-alive connection stays with the worker that accepted it (no deadline cuts it here).
    env = {"LOCATOR_RATE_LIMIT_API": f"{LIMIT} per day", "LOCATOR_REQUEST_SECONDS": "300"}
    with serve_in_background(built_store, env, workers=2) as base:
        first, second = _connection_in_each_worker(base)
        codes = []
        for i in range(LIMIT + 6):
            conn = (first, second)[i % 2]
            conn.request("GET", URL)
            response = conn.getresponse()
            response.read()
            codes.append(response.status)
        for conn in (first, second):
            conn.close()
    assert codes.count(200) == LIMIT, codes
    assert codes[:LIMIT] == [200] * LIMIT and set(codes[LIMIT:]) == {429}, codes
