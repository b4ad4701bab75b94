"""Opening hours in OSM `opening_hours` syntax: validity and "open now?" by a real parser, French lines.

The maintained `opening-hours-py` library (module `opening_hours`) parses the full grammar and
answers is-open / next change, with French public holidays (`PH`). The French description lines
cover the common subset (weekdays and ranges, PH, times, off/closed, 24/7, comments): anything else
gives None, and the page shows the text as written rather than a wrong reading.

Evaluation is bounded: the next change is searched SEARCH_DAYS ahead and no further (hours that never
change made the library search to the year 9999: 0.8 s for `Mo-Su 00:00-24:00`, 16 s for 25 such
rules), each text's status is kept until what it says changes, and imports and the admin form refuse
hours of more than MAX_RULES rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

import opening_hours as osm_hours

from .days import CODES, NAME_OF_CODE, NAMES
from .days import PATTERN as _DAY

# Every structure is in France: times are Paris times, public holidays French ones.
TIMEZONE = ZoneInfo("Europe/Paris")
COUNTRY = "FR"
# A change further away than this is not worth saying ("ouvre dans 3 mois").
HORIZON = dt.timedelta(days=8)
# How far ahead the next change is searched (the library's `max_interval_days`); none found means
# none within HORIZON either ("Ouvert 24 h/24"). Longer than HORIZON, so that a status computed now
# stays true SEARCH_DAYS - HORIZON days when no change is found (see `_evaluate`).
SEARCH_DAYS = 14
# Rules (separated by `;` or `||`) a text may hold when it is imported or typed: real ones hold one
# per weekday and a public-holiday rule, with comments; every rule is evaluated at each step.
MAX_RULES = 16
# Texts whose status is kept (a few hundred bytes each).
STATUSES_KEPT = 8192


@functools.lru_cache(maxsize=1024)
def parse(spec: str | None) -> osm_hours.OpeningHours | None:
    """Return the parsed hours (Paris time, French holidays); None when absent or not valid OSM syntax."""
    if spec is None or not spec.strip():
        return None
    try:
        return osm_hours.OpeningHours(
            spec.strip(), timezone=TIMEZONE, country=COUNTRY, max_interval_days=SEARCH_DAYS
        )
    except (osm_hours.ParserError, SyntaxError, ValueError):
        return None


def is_valid(spec: str) -> bool:
    """Tell whether a text is valid OSM opening_hours (the full grammar)."""
    return parse(spec) is not None


_QUOTED = re.compile(r'"[^"]*"')


def rule_count(spec: str) -> int:
    """Return how many rules a text holds (`;` and `||` separators, outside quoted comments)."""
    bare = _QUOTED.sub("", spec)
    return 1 + bare.count(";") + bare.count("||")


def complexity_problem(spec: str | None) -> str | None:
    """Return why hours are too complex to accept (French), or None; imports and the admin form ask."""
    if spec and (n := rule_count(spec)) > MAX_RULES:
        return (
            f"horaires trop complexes ({n} règles, {MAX_RULES} au plus) : regroupez les jours qui ont "
            "les mêmes horaires (« Mo-Fr 09:00-12:00,14:00-17:00; PH off »)"
        )
    return None


class _Statuses:
    """Each text's status and until when it holds, kept (bounded, least recently used out) so that a
    page asking again before then costs a lookup; `computed` counts the evaluations made."""

    def __init__(self, size: int):
        self.size = size
        self.kept: OrderedDict[str, tuple[dt.datetime, dt.datetime, dict[str, Any] | None]] = OrderedDict()
        self.computed = 0
        self.lock = threading.Lock()

    def get(self, spec: str, now: dt.datetime) -> tuple[bool, dict[str, Any] | None]:
        with self.lock:
            kept = self.kept.get(spec)
            if kept is None or not kept[0] <= now < kept[1]:
                return False, None
            self.kept.move_to_end(spec)
            return True, kept[2]

    def put(self, spec: str, since: dt.datetime, until: dt.datetime, found: dict[str, Any] | None) -> None:
        with self.lock:
            self.computed += 1
            self.kept[spec] = (since, until, found)
            self.kept.move_to_end(spec)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)


STATUSES = _Statuses(STATUSES_KEPT)


def status(spec: str | None, now: dt.datetime | None = None) -> dict | None:
    """Return {"ouvert", "texte", "change", "expire"}: open now or not, said in French, when that
    changes (None beyond SEARCH_DAYS), and until when the text is true (then ask again).

    None when there are no readable hours or their state is unknown. `now` defaults to the present.
    The answer is kept per text until it expires: asking again before then costs no evaluation.
    """
    if spec is None or not spec.strip():
        return None
    now = (now or dt.datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    hit, found = STATUSES.get(spec, now)
    if not hit:
        found, until = _evaluate(spec, now)
        STATUSES.put(spec, now, until, found)
    return dict(found) if found is not None else None  # a copy: the kept one is shared


def _evaluate(spec: str, now: dt.datetime) -> tuple[dict[str, Any] | None, dt.datetime]:
    """The status at `now` and the moment it stops being true (bounded by SEARCH_DAYS)."""
    quiet = now + dt.timedelta(days=SEARCH_DAYS) - HORIZON  # no change found: none can be said before
    hours = parse(spec)
    if hours is None:
        return None, now + dt.timedelta(days=365)  # not readable hours: nothing to say, ever
    state = hours.state(now)[0]
    change = hours.next_change(now)  # None: no change within SEARCH_DAYS
    change = change.astimezone(TIMEZONE) if change is not None else None
    if state not in (osm_hours.State.OPEN, osm_hours.State.CLOSED):
        return None, change or quiet
    if change is None:
        until = quiet
    elif change - now <= HORIZON:
        # Said with day words ("demain à 9 h"): they change at midnight, the state at `change`.
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), TIMEZONE)
        until = min(change, midnight)
    else:
        until = change - HORIZON  # then the change comes within HORIZON and is said
    near = change is not None and change - now <= HORIZON
    if state == osm_hours.State.OPEN:
        # Open, and no change for HORIZON days at least: round the clock (`Mo-Su 00:00-24:00`, `24/7`).
        texte = f"Ouvert maintenant, jusqu’à {_when(change, now)}" if near else "Ouvert 24 h/24"
        return {"ouvert": True, "texte": texte, "change": change, "expire": until}, until
    texte = f"Fermé — ouvre {_when(change, now, opening=True)}" if near else "Fermé en ce moment"
    return {"ouvert": False, "texte": texte, "change": change, "expire": until}, until


def _when(moment: dt.datetime, now: dt.datetime, opening: bool = False) -> str:
    """ "17 h" today, else "demain à 9 h" / "lundi à 9 h" (opening) or "lundi 12 h"."""
    hour = _time(str(moment.hour), f"{moment.minute:02d}")
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"aujourd’hui à {hour}" if opening else hour
    day = "demain" if days == 1 else NAMES[moment.weekday()]
    return f"{day} à {hour}"


_DAY_PART = rf"(?:PH|{_DAY}(?:-{_DAY})?)"
_SELECTOR = re.compile(rf"^{_DAY_PART}(?:,{_DAY_PART})*$")
_SPAN = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")
_COMMENT = re.compile(r'^(.*?)\s*"([^"]*)"\s*$')


def describe(spec: str | None) -> list[str] | None:
    """Return the opening hours as French lines; None when absent or outside the subset we read."""
    if parse(spec) is None:  # not valid OSM syntax: the page shows the text as written
        return None
    text = spec.strip()
    if text == "24/7":
        return ["Tous les jours : ouvert 24 h sur 24"]
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
        line = "Fermé les jours fériés" if days == "PH" else f"{when} : fermé"
    elif times in ("", "open"):
        if days is None and comment is None:
            return None
        line = f"{when} : ouvert"
    else:
        spans = [_span(t) for t in re.sub(r"\s*,\s*", ",", times).split(",")]
        if any(s is None for s in spans):
            return None
        line = f"{when} : {_join(spans)}"
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
