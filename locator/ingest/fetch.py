"""Downloading official files (the DILA annuaire, the Missions locales' coverage file): streamed to a
temporary file, checked, then put in place.

The last good copy stays until a new download is complete and valid: a broken or truncated answer
never replaces it (the temporary file is removed), so there is never a half file to import.
"""

from __future__ import annotations

import csv
import http.client
import io
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from .. import wording
from . import annuaire
from .limits import Limits
from .table import FileProblem, Table, open_table

CHUNK = 1 << 16
FILENAME = "annuaire.json"
COVERAGE_FILENAME = "couverture.csv"


class FetchError(RuntimeError):
    """The download failed or gave an unusable file; the message says why, in French."""


def _check(path: Path, limits: Limits | None = None) -> int:
    """Parse the whole file (streamed, within the limits); return its record count, or raise FetchError."""
    try:
        count = sum(1 for _ in annuaire.records(path, limits))
    except FileProblem as err:
        raise FetchError(f"fichier téléchargé inutilisable : {err}") from None
    if count == 0:
        raise FetchError("fichier téléchargé vide : aucun organisme")
    return count


def download(
    url: str, dest_dir: str | Path, timeout: float, max_bytes: int, limits: Limits | None = None
) -> tuple[Path, int]:
    """Download the annuaire `url` into dest_dir/annuaire.json (replaced only by a complete, valid file).

    Returns (path, records). Raises FetchError, leaving any previous copy untouched.
    """
    path, count = fetch_file(
        url, Path(dest_dir) / FILENAME, timeout, max_bytes, lambda p: _check(p, limits), "application/json"
    )
    return path, count


def coverage_checker(
    region_codes: Collection[str],
    other_codes: Collection[str],
    region: str,
    min_communes: int,
    max_bytes: int,
    limits: Limits | None = None,
) -> Callable[[Path], dict[str, Any]]:
    """Return the check of a downloaded coverage file: the coverage header, at least `min_communes`
    communes, some of the home région (`region_codes`). It returns {"communes", "communes_region",
    "lignes_autres_regions"} and, under "donnees", the file without the lines about communes of other
    régions (`other_codes`): the network's file covers all of France, this directory one région."""

    def check(path: Path) -> dict[str, Any]:
        try:
            table = open_table(path, max_bytes, limits)
            if table.genre != "couverture":
                raise FetchError(
                    "fichier téléchargé inutilisable : ce n’est pas une liste de communes couvertes "
                    "(colonnes attendues : Code INSEE;Nom Commune;Code ML;Nom Officiel ML;…)"
                )
            codes = {(raw.get("code_insee") or "").strip() for _, raw in table.rows()} - {""}
            if len(codes) < min_communes:
                raise FetchError(
                    f"fichier téléchargé tronqué ou incomplet : {wording.count(len(codes), 'commune')}"
                    f", il en faut au "
                    f"moins {min_communes}"
                )
            home = len(codes & set(region_codes))
            if home == 0:
                raise FetchError(f"fichier téléchargé sans aucune commune de la région {region}")
            data, left_out = _without_other_regions(path, table, set(other_codes))
        except FileProblem as err:
            raise FetchError(f"fichier téléchargé inutilisable : {err}") from None
        return {
            "communes": len(codes),
            "communes_region": home,
            "lignes_autres_regions": left_out,
            "donnees": data,
        }

    return check


def _without_other_regions(path: Path, table: Table, other_codes: set[str]) -> tuple[bytes, int]:
    """Return the file (UTF-8 with BOM) without its lines about communes of other régions, and how many
    lines were left out; lines with an unknown code stay, for the importer to report."""
    column = table.columns.index("code_insee")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=table.delimiter, lineterminator="\r\n")
    left_out = 0
    try:
        with open(path, encoding=table.encoding, errors=table.errors, newline="") as f:
            reader = csv.reader(f, delimiter=table.delimiter)
            writer.writerow(next(reader, table.headers))
            for row in reader:
                if len(row) > column and row[column].strip() in other_codes:
                    left_out += 1
                    continue
                writer.writerow(row)
    except csv.Error as err:
        raise FileProblem(f"ligne {reader.line_num} illisible ({err})") from None
    return ("\ufeff" + out.getvalue()).encode("utf-8"), left_out


def fetch_file(
    url: str,
    final: Path,
    timeout: float,
    max_bytes: int,
    check: Callable[[Path], Any],
    accept: str = "*/*",
) -> tuple[Path, Any]:
    """Download `url` to `final` (replaced only by a complete file that `check` accepts).

    Returns (path, what check returned). Raises FetchError, leaving any previous copy untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"adresse refusée (http ou https seulement) : {url[:80]}")
    headers = {"User-Agent": "locator", "Accept": accept}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer, open(part, "wb") as f:  # noqa: S310
            expected = answer.headers.get("Content-Length")
            size = 0
            while chunk := answer.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"fichier trop gros (plus de {max_bytes / 1e6:.0f} Mo)")
                f.write(chunk)
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise FetchError(f"téléchargement incomplet ({size} octets reçus sur {expected})")
            f.flush()
            os.fsync(f.fileno())
        result = check(part)
        os.replace(part, final)
        return final, result
    except urllib.error.HTTPError as err:
        raise FetchError(f"le serveur a répondu {err.code} ({err.reason})") from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"téléchargement impossible ({reason})") from None
    finally:
        part.unlink(missing_ok=True)
