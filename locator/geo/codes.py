"""Rules of French geographic codes: INSEE commune codes, postcodes, départements, PLM arrondissements."""

from __future__ import annotations

import re

REGION_AURA = "84"

_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_POSTCODE = re.compile(r"^\d{5}$")
_DEPARTEMENT = re.compile(r"^(?:0?[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-6])$", re.IGNORECASE)

# Paris, Lyon and Marseille: commune code → (first arrondissement code, count, postcode prefix).
PLM = {
    "75056": ("75101", 20, "750"),
    "69123": ("69381", 9, "6900"),
    "13055": ("13201", 16, "130"),
}
PLM_NAMES = {"paris": "75056", "lyon": "69123", "marseille": "13055"}


def is_insee_code(text: str) -> bool:
    """Tell whether text has the shape of an INSEE commune code (Corsica: 2A/2B)."""
    return bool(_INSEE.match(text))


def is_postcode(text: str) -> bool:
    """Tell whether text has the shape of a French postcode."""
    return bool(_POSTCODE.match(text))


def normalize_departement(text: str) -> str | None:
    """Return the canonical département code ("1" → "01", "2a" → "2A"), or None."""
    t = text.strip().upper()
    if not _DEPARTEMENT.match(t):
        return None
    return t.zfill(2) if t.isdigit() and len(t) < 2 else t


def departement_of_insee(code: str) -> str:
    """Return the département code of an INSEE commune code (overseas: three digits)."""
    code = code.upper()
    return code[:3] if code.startswith("97") else code[:2]


def arrondissement_code(commune: str, number: int) -> str | None:
    """Return the INSEE code of arrondissement `number` of Paris, Lyon or Marseille, or None."""
    plm = PLM.get(commune)
    if not plm or not 1 <= number <= plm[1]:
        return None
    return str(int(plm[0]) + number - 1)


def arrondissement_of_postcode(postcode: str) -> str | None:
    """Map a PLM arrondissement postcode (69003, 75015, 13008) to its INSEE code, or None."""
    for commune, (_first, count, prefix) in PLM.items():
        if postcode.startswith(prefix):
            number = int(postcode[len(prefix) :])
            if 1 <= number <= count:
                return arrondissement_code(commune, number)
    return None
