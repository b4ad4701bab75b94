"""Query-string parsing for the API and the pages: every bad value becomes an ApiError with a French message.

Every input is bounded before it is used: the whole query string (bytes and fields), each text, and
each list parameter (its raw text, then its values de-duplicated), so that no request costs more
because of how much a client sends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from werkzeug.datastructures import MultiDict

from ..store.schema import STRUCTURE_TYPES

# The raw text of one list parameter, all its values together (`a,b` or the name repeated): every
# known type spelt once takes 83 characters, so any honest list fits and a padded one does not.
LIST_MAX_CHARS = 200


class ApiError(Exception):
    """An error the client can fix: answered as JSON {"erreur": message} with its status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def check_query(query: bytes, max_bytes: int, max_fields: int) -> None:
    """Refuse a raw query string longer than `max_bytes` (414) or with more than `max_fields` fields
    (400), before anything parses it: parsing and every later step cost what the client sent."""
    if len(query) > max_bytes:
        raise ApiError(f"L’adresse demandée est trop longue : {max_bytes} octets de paramètres au plus.", 414)
    if query.count(b"&") >= max_fields:
        raise ApiError(f"Trop de paramètres dans l’adresse demandée ({max_fields} au plus).")


def number(args: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    """Return a finite number within [low, high], None when absent; decimal commas accepted."""
    raw = args.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        raise ApiError(f"Le paramètre {name} doit être un nombre (reçu : « {raw[:40]} »).") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(f"Le paramètre {name} doit être compris entre {low:g} et {high:g}.")
    return value


def point(args: Mapping[str, str]) -> tuple[float, float] | None:
    """Return (lat, lon) when both are given, None when neither; one without the other is an error."""
    lat = number(args, "lat", -90, 90)
    lon = number(args, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise ApiError("Les paramètres lat et lon vont ensemble : donnez les deux.")
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


def listed(args: MultiDict[str, str], name: str, max_chars: int = LIST_MAX_CHARS) -> list[str]:
    """Return the values of a list parameter (`a,b`, or the name repeated), trimmed, each once in the
    order first given; [] when absent. Its raw text is bounded before it is split (400 beyond)."""
    raws = args.getlist(name)
    if sum(len(raw) + 1 for raw in raws) > max_chars + 1:
        raise ApiError(
            f"Le paramètre {name} est trop long ({max_chars} caractères au plus) : "
            "donnez chaque valeur une seule fois."
        )
    return list(dict.fromkeys(t.strip() for raw in raws for t in raw.split(",") if t.strip()))


def types(args: MultiDict[str, str]) -> list[str] | None:
    """Return the structure types asked for (`types=a,b` or repeated), each once, None for all.

    Unknown types are an error; so, once de-duplicated, the list holds at most every known type.
    """
    if "types" not in args:
        return None
    wanted = listed(args, "types")
    unknown = [t for t in wanted if t not in STRUCTURE_TYPES]
    if unknown or not wanted:
        raise ApiError(
            f"Type inconnu : {', '.join(unknown)[:80] or '(vide)'}. "
            f"Types possibles : {', '.join(STRUCTURE_TYPES)}."
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
