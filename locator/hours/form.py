"""Opening hours between the admin form's day rows and OSM `opening_hours` text.

The form has one row per weekday with up to SLOTS time ranges, and a "closed on public holidays"
box; it reads and writes the common subset of the OSM syntax (weekday selectors, HH:MM-HH:MM
ranges, `off`, `PH off`). A value outside that subset is kept as text and edited as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import opening_hours
from .days import CODES as DAYS
from .days import NAMES as DAY_NAMES
from .days import PATTERN as _DAY

SLOTS = 2  # ranges a day row offers: morning and afternoon

_SELECTOR = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*$")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class HoursError(ValueError):
    """Hours the form cannot accept; the message is French."""


@dataclass
class Week:
    """Ranges per weekday (0 = Monday), as ("HH:MM", "HH:MM") pairs, and the public-holiday rule."""

    days: list[list[tuple[str, str]]] = field(default_factory=lambda: [[] for _ in DAYS])
    closed_public_holidays: bool = False


def _time(text: str) -> str | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours == 24 and minutes:
        return None
    return f"{hours:02d}:{minutes:02d}"


def _selector_days(selector: str) -> list[int]:
    out: list[int] = []
    for part in selector.split(","):
        first, _, last = part.partition("-")
        a = DAYS.index(first)
        b = DAYS.index(last) if last else a
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def parse(text: str | None) -> Week | None:
    """Return the week an opening_hours value describes; None when it is outside the form's subset."""
    week = Week()
    if not text or not text.strip():
        return week
    for rule in re.split(r"\s*;\s*", text.strip()):
        if not rule:
            continue
        head, _, rest = rule.partition(" ")
        rest = rest.strip()
        if head == "PH" and rest in ("off", "closed"):
            week.closed_public_holidays = True
            continue
        if not _SELECTOR.match(head) or not rest:
            return None
        if rest in ("off", "closed"):
            spans: list[tuple[str, str]] = []
        else:
            spans = []
            for part in re.split(r"\s*,\s*", rest):
                start, sep, end = part.partition("-")
                a, b = _time(start), _time(end)
                if not sep or a is None or b is None:
                    return None
                spans.append((a, b))
            if len(spans) > SLOTS:
                return None
        for day in _selector_days(head):
            week.days[day] = list(spans)  # a later rule replaces an earlier one, as in OSM
    return week


def validate_text(text: str | None) -> None:
    """Raise HoursError unless the text is empty or valid OSM opening_hours (checked by the library)."""
    if text and text.strip() and not opening_hours.is_valid(text):
        raise HoursError(
            "Horaires : ce texte n’est pas au format OSM opening_hours "
            "(par exemple « Mo-Fr 09:00-12:00,14:00-17:00; PH off »)."
        )


def read_text(text: str | None) -> tuple[str, str | None]:
    """Return (OSM hours, note) from hours typed as text, in French or OSM; raise HoursError unless
    understood (the same reading as imports: `french.read`)."""
    from . import french  # french builds on this module's Week

    reading = french.read(text)
    if not reading.compris:
        raise HoursError(
            f"Horaires\u202f: « {(text or '').strip()[:80]} » n’a pas pu être lu ({reading.probleme}). "
            "Écrivez par exemple « du lundi au vendredi de 9h à 12h et de 14h à 17h » ou "
            "« Mo-Fr 09:00-12:00,14:00-17:00 », ou mettez ce texte dans la note sur les horaires."
        )
    return reading.horaires or "", reading.note


def check(week: Week) -> None:
    """Raise HoursError unless every range ends after it starts and ranges of a day do not overlap."""
    for name, spans in zip(DAY_NAMES, week.days, strict=True):
        ordered = sorted(spans)
        for start, end in ordered:
            if end <= start:
                raise HoursError(f"Horaires du {name} : la fin ({end}) doit suivre le début ({start}).")
        for (_s1, e1), (s2, _e2) in zip(ordered, ordered[1:], strict=False):
            if s2 < e1:
                raise HoursError(f"Horaires du {name} : deux plages se chevauchent.")


def _selector(days: list[int]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[d] for d in run)
    return ",".join(parts)


def format_week(week: Week) -> str | None:
    """Return the opening_hours text of a week (days with equal ranges grouped); None when empty."""
    check(week)
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for day, spans in enumerate(week.days):
        if spans:
            groups.setdefault(tuple(sorted(spans)), []).append(day)
    rules = [
        f"{_selector(days)} {','.join(f'{a}-{b}' for a, b in spans)}"
        for spans, days in sorted(groups.items(), key=lambda item: item[1][0])
    ]
    if week.closed_public_holidays:
        rules.append("PH off")
    text = "; ".join(rules) or None
    validate_text(text)
    return text


def from_form(form: dict[str, str]) -> Week:
    """Read the form's fields `h-<day>-<slot>-debut` / `-fin` (day 0-6, slot 0..SLOTS-1) and `h-feries`."""
    week = Week(closed_public_holidays=bool(form.get("h-feries")))
    for day, name in enumerate(DAY_NAMES):
        for slot in range(SLOTS):
            raw_start = (form.get(f"h-{day}-{slot}-debut") or "").strip()
            raw_end = (form.get(f"h-{day}-{slot}-fin") or "").strip()
            if not raw_start and not raw_end:
                continue
            start, end = _time(raw_start), _time(raw_end)
            if start is None or end is None:
                raise HoursError(f"Horaires du {name} : indiquez le début et la fin au format HH:MM.")
            week.days[day].append((start, end))
    return week
