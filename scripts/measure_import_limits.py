"""Measure what hostile or large imports cost: bombs through `locator import`, a big CSV in the wizard.

Usage: .venv/bin/python scripts/measure_import_limits.py STORE.sqlite [CSV_MB]
Each case runs in a subprocess; prints seconds and peak memory (MB). Works on a copy of the store.
"""

from __future__ import annotations

import bz2
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
WIZARD = """
import io, re, sqlite3
from locator import create_app
from locator.admin import accounts
accounts.add_user({db!r}, 'mesure@example.fr', 'admin', 'un-mot-de-passe-mesure')
app = create_app({{'DB': {db!r}, 'TESTING': True, 'SECRET_KEY': 'x', 'WTF_CSRF_ENABLED': False}})
c = app.test_client()
c.post('/admin/login', data={{'email': 'mesure@example.fr', 'password': 'un-mot-de-passe-mesure'}})
r = c.post('/admin/import', data={{'fichier': (open({file!r}, 'rb'), 'gros.csv'), 'statut': 'publie'}},
           content_type='multipart/form-data')
print('upload', r.status_code, file=sys.stderr)
if r.status_code == 302:
    t = time.time()
    p = c.get(r.headers['Location'])
    print('preview_s', round(time.time() - t, 1), file=sys.stderr)
    sql = 'SELECT length(plan), length(contenu) FROM imports_en_attente'
    n = sqlite3.connect({db!r}).execute(sql).fetchone()
    print('stored_plan_bytes', n[0], 'stored_file_bytes', n[1], file=sys.stderr)
"""


def measure(label: str, code: str) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "import time\n" + RUN, code], capture_output=True, text=True)
    peak = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) // 1024
    notes = " ".join(line for line in done.stderr.splitlines() if not line.startswith(("PEAK", " ", "Trace")))
    print(
        f"{label}: {time.monotonic() - started:.1f} s, peak {peak} MB, exit {done.returncode} {notes[-300:]}"
    )


def big_csv(path: Path, megabytes: float) -> None:
    row = "cio;CIO {n};{n} rue de la République;63300;Thiers;45,8564;3,5478;Accueil du lundi au vendredi\n"
    with open(path, "w") as f:
        f.write("type;nom;adresse;code_postal;commune;latitude;longitude;description\n")
        n = 0
        while f.tell() < megabytes * 1e6:
            n += 1
            f.write(row.format(n=n))


def main() -> None:
    store, mb = Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 4.5
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
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
        for size in (20.6, mb):
            csv = tmp / "big.csv"
            big_csv(csv, size)
            shutil.copyfile(store, db)
            measure(f"wizard upload of a {size} MB CSV", WIZARD.format(file=str(csv), db=str(db)))


if __name__ == "__main__":
    main()
