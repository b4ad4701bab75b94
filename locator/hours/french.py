"""Opening hours as French admins write them, read into the OSM `opening_hours` grammar.

« du lundi au vendredi de 9h à 12h et de 14h à 17h » → « Mo-Fr 09:00-12:00,14:00-17:00 ». A scanner
turns the text into tokens (days, times, « fermé », « sauf », « jours fériés », « matin »…), a small
grammar groups them into day groups with their ranges, closures and exceptions, and the week they
describe is written by the admin form's writer (one normal form) then checked by opening-hours-py.
What the grammar does not understand is never guessed: it stays text, a note for the public page.
Input is bounded (MAX_CHARS, MAX_TOKENS) like the rule cap of `opening_hours.MAX_RULES`.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

from . import form, opening_hours

MAX_CHARS = 500  # the import's limit for the hours cell
MAX_TOKENS = 100  # a full week written out day by day in words holds about 85
NOON = 12 * 60
LUNCH_END = 14 * 60  # a range ending by then is a morning one (« 9h-12h30 »)

_DAY_WORDS = {
    0: ("lundi", "lun", "lu", "mo"),
    1: ("mardi", "mar", "ma", "tu"),
    2: ("mercredi", "mer", "me", "we"),
    3: ("jeudi", "jeu", "je", "th"),
    4: ("vendredi", "ven", "ve", "fr"),
    5: ("samedi", "sam", "sa"),
    6: ("dimanche", "dim", "di", "su"),
}
_DAYS = {w: d for d, words in _DAY_WORDS.items() for w in words} | {
    f"{w}s": d for d, words in _DAY_WORDS.items() for w in words[:1]
}
# Words and what they mean to the grammar; words not here make the text not understood.
_WORDS = {
    **dict.fromkeys(("de", "du", "des", "d", "entre", "depuis"), "FROM"),
    **dict.fromkeys(("a", "au", "aux", "jusqu", "jusque", "jusqua"), "TO"),
    **dict.fromkeys(("et", "puis"), "AND"),
    **dict.fromkeys(("ferme", "fermee", "fermes", "fermees", "fermeture", "clos", "closed", "off"), "CLOSED"),
    **dict.fromkeys(("sauf", "hors", "excepte"), "EXCEPT"),
    **dict.fromkeys(("ferie", "feries", "ph"), "PH"),
    **dict.fromkeys(("matin", "matins", "matinee", "matinees"), "MORNING"),
    **dict.fromkeys(("apres-midi", "apres-midis", "aprem"), "AFTERNOON"),
    **dict.fromkeys(("apres",), "AFTER"),
    **dict.fromkeys(("sans", "non"), "WITHOUT"),
    **dict.fromkeys(("interruption", "stop", "coupure"), "BREAK"),
    **dict.fromkeys(("rendez-vous", "rdv", "rendez"), "RDV"),
    **dict.fromkeys(("week-end", "week-ends", "weekend", "weekends"), "WEEKEND"),
    **dict.fromkeys(("semaine",), "WEEK"),
    **dict.fromkeys(("tous", "chaque", "tlj"), "ALL"),
    **dict.fromkeys(("midi",), "NOON"),
    **dict.fromkeys(("minuit",), "MIDNIGHT"),
    **dict.fromkeys(
        (
            "le", "les", "la", "l", "en", "ouvert", "ouverte", "ouverts", "ouverture", "accueil",
            "horaires", "horaire", "public", "h", "heures", "heure", "jour", "jours", "inclus",
            "uniquement", "seulement", "continu", "non-stop", "journee", "journees", "sur", "vous",
            "lieu", "libre", "permanence", "permanences", "toute", "toutes", "ainsi", "que", "egalement",
        ),
        "FILLER",
    ),
}  # fmt: skip
# « tous les jours », « en semaine », « le week-end »: day sets said in one word.
_SETS = {"ALL": list(range(7)), "WEEK": list(range(5)), "WEEKEND": [5, 6]}
_LISTS = ",/&+.:()"  # characters that join items (« 9h-12h / 14h-17h », « lundi, mardi »)
_DASHES = "-–—‑"


class NotUnderstood(ValueError):
    """The text is not hours this grammar reads; the message says why (French)."""


@dataclass(frozen=True)
class Reading:
    """What a hours text says: OSM hours (or None), a note for people (or None), and whether the
    text was understood; `probleme` says why not (French)."""

    horaires: str | None
    note: str | None = None
    compris: bool = True
    probleme: str | None = None


@dataclass
class _Token:
    kind: str
    value: int | None = None
    text: str = ""


@dataclass
class _Group:
    days: list[int] = field(default_factory=list)
    times: list[tuple[int, int]] = field(default_factory=list)
    closed: bool = False
    period: str | None = None
    last: str = ""  # "days" or "times": what was added last


@functools.lru_cache(maxsize=2048)  # a file repeats the same hours on many rows
def read(text: str | None) -> Reading:
    """Read hours as written: empty → nothing; valid OSM → kept as is; French → converted and checked
    by opening-hours-py; anything else → not understood, kept whole as a note."""
    if text is None or not text.strip():
        return Reading(None)
    text = text.strip()
    if len(text) <= MAX_CHARS and opening_hours.is_valid(text):
        return Reading(text)
    try:
        hours, notes = _convert(text)
    except NotUnderstood as err:
        return Reading(None, text, compris=False, probleme=str(err))
    return Reading(hours, "\u202f; ".join(notes) or None)


def convert(text: str) -> str | None:
    """Return the OSM form of French hours (None when they only hold a note); raise NotUnderstood."""
    reading = read(text)
    if not reading.compris:
        raise NotUnderstood(reading.probleme)
    return reading.horaires


def _convert(text: str) -> tuple[str | None, list[str]]:
    if len(text) > MAX_CHARS:
        raise NotUnderstood(f"texte trop long ({len(text)} caractères, {MAX_CHARS} au plus)")
    notes: list[str] = []
    groups: list[_Group] = []
    closed_holidays = False
    count = 0
    for clause in _clauses(text):
        parts = _split_appointments(clause, notes)
        for part in parts:
            tokens = _tokens(part)
            count += len(tokens)
            if count > MAX_TOKENS:
                raise NotUnderstood(f"texte trop complexe (plus de {MAX_TOKENS} mots et nombres)")
            found, holidays = _groups(tokens)
            groups += found
            closed_holidays = closed_holidays or holidays
    if not any(not g.closed for g in groups):
        if notes and not groups and not closed_holidays:
            return None, notes
        raise NotUnderstood("aucune plage horaire avec ses jours")
    week = _week(groups, closed_holidays)
    try:
        hours = form.format_week(week)
    except form.HoursError as err:
        raise NotUnderstood(str(err).removeprefix("Horaires ").lower()) from None
    if hours is None or not opening_hours.is_valid(hours):  # format_week checks it; said twice on purpose
        raise NotUnderstood("le résultat n’est pas valide au format OSM")
    if problem := opening_hours.complexity_problem(hours):
        raise NotUnderstood(problem)
    return hours, notes


def _clauses(text: str) -> list[str]:
    """Split on `;` and line breaks: each clause is read alone (its groups add up)."""
    out, current = [], []
    for ch in text:
        if ch in ";\n\r":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return [c for c in out if c.strip()]


def _split_appointments(clause: str, notes: list[str]) -> list[str]:
    """Parts of a clause that speak of appointments are a note, not hours; return the other parts."""
    folded = _fold(clause)
    if not any(w in folded for w in ("rendez", "rdv")) or "RDV" not in {
        t.kind for t in _tokens(clause, strict=False)
    }:
        return [clause]
    kept = []
    for part in _cut(clause, ",."):
        if "RDV" in {t.kind for t in _tokens(part, strict=False)}:
            note = part.strip(" ,.:;/()-")
            if note:
                notes.append(note[0].lower() + note[1:] if note[1:2].islower() else note)
        elif part.strip(" ,.:;/()-"):
            kept.append(part)
    return kept


def _cut(text: str, separators: str) -> list[str]:
    out, current = [], []
    for ch in text:
        if ch in separators:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out


@functools.lru_cache(maxsize=4096)
def _fold(word: str) -> str:
    """Lower case without accents: « Fériés » → « feries »."""
    bare = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in bare if not unicodedata.combining(c))


def _tokens(text: str, strict: bool = True) -> list[_Token]:
    """Scan a clause into tokens; `strict`: an unknown word raises NotUnderstood."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch in "'’\"«»":
            i += 1
        elif ch.isdigit():
            i = _time_token(text, i, tokens)
        elif ch in _DASHES:
            tokens.append(_Token("DASH", text=ch))
            i += 1
        elif ch in _LISTS:
            tokens.append(_Token("AND", text=ch))
            i += 1
        elif ch.isalpha():
            j = i
            while j < n and (
                text[j].isalpha() or (text[j] in _DASHES and j + 1 < n and text[j + 1].isalpha())
            ):
                j += 1
            _word_tokens(text[i:j], tokens, strict)
            i = j
        elif strict:
            raise NotUnderstood(f"caractère inattendu « {ch} »")
        else:
            i += 1
    return _afternoons(tokens, strict)


def _afternoons(tokens: list[_Token], strict: bool) -> list[_Token]:
    """Two-word phrases: « après midi » is an afternoon; « sans rendez-vous », « sans interruption »,
    « non stop » say plain opening."""
    out: list[_Token] = []
    for t in tokens:
        if out and out[-1].kind == "AFTER" and t.kind == "TIME" and _fold(t.text) == "midi":
            out[-1] = _Token("AFTERNOON", text=f"{out[-1].text} {t.text}")
        elif out and out[-1].kind == "WITHOUT" and t.kind in ("RDV", "BREAK"):
            out[-1] = _Token("FILLER", text=f"{out[-1].text} {t.text}")
        else:
            out.append(t)
    if strict and (odd := next((t for t in out if t.kind in ("AFTER", "WITHOUT", "BREAK")), None)):
        raise NotUnderstood(f"« {odd.text} » n’est pas compris ici")
    return out


def _word_tokens(word: str, tokens: list[_Token], strict: bool) -> None:
    """A word, or a hyphenated compound: known whole (« après-midi ») or read part by part (« Lu-Ve »)."""
    folded = _fold(word).replace("–", "-").replace("—", "-").replace("‑", "-")
    if folded in _WORDS or folded in _DAYS or "-" not in folded:
        tokens.append(_word(folded, word, strict))
        return
    for k, part in enumerate(folded.split("-")):
        if k:
            tokens.append(_Token("DASH", text="-"))
        tokens.append(_word(part, part, strict))


def _word(folded: str, original: str, strict: bool) -> _Token:
    if folded in _DAYS:
        return _Token("DAY", _DAYS[folded], original)
    kind = _WORDS.get(folded)
    if kind == "NOON":
        return _Token("TIME", NOON, original)
    if kind == "MIDNIGHT":
        return _Token("TIME", 24 * 60, original)
    if kind is None:
        if strict:
            raise NotUnderstood(f"mot non reconnu « {original} »")
        return _Token("WORD", text=original)
    return _Token(kind, text=original)


def _time_token(text: str, i: int, tokens: list[_Token]) -> int:
    """« 9h », « 9 h 30 », « 09:00 », « 8.30 », « 12h00 »; a bare « 9 » is an hour without mark."""
    n = len(text)
    j = i
    while j < n and text[j].isdigit():
        j += 1
    if j - i > 2:
        raise NotUnderstood(f"nombre inattendu « {text[i:j]} »")
    hours = int(text[i:j])
    k = j
    while k < n and text[k] == " ":
        k += 1
    mark = text[k] if k < n else ""
    if mark.lower() in ("h", ":") or (mark == "." and k + 2 < n + 1 and text[k + 1 : k + 3].isdigit()):
        if mark.lower() == "h" and k + 1 < n and text[k + 1].isalpha() and _fold(text[k + 1]) != "e":
            raise NotUnderstood(f"heure illisible « {text[i : k + 2]} »")
        k += 1
        if mark.lower() == "h" and text[k : k + 5].lower() == "eures":
            k += 5
        m = k
        while m < n and text[m] == " ":
            m += 1
        minutes = 0
        if text[m : m + 2].isdigit() and not _starts_time(text, m + 2):
            minutes = int(text[m : m + 2])
            k = m + 2
        elif mark in ":.":
            raise NotUnderstood(f"heure illisible « {text[i:m]} »")
        if hours > 24 or minutes > 59 or (hours == 24 and minutes):
            raise NotUnderstood(f"heure impossible « {text[i:k].strip()} »")
        tokens.append(_Token("TIME", hours * 60 + minutes, text[i:k]))
        return k
    if hours > 24:
        raise NotUnderstood(f"heure impossible « {hours} »")
    tokens.append(_Token("NUM", hours * 60, text[i:j]))
    return j


def _starts_time(text: str, i: int) -> bool:
    """Whether digits just read end at a mark of hours (« 12h 14h-17h »: 14 is an hour, not minutes)."""
    rest = text[i:].lstrip(" ")
    return rest[:1].isdigit() or rest[:1].lower() in ("h", ":")


class _Reader:
    """The tokens of one clause part, read left to right."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self, *skip: str) -> _Token | None:
        j = self.i
        while j < len(self.tokens) and self.tokens[j].kind in skip:
            j += 1
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, *skip: str) -> _Token:
        while self.i < len(self.tokens) and self.tokens[self.i].kind in skip:
            self.i += 1
        if self.i >= len(self.tokens):
            raise NotUnderstood("texte incomplet (une plage ou un jour attendu à la fin)")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def done(self) -> bool:
        return self.i >= len(self.tokens)


def _groups(tokens: list[_Token]) -> tuple[list[_Group], bool]:
    """Group a clause's tokens: days with their ranges, closures with their days; and « sauf fériés »."""
    r = _Reader(tokens)
    groups: list[_Group] = []
    g = _Group()
    holidays = False
    excepting = False

    def fresh(closed: bool = False) -> _Group:
        nonlocal g
        if g.days or g.times or g.closed:
            groups.append(g)
        g = _Group(closed=closed)
        return g

    while not r.done():
        t = r.peek()
        assert t is not None
        if t.kind in ("DAY", "ALL", "WEEK", "WEEKEND") or (t.kind == "FROM" and _next_is_day(r)):
            days = _day_expression(r)
            if excepting:
                if not g.closed:
                    fresh(closed=True)
                excepting = False
            elif (g.days and g.times) or (g.closed and g.last == "period"):
                fresh()
            g.days += [d for d in days if d not in g.days]
            g.last = "days"
        elif t.kind in ("TIME", "NUM") or (
            t.kind == "FROM" and r.peek("FROM") and r.peek("FROM").kind in ("TIME", "NUM")
        ):
            span = _range(r)
            if g.closed:
                raise NotUnderstood("des heures de fermeture ne sont pas lues (dites les heures d’ouverture)")
            if g.days and g.times and g.last == "days":
                fresh()
            g.times.append(span)
            g.last = "times"
        elif t.kind == "CLOSED":
            r.take()
            if excepting:
                continue
            if g.days and not g.times and not g.closed:
                g.closed = True  # « le mercredi fermé »
            elif not g.closed:
                fresh(closed=True)
            g.last = "closed"
        elif t.kind == "EXCEPT":
            r.take()
            excepting = True
        elif t.kind == "PH":
            r.take()
            if not (excepting or g.closed):
                raise NotUnderstood("les horaires des jours fériés ne sont pas lus (seulement « fermé »)")
            holidays = True
            excepting = False
        elif t.kind in ("MORNING", "AFTERNOON"):
            r.take()
            if g.period and g.period != t.kind:
                raise NotUnderstood("matin et après-midi dans la même fermeture")
            g.period = t.kind
            if g.closed:
                g.last = "period"
        elif t.kind in ("AND", "FILLER", "DASH", "TO", "FROM"):
            r.take()
        else:
            raise NotUnderstood(f"« {t.text} » n’est pas compris ici")
    if excepting:
        raise NotUnderstood("« sauf » sans jour")
    fresh()
    for group in groups:
        if not group.days and group.closed and group.times == [] and holidays:
            continue
        if not group.days:
            raise NotUnderstood("des heures sans jours (précisez « du lundi au vendredi »)")
        if not group.closed and not group.times:
            raise NotUnderstood("des jours sans heures")
        if not group.closed and not _fits_period(group):
            raise NotUnderstood("des heures qui ne sont pas celles du matin ou de l’après-midi annoncé")
    return [gr for gr in groups if gr.days], holidays


def _fits_period(group: _Group) -> bool:
    """« lundi matin 9h-12h » is consistent; « lundi après-midi 9h-11h » is not (said, not guessed)."""
    if group.period == "MORNING":
        return all(a < LUNCH_END for a, _b in group.times)
    if group.period == "AFTERNOON":
        return all(b > NOON for _a, b in group.times)
    return True


def _next_is_day(r: _Reader) -> bool:
    nxt = r.peek("FROM", "FILLER")
    return nxt is not None and nxt.kind in ("DAY", "ALL", "WEEK", "WEEKEND")


def _next_is_time(r: _Reader) -> bool:
    nxt = r.peek("FROM")
    return nxt is not None and nxt.kind in ("TIME", "NUM")


def _day_expression(r: _Reader) -> list[int]:
    """« lundi », « du lundi au vendredi », « Lu-Ve », « tous les jours », « en semaine »."""
    first = r.take("FROM", "FILLER")
    following = r.peek("FILLER")
    if first.kind == "ALL" and following is not None and following.kind == "DAY":
        first = r.take("FILLER")  # « tous les lundis », « chaque mardi »: that day
    if first.kind in _SETS:
        return list(_SETS[first.kind])
    nxt = r.peek()
    if nxt is not None and nxt.kind in ("DASH", "TO"):
        after = r.tokens[r.i + 1 : r.i + 3]
        last = next((t for t in after if t.kind != "FILLER"), None)
        if last is not None and last.kind == "DAY":
            r.take()
            last = r.take("FILLER")
            a, b = first.value, last.value
            return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return [first.value]


def _range(r: _Reader) -> tuple[int, int]:
    """« de 9h à 12h », « 9h-12h », « 9-12h », « 8h30 - 12h00 », « 9h à midi »."""
    start = r.take("FROM")
    sep = r.peek()
    if sep is None or sep.kind not in ("DASH", "TO"):
        raise NotUnderstood(f"heure seule « {start.text} » (attendu : une plage comme 9h-12h)")
    r.take()
    end = r.take("TO", "FILLER") if not r.done() else None
    if end is None or end.kind not in ("TIME", "NUM"):
        raise NotUnderstood(f"plage sans fin après « {start.text} »")
    if start.kind == "NUM" and end.kind == "NUM":
        raise NotUnderstood(f"« {start.text}-{end.text} » : des nombres sans « h »")
    a, b = start.value, end.value
    if a == 24 * 60:
        a = 0
    if b <= a:
        raise NotUnderstood(f"la plage {start.text}–{end.text} finit avant de commencer")
    return a, b


def _week(groups: list[_Group], closed_holidays: bool) -> form.Week:
    """The week the groups describe: open ranges add up per day, then closures cut them."""
    week = form.Week(closed_public_holidays=closed_holidays)
    spans: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for g in groups:
        if not g.closed:
            for d in g.days:
                spans[d] += [s for s in g.times if s not in spans[d]]
    for g in groups:
        if g.closed:
            for d in g.days:
                spans[d] = _cut_period(spans[d], g.period)
    for d in range(7):
        week.days[d] = [(_hhmm(a), _hhmm(b)) for a, b in sorted(spans[d])]
    return week


def _cut_period(spans: list[tuple[int, int]], period: str | None) -> list[tuple[int, int]]:
    """What stays of a day's ranges when it closes all day, in the morning or in the afternoon.

    A morning range is one that starts before noon and ends by LUNCH_END (« 9h-12h30 »); a range over
    the whole day (« 9h-17h ») is cut at noon.
    """
    if period is None:
        return []
    kept = []
    for a, b in spans:
        morning = a < NOON and b <= LUNCH_END
        afternoon = a >= NOON
        if period == "MORNING" and not morning:
            kept.append((a if afternoon else NOON, b))
        elif period == "AFTERNOON" and not afternoon:
            kept.append((a, b if morning else NOON))
    return kept


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
