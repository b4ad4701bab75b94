"""The probable-territory rule recomputed the slow, obvious way, to check locator.territories against."""

from __future__ import annotations

from locator.geo.distance import haversine_km


def _nearest_in_departement(conn, departement: str, lat: float, lon: float) -> str | None:
    """A commune's vote, the slow obvious way: every site of the département's Missions locales."""
    rows = conn.execute(
        "SELECT id, latitude, longitude FROM structures WHERE type = 'mission_locale' AND statut = 'publie' "
        "AND departement = ? AND latitude IS NOT NULL",
        (departement,),
    ).fetchall()
    best = None
    for ml_id, mlat, mlon in rows:
        sites = [(mlat, mlon, ml_id)] + conn.execute(
            "SELECT latitude, longitude, id FROM structures WHERE parent_id = ? AND statut = 'publie' "
            "AND type IN ('mission_locale', 'antenne_mission_locale') AND latitude IS NOT NULL",
            (ml_id,),
        ).fetchall()
        for slat, slon, sid in sites:
            key = (haversine_km(lat, lon, slat, slon), ml_id, sid)
            best = key if best is None or key < best else best
    return best[1] if best else None


def _receiving_in(conn, epci: str, departement: str) -> list[tuple[float, float, str, str]]:
    """Every published site (siège or published antenne of a published Mission locale) located in the
    communes of that intercommunality's part of the département: (lat, lon, ml_id, site_id)."""
    rows = conn.execute(
        "SELECT s.latitude, s.longitude, COALESCE(m.id, s.id), s.id FROM structures s "
        "LEFT JOIN structures m ON m.id = s.parent_id AND s.type = 'antenne_mission_locale' "
        "JOIN communes c ON c.code = s.code_insee "
        "WHERE s.statut = 'publie' AND s.latitude IS NOT NULL AND c.epci = ? AND c.departement = ? "
        "AND (s.type = 'mission_locale' OR (s.type = 'antenne_mission_locale' AND m.type = 'mission_locale' "
        "AND m.statut = 'publie'))",
        (epci, departement),
    ).fetchall()
    return [tuple(r) for r in rows]


def naive_answer(conn, code: str, votes: dict) -> str | None:
    """The probable Mission locale of a commune, by the rule written the slow, obvious way from the
    structures and communes tables; `votes` keeps each voting intercommunality's winner."""
    epci, dep, lat, lon = conn.execute(
        "SELECT epci, departement, latitude, longitude FROM communes WHERE code = ?", (code,)
    ).fetchone()
    if epci is None:
        return _nearest_in_departement(conn, dep, lat, lon)
    receiving = _receiving_in(conn, epci, dep)
    if receiving:
        return min((haversine_km(lat, lon, s[0], s[1]), s[2], s[3]) for s in receiving)[1]
    if (epci, dep) not in votes:
        members = conn.execute(
            "SELECT code, latitude, longitude, COALESCE(population, 0) FROM communes "
            "WHERE epci = ? AND departement = ? AND type = 'COM'",
            (epci, dep),
        ).fetchall()
        tally: dict[str, list[int]] = {}
        for _code, mlat, mlon, pop in members:
            ml = _nearest_in_departement(conn, dep, mlat, mlon)
            tally.setdefault(ml, [0, 0])
            tally[ml][0] += 1
            tally[ml][1] += pop
        votes[epci, dep] = sorted(tally, key=lambda ml: (-tally[ml][0], -tally[ml][1], ml))[0]
    return votes[epci, dep]
