"""Reading a spreadsheet export: size limit, binary check, encoding and delimiter detection, header aliases.

Rows are streamed: the file is read once in chunks to check it (size, encoding), then once as CSV.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import ftfy

from ..geo import names

if TYPE_CHECKING:
    from .limits import Limits

CHUNK = 1 << 16
NOT_TEXT = (
    "Ce fichier n’est pas un fichier texte (tableur enregistré en .xlsx/.ods, PDF, image…) : "
    "enregistrez-le au format CSV."
)


# Keys a row may carry besides its columns: what the reader noticed (they alone do not make a row).
# "__encodage__" and "__repare__" carry a ready French warning (cells read in Windows-1252, repaired).
NOTES = ("__extra__", "__manque__", "__encodage__", "__repare__")

# A UTF-8 file with a few Windows-1252 bytes (a line pasted from an old export) is read as UTF-8, each
# bad byte as Windows-1252: FALLBACK for whoever just needs the text, MARKED for the rows, where every
# such character follows MARK (a Unicode noncharacter) so the cell it lands in can be named, then removed.
FALLBACK = "locator-cp1252"
MARKED = "locator-cp1252-marque"
MARK = "\ufdd0"


def _as_cp1252(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("cp1252", errors="replace"), err.end


def _as_cp1252_marked(err: UnicodeError) -> tuple[str, int]:
    text, end = _as_cp1252(err)
    return "".join(MARK + ch for ch in text), end


codecs.register_error(FALLBACK, _as_cp1252)
codecs.register_error(MARKED, _as_cp1252_marked)

# Mojibake: UTF-8 read as Windows-1252 or Latin-1 (« Ã© », « Ã¨ », « â€™ », « Â »): a lead letter
# followed by what a UTF-8 continuation byte shows as. Only cells it matches go to ftfy.
_MOJIBAKE = re.compile(
    "[\xc2-\xc5\xe2][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013-\u203a\u20ac\u2122]"
)


class FileProblem(ValueError):
    """The whole file cannot be imported; the message says why, in French."""


# Canonical column → accepted headers (compared after names.normalize, so case, accents, spaces,
# hyphens and underscores do not matter).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant", "id structure", "identifiant structure"),
    "type": ("type", "type structure", "type de structure", "categorie", "typologie"),
    "nom": ("nom", "name", "nom structure", "nom de la structure", "raison sociale", "libelle"),
    "adresse": (
        "adresse",
        "address",
        "adresse 1",
        "adresse1",
        "rue",
        "voie",
        "adresse postale",
        "adresse complete",
        "adresse postale complete",
        "full address",
    ),
    "complement_adresse": (
        "complement adresse",
        "complement d adresse",
        "complement",
        "adresse 2",
        "adresse2",
    ),
    "code_postal": ("code postal", "cp", "postcode", "postal code", "zip", "zipcode"),
    "commune": ("commune", "ville", "city", "localite", "nom commune"),
    "code_insee": ("code insee", "insee code", "insee", "code commune", "code commune insee", "citycode"),
    "departement": ("departement", "dept", "dep", "code departement"),
    "telephone": ("telephone", "tel", "phone", "numero de telephone", "tel fixe"),
    "courriel": ("courriel", "email", "mail", "e mail", "adresse mail", "adresse email", "adresse courriel"),
    "site_web": ("site web", "website", "site", "url", "site internet", "web"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng", "long"),
    "x": ("x", "x lambert 93", "x l93", "coord x", "lambert x"),
    "y": ("y", "y lambert 93", "y l93", "coord y", "lambert y"),
    # The names admins give the parent column (« Mission locale de rattachement »...); other spellings
    # are read by _parent_header, never a bare « Mission locale », which is rather the name column.
    "parent": (
        "parent",
        "parent name",
        "parent nom",
        "parent id",
        "id parent",
        "structure parente",
        "rattachement",
        "mission locale parente",
        "mission locale de rattachement",
        "ml de rattachement",
        "structure de rattachement",
        "structure mere",
        "ml referente",
        "mission locale referente",
        "structure referente",
        "ml parente",
        "ml mere",
        "rattachee a",
        "rattache a",
    ),
    "horaires_accueil": (
        "horaires",
        "horaires accueil",
        "horaires d accueil",
        "horaires d ouverture",
        "opening hours",
    ),
    "description": ("description", "presentation", "commentaire"),
    "source": ("source", "source url", "sources"),
    "date_maj": ("date maj", "date de mise a jour", "mise a jour", "date"),
    "statut": ("statut", "status", "etat"),
}
# The Missions locales network's coverage file, and a plain "commune → structure id" list.
COVERAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "code_insee": ("code insee", "insee", "code commune", "code commune insee"),
    "commune": ("nom commune", "commune", "libelle commune"),
    "code_ml": ("code ml", "code structure", "code mission locale"),
    "nom_ml": ("nom officiel ml", "nom ml", "nom mission locale", "mission locale"),
    "plusieurs": ("commune presente sur plusieurs ml", "plusieurs ml", "presente sur plusieurs ml"),
    "structure_id": ("id structure", "structure id", "identifiant structure", "structure"),
    # The seat of the Mission locale, as the network's file gives it: where its code and name fail.
    "adresse_ml": ("adresse ml", "adresse mission locale"),
    "code_postal_ml": ("code postal ml", "cp ml"),
    "ville_ml": ("ville ml", "commune ml"),
    "region_ml": ("code region ml",),
    # Read and not needed (the commune's code says them): known, so that no warning is given.
    "region_ml_nom": ("region ml",),
    "departement_commune": ("departement commune",),
    "region_commune": ("region commune",),
    "code_region_commune": ("code region commune",),
}


def _keys(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {names.normalize(a): canon for canon, group in aliases.items() for a in group}


_BY_KEY = _keys(ALIASES)
_COVERAGE_KEYS = _keys(COVERAGE_ALIASES)
# Place columns: one of these sets must be present (with type and nom) for a structures file.
# An address alone counts: its postcode and commune are read from its text (geo.addresses.split).
PLACE_SETS = (
    ("latitude", "longitude"),
    ("x", "y"),
    ("code_insee",),
    ("code_postal",),
    ("commune",),
    ("adresse",),
)
# A header with one of these words names the structure a row belongs to (« Nom de la ML de
# rattachement », « Identifiant de la structure mère »), when no alias matched it exactly.
# (« référent » alone is a contact person: « Nom du référent » is no parent column.)
_PARENT_WORDS = frozenset(("rattachement", "rattachee", "rattache", "parent", "parente", "mere", "referente"))
# ...provided it speaks of a structure: « date de rattachement », « code commune de rattachement » are
# not parent columns.
_STRUCTURE_WORDS = frozenset(
    ("structure", "ml", "mission", "locale", "nom", "id", "identifiant", "organisme")
)


@dataclass
class Table:
    """A checked file ready to be streamed: its encoding, delimiter and header mapping."""

    source: Path | bytes
    encoding: str
    delimiter: str
    headers: list[str]  # as written in the file
    columns: list[str | None]  # canonical name per position (None: ignored column)
    size: int
    warnings: list[str] = field(default_factory=list)
    genre: str = "structures"  # or "couverture" (ImportPlan.genre)
    limits: Limits | None = None
    errors: str = "strict"  # FALLBACK: UTF-8 with a few Windows-1252 bytes, each read as such

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (physical line where the row starts, {canonical column: raw text}); the header is line 1.

        A row that cannot be read safely (quote left open, line or cell too long) comes as
        {"__erreur__": reason}; a short row carries "__manque__" and a long one "__extra__".
        """
        limits = self.limits or _default_limits()
        width = max(len(self.columns), 1)
        line_cap = limits.max_cell_chars * width
        csv.field_size_limit(max(csv.field_size_limit(), line_cap * limits.max_cell_lines))
        errors = MARKED if self.errors == FALLBACK else "replace"
        with _open_text(self.source, self.encoding, errors) as f:
            lines = _physical_lines(f, line_cap)
            next(lines, None)  # the header
            for start, values, problem in _records(lines, self.delimiter, width, limits):
                yield start, (self._row(values, limits) if problem is None else {"__erreur__": problem})

    def _row(self, values: list[str], limits) -> dict[str, str]:
        """Map one record's values to canonical columns, noting missing, extra and oversized cells."""
        row: dict[str, str] = {}
        read_as_cp1252: list[str] = []
        repaired: list[str] = []
        for header, col, value in zip(self.headers, self.columns, values, strict=False):
            if col is None or col in row:
                continue
            if MARK in value:
                value = value.replace(MARK, "")
                read_as_cp1252.append(f"{header.strip()[:40]} « {_shown(value)} »")
            if _MOJIBAKE.search(value) and len(value) <= limits.max_cell_chars:
                fixed = ftfy.fix_encoding(value)
                if fixed != value:
                    repaired.append(f"{header.strip()[:40]} « {_shown(value)} » → « {_shown(fixed)} »")
                    value = fixed
            row[col] = value
        if self.errors == FALLBACK:
            values = [v.replace(MARK, "") for v in values]
        for header, value in zip(self.headers, values, strict=False):
            if len(value) > limits.max_cell_chars:
                return {
                    "__erreur__": f"cellule « {header.strip()[:40]} » trop longue ({len(value)} caractères, "
                    f"{limits.max_cell_chars} au plus) : ligne refusée"
                }
        if len(values) > len(self.columns) and any(v.strip() for v in values[len(self.columns) :]):
            row["__extra__"] = str(len(values) - len(self.columns))
        if len(values) < len(self.columns) and any(v.strip() for v in values):
            row["__manque__"] = str(len(self.columns) - len(values))
        if read_as_cp1252:
            row["__encodage__"] = (
                "caractères lus en Windows-1252 dans un fichier UTF-8 (vérifiez les accents)\u202f: "
                + " ; ".join(read_as_cp1252)
            )
        if repaired:
            row["__repare__"] = "accents mal encodés, réparés\u202f: " + " ; ".join(repaired)
        return row


def _shown(value: str) -> str:
    """A cell as a warning quotes it: on one line, single spaces, cut after 80 characters."""
    text = " ".join(value.split())
    return text if len(text) <= 80 else text[:79] + "…"


def _default_limits():
    from .limits import Limits  # limits.py imports this module

    return Limits()


def _physical_lines(f: IO[str], cap: int) -> Iterator[tuple[int, str | None]]:
    """Yield (line number, text with its end of line), or (line number, None) for a line over `cap`."""
    n = 0
    while True:
        line = f.readline(cap + 1)
        if not line:
            return
        n += 1
        if len(line) > cap and not line.endswith(("\n", "\r")):
            while (rest := f.readline(CHUNK)) and not rest.endswith(("\n", "\r")):
                pass
            yield n, None
            continue
        yield n, line


def _still_open(text: str, delimiter: str, in_quote: bool, at_start: bool) -> bool:
    """Tell whether a quoted cell is still open at the end of this line (the csv module's rules)."""
    i, field_start = 0, at_start
    while True:
        if in_quote:
            j = text.find('"', i)
            if j < 0:
                return True
            if text.startswith('"', j + 1):  # a doubled quote inside the cell
                i = j + 2
                continue
            in_quote, i, field_start = False, j + 1, False
            continue
        j = text.find('"', i)
        if j < 0:
            return False
        if (j == 0 and field_start) or (j > 0 and text[j - 1] == delimiter):
            in_quote = True
        i, field_start = j + 1, False


def _parse(lines: list[str], delimiter: str) -> list[str]:
    return next(csv.reader(lines, delimiter=delimiter), [])


def _looks_like_row(text: str, delimiter: str, width: int) -> bool:
    """Tell whether a line read inside a quoted cell is rather a row of its own (a quote left open)."""
    if width < 2 or text.count(delimiter) < width - 1 or _still_open(text, delimiter, False, True):
        return False
    return len(_parse([text], delimiter)) == width


def _records(
    lines: Iterator[tuple[int, str | None]], delimiter: str, width: int, limits
) -> Iterator[tuple[int, list[str], str | None]]:
    """Yield (first physical line, values, None) per record, or (line, [], reason) for one refused.

    A quoted cell may span lines; when it runs past the limits, to the end of the file, or over a line
    that reads as a row of its own, its first line is refused and the lines after it are read again.
    """
    pushed: deque[tuple[int, str | None]] = deque()

    def take() -> tuple[int, str | None] | None:
        return pushed.popleft() if pushed else next(lines, None)

    while (item := take()) is not None:
        start, text = item
        if text is None:
            yield start, [], f"ligne trop longue (plus de {limits.max_cell_chars} caractères par cellule)"
            continue
        if not _still_open(text, delimiter, False, True):
            yield start, _parse([text], delimiter), None
            continue
        taken: list[tuple[int, str | None]] = [item]
        problem = None
        while True:
            nxt = take()
            if nxt is None:
                problem = "guillemet ouvert jamais refermé (jusqu’à la fin du fichier)"
                break
            taken.append(nxt)
            n, more = nxt
            if more is None or _looks_like_row(more, delimiter, width):
                problem = f"guillemet ouvert non refermé : la ligne {n} est lue comme une ligne à part"
                break
            if len(taken) > limits.max_cell_lines:
                problem = f"guillemet ouvert non refermé sur plus de {limits.max_cell_lines} lignes"
                break
            if not _still_open("".join(t for _, t in taken), delimiter, False, True):
                break
        if problem is None:
            yield start, _parse([t for _, t in taken], delimiter), None
            continue
        yield start, [], f"{problem} ; cette ligne est refusée, vérifiez ses guillemets"
        pushed.extendleft(reversed(taken[1:]))


def _open_text(source: Path | bytes, encoding: str, errors: str = "replace") -> IO[str]:
    raw = io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


def _chunks(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray):
        for i in range(0, len(source), CHUNK):
            yield bytes(source[i : i + CHUNK])
        return
    with open(source, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def size_of(source: Path | bytes) -> int:
    """Return the size of a file or of bytes."""
    return len(source) if isinstance(source, bytes | bytearray) else Path(source).stat().st_size


def check_size(source: Path | bytes, max_bytes: int) -> int:
    """Refuse an empty file or one over the limit; return its size."""
    size = size_of(source)
    if size == 0:
        raise FileProblem("Le fichier est vide.")
    if size > max_bytes:
        raise FileProblem(
            f"Le fichier fait {size / 1e6:.1f} Mo, plus que la limite de {max_bytes / 1e6:.1f} Mo : "
            "découpez-le en plusieurs fichiers."
        )
    return size


def detect_encoding(source: Path | bytes) -> str:
    """Return "utf-8-sig" or "utf-8" when the file is mostly UTF-8, else "cp1252"; refuse binary."""
    return detect_decoding(source)[0]


def detect_decoding(source: Path | bytes) -> tuple[str, str]:
    """Return (encoding, errors) for a text file; refuse binary.

    Valid UTF-8: ("utf-8" or "utf-8-sig", "strict"). UTF-8 with a few bytes that are not (fewer than
    its multi-byte characters: a line pasted from a Windows-1252 export): errors FALLBACK, each such
    byte read as Windows-1252. Otherwise a Windows-1252 file: ("cp1252", "strict"). One pass, in chunks.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    first = True
    bom = False
    invalid = 0  # bytes (or runs of bytes) that are not UTF-8
    multibyte = 0  # bytes saved by UTF-8's multi-byte characters: how much real UTF-8 there is
    for chunk in _chunks(source):
        if first:
            bom = chunk.startswith(codecs.BOM_UTF8)
            if _looks_binary(chunk):
                raise FileProblem(NOT_TEXT)
            first = False
        if b"\x00" in chunk:
            raise FileProblem("Le fichier contient des octets nuls : ce n’est pas un CSV texte.")
        if chunk.isascii() and not decoder.getstate()[0]:
            continue  # nothing to decode, no character left open by the chunk before
        text = decoder.decode(chunk)
        bad = text.count("\ufffd")
        invalid += bad
        multibyte += len(chunk) - len(text)
    invalid += decoder.decode(b"", final=True).count("\ufffd")
    encoding = "utf-8-sig" if bom else "utf-8"
    if not invalid:
        return encoding, "strict"
    if multibyte > invalid:
        return encoding, FALLBACK
    return "cp1252", "strict"


_MAGIC = (
    b"PK\x03\x04",
    b"%PDF",
    b"\xd0\xcf\x11\xe0",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"BZh",
)


def _looks_binary(head: bytes) -> bool:
    if head.startswith(_MAGIC) or b"\x00" in head[:4096]:
        return True
    sample = head[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return bool(sample) and controls / len(sample) > 0.05


def _first_line(source: Path | bytes, encoding: str, errors: str = "replace") -> str:
    with _open_text(source, encoding, errors) as f:
        return f.readline(1 << 20)


def detect_delimiter(header_line: str) -> str:
    """Return the delimiter of a header line: the most frequent of ';', ',', tab (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ","


def canonical(header: str, keys: dict[str, str] | None = None) -> str | None:
    """Return the canonical column for a header written any way, or None when unknown."""
    key = names.normalize(header.replace("_", " "))
    found = (keys or _BY_KEY).get(key)
    if found is None and keys in (None, _BY_KEY) and _parent_header(key):
        return "parent"
    return found


def _parent_header(key: str) -> bool:
    """Tell whether a normalised header names a row's parent structure without being an exact alias."""
    words = set(key.split())
    return bool(words & _PARENT_WORDS) and bool(words & _STRUCTURE_WORDS)


# Headers that may hold the parent's name or the row's own name: read as neither, with a hint.
_AMBIGUOUS = frozenset(
    ("mission locale", "ml", "nom mission locale", "nom ml", "nom de la mission locale", "nom de la ml")
)


def is_coverage(headers: list[str]) -> bool:
    """Tell whether a header line is a coverage list (commune → Mission locale), not structures."""
    cols = {_COVERAGE_KEYS.get(names.normalize(h.replace("_", " "))) for h in headers}
    plain = {canonical(h) for h in headers}
    return "code_insee" in cols and (
        bool(cols & {"code_ml", "nom_ml"}) or ("structure_id" in cols and "type" not in plain)
    )


HEADER_MAX_CHARS = 8192  # a header line is a few hundred characters; more is not a header


def open_table(source: Path | bytes, max_bytes: int, limits: Limits | None = None) -> Table:
    """Check a CSV file (size, binary, encoding, delimiter, header) and return it ready to stream.

    The header decides the columns: structures (ALIASES) or a coverage list (COVERAGE_ALIASES).
    """
    size = check_size(source, max_bytes)
    encoding, errors = detect_decoding(source)
    line = _first_line(source, encoding, FALLBACK if errors == FALLBACK else "replace")
    if not line.strip().strip(";,\t"):
        raise FileProblem("La première ligne est vide : elle doit porter les noms des colonnes.")
    if len(line) > HEADER_MAX_CHARS:
        raise FileProblem(
            f"La première ligne fait plus de {HEADER_MAX_CHARS} caractères : ce n’est pas une ligne "
            "de noms de colonnes."
        )
    delimiter = detect_delimiter(line)
    try:
        headers = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as err:
        raise FileProblem(f"Ligne 1 (noms des colonnes) illisible : {err}.") from None
    keys = _COVERAGE_KEYS if is_coverage(headers) else _BY_KEY
    columns: list[str | None] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    for h in headers:
        col = canonical(h, keys) if h.strip() else None
        if col is None and h.strip():
            warnings.append(f"Colonne « {h.strip()[:40]} » inconnue : ignorée." + _hint(h, keys))
        elif col is not None and col in seen:
            warnings.append(f"Colonnes « {seen[col]} » et « {h.strip()} » : seule la première est lue.")
            col = None
        elif col is not None:
            seen[col] = h.strip()
        columns.append(col)
    if encoding == "cp1252":
        warnings.append("Fichier lu en Windows-1252 (export Excel) : les accents sont convertis.")
    if errors == FALLBACK:
        warnings.append(
            "Fichier UTF-8 avec quelques caractères en Windows-1252\u202f: ils sont convertis, et chaque "
            "ligne concernée est signalée avec le texte qui sera publié."
        )
    genre = "couverture" if keys is _COVERAGE_KEYS else "structures"
    return Table(source, encoding, delimiter, headers, columns, size, warnings, genre, limits, errors)


def _hint(header: str, keys: dict[str, str]) -> str:
    """Say how to name an ignored column that could be the parent's name or the row's own name."""
    if keys is not _BY_KEY or names.normalize(header.replace("_", " ")) not in _AMBIGUOUS:
        return ""
    return (
        " S’il s’agit de la Mission locale de rattachement, nommez la colonne « Mission locale de "
        "rattachement »\u202f; s’il s’agit du nom de la structure, nommez-la « nom »."
    )


def require_structure_columns(table: Table) -> None:
    """Refuse a structures file without type, nom and a place."""
    present = {c for c in table.columns if c}
    missing = [c for c in ("type", "nom") if c not in present]
    if not any(all(c in present for c in group) for group in PLACE_SETS):
        missing.append("un lieu (latitude + longitude, x + y, code_insee, code_postal, commune ou adresse)")
    if missing:
        read = ", ".join(h.strip() for h in table.headers if h.strip())[:200] or "aucune"
        raise FileProblem(
            f"Colonnes obligatoires absentes : {', '.join(missing)}. Colonnes lues : {read}. "
            "Noms acceptés : type ; nom (ou name) ; adresse, code_postal (ou cp), commune (ou ville), "
            "code_insee, latitude/longitude ou x/y (Lambert-93), ou une adresse complète "
            "(« 12 rue de l’Hôtel de Ville, 63200 Riom »)."
        )
