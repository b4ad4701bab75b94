"""Slow clients cannot exhaust the connections of `locator serve` (issue 16), over a real server.

The slow sockets bind 127.0.0.x source addresses (Linux answers on all of 127.0.0.0/8), so one test
plays clients from hundreds of addresses. Each /healthz probe opens a new connection from an address
of its own and must be answered while the attack goes on, where the old server never answered at all
while it lasted. How fast it answers (milliseconds) is measured by `scripts/slow_clients_drill.py`,
not here: a busy machine makes it slower, never unanswered; PROBE_TIMEOUT_S is only a safety net.
"""

from __future__ import annotations

import socket
import time

import pytest

from locator.testing import (
    SlowClients,
    healthz_seconds,
    loopback_addresses,
    raise_file_limit,
    serve_in_background,
)

PROBE_TIMEOUT_S = 60.0  # a safety net: the sockets of the attack keep sending lines meanwhile
PROBE_SOURCE = "127.0.0.254"
WAIT_S = 60.0  # the longest a condition may take to hold before the test fails

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def built_store(small_built_store):
    return small_built_store


@pytest.fixture(scope="module", autouse=True)
def _enough_files():
    """1,500 client sockets: more than the usual 1,024 open files of a process."""
    if raise_file_limit(4096) < 2048:
        pytest.fail("the open-file limit cannot be raised to 2,048 (ulimit -Hn)")


def _probe(port: int, count: int, attack: SlowClients) -> list[float | None]:
    """Ask /healthz `count` times, each after the attack has sent more lines; stop at an unanswered one.

    An answer counts only if the attack was still on when it came: sockets open and sending lines.
    """
    seconds: list[float | None] = []
    for _ in range(count):
        sent = attack.lines
        attack.wait_for(lambda a, sent=sent: a.lines > sent + 10 or a.open_now == 0, WAIT_S)
        seconds.append(healthz_seconds(port, PROBE_SOURCE, PROBE_TIMEOUT_S))
        if seconds[-1] is None:
            break
        assert attack.open_now > 0 and attack.lines > sent, "the attack had stopped: the probe proves nothing"
    return seconds


def test_slow_sockets_from_one_address_then_from_many_leave_healthz_answering(built_store):
    """The issue's drill: 1,000 slow sockets from one address, then 500 over 250 others (2 workers)."""
    env = {"LOCATOR_REQUEST_SECONDS": "300"}  # the caps alone hold: no socket reaches its deadline here
    with serve_in_background(built_store, env=env, workers=2) as base:
        attack = SlowClients(base.port, every=(1.0, 2.0), reopen=False).start()
        try:
            attack.open(["127.0.0.1"] * 1000)
            probes = _probe(base.port, 5, attack)
            assert None not in probes, (
                f"/healthz unanswered under 1,000 slow sockets from one address: {probes}"
            )
            # Beyond CONNECTIONS_PER_ADDRESS (32) per worker, the server closed them at once.
            assert attack.wait_for(lambda a: a.closed >= 1000 - 2 * 32, WAIT_S), attack.closed
            assert attack.open_now <= 2 * 32

            closed = attack.closed
            addresses = loopback_addresses(250)
            attack.open([addresses[i % 250] for i in range(500)])
            probes += _probe(base.port, 10, attack)
            print(f"/healthz during the drill (s): {[round(s, 3) for s in probes if s is not None]}")
            assert None not in probes, (
                f"/healthz unanswered under 500 slow sockets from 250 addresses: {probes}"
            )
            assert attack.closed == closed  # two per address, within every cap: all were kept
        finally:
            attack.stop()


def test_a_full_connection_table_makes_room_for_a_newcomer(built_store):
    """250 slow sockets from 250 addresses fill a table of 100: the oldest give way, a newcomer is served."""
    env = {"LOCATOR_CONNECTIONS_PER_WORKER": "100", "LOCATOR_REQUEST_SECONDS": "300"}
    with serve_in_background(built_store, env=env) as base:
        attack = SlowClients(base.port, every=(1.0, 2.0), reopen=False).start()
        try:
            attack.open(loopback_addresses(250, first=256))
            probes = _probe(base.port, 3, attack)
            assert None not in probes, f"/healthz unanswered with the connection table full: {probes}"
            assert attack.wait_for(lambda a: a.closed >= 150, WAIT_S), attack.closed
            assert set(range(201, 251)) <= attack.open_slots()  # the newest kept their place
        finally:
            attack.stop()


def test_connections_beyond_the_per_address_cap_are_closed_at_once(built_store):
    env = {"LOCATOR_CONNECTIONS_PER_ADDRESS": "4", "LOCATOR_REQUEST_SECONDS": "300"}
    with serve_in_background(built_store, env=env) as base:
        held = [_connect(base.port, "127.0.0.3") for _ in range(4)]
        extra = _connect(base.port, "127.0.0.3")
        try:
            extra.settimeout(60)  # far below REQUEST_SECONDS (300): only the cap can close it this early
            try:
                closed = extra.recv(1) == b""
            except ConnectionResetError:
                closed = True
            except TimeoutError:
                closed = False
            assert closed, "a fifth connection from one address stayed open"
            assert healthz_seconds(base.port, "127.0.0.4", PROBE_TIMEOUT_S) is not None  # other addresses
            for sock in held:  # the four within the cap were kept and are answered
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                assert _read_all(sock).startswith(b"HTTP/1.1 200")
        finally:
            for sock in [*held, extra]:
                sock.close()


@pytest.fixture(scope="module")
def deadline_server(built_store):
    """A server whose requests have 2 s to arrive whole (one for both trickles: a start-up saved)."""
    with serve_in_background(built_store, env={"LOCATOR_REQUEST_SECONDS": "2"}) as base:
        yield base


@pytest.mark.parametrize(
    ("opening", "trickle"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Lent: 1\r\n"),
        (b"POST /api/v1/structures HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n", b"a"),
    ],
    ids=["headers", "body"],
)
def test_a_request_trickled_byte_after_byte_is_closed_at_its_deadline(deadline_server, opening, trickle):
    """Every byte used to restart the silence timeout: now the request has REQUEST_SECONDS in all."""
    started = time.monotonic()
    sock = _connect(deadline_server.port, "127.0.0.5")
    try:
        sock.sendall(opening)
        closed_after = _trickle_until_closed(sock, trickle, give_up=started + 60)  # a safety net
    finally:
        sock.close()
    assert closed_after is not None, "a request trickled for 60 s was never closed"
    assert closed_after - started >= 2  # not before its deadline


def test_a_body_that_keeps_coming_earns_time_past_the_deadline(built_store):
    """An upload at a fair rate (above BODY_MIN_BYTES_PER_SECOND) is answered, however long it takes."""
    env = {"LOCATOR_REQUEST_SECONDS": "2", "LOCATOR_BODY_MIN_BYTES_PER_SECOND": "1000"}
    with serve_in_background(built_store, env=env) as base:
        body = b"{}" + b" " * 23998  # 24,000 bytes in 6 pieces: 24 s earned, sent over 2.5 s at least
        sock = _connect(base.port, "127.0.0.6")
        try:
            started = time.monotonic()
            sock.sendall(
                b"POST /api/v1/structures HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            for start in range(0, len(body), 4000):
                if start:
                    # The upload's pace: 8,000 bytes a second, 8 times the minimum; each piece earns 4 s,
                    # so a busy machine that delays a piece by seconds does not cut the upload.
                    time.sleep(0.5)
                sock.sendall(body[start : start + 4000])
            answer = _read_all(sock)
            assert answer.startswith(b"HTTP/1.1 "), "the upload was cut"
            assert time.monotonic() - started > 2  # it outlasted REQUEST_SECONDS, and was answered
        finally:
            sock.close()


def test_the_per_address_cap_counts_an_ipv6_network_and_stays_off_behind_a_proxy(built_store):
    from admin_helpers import new_app

    from locator.web.server import Policy, client_key

    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    direct = new_app({"DB": str(built_store), "SECRET_KEY": "t"})
    proxied = new_app({"DB": str(built_store), "SECRET_KEY": "t", "PROXY_COUNT": 1})
    assert Policy.of(direct).per_address == 32
    assert Policy.of(proxied).per_address is None  # every connection carries the proxy's address


def _connect(port: int, source: str) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(60)  # a safety net
    sock.connect(("127.0.0.1", port))
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _trickle_until_closed(sock: socket.socket, piece: bytes, give_up: float) -> float | None:
    """Send `piece` every 0.2 s until the server closes the connection; return when it did."""
    sock.settimeout(0.2)  # the trickle's pace
    while time.monotonic() < give_up:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic()
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic()
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic()
    return None
