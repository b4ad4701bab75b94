"""Load and soak test against a local server, bounded in time and requests (`make load`, `make soak`).

Starts `locator serve` on 127.0.0.1, drives it with locust (mixed traffic, see locustfile.py) and prints
requests/s, p50, p99 and errors; samples the serving workers' memory every few seconds to show it flat.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from locator.testing import HIGH_RATE_LIMITS, serve_in_background  # noqa: E402


def workers_rss_mb(master: int) -> list[float]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    sizes = []
    for pid in out.split():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=os.environ.get("LOCATOR_DB", "instance/locator.sqlite"))
    parser.add_argument("--users", type=int, default=32, help="concurrent users (default 32)")
    parser.add_argument("--seconds", type=int, default=60, help="duration (default 60; soak: 600)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)  # the THREADS setting's default
    parser.add_argument("--sample", type=int, default=10, help="seconds between memory samples")
    args = parser.parse_args()
    if args.seconds > 3600 or args.users > 256:
        raise SystemExit("bounded run: at most 3600 s and 256 users")

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "locator.sqlite"
        source = Path(args.db)
        if source.exists():
            from locator.store.backup import backup

            backup(source, db)  # a consistent copy, even of a store in WAL mode
        else:
            subprocess.run([BIN / "locator", "build", "--db", str(db)], check=True, cwd=ROOT)
        # One load generator = one client address: the launcher lifts the per-address limits.
        env = {**os.environ, **HIGH_RATE_LIMITS, "LOCATOR_DB": str(db)}
        serving = serve_in_background(
            db, env={"LOCATOR_DB": str(db)}, workers=args.workers, threads=args.threads, cwd=ROOT
        )
        with serving as host:
            server = host.process
            prefix = Path(tmp) / "stats"
            load = subprocess.Popen(
                [
                    BIN / "locust",
                    "-f",
                    str(ROOT / "scripts" / "locustfile.py"),
                    "--headless",
                    "--only-summary",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.users),
                    "-t",
                    f"{args.seconds}s",
                    "--host",
                    host,
                    "--csv",
                    str(prefix),
                    "--stop-timeout",
                    "5",
                    "--loglevel",
                    "WARNING",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            samples = []
            started = time.monotonic()
            while load.poll() is None:
                samples.append((time.monotonic() - started, workers_rss_mb(server.pid)))
                time.sleep(args.sample)
            report(prefix, samples, args)
            if load.returncode not in (0, 1):
                print(load.stderr.read().decode()[-2000:])


def report(prefix: Path, samples: list[tuple[float, list[float]]], args: argparse.Namespace) -> None:
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    print(f"{args.users} utilisateurs simultanés, {args.seconds} s, ", end="")
    print(f"{args.workers} processus × {args.threads} fils")
    print(f"{'requête':<46} {'n':>7} {'err':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for r in rows:
        print(
            f"{r['Name'][:46]:<46} {r['Request Count']:>7} {r['Failure Count']:>5} "
            f"{float(r['Requests/s']):>8.1f} {r['50%']:>7} {r['99%']:>7}"
        )
    total = rows[-1]
    errors = int(total["Failure Count"])
    if samples:
        first, last = samples[0][1], samples[-1][1]
        print(
            "mémoire des processus serveur (Mo) : début "
            + " / ".join(f"{m:.0f}" for m in first)
            + " → fin "
            + " / ".join(f"{m:.0f}" for m in last)
        )
        print("échantillons : " + ", ".join(f"{t:.0f}s={max(m) if m else 0:.0f}" for t, m in samples))
    print(f"erreurs : {errors}" + ("" if errors == 0 else " (attendu : 0)"))
    if errors:
        with open(f"{prefix}_failures.csv", newline="") as f:
            for r in list(csv.DictReader(f))[:10]:
                print("  ", r)


if __name__ == "__main__":
    main()
