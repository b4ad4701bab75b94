"""Phone numbers read by phonenumbers: one stored form (E.164), shown the French way, dialled by tel: links.

A French admin writes « 04 73 38 00 00 », « 0262 12 34 56 » (La Réunion), « +33 4 73 38 00 00 » or a
foreign number with its country code; all are stored as E.164 (« +33473380000 »). Pages show French and
overseas numbers in the national format a caller dials from France, foreign ones in international form.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat

# phonenumbers files the overseas départements under their own regions, while a French admin writes
# their numbers nationally (« 0262… »): the national prefix says which region to read them with.
OVERSEAS_PREFIXES = {
    "0262": "RE",
    "0263": "RE",
    "0692": "RE",
    "0693": "RE",
    "0269": "YT",
    "0639": "YT",
    "0590": "GP",
    "0690": "GP",
    "0691": "GP",
    "0594": "GF",
    "0694": "GF",
    "0596": "MQ",
    "0696": "MQ",
    "0697": "MQ",
}
# Shown in the national format: metropolitan France and the overseas départements (dialled with a 0).
NATIONAL_REGIONS = frozenset({"FR", "RE", "YT", "GP", "GF", "MQ", "BL", "MF"})
_LAYOUT = re.compile(r"[\s.\-/()\u00a0\u202f]")
_PLAIN_FRENCH = re.compile(r"0[1-9]\d{8}")
_INTERNATIONAL_FRENCH = re.compile(r"(?:\+|00)33[1-9]\d{8}")


def to_e164(value: str) -> str | None:
    """Return one phone number written any usual way as E.164 (« +33473380000 »), None when it is not one."""
    compact = _LAYOUT.sub("", value.replace("(0)", ""))  # « +33 (0)4 … »: the 0 is not dialled
    if len(compact) > 24:  # no number is that long: refuse before the library reads it
        return None
    return _parsed(compact)


@functools.lru_cache(maxsize=8192)  # files repeat a network's number on every antenne
def _parsed(compact: str) -> str | None:
    if len(compact) == 9 and compact.isdigit() and compact[0] != "0":
        compact = "0" + compact  # a spreadsheet ate the leading zero
    region = OVERSEAS_PREFIXES.get(compact[:4], "FR")
    if (region == "FR" and _PLAIN_FRENCH.fullmatch(compact)) or _INTERNATIONAL_FRENCH.fullmatch(compact):
        # « 04 72 … », « +33 4 72 … »: the library's parse is known, its validity is its metadata's.
        significant = compact[-9:]
        return f"+33{significant}" if _valid_in_france(significant) else None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=1)
def _french_types() -> tuple[tuple[re.Pattern[str], frozenset[int]], ...]:
    """France's number types as phonenumbers' metadata describes them, as (pattern, lengths): the
    general description first, then one pattern for all the types of the same lengths (read once:
    asking the library costs about ten regular expressions a number)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    kinds = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan")
    kinds += ("voicemail", "fixed_line", "mobile")
    by_lengths: dict[frozenset[int], list[str]] = {}
    for kind in kinds:
        desc = getattr(meta, kind)
        if desc is not None and desc.national_number_pattern:
            by_lengths.setdefault(frozenset(desc.possible_length or ()), []).append(
                desc.national_number_pattern
            )
    general = meta.general_desc
    return (
        (re.compile(general.national_number_pattern), frozenset(general.possible_length or ())),
        *(
            (re.compile("|".join(f"(?:{p})" for p in patterns)), lengths)
            for lengths, patterns in by_lengths.items()
        ),
    )


def _valid_in_france(significant: str) -> bool:
    """Tell whether a French significant number (9 digits after the 0 or +33) is valid, as
    `phonenumbers.is_valid_number` tells (one of the types matches, within the general description)."""

    def matches(pattern: re.Pattern[str], lengths: frozenset[int]) -> bool:
        return (not lengths or len(significant) in lengths) and pattern.fullmatch(significant) is not None

    general, *kinds = _french_types()
    return matches(*general) and any(matches(*kind) for kind in kinds)


def _stored(value: str | None) -> PhoneNumber | None:
    """Read a stored number: E.164, or a national form kept by a store written before E.164."""
    if not value:
        return None
    e164 = value if value.startswith("+") and value[1:].isdigit() else to_e164(value)
    if e164 is None:
        return None
    return phonenumbers.parse(e164, None)


def display(value: str | None) -> str | None:
    """Return a stored number as people read it: « 04 73 38 00 00 », « 0262 12 34 56 », « +41 22 … »."""
    number = _stored(value)
    if number is None:
        return value
    national = phonenumbers.region_code_for_number(number) in NATIONAL_REGIONS
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL
    )


def tel_uri(value: str | None) -> str | None:
    """Return the tel: link of a stored number (E.164), None when it is not a phone number."""
    number = _stored(value)
    if number is None:
        return None
    return "tel:" + phonenumbers.format_number(number, PhoneNumberFormat.E164)
