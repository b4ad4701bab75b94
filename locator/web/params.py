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


def whole(raw: str | None, low: int, high: int) -> int | None:
    """Return raw as an integer within [low, high], or None: ASCII digits only ("²" is a digit to
    str.isdigit() but not to int()), and never more digits than `high` has (no huge numbers)."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def page(args: Mapping[str, str], last: int = 1_000_000) -> int:
    """Return the page parameter of a paged list, 1 when absent or not a page number."""
    return whole(args.get("page"), 1, last) or 1


def limit(args: Mapping[str, str], default: int, maximum: int) -> int:
    """Return the limit parameter, an integer from 1 to maximum."""
    raw = args.get("limit")
    if raw is None:
        return default
    value = whole(raw, 1, maximum)
    if value is None:
        raise ApiError(f"Le paramètre limit doit être un entier entre 1 et {maximum}.")
    return value


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
