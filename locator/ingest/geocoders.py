"""Geocoders for imported rows without coordinates: offline (commune town hall) and BAN / Géoplateforme.

Points are (latitude, longitude) in WGS84 degrees. `precision` says what the point stands for:
"adresse" (the house number), "rue" (the street or a locality), "commune" (the commune's centre).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ..geo.codes import departement_of_insee
from ..geo.postal import without_postal_noise
from ..store import geocache

# BAN result types → our precision words.
_PRECISION = {"housenumber": "adresse", "street": "rue", "locality": "rue", "municipality": "commune"}


@dataclass
class Geocoded:
    """A point found for an address, what it stands for, and a note for the import report."""

    latitude: float
    longitude: float
    precision: str
    note: str | None = None


class Geocoder(Protocol):
    """What the import pipeline asks of a geocoder."""

    name: str

    def geocode(
        self, conn: sqlite3.Connection, adresse: str | None, code_postal: str | None, commune: dict[str, Any]
    ) -> Geocoded | None:
        """Return a point for the address in this commune (a row of the communes table), or None."""
        ...


class OfflineGeocoder:
    """The commune's centre (its town hall when it lies in the commune): no network, precision "commune"."""

    name = "offline"

    def geocode(
        self, conn: sqlite3.Connection, adresse: str | None, code_postal: str | None, commune: dict[str, Any]
    ) -> Geocoded | None:
        """Return the commune's centre, or None when the commune has no known position."""
        if commune.get("latitude") is None or commune.get("longitude") is None:
            return None
        return Geocoded(commune["latitude"], commune["longitude"], "commune")


class BanGeocoder:
    """The national address API (BAN, served by the IGN Géoplateforme) through geopy's BANFrance.

    Answers are cached in the store (table geocodage_cache; new answers wait in `pending` until the
    import writes them); requests are spaced to stay under `rate` per second; a low score, an answer
    outside the expected département, an error or a timeout fall back to the commune centre, and the
    note says why. After `max_failures` errors in a row the service is not asked again in this run.
    """

    name = "ban"

    def __init__(
        self,
        domain: str,
        scheme: str = "https",
        min_score: float = 0.5,
        rate: float = 40.0,
        timeout: float = 10.0,
        max_failures: int = 3,
    ):
        from geopy.geocoders import BANFrance

        self.client = BANFrance(domain=domain, scheme=scheme, timeout=timeout, user_agent="locator")
        self.min_score = min_score
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.max_failures = max_failures
        self.failures = 0
        self.requests = 0
        self.pending: dict[str, Any] = {}
        self._last = 0.0
        self._offline = OfflineGeocoder()

    def _ask(self, query: str) -> dict[str, Any] | None:
        """Send one request (spaced by the rate limit) and return the first feature, or None."""
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()
        self.requests += 1
        location = self.client.geocode(query, limit=1, exactly_one=True)
        if location is None:
            return None
        raw = location.raw
        props = raw.get("properties", {})
        return {
            "latitude": location.latitude,
            "longitude": location.longitude,
            "score": props.get("score"),
            "type": props.get("type"),
            "citycode": props.get("citycode"),
            "postcode": props.get("postcode"),
            "label": props.get("label"),
        }

    def _fallback(self, conn, commune: dict[str, Any], why: str) -> Geocoded | None:
        found = self._offline.geocode(conn, None, None, commune)
        if found is not None:
            found.note = f"{why} : position au centre de la commune ({commune['nom']})"
        return found

    def geocode(
        self, conn: sqlite3.Connection, adresse: str | None, code_postal: str | None, commune: dict[str, Any]
    ) -> Geocoded | None:
        """Return the address's point from the BAN, or the commune centre with a note saying why."""
        from geopy.exc import GeopyError

        street = without_postal_noise(adresse)
        if not street:
            return self._offline.geocode(conn, None, None, commune)
        query = " ".join(p for p in (street, code_postal or "", commune["nom"]) if p)
        if query in self.pending:
            found, answer = True, self.pending[query]
        else:
            found, answer = geocache.get(conn, query)
        if not found:
            if self.failures >= self.max_failures:
                return self._fallback(conn, commune, "géocodeur en ligne indisponible")
            try:
                answer = self._ask(query)
            except GeopyError as err:
                self.failures += 1
                kind = "délai dépassé" if "timed out" in str(err).lower() else type(err).__name__
                return self._fallback(conn, commune, f"géocodeur en ligne injoignable ({kind})")
            self.failures = 0
            self.pending[query] = answer
        if answer is None:
            return self._fallback(conn, commune, "adresse introuvable par le géocodeur")
        score = answer.get("score") or 0.0
        if score < self.min_score:
            return self._fallback(
                conn, commune, f"adresse trouvée avec un score trop faible ({score:.2f})".replace(".", ",")
            )
        citycode = answer.get("citycode") or ""
        if citycode and departement_of_insee(citycode) != commune["departement"]:
            return self._fallback(
                conn,
                commune,
                f"le géocodeur a répondu hors du département {commune['departement']} "
                f"({answer.get('label')})",
            )
        precision = _PRECISION.get(answer.get("type") or "", "commune")
        return Geocoded(answer["latitude"], answer["longitude"], precision)


def make(kind: str, settings: dict[str, Any], known: dict[str, Any] | None = None) -> Geocoder:
    """Return the geocoder named `kind` ("offline" or "ban") configured from the settings.

    `known`: answers an online geocoder already had (a wizard's earlier plan), so it does not ask again.
    """
    if kind == "offline":
        return OfflineGeocoder()
    if kind == "ban":
        g = BanGeocoder(
            domain=settings["BAN_DOMAIN"],
            scheme=settings["BAN_SCHEME"],
            min_score=float(settings["BAN_MIN_SCORE"]),
            rate=float(settings["BAN_RATE"]),
            timeout=float(settings["BAN_TIMEOUT"]),
        )
        g.pending.update(known or {})
        return g
    raise ValueError(f"géocodeur inconnu : {kind} (offline ou ban)")
