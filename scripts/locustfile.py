"""Mixed traffic for `scripts/load.py`: autocomplete, nearest, pages and GeoJSON, like real visitors."""

from __future__ import annotations

import os
import random
import sqlite3

from locust import FastHttpUser, between, task

_db = sqlite3.connect(f"file:{os.environ['LOCATOR_DB']}?mode=ro", uri=True)
COMMUNES = _db.execute("SELECT code, nom FROM communes WHERE region = '84' AND type = 'COM'").fetchall()
STRUCTURES = [r[0] for r in _db.execute("SELECT id FROM structures WHERE statut = 'publie'")]
_db.close()


class Visitor(FastHttpUser):
    """One person using the site: types a town, looks at the answer, sometimes the map of the région."""

    wait_time = between(0, 0.05)

    @task(5)
    def autocomplete(self) -> None:
        _code, nom = random.choice(COMMUNES)
        cut = random.randint(3, max(3, len(nom)))
        self.client.get(f"/api/v1/lieux?q={nom[:cut]}&limit=8", name="/api/v1/lieux?q=[préfixe]")

    @task(4)
    def nearest_by_commune(self) -> None:
        code, _nom = random.choice(COMMUNES)
        self.client.get(f"/api/v1/structures?commune={code}&limit=5", name="/api/v1/structures?commune=")

    @task(2)
    def nearest_by_point(self) -> None:
        lat, lon = random.uniform(44.2, 46.4), random.uniform(2.2, 7.1)
        self.client.get(
            f"/api/v1/structures?lat={lat:.5f}&lon={lon:.5f}&limit=5", name="/api/v1/structures?lat=&lon="
        )

    @task(2)
    def competent(self) -> None:
        code, _nom = random.choice(COMMUNES)
        self.client.get(
            f"/api/v1/communes/{code}/mission-locale", name="/api/v1/communes/[code]/mission-locale"
        )

    @task(2)
    def search_page(self) -> None:
        _code, nom = random.choice(COMMUNES)
        self.client.get(f"/recherche?q={nom}", name="/recherche?q=[commune]")

    @task(1)
    def commune_page(self) -> None:
        code, _nom = random.choice(COMMUNES)
        self.client.get(f"/communes/{code}", name="/communes/[code]")

    @task(1)
    def structure_page(self) -> None:
        self.client.get(f"/structures/{random.choice(STRUCTURES)}", name="/structures/[id]")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(1)
    def geojson(self) -> None:
        self.client.get("/api/v1/structures.geojson", name="/api/v1/structures.geojson")
