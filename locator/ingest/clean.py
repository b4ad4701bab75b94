"""Cell values of imported files → clean values, or a French reason why not."""

from __future__ import annotations

import functools
import re
import unicodedata

from .. import phones
from ..geo import names
from ..geo.postal import has_cedex, without_postal_noise  # noqa: F401 (re-exported)

# Control and invisible format characters are never kept: they break pages, exports and terminals,
# and bidi overrides (U+202E, U+2066…) make a name read differently from what it holds. Newlines stay
# only in free text such as descriptions and opening hours. Every Unicode Cc and Cf character is here
# (tests/test_import_text.py checks the list against unicodedata).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE = re.compile(
    "[\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_SPACES = re.compile(r"[ \t\xa0\u202f]+")

MAX_LENGTH = {"nom": 200, "description": 4000, "horaires_accueil": 500}
DEFAULT_MAX_LENGTH = 300


class Invalid(ValueError):
    """A cell that cannot be used; the message says why, in French."""


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection), full-width forms too.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Free-text fields published as they are (a phone, a postcode or a link is checked by its own parser).
FORMULA_CHECKED = ("nom", "adresse", "complement_adresse", "commune", "horaires_accueil", "description")
FORMULA_CHECKED += ("source", "parent")


def looks_like_formula(value: str) -> bool:
    """Tell whether a text cell starts, after any spaces or line breaks, like a spreadsheet formula."""
    return value.lstrip().startswith(FORMULA_STARTS)


def _plain(value: str) -> bool:
    """Tell whether `text` would keep a cell as it is: printable (so no control, invisible, line-break
    or non-breaking space character: Python counts only " " as a printable space), NFC, single spaces,
    not empty and not padded."""
    return (
        value.isprintable()
        and value[:1] not in ("", " ")
        and value[-1] != " "
        and "  " not in value
        and (value.isascii() or unicodedata.is_normalized("NFC", value))
    )


def text(
    value: str | None, field: str = "", multiline: bool = False, max_length: int | None = None
) -> str | None:
    """Return the cell as clean one-line text (NFC, no control characters, single spaces), or None.

    A cell that a spreadsheet would run as a formula is refused: it would be published as is.
    Every text people type is cleaned here: cells, the admin form, reports, account emails.
    `max_length` replaces the field's usual limit.
    """
    if not value:  # None, or an empty cell (many per row in wide files)
        return None
    limit = max_length or MAX_LENGTH.get(field, DEFAULT_MAX_LENGTH)
    if _plain(value) and not (field in FORMULA_CHECKED and value.startswith(FORMULA_STARTS)):
        # Nothing to clean (most cells): what the steps below would return unchanged.
        if len(value) > limit:
            raise Invalid(f"{field or 'valeur'} trop long ({len(value)} caractères, {limit} au plus)")
        return value
    return _clean_text(value, field, multiline, limit)


def _clean_text(value: str, field: str, multiline: bool, limit: int | None = None) -> str | None:
    """`text` the long way, for a cell with something to clean."""
    value = _INVISIBLE.sub("", unicodedata.normalize("NFC", value))
    if field in FORMULA_CHECKED and looks_like_formula(_CONTROL.sub(" ", value)):
        raise Invalid(
            f"{field or 'valeur'} commence comme une formule de tableur (« {value.strip()[:20]} ») : "
            "refusé ; retirez le signe = + - ou @ du début de la cellule"
        )
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = "\n".join(_SPACES.sub(" ", _CONTROL.sub("", line)).strip() for line in value.split("\n"))
        value = re.sub(r"\n{3,}", "\n\n", value).strip()
    else:
        value = _SPACES.sub(" ", _CONTROL.sub(" ", value.replace("\n", " ").replace("\r", " "))).strip()
    if not value:
        return None
    limit = limit or MAX_LENGTH.get(field, DEFAULT_MAX_LENGTH)
    if len(value) > limit:
        raise Invalid(f"{field or 'valeur'} trop long ({len(value)} caractères, {limit} au plus)")
    return value


def number(value: str | None) -> float | None:
    """Parse a number written the French or English way ("45,77", "45.77", "1 234,5"), or None."""
    if value is None:
        return None
    t = _SPACES.sub("", value.strip()).replace("\u2212", "-")
    if not t:
        return None
    if "," in t and "." not in t:
        t = t.replace(",", ".")
    elif "," in t and "." in t:  # "1.234,5" or "1,234.5": the last separator is the decimal one
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    try:
        x = float(t)
    except ValueError:
        raise Invalid(f"« {value.strip()[:40]} » n’est pas un nombre") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise Invalid(f"« {value.strip()[:40]} » n’est pas un nombre")
    return x


_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def url(value: str | None) -> str | None:
    """Return a web address (http or https only; "www.x.fr" gets "https://"), or raise Invalid."""
    value = text(value, "site_web")
    if value is None:
        return None
    folded = re.sub(r"\s", "", value)
    m = _URL_SCHEME.match(folded)
    if m and m.group(1).lower() not in ("http", "https"):
        raise Invalid(f"adresse web refusée (« {m.group(1).lower()}: » n’est pas un lien web)")
    if not m:
        if " " in value or "." not in value or value.startswith(("/", "\\")):
            raise Invalid(f"adresse web invalide : « {value[:60]} »")
        value = "https://" + value.lstrip("/")
    if " " in value or not re.match(r"^https?://[^/\s]+\.[^/\s]+", value, re.IGNORECASE):
        raise Invalid(f"adresse web invalide : « {value[:60]} »")
    return value


def email_address(value: str) -> str:
    """Return one e-mail address as kept (domain in lower case), or raise Invalid.

    Checked by email-validator, syntax only (no DNS): the one check of every address we keep —
    structures' courriel (imports and the admin form), admin accounts, contacts left with reports.
    """
    _refuse_formula_address(value)
    found = _validated(value)
    if found is None:
        raise Invalid(f"courriel invalide : « {value[:60]} » (attendu : nom@domaine.fr)")
    return found


def _refuse_formula_address(value: str) -> None:
    """« +cmd@evil.fr » is a valid address, and a spreadsheet formula: refused wherever it is typed."""
    if looks_like_formula(_CONTROL.sub(" ", value)):
        raise Invalid(
            f"courriel refusé : « {value.strip()[:40]} » commence comme une formule de tableur "
            "(retirez le signe = + - ou @ du début)"
        )


@functools.lru_cache(maxsize=4096)  # files repeat a network's address on every antenne
def _validated(value: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email  # only writers check addresses

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def email(value: str | None) -> tuple[str | None, str | None]:
    """Return (address, warning): the first address when several are given, or raise Invalid."""
    value = text(value, "courriel")
    if value is None:
        return None, None
    _refuse_formula_address(value)
    parts = [p for p in re.split(r"[;,\s]+", value.removeprefix("mailto:")) if p]
    try:
        address = email_address(parts[0]) if parts else None
    except Invalid:
        address = None
    if address is None:
        raise Invalid(f"courriel invalide : « {value[:60]} » (attendu : nom@domaine.fr)")
    return address, (f"plusieurs courriels : seul {address} est gardé" if len(parts) > 1 else None)


_PHONE_LAYOUT = str.maketrans("", "", " .-\xa0\u202f")
_PHONE_SEPARATORS = re.compile(r"\s*(?:[;,/|\n]|\bou\b|\bet\b)\s*", re.IGNORECASE)


def phone(value: str | None) -> tuple[str | None, str | None]:
    """Return (number in E.164, warning), read by phonenumbers; the first when several, or raise Invalid.

    The one check of a structure's phone (imports, the seed and the admin form): a cell that is not a
    phone number (« voir site », « 12 », a formula) is refused, never kept as text.
    """
    value = text(value, "telephone")
    if value is None:
        return None, None
    if looks_like_formula(value) and not value.startswith(("+", "\uff0b")):
        raise Invalid(
            f"téléphone refusé : « {value[:20]} » commence comme une formule de tableur "
            "(retirez le signe = - ou @ du début de la cellule)"
        )
    one = value.lstrip("+").translate(_PHONE_LAYOUT).isdigit()  # most cells: digits, spaces and dots only
    parts = [value] if one else [p for p in _PHONE_SEPARATORS.split(value) if p]
    number = phones.to_e164(parts[0]) if parts else None
    if number is None:
        raise Invalid(
            f"téléphone invalide : « {value[:40]} » (attendu : un numéro comme 04 73 38 00 00, "
            "0262 12 34 56 ou +41 22 345 67 89)"
        )
    if len(parts) > 1:
        return number, f"plusieurs numéros de téléphone : seul le {phones.display(number)} est gardé"
    return number, None


def postcode(value: str | None) -> str | None:
    """Return a 5-digit postcode ("1000" from a spreadsheet → "01000"), or raise Invalid."""
    value = text(value, "code_postal")
    if value is None:
        return None
    t = re.sub(r"\s", "", value)
    if re.fullmatch(r"\d{4}(\.0+)?", t):  # the spreadsheet stored it as a number
        t = "0" + t.split(".")[0]
    if not re.fullmatch(r"\d{5}", t):
        raise Invalid(f"code postal invalide : « {value[:20]} » (5 chiffres attendus)")
    return t


def insee(value: str | None) -> str | None:
    """Return an INSEE commune code ("1004" → "01004", "2a004" → "2A004"), or raise Invalid."""
    value = text(value, "code_insee")
    if value is None:
        return None
    t = re.sub(r"\s", "", value).upper()
    if re.fullmatch(r"\d{4}(\.0+)?", t):
        t = "0" + t.split(".")[0]
    if not re.fullmatch(r"\d{5}|2[AB]\d{3}", t):
        raise Invalid(f"code INSEE invalide : « {value[:20]} »")
    return t


# French labels → types, where the label is not ambiguous (keys are names.normalize()d).
TYPE_LABELS = {
    "mission locale": "mission_locale",
    "missions locales": "mission_locale",
    "ml": "mission_locale",
    "mission locale siege": "mission_locale",
    "siege mission locale": "mission_locale",
    "antenne": "antenne_mission_locale",
    "antennes": "antenne_mission_locale",
    "permanence": "antenne_mission_locale",
    "permanences": "antenne_mission_locale",
    "antenne mission locale permanence": "antenne_mission_locale",
    "antenne ml": "antenne_mission_locale",
    "antenne mission locale": "antenne_mission_locale",
    "antenne de mission locale": "antenne_mission_locale",
    "antenne de la mission locale": "antenne_mission_locale",
    "permanence mission locale": "antenne_mission_locale",
    "permanence ml": "antenne_mission_locale",
    "point d accueil mission locale": "antenne_mission_locale",
    "cio": "cio",
    "centre d information et d orientation": "cio",
    "centre information orientation": "cio",
    "centre d information et d orientation cio": "cio",
    "cio centre d information et d orientation": "cio",
    "psad": "psad",
    "plateforme de suivi et d appui aux decrocheurs": "psad",
    "plate forme de suivi et d appui aux decrocheurs": "psad",
    "plateforme de suivi et d appui aux decrocheurs psad": "psad",
    "psad plateforme de suivi et d appui aux decrocheurs": "psad",
    "plateforme decrochage": "psad",
    "mlds": "mlds",
    "mission de lutte contre le decrochage scolaire": "mlds",
    "e2c": "e2c",
    "ecole de la 2e chance": "e2c",
    "ecole de la deuxieme chance": "e2c",
    "ecole de la seconde chance": "e2c",
    "ecole de la 2eme chance": "e2c",
    "ecole 2e chance": "e2c",
    "ecole de la 2e chance e2c": "e2c",
    "e2c ecole de la 2e chance": "e2c",
    "epide": "epide",
    "centre epide": "epide",
    "etablissement pour l insertion dans l emploi": "epide",
    "epide etablissement pour l insertion dans l emploi": "epide",
    "dispositif": "dispositif",
    "dispositif local": "dispositif",
    "partenaire": "partenaire",
}


def structure_type(value: str | None, known: tuple[str, ...]) -> tuple[str | None, str | None]:
    """Return (type, warning) for a type cell: a known type, or a French label mapped to one."""
    value = text(value, "type")
    if value is None:
        return None, None
    raw = value.strip().lower().replace("-", "_").replace(" ", "_")
    if raw in known:
        return raw, None
    key = names.normalize(value)
    if key in TYPE_LABELS:
        mapped = TYPE_LABELS[key]
        return mapped, None
    raise Invalid(f"type inconnu « {value[:40]} » (types acceptés : {', '.join(known)})")
