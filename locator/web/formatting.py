"""How the pages say things: type names, distances, phone and web links, addresses, dates, sources."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlsplit

from .. import phones
from ..geo.distance import in_words

# Type → (name on a card, name in the filters).
TYPE_LABELS = {
    "mission_locale": ("Mission locale", "Missions locales"),
    "antenne_mission_locale": ("Antenne de Mission locale", "Antennes et permanences de Mission locale"),
    "cio": ("CIO – Centre d’information et d’orientation", "CIO (centres d’information et d’orientation)"),
    "psad": (
        "PSAD – Plateforme de suivi et d’appui aux décrocheurs",
        "PSAD (plateformes de suivi et d’appui aux décrocheurs)",
    ),
    "mlds": (
        "MLDS – Mission de lutte contre le décrochage scolaire",
        "MLDS (mission de lutte contre le décrochage scolaire)",
    ),
    "e2c": ("École de la 2e chance", "Écoles de la 2e chance"),
    "epide": ("EPIDE – Établissement pour l’insertion dans l’emploi", "EPIDE (centres pour l’insertion)"),
    "dispositif": ("Dispositif local", "Dispositifs locaux"),
    "partenaire": ("Partenaire", "Partenaires"),
}

# "The nearest <type>" in French, with its gender and elision.
NEAREST = {
    "mission_locale": "La Mission locale la plus proche",
    "antenne_mission_locale": "L’antenne de Mission locale la plus proche",
    "cio": "Le CIO le plus proche",
    "psad": "La PSAD la plus proche",
    "mlds": "La MLDS la plus proche",
    "e2c": "L’École de la 2e chance la plus proche",
    "epide": "Le centre EPIDE le plus proche",
    "dispositif": "Le dispositif local le plus proche",
    "partenaire": "Le partenaire le plus proche",
}

# "C'est quoi ?": each type in the words of a 16-25-year-old, said where the type first appears.
WHAT_IS = {
    "mission_locale": "Elle aide gratuitement les 16-25 ans qui ne sont plus à l’école : trouver une "
    "formation, un emploi, mais aussi un logement ou des soins.",
    "antenne_mission_locale": "Un lieu où la Mission locale vous reçoit, plus près de chez vous.",
    "cio": "Centre d’information et d’orientation : des psychologues de l’Éducation nationale vous aident "
    "gratuitement à choisir une formation ou à reprendre vos études.",
    "psad": "Plateforme de suivi et d’appui aux décrocheurs : elle contacte les jeunes qui ont quitté "
    "l’école sans diplôme et leur propose une solution (études, formation, emploi).",
    "mlds": "Mission de lutte contre le décrochage scolaire : dans les lycées, elle aide les élèves qui ont "
    "arrêté ou vont arrêter à reprendre une formation.",
    "e2c": "Une école pour les 16-25 ans sans diplôme ni emploi : remise à niveau et stages en entreprise, "
    "avec une rémunération.",
    "epide": "Un centre pour les 17-25 ans sans diplôme ni emploi : on y vit en internat et on prépare un "
    "métier, avec une allocation.",
    "dispositif": "Une action menée près de chez vous pour aider les jeunes à rester à l’école "
    "ou à y revenir.",
    "partenaire": "Une structure qui peut vous aider ou vous orienter.",
}

_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_SMALL_WORDS = {"de", "du", "des", "la", "le", "les", "et", "sur", "en", "aux", "au", "a", "sous"}
_KEEP_UPPER = {"BP", "CS", "CEDEX", "ZA", "ZI", "ZAC", "RN", "RD", "II", "III", "IV"}


def type_label(type_: str, plural: bool = False) -> str:
    """Return the French name of a structure type."""
    labels = TYPE_LABELS.get(type_)
    return labels[1 if plural else 0] if labels else type_


def km(distance: float | None) -> str:
    """Return a distance as French text ("850 m", "4,2 km", "57 km"): geo.distance's one rule."""
    return "" if distance is None else in_words(distance)


def qr_svg(url: str) -> str:
    """Return a QR code of a URL as inline SVG markup (no script, no style: fit for the CSP)."""
    import segno  # only pages that print a QR code need it

    return segno.make(url, error="m").svg_inline(scale=3, border=4, dark="#000", light="#fff")


def what_is(type_: str) -> str:
    """Return the one-line "c'est quoi ?" of a structure type ("" when unknown)."""
    return WHAT_IS.get(type_, "")


def count(n: int, singular: str, plural: str) -> str:
    """Return "1 lieu connu", "3 lieux connus": the number and the noun agreed."""
    return f"{n} {singular if n == 1 else plural}"


def tel_href(phone: str | None) -> str | None:
    """Return the tel: link of a stored phone number (E.164), None when it is not one."""
    return phones.tel_uri(phone)


def telephone(phone: str | None) -> str | None:
    """Show a stored phone number the French way (« 04 73 38 00 00 »; foreign ones as « +41 22 … »)."""
    return phones.display(phone)


def web_url(url: str | None) -> str | None:
    """Return an http(s) URL fit for a link (a bare host gets https://), None for anything else."""
    if not url:
        return None
    url = url.strip()
    if re.match(r"^www\.", url, re.I):
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
        return None
    return url


def host(url: str) -> str:
    """Return the readable host of a URL ("www." dropped)."""
    name = urlsplit(url).netloc
    return name[4:] if name.startswith("www.") else name


def mailto(email: str | None) -> str | None:
    """Return a mailto: link for a plausible e-mail address, None otherwise."""
    if not email or not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+", email.strip()):
        return None
    return "mailto:" + quote(email.strip(), safe="@.+-_")


def directions_url(lat: float, lon: float, origin: tuple[float, float] | None = None) -> str:
    """Return an OpenStreetMap directions link to a point (from the origin when known)."""
    start = f"{origin[0]:.6f},{origin[1]:.6f}" if origin else ""
    route = quote(f"{start};{lat:.6f},{lon:.6f}", safe="")
    return f"https://www.openstreetmap.org/directions?route={route}#map=16/{lat:.5f}/{lon:.5f}"


def pretty_address(text: str | None) -> str:
    """Return an address written in capitals in ordinary case ("16 AVENUE MARECHAL FOCH" → "16 Avenue …")."""
    if not text:
        return ""
    if text != text.upper():
        return text
    words = []
    for i, word in enumerate(text.split(" ")):
        if word in _KEEP_UPPER:
            words.append(word)
        elif i > 0 and word.lower() in _SMALL_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(w[:1].upper() + w[1:].lower() for w in word.split("-")))
    return re.sub(r"\b([DL])'(\w)", lambda m: m.group(1).lower() + "’" + m.group(2).upper(), " ".join(words))


def information_date(date_maj: str | None, old_after_years: int, today: dt.date | None = None) -> dict:
    """Return how to say the date of an information: text, and whether it should be checked.

    The page adds « à vérifier » on screen; the printout handed to a young person keeps the date only.
    """
    if not date_maj:
        return {"texte": "Date de l’information inconnue", "a_verifier": True}
    try:
        day = dt.date.fromisoformat(date_maj[:10])
    except ValueError:
        return {"texte": f"Information du {date_maj[:20]}", "a_verifier": True}
    today = today or dt.date.today()
    age_years = (today - day).days / 365.25
    if age_years > old_after_years:
        return {"texte": f"Information de {day.year}", "a_verifier": True}
    return {
        "texte": f"Information du {day.day} {_MONTHS[day.month - 1]} {day.year}",
        "a_verifier": False,
    }


# Known source families, said in plain words.
_SOURCE_NAMES = (
    ("Carte-reseaux-SPRO-ARA", "carte des réseaux du SPRO Auvergne-Rhône-Alpes"),
    ("betagouv/annuaire", "Annuaire de l’administration (version 2017)"),
    ("service-public", "Annuaire de l’administration (service-public.fr)"),
    ("lannuaire", "Annuaire de l’administration (service-public.fr)"),
)


def sources(source: str | None) -> list[dict[str, Any]]:
    """Return the sources of a structure as [{"nom", "url"}] (url None when it is not a web link)."""
    out = []
    for part in re.split(r"\s*\|\s*", source or ""):
        if not part:
            continue
        url = web_url(part)
        name = next((n for marker, n in _SOURCE_NAMES if marker in part), None)
        out.append({"nom": name or (host(url) if url else part[:120]), "url": url})
    return out


def precision_note(precision: str | None) -> str | None:
    """Return a warning when a structure's position is only approximate."""
    if precision == "commune":
        return "Position approximative : le centre de la commune."
    if precision in ("rue", "street", "voie"):
        return "Position approximative : la rue."
    return None
