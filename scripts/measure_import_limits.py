"""Measure what hostile or large imports cost: bombs through `locator import`, a big CSV in the wizard.

Usage: .venv/bin/python scripts/measure_import_limits.py STORE.sqlite [CSV_MB] [--wizard-only]
Each CLI case runs in a subprocess; prints seconds and peak memory (MB). The wizard case starts
`locator serve` (2 workers of 4 threads, as deployed) on a copy of the store, uploads a CSV of
CSV_MB (5 by default) made of the rows of tests/data repeated, each with its own name (about 200,000
rows), then times the preview, the map, a row's form and a fix, alone and 8 at once, sampling every
worker's resident memory (RSS) meanwhile.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from locator.admin import accounts
from locator.store import authdb
from locator.testing import serve_in_background

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
ADMIN = ("mesure@example.fr", "un-mot-de-passe-mesure")

# Peak memory from /proc (VmHWM starts afresh at exec; ru_maxrss would keep the parent's at fork).
RUN = (
    "import sys\n"
    "try:\n    exec(sys.argv[1])\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('PEAK_KB', hwm, file=sys.stderr)\n"
)
CLI = (
    "from locator.cli import main\n"
    "sys.argv = ['locator', 'import', {file!r}, '--db', {db!r}, '--json']\n"
    "main()"
)


def measure(label: str, code: str) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "import time\n" + RUN, code], capture_output=True, text=True)
    peak = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) // 1024
    notes = " ".join(line for line in done.stderr.splitlines() if not line.startswith(("PEAK", " ", "Trace")))
    print(
        f"{label}: {time.monotonic() - started:.1f} s, peak {peak} MB, exit {done.returncode} {notes[-300:]}"
    )


def big_csv(path: Path, megabytes: float) -> int:
    """Write a CSV of the rows of tests/data repeated (each with its own name) up to `megabytes`; return
    how many rows. Short names and the shortest type labels: about 200,000 rows in 5 MB."""
    rows = []
    for name in ("import_desordre.csv", "libelles_types.csv"):
        text = (DATA / name).read_text(encoding="utf-8", errors="replace")
        delimiter = ";" if ";" in text.splitlines()[0] else ","
        for d in csv.DictReader(io.StringIO(text), delimiter=delimiter):
            if len(d.get("type") or "") <= 14:
                rows.append(
                    (d.get("type") or "cio", (d.get("nom") or "x").split()[0][:6], d.get("code_postal"))
                )
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("type;nom;code_postal\n")
        while f.tell() < megabytes * 1e6:
            kind, nom, cp = rows[n % len(rows)]
            n += 1
            f.write(f"{kind};{nom} {n};{cp or '63300'}\n")
    return n


def workers_rss(master: int) -> dict[int, int]:
    """Resident memory (MB) of each worker process of the server (children of its master)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                status = (stat.parent / "status").read_text()
                out[int(stat.parent.name)] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) // 1024
        except (OSError, AttributeError, IndexError):
            continue
    return out


class Peak:
    """Samples the workers' memory while a phase runs; `peak` is the largest RSS of any worker."""

    def __init__(self, master: int):
        self.master, self.peak, self.stop = master, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max([self.peak, *workers_rss(self.master).values()])
            self.stop.wait(0.05)

    def __enter__(self) -> Peak:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max([self.peak, *workers_rss(self.master).values()])


def wizard(store: Path, megabytes: float, tmp: Path) -> None:
    """The wizard on a real server: upload, preview, map, a row's form and a fix, alone and 8 at once."""
    db = tmp / "wizard.sqlite"
    shutil.copyfile(store, db)
    accounts.add_user(authdb.location(db), ADMIN[0], "admin", ADMIN[1])
    path = tmp / "gros.csv"
    n = big_csv(path, megabytes)
    print(f"wizard: {path.stat().st_size / 1e6:.1f} MB, {n} rows; 2 workers x 4 threads")
    with serve_in_background(db, workers=2, threads=4, timeout=120) as base:
        master = base.process.pid
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/admin/login").text).group(1)
        s.post(base + "/admin/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
        print(f"  at rest: workers {sorted(workers_rss(master).values())} MB")

        def phase(label: str, call, times: int = 1) -> list:
            started = time.monotonic()
            with Peak(master) as peak, ThreadPoolExecutor(times) as pool:
                answers = list(pool.map(lambda _i: call(), range(times)))
            codes = sorted({a.status_code for a in answers})
            print(
                f"  {label}: {time.monotonic() - started:.1f} s, status {codes}, "
                f"largest worker {peak.peak} MB"
            )
            return answers

        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/admin/import").text).group(1)
        with path.open("rb") as f:
            content = f.read()
        [r] = phase(
            "upload and plan",
            lambda: s.post(
                base + "/admin/import",
                data={"csrf_token": token, "statut": "publie"},
                files={"fichier": ("gros.csv", content)},
                allow_redirects=False,
                timeout=900,
            ),
        )
        preview = base + r.headers["Location"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(preview).text).group(1)
        fix = {"csrf_token": token, "type": "cio", "nom": "CIO corrige", "code_postal": "63300"}
        calls = {
            "preview": lambda: s.get(preview, timeout=900),
            "preview, last page of rejected rows": lambda: s.get(
                preview + "?voir=rejete&page=2000", timeout=900
            ),
            "map": lambda: s.get(preview + "/carte.json", timeout=900),
            "map zoomed on Thiers": lambda: s.get(
                preview + "/carte.json?bbox=3.4,45.8,3.7,45.9", timeout=900
            ),
            "row form": lambda: s.get(preview + "/lignes/7", timeout=900),
            "fix (the file planned again)": lambda: s.post(
                preview + "/lignes/7", data=fix, allow_redirects=False, timeout=900
            ),
        }
        for label, call in calls.items():
            phase(label, call)
        for label, call in calls.items():
            phase(f"8 x {label}", call, times=8)
        sizes = {p.name: p.stat().st_size // 1024 for p in tmp.glob("wizard-comptes.sqlite*")}
        print(f"  accounts file (KB): {sizes}")


def main() -> None:
    store, mb = Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2][0].isdigit() else 5
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "--wizard-only" not in sys.argv:
            cli_cases(store, tmp)
        wizard(store, mb, tmp)


def cli_cases(store: Path, tmp: Path) -> None:
    """Bombs and deep JSON through `locator import`, each in a subprocess."""
    db = tmp / "store.sqlite"
    cases = {
        "deep JSON (50,000 '[')": ("deep.json", lambda: b'{"service":[' + b"[" * 50_000),
        "json.gz (200 MB inside)": ("b.json.gz", lambda: gzip.compress(b"{" + b" " * 200_000_000, 9)),
        "bz2 (200 MB inside)": ("b.json.bz2", lambda: bz2.compress(b"{" + b" " * 200_000_000)),
    }
    for name, make in cases.values():
        (tmp / name).write_bytes(make())  # made and freed before the measured child starts
    for label, (name, _make) in cases.items():
        path = tmp / name
        shutil.copyfile(store, db)
        size = path.stat().st_size / 1e3
        measure(f"CLI {label}, {size:.0f} KB", CLI.format(file=str(path), db=str(db)))


if __name__ == "__main__":
    main()
