"""Great-circle distances and the bounding boxes that bound them (WGS84 degrees, lat/lon order)."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius: the value DESIGN.md fixes for every distance
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM  # half the circumference: nothing is farther


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km between two (lat, lon) points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def in_words(distance_km: float) -> str:
    """Return a distance as French text, the one rule of every page and printout: "440 m", "4,3 km", "64 km".

    Metres (to 10 m) under 1 km, one decimal under 10 km, whole kilometres beyond. The distance is first
    rounded to the metre, as the API's `distance_km` is, so the API's figure reads exactly the same.
    """
    metres = round(round(distance_km, 3) * 1000)
    tens = (metres + 5) // 10 * 10
    if tens < 1000:
        return f"{max(10, tens)} m"  # never "0 m" nor "0,0 km": a structure is never at the exact point
    tenths = (metres + 50) // 100
    if tenths < 100:
        return f"{tenths // 10},{tenths % 10} km"
    return f"{(metres + 500) // 1000} km"


def bbox_around(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """Return (min_lat, max_lat, min_lon, max_lon) containing every point within radius_km.

    The longitude half-width is the exact one of a spherical cap; when the cap reaches a pole
    or crosses the antimeridian the box spans every longitude, which stays correct (only wider).
    """
    ang = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(ang)
    min_lat, max_lat = lat - dlat, lat + dlat
    if ang >= math.pi / 2 or min_lat <= -90 or max_lat >= 90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlon = math.degrees(math.asin(min(1.0, math.sin(ang) / math.cos(math.radians(lat)))))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180 or max_lon > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lon, max_lon


def valid_lat_lon(lat: float, lon: float) -> bool:
    """Tell whether (lat, lon) are finite WGS84 degrees."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
