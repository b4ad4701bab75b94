"""`locator build`: reference geography, seed structures, coverage list → store; idempotent."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from pathlib import Path

from .. import config, territories, wording
from ..store import communes as store_communes
from ..store import db as store_db
from ..store import schema
from ..store import structures as store_structures
from . import reference
from .importer import import_file
from .pipeline import Options


def load_seed(db, seed_path: str | Path, far_km: float = 2.0) -> dict:
    """Run every row of the seed file through the import pipeline (offline geocoding), in one transaction.

    Rule for re-runs: the seed creates the rows it does not find and updates only rows whose last
    change came from the seed itself (origine "seed"); a row changed since by an import or by hand,
    or deleted by an administrator, is left as it is. Dates are the vintage of each row's source.
    """
    options = Options(origine="seed", seed_only=True, date_maj=None, far_km=far_km)
    return import_file(db, Path(seed_path), options=options, record=False)


def load_coverage(db, coverage_path: str | Path, region: str, far_km: float = 2.0) -> dict:
    """Import the Missions locales network's coverage file like `locator import` (one transaction),
    without history; territories are left to the caller.

    Rule for re-runs, as for the seed: a Mission locale's list changed since by an import or the admin
    form is left as it is; Missions locales of other régions the file names are created once (origine
    "seed"), and not re-created when an administrator deleted them.
    """
    options = Options(origine="seed", seed_only=True, date_maj=None, far_km=far_km, region=region)
    return import_file(db, Path(coverage_path), options=options, record=False, region=region)


def build(
    db_path: str | Path,
    seed_path: str | Path | None,
    say: Callable[[str], None] = print,
    departements: Collection[str] | None = None,
    coverage_path: str | Path | None = None,
) -> dict:
    """Create or refresh the store (only these départements' communes if given); return what was done.

    `coverage_path`: the network's coverage list to import after the structures (None or "": none).
    """
    started = time.perf_counter()
    report: dict = {"communes": None, "structures": None, "couverture": None}
    target = Path(db_path)
    # A new store is built aside and put in place once complete: a build stopped halfway (Ctrl-C on
    # the first `make run`) leaves no half-built store that the next run would serve as it is.
    # An existing store is refreshed in place: it holds the admins' work.
    fresh = not target.exists() or target.stat().st_size == 0
    work = target.with_name(f"{target.name}.en-construction") if fresh else target
    if fresh:
        for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            leftover.unlink(missing_ok=True)  # a previous build stopped halfway
    with store_db.writer(work) as db:
        schema.create(db)
        wanted = reference.checksum(departements)
        if store_communes.reference_checksum(db) == wanted:
            say("Géographie de référence : déjà à jour.")
        else:
            ref = reference.load(departements)
            with db.atomic():
                store_communes.replace_reference(db, ref)
            report["communes"] = len(ref.communes)
            say(f"Géographie de référence : {len(ref.communes)} communes et arrondissements chargés.")
        if seed_path and Path(seed_path).is_file():
            result = load_seed(db, seed_path)
            report["structures"] = result
            say(
                f"Structures : {result['lus']} lues, {result['crees']} créées, "
                f"{result['mis_a_jour']} mises à jour, {len(result['rejetes'])} rejetées."
            )
            for item in result["rejetes"]:
                say(f"  ligne {item['ligne']} rejetée : {' ; '.join(item['erreurs'])}")
            for item in result["avertissements"]:
                if item["ligne"] is not None:
                    say(f"  ligne {item['ligne']} : {' ; '.join(item['messages'])}")
        else:
            say(
                f"Fichier des structures introuvable ({seed_path}) : seule la géographie de "
                "référence est construite. « locator fetch annuaire » remplit l’annuaire depuis "
                "la source officielle."
            )
        has_missions = store_structures.located_counts(db.conn).get("mission_locale", 0) > 0
        if coverage_path and Path(coverage_path).is_file() and not has_missions:
            say(
                "Liste des communes couvertes non importée : l’annuaire ne compte aucune Mission locale "
                "à qui rattacher ses communes. « locator fetch annuaire » puis « locator fetch couverture »."
            )
        elif coverage_path and Path(coverage_path).is_file():
            region = str(config.load()["REGION"])
            result = load_coverage(db, coverage_path, region)
            report["couverture"] = result
            if result.get("erreur"):
                say(f"Communes couvertes : fichier {coverage_path} non importé : {result['erreur']}")
            else:
                say(
                    f"Communes couvertes : {result['lus']} lignes lues, {result['importes']} communes "
                    f"rattachées à {len(result['missions_locales'])} Missions locales (dont "
                    f"{len(result['structures_creees'])} créées, d’une autre région), "
                    f"{wording.count(len(result['rejetes']), 'rejetée')}."
                )
            for item in result.get("rejetes", []):
                say(f"  ligne {item['ligne']} rejetée : {' ; '.join(item['erreurs'])}")
            for item in result.get("avertissements", []):
                if item["ligne"] is None:
                    say(f"  {' ; '.join(item['messages'])}")
        elif coverage_path:
            say(
                f"Liste des communes couvertes introuvable ({coverage_path}) : chaque commune aura sa "
                "Mission locale probable (déduite). « locator fetch couverture » importe la liste officielle."
            )
        with db.atomic():
            done = territories.refresh(db)
        report["territoires"] = done
        say(
            f"Territoires : {done['communes']} communes de la région, {done['territoires']} Missions "
            f"locales, {wording.count(done['sans_reponse'], 'commune sans réponse', 'communes sans réponse')}"
            f" ({done['secondes']} s)."
        )
        store_db.finish_build(db)
    if fresh:  # closed, its WAL folded in: the one file is the whole store
        os.replace(work, target)
    report["secondes"] = round(time.perf_counter() - started, 1)
    return report
