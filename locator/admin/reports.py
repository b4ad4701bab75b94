"""« Signaler une erreur »: what a visitor sends, cleaned and checked before it is queued."""

from __future__ import annotations

import re
from collections.abc import Collection

from ..ingest import clean

MAX_MESSAGE = 2000
MAX_CONTACT = 200
# A phone number as people type it: digits with spaces, dots, dashes, slashes, brackets, a leading +.
_PHONE = re.compile(r"^\+?[\d\s.\-/()]+$")
_PHONE_DIGITS = (6, 15)


def check(champ: str, message: str, contact: str, fields: Collection[str]) -> tuple[dict, dict[str, str]]:
    """Return (values to store, errors by field): text cleaned like imported text (no invisible,
    bidi or control characters), the contact an e-mail address (checked like every address we keep)
    or a phone number. Errors are French sentences; values are for the form when there are errors."""
    errors: dict[str, str] = {}
    values = {"champ": champ, "message": message, "contact": contact}
    if champ not in fields:
        errors["champ"] = "Choisissez ce qui ne va pas."
    try:
        values["message"] = clean.text(message, "message", multiline=True, max_length=MAX_MESSAGE) or ""
    except clean.Invalid:
        errors["message"] = f"Le message est trop long ({MAX_MESSAGE} caractères au plus)."
    else:
        if not values["message"]:
            errors["message"] = "Décrivez l’erreur en quelques mots."
    try:
        values["contact"] = clean.text(contact, "contact", max_length=MAX_CONTACT) or ""
    except clean.Invalid:
        errors["contact"] = f"Le contact est trop long ({MAX_CONTACT} caractères au plus)."
    else:
        problem = _contact_problem(values["contact"])
        if problem:
            errors["contact"] = problem
        elif "@" in values["contact"]:
            values["contact"] = clean.email_address(values["contact"])
    return values, errors


def _contact_problem(contact: str) -> str | None:
    """Say why a contact is neither an e-mail address nor a phone number (None: it is one, or empty)."""
    if not contact:
        return None
    if "@" in contact:
        try:
            clean.email_address(contact)
        except clean.Invalid:
            return "Ce courriel n’est pas valide : vérifiez-le, ou laissez plutôt un numéro de téléphone."
        return None
    digits = sum(c.isdigit() for c in contact)
    if _PHONE.match(contact) and _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        return None
    return "Laissez un courriel (nom@domaine.fr) ou un numéro de téléphone, ou rien."
