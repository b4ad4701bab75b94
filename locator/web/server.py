"""The production WSGI server, started from `locator serve`: gunicorn processes running waitress.

Gunicorn's gthread worker hands a connection to a thread before its request has arrived, so ten
clients sending one header line every few seconds held every thread and /healthz timed out. Each
worker here serves with waitress instead, which reads whole requests in its event loop and hands
only complete ones to its threads. Gunicorn keeps what it is good at: forking workers from the
built app (shared memory), restarting them, signals.

Waitress alone still let slow sockets take the site down (issue 16): 200 connections a worker, no
more accepts once they were open, and a silence timeout that every trickled byte restarted. So each
worker here, in its event loop:
- keeps at most CONNECTIONS_PER_WORKER connections and never stops accepting: when the table is
  full, a newcomer takes the place of the connection that has waited longest for its request (one
  being answered is never cut), so a flood from many addresses cannot starve a new client;
- closes at once a connection beyond CONNECTIONS_PER_ADDRESS from one client address (an IPv6 /64);
- closes a connection whose request has not fully arrived REQUEST_SECONDS after it was accepted or
  after its previous answer, plus one second per BODY_MIN_BYTES_PER_SECOND of body received:
  trickling buys no time, a real upload does;
- refuses a body above its route's limit (web/limits.py) from its Content-Length, before reading
  it, and cuts a chunked body as soon as it passes the limit: the app answers its French 413 and
  the connection closes, nothing of the body is spooled to disk;
- waits with poll(), not select() (whose descriptors stop at 1024), its open-file limit raised to
  fit the table.
"""

from __future__ import annotations

import _thread
import ipaddress
import logging
import resource
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import RequestEntityTooLarge

from . import limits

# Seconds an answer may wait for a client that does not read it before the connection is closed.
CHANNEL_TIMEOUT = 30
# Open files a worker keeps beside its connections: listening sockets, the store's files per
# thread, logs, uploads spooled to disk.
FILES_RESERVE = 64
FILES_PER_THREAD = 8
# How often (seconds) the event loop looks for connections past their deadline.
SWEEP_EVERY = 1
WARN_EVERY_S = 60.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """What one worker allows its connections (settings CONNECTIONS_*, REQUEST_SECONDS, BODY_MIN_…)."""

    connections: int
    per_address: int | None  # None behind a proxy: every connection comes from its address
    request_seconds: float
    body_bytes_per_second: float
    body_limit: Callable[[str, str], int]  # (method, path) → the route's largest body, in bytes

    @classmethod
    def of(cls, app: Flask) -> Policy:
        """Read the policy from the app's settings."""
        config = app.config
        return cls(
            connections=int(config["CONNECTIONS_PER_WORKER"]),
            per_address=None if int(config["PROXY_COUNT"]) else int(config["CONNECTIONS_PER_ADDRESS"]),
            request_seconds=float(config["REQUEST_SECONDS"]),
            body_bytes_per_second=max(1.0, float(config["BODY_MIN_BYTES_PER_SECOND"])),
            body_limit=limits.route_body_limits(app),
        )


def client_key(host: str) -> str:
    """The address a per-address cap counts: the IPv4 address, or the /64 network of an IPv6 one."""
    if ":" not in host:
        return host
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network((ip, 64), strict=False))


class _Parser(HTTPRequestParser):
    """Waitress's request parser, which also holds each body to its route's limit."""

    def __init__(self, adj: Adjustments, body_limit: Callable[[str, str], int]):
        super().__init__(adj)
        self._body_limit = body_limit
        self.limit = 0

    def received(self, data: bytes) -> int:
        if self.completed:
            return 0
        in_headers = self.body_rcv is None
        consumed = super().received(data)
        beyond_all = isinstance(self.error, RequestEntityTooLarge)  # waitress's bound, above every route's
        if beyond_all:
            self.error = None  # answered like any other body too big for its route
        if in_headers:
            body_follows = self.body_rcv is not None and (beyond_all or not self.completed)
            if self.headers_finished and body_follows:  # the route decides, before a byte of the body
                self.limit = self._body_limit(self.command, self.path)
                if beyond_all or self.content_length > self.limit:
                    return self._refuse(len(data), self.content_length)
            return consumed
        if beyond_all or (not self.completed and self.body_bytes_received > self.limit):  # chunked
            return self._refuse(len(data), self.body_bytes_received)
        return consumed

    def _refuse(self, data_length: int, size: int) -> int:
        """Complete the request without its body: the app answers 413 from the size, then we close."""
        self.close()  # drops what a chunked body left in memory
        self.body_rcv = None  # the app reads an empty body
        self.chunked = False
        self.headers["CONTENT_LENGTH"] = str(size)  # above the route's limit: the app's check refuses
        self.headers["CONNECTION"] = "close"  # the rest of the body is never read
        self.connection_close = True
        self.expect_continue = False  # no "100 Continue": the client need not send the body
        self.completed = True
        return data_length  # the rest of this read is body, not a next request


class _Channel(HTTPChannel):
    """A connection that knows its deadline and its place in the worker's table."""

    def __init__(self, server: _Server, sock: socket.socket, addr: Any, adj: Adjustments, map=None):
        self.parser_class = partial(_Parser, body_limit=server.table.policy.body_limit)
        self.key = client_key(addr[0])
        super().__init__(server, sock, addr, adj, map=map)
        # Its request's clock: since it was accepted, or answered last; None while a thread answers.
        self.waiting_since: float | None = self.creation_time

    def service(self) -> None:
        self.waiting_since = None  # (set before the thread takes the request off the queue)
        super().service()
        self.waiting_since = time.time()  # the next request has its own REQUEST_SECONDS

    def del_channel(self, map=None) -> None:
        super().del_channel(map)
        self.server.table.forget(self)

    def waiting(self) -> bool:
        """Tell whether the connection waits for a request (none being answered or sent back)."""
        return self.waiting_since is not None and not self.requests and not self.total_outbufs_len

    def overdue(self, now: float, policy: Policy) -> bool:
        """Tell whether the connection is past its deadline."""
        since = self.waiting_since
        if self.will_close or self.requests or since is None:  # being answered: the app's business
            return False
        if self.total_outbufs_len:  # an answer the client does not read
            return now - self.last_activity > CHANNEL_TIMEOUT
        received = self.request.body_bytes_received if self.request is not None else 0
        return now > since + policy.request_seconds + received / policy.body_bytes_per_second


class _Table:
    """The connections of one worker (all its listening sockets), counted per client address."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.channels: dict[_Channel, None] = {}
        self.per_key: Counter[str] = Counter()
        self.next_sweep = 0.0
        self.refused = self.evicted = self.expired = 0
        self._warned_at = float("-inf")

    def admit(self, host: str) -> bool:
        """Tell whether a new connection from `host` may open; make room for it when the table is full."""
        key = client_key(host)
        if self.policy.per_address is not None and self.per_key[key] >= self.policy.per_address:
            self.refused += 1
            self._warn()
            return False
        while len(self.channels) >= self.policy.connections:
            oldest = min((c for c in self.channels if c.waiting()), key=_waiting_since, default=None)
            if oldest is None:  # every connection is being answered: the newcomer waits for none
                self.refused += 1
                self._warn()
                return False
            self.evicted += 1
            oldest.handle_close()  # forgets it
            self._warn()
        return True

    def add(self, channel: _Channel) -> None:
        self.channels[channel] = None
        self.per_key[channel.key] += 1

    def forget(self, channel: _Channel) -> None:
        if channel in self.channels:
            del self.channels[channel]
            self.per_key[channel.key] -= 1
            if not self.per_key[channel.key]:
                del self.per_key[channel.key]

    def sweep(self, now: float) -> None:
        """Mark the connections past their deadline for closing (the event loop closes them)."""
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_EVERY
        for channel in list(self.channels):
            if channel.overdue(now, self.policy):
                channel.will_close = True
                self.expired += 1

    def _warn(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "connections: %d open (at most %d), %d from the busiest address (at most %s); so far "
                "%d refused, %d evicted to make room, %d closed at their deadline",
                len(self.channels),
                self.policy.connections,
                max(self.per_key.values(), default=0),
                self.policy.per_address,
                self.refused,
                self.evicted,
                self.expired,
            )


def _waiting_since(channel: _Channel) -> float:
    since = channel.waiting_since  # read once: a thread may take its request meanwhile
    return float("inf") if since is None else since


class _Server(TcpWSGIServer):
    """Waitress's server on one listening socket, that accepts through the worker's table."""

    channel_class = _Channel

    def __init__(self, *args: Any, table: _Table, **kwargs: Any):
        self.table = table
        super().__init__(*args, **kwargs)

    def readable(self) -> bool:
        self.table.sweep(time.time())
        return self.accepting  # never stop accepting: a full table makes room instead

    def maintenance(self, now: float) -> None:
        self.table.sweep(now)

    def handle_accept(self) -> None:
        try:
            pair = self.accept()
        except OSError:
            log.warning("accept() failed", exc_info=True)
            return
        if pair is None:
            return
        conn, addr = pair
        if not self.table.admit(addr[0]):
            conn.close()
            return
        try:
            self.set_socket_options(conn)
        except OSError:  # the client is already gone
            conn.close()
            return
        self.table.add(self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map))


def raise_file_limit(wanted: int) -> int:
    """Raise this process's open-file limit toward `wanted` (up to the hard limit); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def create_server(app: Flask, sockets: list[socket.socket], threads: int) -> MultiSocketServer:
    """Waitress serving `app` on these listening sockets, under the app's connection policy."""
    policy = Policy.of(app)
    reserve = FILES_RESERVE + FILES_PER_THREAD * threads
    files = raise_file_limit(policy.connections + reserve)
    if files - reserve < policy.connections:
        log.warning(
            "open-file limit %d: %d connections per worker instead of CONNECTIONS_PER_WORKER=%d",
            files,
            max(1, files - reserve),
            policy.connections,
        )
        policy = Policy(**{**policy.__dict__, "connections": max(1, files - reserve)})
    adj = Adjustments(
        threads=threads,
        channel_timeout=CHANNEL_TIMEOUT,
        connection_limit=policy.connections,
        cleanup_interval=SWEEP_EVERY,
        max_request_body_size=limits.largest_body_limit(app.config) + 1,  # _Parser answers it too
        asyncore_use_poll=True,
        clear_untrusted_proxy_headers=False,  # ProxyFix (PROXY_COUNT) decides what to trust
        ident="locator",
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    socket_map: dict = {}
    table = _Table(policy)
    listening = []
    for sock in sockets:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError(f"locator serve listens on TCP only, not {sock.family!r}")
        server = _Server(
            app,
            socket_map,
            True,
            sock,
            dispatcher=dispatcher,
            adj=adj,
            bind_socket=False,
            sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
            table=table,
        )
        listening.append((server.effective_host, server.effective_port))
    return MultiSocketServer(socket_map, adj, listening, dispatcher, log.info)


class WaitressWorker(Worker):
    """A gunicorn worker that serves with waitress: slow clients cost a socket, never a thread."""

    def run(self) -> None:
        """Serve on the sockets gunicorn bound, until gunicorn asks this worker to stop."""
        server = create_server(self.wsgi, [listener.sock for listener in self.sockets], self.cfg.threads)
        threading.Thread(target=self._heartbeat, daemon=True).start()
        server.run()  # returns on KeyboardInterrupt/SystemExit, after its threads stop

    def _heartbeat(self) -> None:
        """Tell the arbiter we live (a busy event loop must not look hung); stop when told to."""
        while self.alive:
            self.notify()
            threading.Event().wait(1.0)
        _thread.interrupt_main()  # SIGTERM only cleared `alive`: end waitress's loop in the main thread


class Server(BaseApplication):
    """Gunicorn running our already-built Flask app (workers fork from it, sharing its memory)."""

    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app until interrupted."""
    Server(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "locator.web.server.WaitressWorker",
            "errorlog": "-",
            "timeout": 30,
            "graceful_timeout": 10,
        },
    ).run()
