"""Offline import of a large admin CSV: speed (rows/s) and peak memory, as DESIGN.md budgets them.

Run alone (`.venv/bin/python scripts/bench_import.py [--rows N] [--one-commune N] [--national N]`) or from
scripts/bench.py, which calls `run()`. Three files, each imported with `locator.ingest.importer.import_file`
into a fresh copy of a store built from the reference geography and the seed, in a child process whose
peak RSS is read from the kernel:
- a Windows-1252 ';' CSV with decimal commas (half the rows with coordinates, half geocoded offline,
  1 % bad rows) about communes of the région;
- address-only rows in one commune (Lyon): the offline geocoder puts every one on its town hall;
- a national-scale file where a third of the rows are address-only (their commune's town hall).
Each is also imported at a tenth of its size: memory is flat when the peak barely moves. And each is
imported once more in chunks of one row (GeoPandas' join and point-in-contour test called per row), on
the same machine in the same run: the ratio says what placing in bulk (one GeoPandas join and one
element-wise test per chunk of CHUNK_ROWS rows) saves over that. It overstates the gain over the code
before the bulk step, which cached decoded contours and paid no vectorisation overhead per row: compare
with that code's commit for the real "before" (see CHANGELOG).
The time counted is `import_file`'s: loading GeoPandas (about half a second, once per process) is in
it, as are the territory redraw and the indexing of the new rows at the end of the transaction. A file
of front.MIN_BYTES or more is read and placed by a second process (locator.ingest.front) while the
import matches and writes: its peak memory is added to the import's; each file is imported once more
the other way (two processes or one), for comparison. The CPU line is the import's in one process (the
budget holds on one core, whatever the neighbours take of the machine's wall clock); the two processes'
CPU time together is shown besides. The store is built as `locator build`
builds it (with the coverage list).
`--profile` prints where the large import spends its time (cProfile, the 25 heaviest functions).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locator import config  # noqa: E402
from locator.ingest import front, pipeline  # noqa: E402
from locator.ingest.build import build  # noqa: E402
from locator.ingest.importer import import_file  # noqa: E402
from locator.store.db import writer  # noqa: E402

BUDGET_ROWS_PER_S = 5000
# "Flat": the peak for 10× more rows stays within this factor (the per-row work is streamed; only ids
# already met and the rows with a problem to report are kept).
FLAT_FACTOR = 2.0
ONE_COMMUNE = "69123"  # Lyon: its town hall receives every address-only row


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


def make_one_commune_csv(store: Path, path: Path, rows: int, code: str = ONE_COMMUNE) -> None:
    """Write `rows` address-only permanences in one commune (no coordinates, no INSEE code)."""
    with sqlite3.connect(store) as c:
        nom, cp = c.execute(
            "SELECT c.nom, MIN(p.code_postal) FROM communes c LEFT JOIN codes_postaux p "
            "ON p.code_insee = c.code "
            "OR p.code_insee IN (SELECT code FROM communes WHERE commune_parent = c.code) "
            "WHERE c.code = ?",
            (code,),
        ).fetchone()
    types = ["Antenne", "CIO", "Mission Locale", "partenaire"]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write("type;nom;adresse;code_postal;commune;telephone\r\n")
        for i in range(rows):
            f.write(
                f"{types[i % len(types)]};Permanence {i} quartier {i % 50};{i % 200 + 1} rue Garibaldi;"
                f"{cp};{nom};+33 4 72 {i % 100:02d} {i % 97:02d} 00\r\n"
            )


def make_national_csv(store: Path, path: Path, rows: int, seed: int = 75) -> None:
    """Write a national-scale file: every French commune, a third of the rows address-only."""
    rng = random.Random(seed)
    with sqlite3.connect(store) as c:
        communes = c.execute(
            "SELECT c.code, c.nom, c.latitude, c.longitude FROM communes c WHERE c.type = 'COM' "
            "AND c.latitude IS NOT NULL"
        ).fetchall()
    types = ["Antenne", "CIO", "Mission Locale", "partenaire", "E2C", "PSAD"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("type,nom,adresse,code_insee,commune,latitude,longitude\r\n")
        for i in range(rows):
            code, nom, lat, lon = rng.choice(communes)
            point = ("", "")
            if i % 3:
                point = (f"{lat + rng.uniform(-0.01, 0.01):.6f}", f"{lon + rng.uniform(-0.01, 0.01):.6f}")
            nom_csv = nom.replace('"', "")
            f.write(
                f'{rng.choice(types)},"Site {i} de {nom_csv}",{i % 90 + 1} place de la Mairie,{code},'
                f'"{nom_csv}",{point[0]},{point[1]}\r\n'
            )


def _child(
    store: str, csv_path: str, options: dict, chunk_rows: int | None, profile: bool, parallel, out
) -> None:
    """Import into a fresh copy of the store in this (child) process; send back time, peak RSS, report."""
    copy = Path(store).with_name(f"copy-{Path(csv_path).stem}.sqlite")
    shutil.copyfile(store, copy)
    if chunk_rows:
        pipeline.CHUNK_ROWS = chunk_rows  # this child only
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    db = writer(copy)
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = import_file(db, Path(csv_path), options={"max_bytes": 1 << 30, **options}, parallel=parallel)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        db.close()
        copy.unlink()
    if profiler:
        import pstats

        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    # The second process reading the file (ingest.front), when the import started one: its CPU time
    # counts, and its peak memory adds to this one's (both run at once).
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += helper.ru_utime + helper.ru_stime
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + helper.ru_maxrss
    counts = {k: report.get(k) for k in ("crees", "lus")}
    out.send((seconds, cpu, rss_kb * 1024, counts, len(report["rejetes"])))
    out.close()


def _import(
    store: Path,
    csv_path: Path,
    options: dict | None = None,
    chunk_rows: int | None = None,
    profile: bool = False,
    parallel: bool | None = None,
) -> tuple[float, float, int, dict, int]:
    """Import in a child; return (seconds, CPU seconds, peak RSS bytes, counts, rejected rows).

    A fresh interpreter, as `locator import` is: nothing this process loaded (the build's libraries)
    is there already, so what the import loads lazily is counted.
    """
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(str(store), str(csv_path), options or {}, chunk_rows, profile, parallel, there)
    )
    proc.start()
    result = here.recv()
    proc.join()
    return result


def _scenario(
    store: Path, tmp: Path, label: str, make, rows: int, options: dict | None = None, profile: bool = False
) -> list[tuple[str, str, str]]:
    """Import `rows` rows, a tenth of them, and `rows` placed one row at a time; return the result lines."""
    small, large = tmp / f"{make.__name__}-small.csv", tmp / f"{make.__name__}-large.csv"
    make(store, small, max(rows // 10, 1))
    make(store, large, rows)
    # What `locator import` chooses for the large file; the tenth is read the same way (memory compared
    # like for like), and the large file once more the other way.
    apart = large.stat().st_size >= front.MIN_BYTES
    _s, _cpu, rss_small, _c, _r = _import(store, small, options, parallel=apart)
    seconds, cpu, rss_large, counts, rejected = _import(
        store, large, options, profile=profile, parallel=apart
    )
    other_seconds, other_cpu, _rss, other_counts, _r = _import(store, large, options, parallel=not apart)
    alone_cpu = other_cpu if apart else cpu  # the work itself, on one core
    per_row_seconds, per_row_cpu, _rss, per_row_counts, _r = _import(store, large, options, chunk_rows=1)
    assert per_row_counts == counts == other_counts, (
        "placing in bulk, in one or two processes: the same import"
    )
    rate = rows / seconds
    ratio = rss_large / max(rss_small, 1)
    return [
        (
            f"import hors ligne, {label}, {rows} lignes",
            f"{rate:,.0f} lignes/s ({seconds:.1f} s)".replace(",", " "),
            f"≥ {BUDGET_ROWS_PER_S} lignes/s : {'OK' if rate >= BUDGET_ROWS_PER_S else 'DÉPASSÉ'}",
        ),
        (
            # On a shared machine the wall clock counts the others' work too: CPU time does not. The
            # import in one process: the budget holds on one core, the second one is a margin.
            "  par seconde de CPU, en un processus",
            f"{rows / alone_cpu:,.0f} lignes/s CPU ({alone_cpu:.1f} s)".replace(",", " "),
            f"≥ {BUDGET_ROWS_PER_S} : {'OK' if rows / alone_cpu >= BUDGET_ROWS_PER_S else 'DÉPASSÉ'}",
        ),
        (
            "  lu et placé dans le même processus" if apart else "  lu et placé par un second processus",
            f"{rows / other_seconds:,.0f} lignes/s ({other_seconds:.1f} s)".replace(",", " "),
            f"choix de locator import ({'2' if apart else '1'} processus) : × {other_seconds / seconds:.2f}",
        ),
        *(
            [
                (
                    "  CPU des deux processus (lecture et placement à part)",
                    f"{cpu:.1f} s, soit {rows / cpu:,.0f} lignes/s CPU".replace(",", " "),
                    "information",
                )
            ]
            if apart
            else []
        ),
        (
            "  placement par lots d’une ligne, même fichier",
            f"{rows / per_row_cpu:,.0f} lignes/s CPU".replace(",", " "),
            f"en bloc : × {per_row_cpu / cpu:.2f} (horloge × {per_row_seconds / seconds:.2f})",
        ),
        ("  dont créées / rejetées", f"{counts['crees']} / {rejected}", "information"),
        (
            f"  RSS au pic, {rows // 10} → {rows} lignes",
            f"{rss_small / 1e6:.0f} Mo → {rss_large / 1e6:.0f} Mo (× {ratio:.2f})",
            f"plate (× ≤ {FLAT_FACTOR:g}) : " + ("OK" if ratio <= FLAT_FACTOR else "DÉPASSÉ"),
        ),
    ]


def run(
    rows: int = 20_000, one_commune: int = 20_000, national: int = 100_000, profile: bool = False
) -> list[tuple[str, str, str]]:
    """Measure the offline imports; return (measure, value, budget and verdict) lines."""
    out: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = tmp / "store.sqlite"
        seed = config.SEED if Path(config.SEED).is_file() else None
        # As `locator build` makes it: with the coverage list, every commune's answer is official.
        build(store, seed, say=lambda _m: None, coverage_path=config.COUVERTURE or None)
        if rows:
            out += _scenario(store, tmp, "Excel cp1252 ';' CEDEX", make_csv, rows, profile=profile)
        if one_commune:
            label = "adresses seules dans une commune"
            out += _scenario(store, tmp, label, make_one_commune_csv, one_commune, profile=profile)
        if national:
            label = "fichier national, 1/3 en mairie"
            out += _scenario(store, tmp, label, make_national_csv, national, {"hors_region": True}, profile)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="mixed Excel file (0: skip)")
    parser.add_argument("--one-commune", type=int, default=20_000, help="address-only rows in Lyon (0: skip)")
    parser.add_argument("--national", type=int, default=100_000, help="national-scale file (0: skip)")
    parser.add_argument("--profile", action="store_true", help="cProfile of each large import (stderr)")
    args = parser.parse_args()
    for measure, value, budget in run(args.rows, args.one_commune, args.national, args.profile):
        print(f"{measure:<58} {value:<34} {budget}", flush=True)


if __name__ == "__main__":
    main()
