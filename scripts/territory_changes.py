"""Per département: how many communes of the région change Mission locale from the old rule (nearest
siège, any département) to the issue-11 rule (stored answers). Usage: territory_changes.py STORE."""

from __future__ import annotations

import sys

from locator import lookup
from locator.store import territories as store_territories
from locator.store.db import connect

conn = connect(sys.argv[1] if len(sys.argv) > 1 else "instance/locator.sqlite")
communes = {c["code"]: c for c in store_territories.region_communes(conn, "84")}
changed: dict[str, list[int]] = {}
for row in store_territories.competences(conn):
    c = communes[row["code_insee"]]
    old = lookup.nearest(conn, c["latitude"], c["longitude"], types=["mission_locale"], limit=1)
    counts = changed.setdefault(c["departement"], [0, 0])
    counts[1] += 1
    counts[0] += bool(old) and old[0][0]["id"] != row["structure_id"]
for dep, (n, total) in sorted(changed.items()):
    print(f"{dep}\t{n}\t/ {total}")
print(f"total\t{sum(v[0] for v in changed.values())}\t/ {sum(v[1] for v in changed.values())}")
