"""The production WSGI server, started from `locator serve`: gunicorn processes running waitress.

Gunicorn's gthread worker hands a connection to a thread before its request has arrived, so ten
clients sending one header line every few seconds held every thread and /healthz timed out. Each
worker here serves with waitress instead, which reads whole requests (headers, and bodies spooled
to disk past 512 KB) in its event loop and hands only complete ones to its threads. Gunicorn keeps
what it is good at: forking workers from the built app (shared memory), restarting them, signals.
"""

from __future__ import annotations

import _thread
import threading
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker

# Seconds a connection may stay silent (mid-request or idle keep-alive) before waitress closes it.
CHANNEL_TIMEOUT = 30
# Connections one worker keeps open at once; more wait in the listen backlog.
CONNECTION_LIMIT = 200


class WaitressWorker(Worker):
    """A gunicorn worker that serves with waitress: slow clients cost a socket, never a thread."""

    def run(self) -> None:
        """Serve on the sockets gunicorn bound, until gunicorn asks this worker to stop."""
        from waitress.server import create_server

        server = create_server(
            self.wsgi,
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            channel_timeout=CHANNEL_TIMEOUT,
            connection_limit=CONNECTION_LIMIT,
            max_request_body_size=self.app.max_body,
            clear_untrusted_proxy_headers=False,  # ProxyFix (PROXY_COUNT) decides what to trust
            ident="locator",
        )
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
        self.max_body = int(app.config["IMPORT_MAX_BYTES"]) + 1024 * 1024
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
