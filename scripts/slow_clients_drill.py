"""The slow-socket drill of issue 16: slow clients against `locator serve`, /healthz timed throughout.

Starts `locator serve` on 127.0.0.1 (2 workers by default, the production setting), then: a calm
phase; 1,000 sockets from 127.0.0.1 that each send one header line every 10–18 s and never end their
request (reopened when the server closes them, as an attacker would); after a while 500 more spread
over 250 other 127.0.0.x addresses. Meanwhile /healthz is asked every 100 ms, on a new connection,
from yet another address. Prints the latency percentiles every few seconds and per phase, and the
share answered within 100 ms (the issue's target). Bounded: at most 10 minutes and 5,000 sockets.

Run: .venv/bin/python scripts/slow_clients_drill.py [--db instance/locator.sqlite] [--seconds 90]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from locator.testing import (  # noqa: E402
    SlowClients,
    healthz_seconds,
    loopback_addresses,
    raise_file_limit,
    serve_in_background,
)

PROBE_SOURCE = "127.0.0.254"
PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 5.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def summary(probes: list[float | None]) -> str:
    answered = [p * 1000 for p in probes if p is not None]
    missed = len(probes) - len(answered)
    if not answered:
        return f"{len(probes)} probes, none answered"
    fast = sum(1 for ms in answered if ms <= 100)
    return (
        f"{len(probes)} probes: p50 {pct(answered, 0.5):.1f} ms, p95 {pct(answered, 0.95):.1f}, "
        f"p99 {pct(answered, 0.99):.1f}, max {max(answered):.1f}; within 100 ms {fast}/{len(probes)}; "
        f"unanswered ({PROBE_TIMEOUT_S:.0f} s) {missed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=os.environ.get("LOCATOR_DB", "instance/locator.sqlite"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=int, default=1000, help="sockets from 127.0.0.1 (default 1000)")
    parser.add_argument("--spread", type=int, default=500, help="sockets over other addresses (500)")
    parser.add_argument("--addresses", type=int, default=250, help="addresses of the spread sockets")
    parser.add_argument("--calm", type=float, default=5.0, help="seconds before the attack")
    parser.add_argument("--second-wave", type=float, default=30.0, help="seconds until the spread sockets")
    parser.add_argument("--seconds", type=float, default=90.0, help="attack duration (default 90)")
    parser.add_argument("--every", type=float, nargs=2, default=(10.0, 18.0), help="seconds between lines")
    args = parser.parse_args()
    if args.seconds > 600 or args.one + args.spread > 5000 or not 1 <= args.addresses <= 60000:
        raise SystemExit("bounded run: at most 600 s, 5,000 sockets and 60,000 addresses")
    limit = raise_file_limit(args.one + args.spread + 1024)
    print(f"open-file limit of the drill (and of the server it starts): {limit}")

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "locator.sqlite"
        source = Path(args.db)
        if source.exists():
            from locator.store.backup import backup

            backup(source, db)
        else:
            subprocess.run([BIN / "locator", "build", "--db", str(db)], check=True, cwd=ROOT)
        with serve_in_background(db, workers=args.workers, cwd=ROOT) as base:
            run(base.port, args)


def run(port: int, args: argparse.Namespace) -> None:
    phases: dict[str, list[float | None]] = {"calme": [], "1 adresse": [], "1 adresse + réparties": []}
    phase = ["calme"]
    window: list[float | None] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            seconds = healthz_seconds(port, PROBE_SOURCE, PROBE_TIMEOUT_S)
            phases[phase[0]].append(seconds)
            window.append(seconds)
            stop.wait(max(0.0, PROBE_EVERY_S - (time.monotonic() - started)))

    attack = SlowClients(port, every=tuple(args.every)).start()
    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    start = time.monotonic()
    next_print = start + 5
    try:
        while (now := time.monotonic()) < start + args.calm + args.seconds:
            elapsed = now - start
            if phase[0] == "calme" and elapsed >= args.calm:
                phase[0] = "1 adresse"
                attack.open(["127.0.0.1"] * args.one)
                print(f"{elapsed:5.1f} s: {args.one} slow sockets from 127.0.0.1")
            elif phase[0] == "1 adresse" and elapsed >= args.calm + args.second_wave:
                phase[0] = "1 adresse + réparties"
                addresses = loopback_addresses(args.addresses)
                attack.open([addresses[i % len(addresses)] for i in range(args.spread)])
                print(f"{elapsed:5.1f} s: {args.spread} more over {args.addresses} addresses 127.0.0.x")
            if now >= next_print:
                taken, window[:] = list(window), []
                print(
                    f"{elapsed:5.1f} s: attack sockets open {attack.open_now}, closed by the server "
                    f"{attack.closed}; /healthz {summary(taken)}",
                    flush=True,
                )
                next_print += 5
            time.sleep(0.1)
    finally:
        stop.set()
        prober.join()
        attack.stop()
    print("\nper phase (/healthz from " + PROBE_SOURCE + ", a new connection each time):")
    for name, probes in phases.items():
        print(f"  {name:<24} {summary(probes)}")


if __name__ == "__main__":
    main()
