"""Opening hours in OSM `opening_hours` syntax → plain French lines, for the pages.

Only the common subset is read (weekdays and ranges, PH, times, off/closed, 24/7, comments):
anything else gives None, and the page shows the text as written rather than a wrong reading.
"""

from __future__ import annotations

import re

from .days import CODES, NAME_OF_CODE
from .days import PATTERN as _DAY

_DAY_PART = rf"(?:PH|{_DAY}(?:-{_DAY})?)"
_SELECTOR = re.compile(rf"^{_DAY_PART}(?:,{_DAY_PART})*$")
_SPAN = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")
_COMMENT = re.compile(r'^(.*?)\s*"([^"]*)"\s*$')


def describe(spec: str | None) -> list[str] | None:
    """Return the opening hours as French lines; None when absent or outside the subset we read."""
    if spec is None or not spec.strip():
        return None
    text = spec.strip()
    if text == "24/7":
        return ["Tous les jours : ouvert 24 h sur 24"]
    lines = []
    for rule in re.split(r"\s*(?:;|\|\|)\s*", text):
        if not rule:
            continue
        line = _rule(rule)
        if line is None:
            return None
        lines.append(line)
    return lines or None


def _rule(rule: str) -> str | None:
    comment = None
    m = _COMMENT.match(rule)
    if m:
        rule, comment = m.group(1).strip(), m.group(2).strip()
    head, _, rest = rule.partition(" ")
    if _SELECTOR.match(head):
        days, times = head, rest.strip()
    else:
        days, times = None, rule.strip()
    when = _days(days)
    if times in ("off", "closed"):
        line = "Fermé les jours fériés" if days == "PH" else f"{when} : fermé"
    elif times in ("", "open"):
        if days is None and comment is None:
            return None
        line = f"{when} : ouvert"
    else:
        spans = [_span(t) for t in re.sub(r"\s*,\s*", ",", times).split(",")]
        if any(s is None for s in spans):
            return None
        line = f"{when} : {_join(spans)}"
    return f"{line} ({comment})" if comment else line


def _days(selector: str | None) -> str:
    if selector is None or selector == "Mo-Su":
        return "Tous les jours"
    phrases = []
    for part in selector.split(","):
        if part == "PH":
            phrases.append("les jours fériés")
        elif "-" in part:
            first, last = part.split("-")
            if CODES.index(first) == 0 and CODES.index(last) == 6:
                phrases.append("tous les jours")
            else:
                phrases.append(f"du {NAME_OF_CODE[first]} au {NAME_OF_CODE[last]}")
        else:
            phrases.append(NAME_OF_CODE[part])
    text = _join(phrases)
    if text.startswith("les jours fériés"):
        text = text[len("les ") :]
    return text[0].upper() + text[1:]


def _span(text: str) -> str | None:
    m = _SPAN.match(text)
    if not m:
        return None
    return f"{_time(m.group(1), m.group(2))} – {_time(m.group(3), m.group(4))}"


def _time(hours: str, minutes: str) -> str:
    return f"{int(hours)} h" if minutes == "00" else f"{int(hours)} h {minutes}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]
