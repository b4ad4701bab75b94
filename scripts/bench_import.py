"""Offline import of a large admin CSV: speed (rows/s) and peak memory, as DESIGN.md budgets them.

Run alone (`.venv/bin/python scripts/bench_import.py [--rows N]`) or from scripts/bench.py, which calls
`run()`. Generates a Windows-1252 ';' CSV with decimal commas (half the rows with coordinates, half
geocoded offline, 1 % bad rows), then imports it with `locator.ingest.importer.import_file` into a
temporary store built from the reference geography and the seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locator import config  # noqa: E402
from locator.ingest.build import build  # noqa: E402
from locator.ingest.importer import import_file  # noqa: E402
from locator.store.db import writer  # noqa: E402

BUDGET_ROWS_PER_S = 2000
# "Flat": the peak for 10× more rows stays within this factor (the per-row work is streamed; only ids
# already met and the rows with a problem to report are kept).
FLAT_FACTOR = 2.0


def make_csv(store: Path, path: Path, rows: int, seed: int = 84) -> None:
    """Write a messy admin CSV of `rows` rows about real communes of the région."""
    rng = random.Random(seed)
    with sqlite3.connect(store) as c:
        communes = c.execute(
            "SELECT c.code, c.nom, c.latitude, c.longitude, MIN(p.code_postal) FROM communes c "
            "JOIN codes_postaux p ON p.code_insee = c.code WHERE c.region = '84' AND c.type = 'COM' "
            "AND c.latitude IS NOT NULL GROUP BY c.code"
        ).fetchall()
    types = ["Antenne", "CIO", "Mission Locale", "partenaire", "E2C"]
    with open(path, "w", encoding="cp1252", newline="") as f:
        f.write("Type;Nom;Adresse;CP;Ville;Code INSEE;Téléphone;Latitude;Longitude\r\n")
        for i in range(rows):
            code, nom, lat, lon, cp = rng.choice(communes)
            kind = "Association" if i % 100 == 99 else rng.choice(types)
            point = ("", "")
            if i % 2 == 0:
                point = (f"{lat + rng.uniform(-0.002, 0.002):.6f}", f"{lon + rng.uniform(-0.002, 0.002):.6f}")
            f.write(
                f"{kind};Permanence d'accueil n° {i} – {nom};{rng.randint(1, 120)} rue de l'Église;{cp};"
                f"{nom} CEDEX;{code if i % 3 else ''};04 73 {i % 100:02d} {i % 97:02d} 00;"
                f"{point[0].replace('.', ',')};{point[1].replace('.', ',')}\r\n"
            )


def _import(store: Path, csv_path: Path, traced: bool) -> tuple[float, int, dict]:
    """Import into a fresh copy of the store; return (seconds, peak traced bytes, report)."""
    copy = store.with_name(f"copy-{csv_path.stem}-{int(traced)}.sqlite")
    shutil.copyfile(store, copy)
    db = writer(copy)
    try:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        report = import_file(db, csv_path, options={"max_bytes": 1 << 30})
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
    finally:
        db.close()
        copy.unlink()
    return seconds, peak, report


def run(rows: int = 20_000) -> list[tuple[str, str, str]]:
    """Measure the offline import; return (measure, value, budget and verdict) lines."""
    out: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = tmp / "store.sqlite"
        seed = config.SEED if Path(config.SEED).is_file() else None
        build(store, seed, say=lambda _m: None)
        small, large = tmp / "small.csv", tmp / "large.csv"
        make_csv(store, small, rows // 10)
        make_csv(store, large, rows)
        seconds, _peak, report = _import(store, large, traced=False)
        rate = rows / seconds
        out.append(
            (
                f"import hors ligne, {rows} lignes (cp1252, ';', CEDEX)",
                f"{rate:,.0f} lignes/s ({seconds:.1f} s)".replace(",", " "),
                f"≥ {BUDGET_ROWS_PER_S} lignes/s : {'OK' if rate >= BUDGET_ROWS_PER_S else 'DÉPASSÉ'}",
            )
        )
        out.append(
            (
                "  dont créées / rejetées",
                f"{report['crees']} / {len(report['rejetes'])}",
                "information",
            )
        )
        _s, peak_small, _r = _import(store, small, traced=True)
        _s, peak_large, _r = _import(store, large, traced=True)
        ratio = peak_large / max(peak_small, 1)
        out.append(
            (
                f"mémoire Python au pic, {rows // 10} → {rows} lignes",
                f"{peak_small / 1e6:.1f} Mo → {peak_large / 1e6:.1f} Mo (× {ratio:.2f})",
                f"plate (× ≤ {FLAT_FACTOR:g} pour 10 fois plus de lignes) : "
                + ("OK" if ratio <= FLAT_FACTOR else "DÉPASSÉ"),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    for measure, value, budget in run(args.rows):
        print(f"{measure:<58} {value:<34} {budget}", flush=True)


if __name__ == "__main__":
    main()
