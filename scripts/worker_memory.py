"""A web worker's memory: RSS after create_app, then after real HTTP requests, and the heavy modules loaded.

Run: `.venv/bin/python scripts/worker_memory.py --db instance/locator.sqlite [--exports DIR]`; prints one
JSON line. The app is served by a real HTTP server (werkzeug, in this process) on 127.0.0.1 and asked for
pages, API answers and both GeoPackage files: GeoPandas, pandas, pyogrio and folium must stay out of this
process (the GeoPackages are written by a child process).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEAVY = ("geopandas", "pandas", "pyogrio", "folium", "branca", "shapely", "pyproj")
PATHS = (
    "/healthz",
    "/",
    "/recherche?q=Ambert",
    "/communes/63003",
    "/api/v1/communes?q=Thiers",
    "/api/v1/communes/63003/mission-locale",
    "/api/v1/structures?commune=63003",
    "/api/v1/structures.geojson",
    "/api/v1/territoires.geojson",
    "/api/v1/structures.gpkg",
    "/api/v1/territoires.gpkg",
)


def rss_mb() -> float:
    """Resident memory of this process now (MB), from the kernel."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS absent de /proc/self/status")


def measure(db: str, exports: str) -> dict:
    """Serve the app, ask every path over HTTP; return statuses, RSS before/after, heavy modules loaded."""
    from werkzeug.serving import make_server

    from locator import create_app

    app = create_app(
        {"DB": db, "SECRET_KEY": "mesure", "EXPORT_CACHE_DIR": exports, "RATE_LIMIT_ENABLED": False}
    )
    after_create = rss_mb()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    statuses = {}
    try:
        for path in PATHS:
            try:
                with urllib.request.urlopen(base + path, timeout=300) as r:  # noqa: S310 (our own server)
                    r.read()
                    statuses[path] = r.status
            except urllib.error.HTTPError as err:
                statuses[path] = err.code
    finally:
        server.shutdown()
    return {
        "statuts": statuses,
        "rss_apres_create_app_mo": round(after_create, 1),
        "rss_apres_requetes_mo": round(rss_mb(), 1),
        "modules_lourds": sorted(m for m in HEAVY if m in sys.modules),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="instance/locator.sqlite")
    parser.add_argument("--exports", default="instance/exports")
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.exports), ensure_ascii=False))


if __name__ == "__main__":
    main()
