"""The scale path, measured: a synthetic national directory (every région) on one machine.

About 440 Missions locales and 7,000 sites in all, placed at real communes of every région
(weighted by population), imported through `locator import` into a store holding every commune
of France. Prints build and import times, store size, and lookup latencies in-process and over HTTP.
Run: .venv/bin/python scripts/scale.py [--sites 7000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from bench import bench_http_pair, pct  # noqa: E402

from locator import lookup  # noqa: E402
from locator.store import db as store_db  # noqa: E402
from locator.testing import serve_in_background  # noqa: E402

LOCATOR = Path(sys.executable).parent / "locator"
MIX = (("antenne_mission_locale", 0.55), ("cio", 0.10), ("psad", 0.08), ("e2c", 0.04), ("partenaire", 0.23))


def national_csv(store: Path, path: Path, sites: int, missions: int, seed: int = 84) -> None:
    """Write an admin CSV of `missions` Missions locales and `sites - missions` other sites."""
    rng = random.Random(seed)
    with sqlite3.connect(store) as c:
        communes = c.execute(
            "SELECT code, nom, latitude, longitude, COALESCE(population, 0) FROM communes "
            "WHERE type = 'COM' AND latitude IS NOT NULL"
        ).fetchall()
    weights = [p + 200 for *_x, p in communes]  # towns more often, but every commune possible
    picks = rng.choices(communes, weights=weights, k=sites)
    lines = ["type;nom;code_insee;commune;latitude;longitude"]
    for i, (code, nom, lat, lon, _p) in enumerate(picks):
        if i < missions:
            kind = "mission_locale"
        else:
            r, kind = rng.random(), MIX[-1][0]
            for name, share in MIX:
                if r < share:
                    kind = name
                    break
                r -= share
        lat += rng.gauss(0, 0.004)
        lon += rng.gauss(0, 0.004)
        lines.append(f"{kind};Site national {i:05d} - {nom};{code};{nom};{lat:.6f};{lon:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(cmd: list) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=7000)
    parser.add_argument("--missions", type=int, default=440)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = tmp / "national.sqlite"
        t_build = run([LOCATOR, "build", "--db", store, "--seed", tmp / "absent.csv"])
        csv_file = tmp / "national.csv"
        national_csv(store, csv_file, args.sites, args.missions)
        t_import = run([LOCATOR, "import", csv_file, "--db", store])
        with sqlite3.connect(store) as c:
            n = c.execute("SELECT COUNT(*) FROM structures WHERE statut = 'publie'").fetchone()[0]
            n_ml = c.execute("SELECT COUNT(*) FROM structures WHERE type = 'mission_locale'").fetchone()[0]
            regions = c.execute(
                "SELECT COUNT(DISTINCT c.region) FROM structures s JOIN communes c ON c.code = s.code_insee"
            ).fetchone()[0]
            codes = [r[0] for r in c.execute("SELECT code FROM communes WHERE type = 'COM'")]
        print(f"annuaire national synthétique : {n} sites dont {n_ml} Missions locales, {regions} régions")
        print(f"construction de la géographie (toutes les communes) : {t_build:.1f} s")
        print(
            f"import des {args.sites} sites (locator import, hors ligne) : {t_import:.1f} s "
            f"({args.sites / t_import:.0f} lignes/s)"
        )
        print(f"taille du fichier de données : {store.stat().st_size / 1e6:.1f} Mo")

        conn = store_db.connect(store)
        rng = random.Random(1)
        sample = rng.sample(codes, 2000)
        centres = [lookup.commune_centre(conn, code) for code in sample]
        for c in centres[:50]:
            lookup.nearest(conn, c["latitude"], c["longitude"], limit=5)
        near, comp = [], []
        for c in centres:
            t = time.perf_counter_ns()
            lookup.nearest(conn, c["latitude"], c["longitude"], limit=5)
            near.append((time.perf_counter_ns() - t) / 1000)
        for code in sample[:500]:
            t = time.perf_counter_ns()
            lookup.two_level(conn, code)
            comp.append((time.perf_counter_ns() - t) / 1000)
        conn.close()
        print(
            f"nearest-5 en mémoire : médiane {statistics.median(near):.0f} µs, p99 {pct(near, 0.99):.0f} µs"
        )
        print(
            f"réponse à deux niveaux (ML compétente + lieu d'accueil + CIO, PSAD...) : "
            f"médiane {statistics.median(comp) / 1000:.2f} ms, p99 {pct(comp, 0.99) / 1000:.2f} ms"
        )
        with serve_in_background(store, threads=4) as base:
            health, nearest_ms = bench_http_pair(
                base.port, [f"/api/v1/structures?commune={c}&limit=5" for c in sample]
            )
            print(
                f"HTTP : /healthz {health:.2f} ms, nearest-5 par commune {nearest_ms:.2f} ms "
                f"(×{nearest_ms / health:.2f})"
            )


if __name__ == "__main__":
    main()
