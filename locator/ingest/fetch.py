"""Downloading the official annuaire: streamed to a temporary file, checked, then put in place.

The last good copy stays until a new download is complete and valid: a broken or truncated answer
never replaces it (the temporary file is removed), so there is never a half file to import.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from . import annuaire
from .limits import Limits
from .table import FileProblem

CHUNK = 1 << 16
FILENAME = "annuaire.json"


class FetchError(RuntimeError):
    """The download failed or gave an unusable file; the message says why, in French."""


def _check(path: Path, limits: Limits | None = None) -> int:
    """Parse the whole file (streamed, within the limits); return its record count, or raise FetchError."""
    try:
        count = sum(1 for _ in annuaire.records(path, limits))
    except FileProblem as err:
        raise FetchError(f"fichier téléchargé inutilisable : {err}") from None
    if count == 0:
        raise FetchError("fichier téléchargé vide : aucun organisme")
    return count


def download(
    url: str, dest_dir: str | Path, timeout: float, max_bytes: int, limits: Limits | None = None
) -> tuple[Path, int]:
    """Download `url` into dest_dir/annuaire.json (replaced only by a complete, valid file).

    Returns (path, records). Raises FetchError, leaving any previous copy untouched.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / FILENAME
    part = dest_dir / (FILENAME + ".part")
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"adresse refusée (http ou https seulement) : {url[:80]}")
    headers = {"User-Agent": "locator", "Accept": "application/json"}
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
        count = _check(part, limits)
        os.replace(part, final)
        return final, count
    except urllib.error.HTTPError as err:
        raise FetchError(f"le serveur a répondu {err.code} ({err.reason})") from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        raise FetchError(f"téléchargement impossible ({reason})") from None
    finally:
        part.unlink(missing_ok=True)
