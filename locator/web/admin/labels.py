"""The words admin pages use for stored codes: types, statuses, roles, field names, communes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..formatting import count, type_label

# Structure statuses, as an adjective of « la structure » (list, filters, form, history).
STATUSES = {
    "publie": "Publiée",
    "brouillon": "Brouillon (non publiée)",
    "archive": "Archivée",
}
# Account roles.
ROLES = {
    "admin": "Administrateur (gère aussi les comptes)",
    "editeur": "Éditeur (structures et imports)",
}
# Report statuses (moderation queue).
REPORT_STATUSES = {"nouveau": "À traiter", "resolu": "Résolu", "rejete": "Rejeté"}
# Stored field names, as the edit form labels them (history, import details).
FIELDS = {
    "id": "Identifiant",
    "type": "Type",
    "nom": "Nom",
    "statut": "Statut",
    "adresse": "Adresse",
    "complement_adresse": "Complément d’adresse",
    "code_postal": "Code postal",
    "commune": "Commune",
    "code_insee": "Code INSEE de la commune",
    "departement": "Département",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "telephone": "Téléphone",
    "courriel": "Courriel",
    "site_web": "Site web",
    "horaires_accueil": "Horaires d’accueil",
    "horaires_note": "Note sur les horaires",
    "parent_id": "Rattachée à",
    "description": "Description",
    "source": "Source de l’information",
    "date_maj": "Date de mise à jour",
    "precision_geocodage": "Précision de la position",
    "communes ajoutées": "Communes couvertes ajoutées",
    "communes retirées": "Communes couvertes retirées",
}
# How precise a stored position is (precision_geocodage values).
PRECISIONS = {
    "commune": "centre de la commune",
    "municipality": "centre de la commune",
    "centre_commune": "centre de la commune",
    "rue": "la rue",
    "street": "la rue",
    "voie": "la rue",
    "housenumber": "le numéro dans la rue",
    "adresse": "l’adresse",
    "manuelle": "placée à la main",
    "source": "donnée par la source",
}


def type_word(code: str | None) -> str:
    """« Mission locale » for `mission_locale`; an unknown code is shown as it is."""
    return type_label(code) if code else ""


def status_word(code: str | None) -> str:
    """« Publiée » for `publie`."""
    return STATUSES.get(code or "", code or "")


def role_word(code: str | None) -> str:
    """« Administrateur (…) » for `admin`."""
    return ROLES.get(code or "", code or "")


def report_status_word(code: str | None) -> str:
    """« À traiter » for `nouveau`."""
    return REPORT_STATUSES.get(code or "", code or "")


def field_word(name: str) -> str:
    """« Date de mise à jour » for `date_maj`."""
    return FIELDS.get(name, name.replace("_", " ").capitalize())


def value_words(name: str, value: Any) -> str:
    """A stored value as a reader says it: types and statuses in words, empty for None."""
    if value is None:
        return ""
    if name == "type":
        return type_word(str(value))
    if name == "statut":
        return status_word(str(value))
    if name == "date_maj":
        return day_words(str(value))
    if name == "precision_geocodage":
        return PRECISIONS.get(str(value), str(value))
    return str(value)


def day_words(value: str | None) -> str:
    """« 29/01/2026 » for a stored ISO date; anything else as it is, "" when missing."""
    if not value:
        return ""
    text = str(value)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    return day.strftime("%d/%m/%Y")


def commune_with_code(nom: str | None, code: str | None) -> str:
    """« Riom (code INSEE 63300) »: an INSEE code never read as a postcode."""
    if not code:
        return nom or ""
    return f"{nom} (code INSEE {code})" if nom else f"Code INSEE {code}"


def register(app) -> None:
    """Give the templates these words as filters."""
    app.jinja_env.filters.update(
        type_fr=type_word,
        statut_fr=status_word,
        role_fr=role_word,
        signalement_fr=report_status_word,
        champ_fr=field_word,
        commune_insee=commune_with_code,
        date_fr=day_words,
    )
    app.jinja_env.globals.update(valeur_fr=value_words, nombre=count)
