"""Query-string parsing for the API: every bad value becomes an ApiError with a French message."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..store.schema import STRUCTURE_TYPES


class ApiError(Exception):
    """An error the client can fix: answered as JSON {"erreur": message} with its status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def number(args: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    """Return a finite number within [low, high], None when absent; decimal commas accepted."""
    raw = args.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        raise ApiError(f"Le paramètre {name} doit être un nombre (reçu : « {raw[:40]} »).") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(f"Le paramètre {name} doit être compris entre {low:g} et {high:g}.")
    return value


def point(args: Mapping[str, str]) -> tuple[float, float] | None:
    """Return (lat, lon) when both are given, None when neither; one without the other is an error."""
    lat = number(args, "lat", -90, 90)
    lon = number(args, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise ApiError("Les paramètres lat et lon vont ensemble : donnez les deux.")
    return None if lat is None else (lat, lon)


def limit(args: Mapping[str, str], default: int, maximum: int) -> int:
    """Return the limit parameter, an integer from 1 to maximum."""
    raw = args.get("limit")
    if raw is None:
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(f"Le paramètre limit doit être un entier entre 1 et {maximum}.")
    return int(raw)


def types(args: Mapping[str, str]) -> list[str] | None:
    """Return the list of structure types asked for, None for all; unknown types are an error."""
    raw = args.get("types")
    if raw is None:
        return None
    wanted = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in STRUCTURE_TYPES]
    if unknown or not wanted:
        raise ApiError(
            f"Type inconnu : {', '.join(unknown)[:80] or '(vide)'}. "
            f"Types possibles : {', '.join(STRUCTURE_TYPES)}."
        )
    return wanted


def text(args: Mapping[str, str], name: str, max_length: int = 200) -> str | None:
    """Return a non-empty text parameter (trimmed), None when absent."""
    raw = args.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        raise ApiError(f"Le paramètre {name} est vide.")
    if len(value) > max_length:
        raise ApiError(f"Le paramètre {name} est trop long ({max_length} caractères au plus).")
    return value
