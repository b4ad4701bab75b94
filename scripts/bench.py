"""Budgets of DESIGN.md, measured in one run and printed as ratios (`make bench`).

Run: .venv/bin/python scripts/bench.py [--quick]. Everything runs on this machine against 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from locator import config, lookup  # noqa: E402
from locator.geo.distance import EARTH_RADIUS_KM, haversine_km  # noqa: E402
from locator.ingest.build import build  # noqa: E402
from locator.store import db as store_db  # noqa: E402
from locator.store import schema  # noqa: E402
from locator.testing import serve_in_background  # noqa: E402

ROWS: list[tuple[str, str, str]] = []


def report(measure: str, value: str, budget: str = "") -> None:
    """Print one line and keep it for the summary."""
    ROWS.append((measure, value, budget))
    print(f"{measure:<58} {value:<28} {budget}", flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(math.ceil(q * len(values))) - 1)]


def verdict(ok: bool) -> str:
    return "OK" if ok else "DÉPASSÉ"


# --- stores ---------------------------------------------------------------------------------------


def build_real(tmp: Path) -> Path:
    path = tmp / "real.sqlite"
    started = time.perf_counter()
    # As `locator build` does: the coverage list too (its Missions locales and seats are sites).
    build(path, config.SEED, say=lambda _m: None, coverage_path=config.COUVERTURE or None)
    seconds = time.perf_counter() - started
    report("build: communes de France + structures (s)", f"{seconds:.1f}", f"< 60 s {verdict(seconds < 60)}")
    report("taille du fichier de données (Mo)", f"{path.stat().st_size / 1e6:.1f}")
    return path


def synthetic_store(real: Path, tmp: Path, n: int, seed: int = 7) -> tuple[Path, np.ndarray]:
    """A store with n synthetic structures jittered (≈2 km) around random French commune centres."""
    path = tmp / f"synthetic_{n}.sqlite"
    shutil.copyfile(real, path)
    db = store_db.writer(path)
    centres = np.array(
        db.execute(
            "SELECT latitude, longitude FROM communes WHERE type = 'COM' AND latitude IS NOT NULL"
        ).fetchall(),
        dtype=float,
    )
    rng = np.random.default_rng(seed)
    picks = centres[rng.integers(0, len(centres), n)]
    pts = picks + rng.normal(0, 0.02, size=(n, 2))
    types = schema.STRUCTURE_TYPES
    with db.atomic():
        db.execute("DELETE FROM structures")
        db["structures"].insert_all(
            (
                {
                    "id": f"synthetique-{i:06d}",
                    "type": types[i % len(types)],
                    "nom": f"Structure synthétique {i}",
                    "latitude": float(lat),
                    "longitude": float(lon),
                    "statut": "publie",
                }
                for i, (lat, lon) in enumerate(pts)
            ),
            batch_size=2000,
        )
    db.execute("ANALYZE")
    db.close()
    return path, pts


def piled_store(real: Path, tmp: Path, n: int = 20_000, halls: int = 12) -> tuple[Path, list]:
    """The shipped directory plus n structures piled on the town halls of the `halls` largest communes."""
    path = tmp / "piled.sqlite"
    shutil.copyfile(real, path)
    db = store_db.writer(path)
    points = db.execute(
        "SELECT latitude, longitude FROM communes WHERE region = '84' AND type = 'COM' "
        "AND latitude IS NOT NULL ORDER BY population DESC LIMIT ?",
        (halls,),
    ).fetchall()
    types = ("partenaire", "antenne_mission_locale", "cio")
    with db.atomic():
        db["structures"].insert_all(
            (
                {
                    "id": f"permanence-{i:06d}",
                    "type": types[i % len(types)],
                    "nom": f"Permanence {i}",
                    "latitude": points[i % halls][0],
                    "longitude": points[i % halls][1],
                    "statut": "publie",
                }
                for i in range(n)
            ),
            batch_size=2000,
        )
    db.execute("ANALYZE")
    db.close()
    return path, [tuple(p) for p in points]


def bench_pile(path: Path, halls: list, n: int) -> None:
    """Nearest-5 near the piled town halls: in process, and over HTTP against /healthz."""
    rng = random.Random(12)
    queries = [
        (lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05))
        for lat, lon in (rng.choice(halls) for _ in range(n))
    ]
    conn = store_db.connect(path)
    for q in queries[:20]:
        lookup.nearest(conn, *q, limit=5)
    times = []
    for lat, lon in queries:
        t = time.perf_counter_ns()
        lookup.nearest(conn, lat, lon, limit=5)
        times.append((time.perf_counter_ns() - t) / 1000)
    conn.close()
    med = statistics.median(times)
    report(
        "nearest-5 près de 20 000 structures sur 12 mairies: médiane",
        f"{med:.0f} µs (p99 {pct(times, 0.99):.0f})",
        "< 100 µs " + verdict(med < 100),
    )
    with serve_in_background(path, threads=4, cwd=ROOT) as base:
        urls = [f"/api/v1/structures?lat={lat:.5f}&lon={lon:.5f}&limit=5" for lat, lon in queries]
        h, p = bench_http_pair(base.port, urls)
        report(
            "HTTP nearest-5 près des piles: médiane",
            f"{p:.2f} ms → ×{p / h:.2f} /healthz ({h:.2f} ms)",
            f"≤ ×1.5 {verdict(p / h <= 1.5)}",
        )


def bench_territories(real: Path, tmp: Path) -> None:
    """Recompute every commune's answer and territory (after each build, import, undo, edit), and
    score the probable territory against the network's official coverage file."""
    from score_territories import DEFAULT_FILE, score

    from locator import territories
    from locator.store import territories as store_territories

    path = tmp / "territoires.sqlite"
    shutil.copyfile(real, path)
    db = store_db.writer(path)
    try:
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(3):
            for redrawn in (True, False):
                with db.atomic():
                    if redrawn:  # nothing known of the stored outlines: every one is drawn again
                        db.execute("DELETE FROM meta WHERE key = ?", (store_territories.DRAWN_FROM,))
                    started = time.perf_counter()
                    territories.refresh(db)
                    times[redrawn].append(time.perf_counter() - started)
    finally:
        db.close()
    for redrawn, label in ((True, "tout redessiné"), (False, "contours inchangés gardés")):
        seconds = statistics.median(times[redrawn])
        report(
            f"territoires : recalcul de la région, {label} (s, médiane de 3)",
            f"{seconds:.2f}",
            f"< 3 s {verdict(seconds < 3)}",
        )
    os.remove(path)
    if not DEFAULT_FILE.is_file():
        return
    conn = store_db.connect(real)
    try:
        result = score(conn, DEFAULT_FILE, config.load()["REGION"])
    finally:
        conn.close()
    report(
        "territoire probable : accord avec la liste officielle",
        f"{100 * result['accord'] / result['communes']:.1f} % des communes "
        f"({result['accord']}/{result['communes']})",
    )
    report(
        "territoire probable : accord, pondéré par la population",
        f"{100 * result['accord_population'] / result['population']:.1f} % des habitants",
    )


# --- in-process nearest ---------------------------------------------------------------------------


def brute_force(lat: float, lon: float, rad: np.ndarray, k: int) -> np.ndarray:
    """Exact k nearest by a full numpy haversine scan (the baseline)."""
    p, lam = math.radians(lat), math.radians(lon)
    a = (
        np.sin((rad[:, 0] - p) / 2) ** 2
        + math.cos(p) * np.cos(rad[:, 0]) * np.sin((rad[:, 1] - lam) / 2) ** 2
    )
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    idx = np.argpartition(d, k)[:k] if len(d) > k else np.arange(len(d))
    return idx[np.argsort(d[idx])]


def bench_nearest(label: str, path: Path, queries: list[tuple[float, float]], k: int = 5) -> None:
    conn = store_db.connect(path)
    rows = conn.execute(
        "SELECT id, latitude, longitude FROM structures WHERE statut = 'publie' AND latitude IS NOT NULL"
    ).fetchall()
    ids = [r[0] for r in rows]
    rad = np.radians(np.array([(r[1], r[2]) for r in rows], dtype=float))
    for q in queries[:20]:
        lookup.nearest(conn, *q, limit=k)  # warm the page cache and the radius estimate
    # Each method timed in its own loop: interleaving would let the scan evict the index from the caches.
    ours, base, got_all = [], [], []
    for lat, lon in queries:
        t = time.perf_counter_ns()
        got = lookup.nearest(conn, lat, lon, limit=k)
        ours.append((time.perf_counter_ns() - t) / 1000)
        got_all.append(got)
    want_all = []
    for lat, lon in queries:
        t = time.perf_counter_ns()
        want = brute_force(lat, lon, rad, k)
        base.append((time.perf_counter_ns() - t) / 1000)
        want_all.append(want)
    mismatches = 0
    for (lat, lon), got, want in zip(queries, got_all, want_all, strict=True):
        if [s["id"] for s, _ in got] != [ids[i] for i in want]:
            # Equal distances may order differently in the baseline (no id tie-break): compare distances.
            dist_got = [round(d, 6) for _, d in got]
            dist_want = sorted(round(haversine_km(lat, lon, *np.degrees(rad[i])), 6) for i in want)
            mismatches += dist_got != dist_want
    med, med_base = statistics.median(ours), statistics.median(base)
    report(
        f"nearest-{k}, {label} ({len(rows)} points): médiane µs",
        f"{med:.0f} µs (p99 {pct(ours, 0.99):.0f})",
        "< 100 µs " + verdict(med < 100) if len(rows) >= 100_000 else "",
    )
    report(
        f"  vs scan numpy exhaustif ({len(rows)} points)",
        f"{med_base:.0f} µs → ×{med_base / med:.1f} plus rapide",
        "≥ ×10 " + verdict(med_base / med >= 10) if len(rows) >= 100_000 else "",
    )
    report(
        "  résultats identiques au scan exhaustif",
        f"{len(queries) - mismatches}/{len(queries)}",
        verdict(mismatches == 0),
    )
    conn.close()


def bench_geopandas(points: np.ndarray, queries: list[tuple[float, float]]) -> None:
    """GeoPandas' STRtree nearest (k = 1, planar degrees: a reference, not an exact great-circle answer)."""
    import geopandas as gpd
    import shapely

    started = time.perf_counter()
    series = gpd.GeoSeries(shapely.points(points[:, 1], points[:, 0]), crs="EPSG:4326")
    tree = series.sindex
    tree.nearest(shapely.points([0.0], [0.0]))
    build_ms = (time.perf_counter() - started) * 1000
    times = []
    for lat, lon in queries:
        q = shapely.points([lon], [lat])
        t = time.perf_counter_ns()
        tree.nearest(q, return_all=False)
        times.append((time.perf_counter_ns() - t) / 1000)
    report(
        f"  référence GeoPandas sindex.nearest k=1 ({len(points)} points)",
        f"{statistics.median(times):.0f} µs (index {build_ms:.0f} ms)",
    )


# --- HTTP -----------------------------------------------------------------------------------------


def bench_http_pair(port: int, urls: list[str], status: int = 200, warm: int = 200) -> tuple[float, float]:
    """Median ms of /healthz and of the given URLs, interleaved on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for url in urls[:warm]:  # warm-up: index, caches, keep-alive
        timed_get(conn, "/healthz")
        timed_get(conn, url, status)
    health, other = [], []
    for url in urls:
        health.append(timed_get(conn, "/healthz"))
        other.append(timed_get(conn, url, status))
    conn.close()
    return statistics.median(health), statistics.median(other)


def timed_get(conn: http.client.HTTPConnection, url: str, status: int = 200) -> float:
    t = time.perf_counter_ns()
    conn.request("GET", url)
    r = conn.getresponse()
    r.read()
    if r.status != status:
        raise SystemExit(f"{url[:200]} → {r.status}")
    if r.getheader("Connection", "").lower() == "close":
        conn.close()  # refused before its end was read: the next request opens a new connection
    return (time.perf_counter_ns() - t) / 1e6


def bench_big_form(port: int, n: int) -> None:
    """A 2 MB form of 700,000 fields refused 413 (on its Content-Length, never parsed) vs /healthz.

    The speed tests/test_request_limits.py no longer asserts: there the 413 answers the headers alone.
    """
    body = b"a=&" * 700_000
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    health, refused = [], []
    for i in range(n + 10):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        h = timed_get(conn, "/healthz")
        t = time.perf_counter_ns()
        # The server may answer and close before the whole body is sent: its answer is read below.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request("POST", "/admin/login", body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        conn.close()
        if r.status != 413:
            raise SystemExit(f"2 MB form → {r.status}")
        if i >= 10:  # warm-up
            health.append(h)
            refused.append((time.perf_counter_ns() - t) / 1e6)
    h, p = statistics.median(health), statistics.median(refused)
    report("HTTP formulaire de 2 Mo (700 000 champs, refusé 413)", f"{p:.2f} ms → ×{p / h:.2f} /healthz")


def worker_rss_mb(master: int) -> float:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    total = 0.0
    for pid in out.split():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total = max(total, int(line.split()[1]) / 1024)
    return total


def bench_http(path: Path, n: int, names: list[str]) -> None:
    with serve_in_background(path, threads=4, cwd=ROOT) as base:
        port = base.port
        rng = random.Random(5)
        codes = [
            r[0]
            for r in sqlite3.connect(path).execute(
                "SELECT code FROM communes WHERE region = '84' AND type = 'COM'"
            )
        ]
        by_commune = [f"/api/v1/structures?commune={rng.choice(codes)}&limit=5" for _ in range(n)]
        by_point = [
            f"/api/v1/structures?lat={rng.uniform(44.2, 46.4):.5f}&lon={rng.uniform(2.2, 7.1):.5f}&limit=5"
            for _ in range(n)
        ]
        h, c = bench_http_pair(port, by_commune)
        h2, p = bench_http_pair(port, by_point)
        report("HTTP /healthz (même serveur, keep-alive): médiane", f"{h:.2f} ms")
        report(
            "HTTP nearest-5 par commune: médiane",
            f"{c:.2f} ms → ×{c / h:.2f} /healthz",
            f"≤ ×1.5 {verdict(c / h <= 1.5)}",
        )
        report(
            "HTTP nearest-5 par lat/lon: médiane",
            f"{p:.2f} ms → ×{p / h2:.2f} /healthz",
            f"≤ ×1.5 {verdict(p / h2 <= 1.5)}",
        )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        auto = []
        for name in names:
            for cut in range(3, min(len(name), 12) + 1, 3):
                q = urllib.parse.quote(name[:cut])
                auto.append(timed_get(conn, f"/api/v1/lieux?q={q}&limit=8"))
        report(
            "HTTP autocomplétion /api/v1/lieux: p50 / p99",
            f"{pct(auto, 0.5):.2f} / {pct(auto, 0.99):.2f} ms",
            f"p99 < 10 ms {verdict(pct(auto, 0.99) < 10)}",
        )
        rss = worker_rss_mb(base.process.pid)
        report(
            "mémoire d'un processus serveur après la charge (RSS)",
            f"{rss:.0f} Mo",
            f"< 150 Mo {verdict(rss < 150)}",
        )


# Pages measured against /healthz on the same server (issue 13: every page ≤ ×5 at the median).
PAGE_COMMUNES = ("63003", "69383", "74010", "03310", "38185")
PAGE_QUERIES = ("Ambert", "Lyon 3e", "Annecy", "Vichy", "Grenoble")
PAGE_DEPARTEMENTS = ("63", "69", "38")


def page_urls(path: Path, n: int) -> dict[str, list[str]]:
    """Return `n` URLs of each public page kind, cycling over real communes and structures."""
    ids = [r[0] for r in sqlite3.connect(path).execute("SELECT id FROM structures LIMIT 40")]
    kinds = {
        "/": ["/"],
        "/recherche?q=<commune>": [f"/recherche?q={urllib.parse.quote(q)}" for q in PAGE_QUERIES],
        "/communes/<code>": [f"/communes/{c}" for c in PAGE_COMMUNES],
        "/departements/<code>": [f"/departements/{d}" for d in PAGE_DEPARTEMENTS],
        "/structures/<id>": [f"/structures/{urllib.parse.quote(i)}" for i in ids],
    }
    return {k: [v[i % len(v)] for i in range(n)] for k, v in kinds.items()}


def bench_pages(path: Path, n: int) -> None:
    """Median of each page vs /healthz, interleaved on one connection to one server."""
    with serve_in_background(path, threads=4, cwd=ROOT) as base:
        for kind, urls in page_urls(path, n).items():
            h, p = bench_http_pair(base.port, urls)
            report(
                f"HTTP page {kind}: médiane",
                f"{p:.2f} ms → ×{p / h:.2f} /healthz",
                f"≤ ×5 {verdict(p / h <= 5)}",
            )


# --- the costliest requests a client can build (issue 16: ≤ ×5 /healthz whatever the parameters) ---

# Hours that made the library search to the year 9999 (16 s a page before the search horizon): as
# many rules as an import accepts, each open round the clock; a comment makes each text distinct.
WORST_HOURS = "; ".join(["Mo-Su 00:00-24:00"] * 16)
# Texts the resolver and the name search find hardest (searched for: apostrophes, "st", points).
WORST_Q = ("l’" * 100, " ".join(["st"] * 66), "45.5,3.5 " * 22, "l'a " * 50)


def worst_hours_store(real: Path, tmp: Path) -> tuple[Path, str]:
    """A copy of the store where the Mission locale with the most reception points, and each of them,
    open at WORST_HOURS (written straight into the store, as data older than the input cap may be)."""
    path = tmp / "worst_hours.sqlite"
    shutil.copyfile(real, path)
    conn = sqlite3.connect(path)
    with conn:
        parent = conn.execute(
            "SELECT parent_id FROM structures WHERE parent_id IS NOT NULL AND statut = 'publie' "
            "GROUP BY parent_id ORDER BY COUNT(*) DESC, parent_id LIMIT 1"
        ).fetchone()[0]
        ids = [parent] + [
            r[0] for r in conn.execute("SELECT id FROM structures WHERE parent_id = ?", (parent,))
        ]
        for i, sid in enumerate(ids):
            conn.execute(
                "UPDATE structures SET horaires_accueil = ? WHERE id = ?", (f'{WORST_HOURS} "{i}"', sid)
            )
    conn.close()
    return path, parent


def padded(url: str, settings: dict) -> str:
    """The URL padded with ignored fields up to the query-string limits (bytes and fields)."""
    fields = url.count("&") + 1
    room = settings["QUERY_MAX_BYTES"] - len(url.partition("?")[2]) - 1
    spare = settings["QUERY_MAX_FIELDS"] - fields - 1
    if spare <= 0 or room <= 8:
        return url
    each = max(1, (room - spare * 4) // spare)
    junk = "&".join(f"z{i}=" + "x" * each for i in range(spare))
    return f"{url}{'&' if '?' in url else '?'}{junk}"[: len(url) + 1 + room]


def worst_urls(parent: str, settings: dict) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The costliest requests under the limits, by kind: (on the server as it runs, pages rendered
    anew at each request — the page cache off: what a client varying a parameter the page reads
    can cost). Every URL is padded with ignored fields up to the query-string limits."""
    types = ",".join(schema.STRUCTURE_TYPES)
    types += ("," + ",".join(["cio"] * 40))[: 200 - len(types)]  # the longest list accepted
    qs = [urllib.parse.quote(q.strip()[:200]) for q in WORST_Q]
    far = "limit=100&rayon_km=20000"
    api = "/api/v1/structures"
    served = {
        "API lat/lon, tous types ×, limit 100, rayon max": [f"{api}?lat=45.76&lon=4.84&{far}&types={types}"],
        "API lat/lon, sans filtre de type, limit 100, rayon max": [f"{api}?lat=45.76&lon=4.84&{far}"],
        "API commune + types, limit 100, rayon max": [f"{api}?commune=69123&{far}&types={types}"],
        "API q long + types, limit 100": [f"{api}?q={q}&{far}&types={types}" for q in qs],
        "API GeoJSON sans filtre (toutes)": ["/api/v1/structures.geojson?types=" + types],
        "API /lieux q long, limit 100": [f"/api/v1/lieux?q={q}&limit=100" for q in qs],
        "API /communes q long, limit 100": [f"/api/v1/communes?q={q}&limit=100" for q in qs],
        "page /departements/69, types + paramètres ignorés": [f"/departements/69?types={types}&n={{n}}"],
        "page /structures/<pire horaires>, paramètres ignorés": [f"/structures/{parent}?n={{n}}"],
    }
    cold = {
        "page /recherche q long + types, rendue": [f"/recherche?q={q}&types={types}" for q in qs],
        "page /recherche?q=Lyon + types, rendue": [f"/recherche?q=Lyon&types={types}"],
        "page /departements/69 + types, rendue": [f"/departements/69?types={types}"],
        "page /structures/<pire horaires>, rendue": [f"/structures/{parent}"],
    }
    pad = lambda kinds: {k: [padded(u, settings) for u in v] for k, v in kinds.items()}  # noqa: E731
    return pad(served), pad(cold)


def _measure(port: int, kinds: dict[str, list[str]], n: int, label: str = "") -> float:
    """Report each kind against /healthz; return the worst ratio."""
    worst = 0.0
    for kind, urls in kinds.items():
        many = [urls[i % len(urls)].replace("{n}", str(i)) for i in range(n)]
        h, p = bench_http_pair(port, many, warm=min(50, n))
        worst = max(worst, p / h)
        report(
            f"HTTP pire{label} : {kind}", f"{p:.2f} ms → ×{p / h:.2f} /healthz", f"≤ ×5 {verdict(p / h <= 5)}"
        )
    return worst


def bench_worst(real: Path, tmp: Path, n: int, serve_from: Path | None = None) -> None:
    """The costliest requests a client can build, each against /healthz on the same server."""
    path, parent = worst_hours_store(real, tmp)
    with sqlite3.connect(path) as c:
        others = [
            r[0] for r in c.execute("SELECT id FROM structures WHERE horaires_accueil IS NULL LIMIT 20")
        ]
    settings = config.load()
    served, cold = worst_urls(parent, settings)
    command = (sys.executable, "-m", "locator.cli") if serve_from else None
    where = {"cwd": serve_from or ROOT, "command": command, "threads": 4}
    with serve_in_background(path, **where) as base:
        conn = http.client.HTTPConnection("127.0.0.1", base.port, timeout=120)
        for url in ("/structures/" + urllib.parse.quote(other) for other in others):
            timed_get(conn, url)  # the process warmed up (templates, map skeletons, indexes)
        # The first render of the page: nothing kept yet (each hours text is evaluated once).
        first = timed_get(conn, f"/structures/{parent}")
        health = statistics.median(timed_get(conn, "/healthz") for _ in range(200))
        report(
            "HTTP page /structures/<pire horaires>: 1er rendu",
            f"{first:.2f} ms → ×{first / health:.1f} /healthz",
        )
        worst = _measure(base.port, served, n)
        refused = "/api/v1/structures?lat=45.76&lon=4.84&types=" + ",".join(["cio"] * 40_000)
        h, p = bench_http_pair(base.port, [refused] * min(n, 200), status=414, warm=20)
        report(
            "HTTP types=cio ×40 000 (160 Ko, refusé 414)",
            f"{p:.2f} ms → ×{p / h:.2f} /healthz",
            f"≤ ×5 {verdict(p / h <= 5)}",
        )
        bench_big_form(base.port, min(n, 50))
    with serve_in_background(path, env={"LOCATOR_PAGES_KEPT": "0"}, **where) as base:
        worst_cold = _measure(base.port, cold, n, " (cache de pages coupé)")
    report("HTTP pire requête servie / /healthz", f"×{worst:.2f}", f"≤ ×5 {verdict(worst <= 5)}")
    report("HTTP pire page rendue / /healthz", f"×{worst_cold:.2f}", f"≤ ×5 {verdict(worst_cold <= 5)}")
    os.remove(path)


def bench_autocomplete(path: Path, names: list[str]) -> None:
    conn = store_db.connect(path)
    lookup.resolve(conn, "ambert")  # build the name index once
    times = []
    for name in names:
        for cut in range(3, len(name) + 1):
            t = time.perf_counter_ns()
            lookup.resolve(conn, name[:cut], limit=8)
            times.append((time.perf_counter_ns() - t) / 1e6)
    report(
        "autocomplétion en mémoire (préfixes de noms): p50 / p99",
        f"{pct(times, 0.5):.3f} / {pct(times, 0.99):.3f} ms",
        f"p99 < 10 ms {verdict(pct(times, 0.99) < 10)}",
    )
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer queries (a smoke run)")
    parser.add_argument("--pages-only", action="store_true", help="only the pages vs /healthz")
    parser.add_argument("--pile-only", action="store_true", help="only nearest-5 near the piled town halls")
    parser.add_argument(
        "--worst-only", action="store_true", help="only the costliest requests a client can build vs /healthz"
    )
    parser.add_argument(
        "--serve-from",
        type=Path,
        help="run the server from another checkout (e.g. the main branch) to compare before/after",
    )
    args = parser.parse_args()
    n_queries = 300 if args.quick else 2000
    print(f"{'mesure':<58} {'valeur':<28} budget")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        real = build_real(tmp)
        bench_territories(real, tmp)
        if args.pages_only:
            bench_pages(real, 100 if args.quick else 400)
            return
        if args.pile_only:
            piled, halls = piled_store(real, tmp)
            bench_pile(piled, halls, 500 if args.quick else 2000)
            return
        if args.worst_only:
            bench_worst(real, tmp, 50 if args.quick else 300, args.serve_from)
            return
        conn = sqlite3.connect(real)
        rng = random.Random(84)
        communes = conn.execute(
            "SELECT nom, latitude, longitude FROM communes WHERE type = 'COM' AND latitude IS NOT NULL"
        ).fetchall()
        aura = conn.execute(
            "SELECT nom, latitude, longitude FROM communes WHERE region = '84' AND type = 'COM'"
        ).fetchall()
        conn.close()
        aura_q = [(r[1], r[2]) for r in rng.sample(aura, min(n_queries, len(aura)))]
        france_q = [(r[1], r[2]) for r in rng.sample(communes, n_queries)]
        names = [r[0] for r in rng.sample(aura, 300 if args.quick else 1000)]
        bench_nearest("structures réelles", real, aura_q)
        for n in (10_000, 100_000):
            path, pts = synthetic_store(real, tmp, n)
            bench_nearest(f"synthétique {n}", path, france_q)
            bench_geopandas(pts, france_q[:300])
            os.remove(path)
        bench_autocomplete(real, names)
        bench_http(real, 500 if args.quick else 2000, names[:200])
        bench_pages(real, 100 if args.quick else 400)
        bench_worst(real, tmp, 50 if args.quick else 300)
        piled, halls = piled_store(real, tmp)
        bench_pile(piled, halls, 500 if args.quick else 2000)
        os.remove(piled)
        try:
            from bench_import import run as bench_import
        except ImportError:
            bench_import = None
        if bench_import is not None:
            for row in bench_import():
                report(*row)
    failed = [r for r in ROWS if "DÉPASSÉ" in r[2]]
    print(f"\n{len(ROWS)} mesures, {len(failed)} budget(s) dépassé(s)")


if __name__ == "__main__":
    main()
