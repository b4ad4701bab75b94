"""The `locator` command: thin click wrappers over importable functions."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import click

from . import clifrench, config


def _count(n: int, singular: str, plural: str) -> str:
    """« 0 ligne lue », « 1 ligne lue », « 3 lignes lues »: French takes the singular below 2."""
    return f"{n} {singular if abs(n) < 2 else plural}"


def db_option(f):
    """Add --db (default $LOCATOR_DB, else instance/locator.sqlite) to a command."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: config.load()["DB"],
        show_default="instance/locator.sqlite ou $LOCATOR_DB",
        help="Fichier de données (SQLite).",
    )(f)


class _Group(click.Group):
    """Commands say in French when another write holds the store (exit 1), never a traceback."""

    def main(self, *args, **kwargs):
        """Run the command line, click's own messages in French."""
        clifrench.activate()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        from .store.db import StoreBusy

        try:
            return super().invoke(ctx)
        except StoreBusy as err:
            click.echo(f"Erreur : {err} Rien n’a changé.", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="locator", help="Afficher la version et quitter.")
def main() -> None:
    """Annuaire et localisateur des acteurs de la lutte contre le décrochage scolaire."""


@main.command()
@db_option
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: config.load()["SEED"],
    show_default="../shared/data/aura_structures.csv ou $LOCATOR_SEED",
    help="Fichier CSV des structures à charger.",
)
@click.option(
    "--couverture",
    default=lambda: config.load()["COUVERTURE"],
    show_default="../shared/data/zones_de_couverture_janvier_2026_auvergne_rhone_alpes.csv "
    "ou $LOCATOR_COUVERTURE",
    help="Liste des communes couvertes par chaque Mission locale (réseau des Missions locales) ; "
    "'' : aucune.",
)
@click.option("--json", "as_json", is_flag=True, help="Afficher le compte rendu en JSON.")
def build(db_path: Path, seed: Path, couverture: str, as_json: bool) -> None:
    """Construire (ou mettre à jour) le fichier de données : communes de France, structures, communes
    couvertes par chaque Mission locale."""
    from .ingest.build import build as run_build

    report = run_build(
        db_path,
        seed,
        say=(lambda _m: None) if as_json else click.echo,
        coverage_path=couverture.strip() or None,
    )
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        click.echo(f"Terminé en {report['secondes']} s : {db_path}")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d’écoute.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Processus (défaut : réglage WORKERS)."
)
@click.option("--threads", type=click.IntRange(1, 64), default=None, help="Fils par processus.")
def serve(db_path: Path, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Servir le site et l'API avec gunicorn."""
    from . import territories
    from .app import create_app
    from .store.db import check
    from .web import maps
    from .web.server import serve as run_server

    problem = check(db_path)
    if problem:
        click.echo(f"Erreur : {problem}", err=True)
        sys.exit(1)
    try:  # the maps' skeletons, written by `make install`: a site without them has no map
        maps.manifest()
    except maps.MapsNotBuilt as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    # A store of the previous version gets its new columns, and its territories, before the workers start.
    territories.migrate(db_path)
    app = create_app({"DB": str(db_path)})
    if host not in ("127.0.0.1", "localhost", "::1") and app.config["TRUSTED_HOSTS"] == [
        "localhost",
        "127.0.0.1",
    ]:
        click.echo(
            "Attention : le site ne répond qu’aux noms localhost et 127.0.0.1 ; donnez son nom dans "
            "LOCATOR_TRUSTED_HOSTS (par exemple « annuaire.exemple.fr »).",
            err=True,
        )
    try:  # before the workers fork, so that they never race to create it
        _prepare_accounts(db_path, app.config["AUTH_DB"])
    except (OSError, sqlite3.Error) as err:  # a read-only deployment: the public site still serves
        click.echo(f"Attention : fichier des comptes {app.config['AUTH_DB']} inutilisable ({err}).", err=True)
    _warm(db_path, app.config["REGION"])
    run_server(
        app,
        host,
        port,
        workers or int(app.config["WORKERS"]),
        threads or int(app.config["THREADS"]),
    )


def _warm(db_path: Path, region: str) -> None:
    """Build the name index before the workers fork: they share it."""
    from .places.resolve import warm
    from .store.db import connect

    conn = connect(db_path)
    try:
        warm(conn, region)
    finally:
        conn.close()


def _accounts_file(db_path: Path) -> Path:
    """Return the accounts file of a store (setting AUTH_DB, else beside the store), ready to use."""
    from .store import authdb

    path = authdb.location(db_path, config.load()["AUTH_DB"])
    _prepare_accounts(db_path, path)
    return path


def _prepare_accounts(db_path: Path, path: str | Path) -> None:
    """Create the accounts file when absent, with the accounts an older store kept (moved once)."""
    from .store import authdb

    authdb.prepare(path, db_path)


def _open_store(db_path: Path):
    """Return a writer on a built store, or exit 1 saying why not."""
    from .store import schema
    from .store.db import check, writer

    problem = check(db_path)
    if problem:
        click.echo(f"Erreur : {problem}", err=True)
        sys.exit(1)
    db = writer(db_path)
    schema.create(db)  # a store built by an older version gets the new tables
    return db


def _store_error(name: str, err: Exception) -> dict:
    """Return the report of an import the store refused (the transaction was rolled back)."""
    from .store.db import explain

    return {
        "fichier": name,
        "lus": 0,
        "erreur": f"le fichier de données n’a pas pu être écrit : {explain(err)} Rien n’a changé.",
    }


def _finish(report: dict, as_json: bool, dry_run: bool) -> None:
    """Print the report (JSON or plain French) and exit 1 when nothing was imported."""
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _say_report(report, dry_run)
    sys.exit(1 if report.get("erreur") else 0)


def _duplicates_said(n: int) -> str:
    """The end of the report's first line for its probable duplicates (none: nothing)."""
    if not n:
        return ""
    return f", {n} doublon probable non importé" if n == 1 else f", {n} doublons probables non importés"


def _say_report(report: dict, dry_run: bool) -> None:
    """Print an import report in plain French: totals, then every rejected row and warning."""
    if report.get("erreur") and not report.get("lus"):
        click.echo(f"Erreur : {report['erreur']}", err=True)
        return
    click.echo(
        f"{report['fichier']} : "
        + _count(report["lus"], "ligne lue", "lignes lues")
        + " ; "
        + ", ".join(
            [
                _count(report["crees"], "créée", "créées"),
                _count(report["mis_a_jour"], "mise à jour", "mises à jour"),
                _count(report["inchanges"], "inchangée", "inchangées"),
                _count(len(report["rejetes"]), "rejetée", "rejetées"),
            ]
        )
        + (", " + _count(report["vides"], "vide ignorée", "vides ignorées") if report["vides"] else "")
        + _duplicates_said(report.get("doublons", 0))
    )
    for item in report["rejetes"]:
        click.echo(f"  ligne {item['ligne']} rejetée : {' ; '.join(item['erreurs'])}")
    for item in report.get("doublons_probables", []):
        click.echo(f"  ligne {item['ligne']}\u202f: {item['message']}")
    updated = "à mettre à jour" if dry_run else "mise à jour"
    for item in report.get("changements", []):
        fields = " ; ".join(
            f"{c['champ']} « {c['avant'] or ''} » → « {c['apres'] or ''} »" for c in item["champs"]
        )
        click.echo(f"  ligne {item['ligne']} {updated} ({item['id']})\u202f: {fields}")
    for item in report["avertissements"]:
        where = f"ligne {item['ligne']}" if item["ligne"] is not None else "fichier"
        click.echo(f"  {where} : {' ; '.join(item['messages'])}")
    if report.get("erreur"):
        click.echo(f"Erreur : {report['erreur']} Le fichier de données n’a pas changé.", err=True)
    elif dry_run:
        one = report["importes"] < 2
        said = "ligne serait importée" if one else "lignes seraient importées"
        click.echo(f"Essai à blanc : rien n’a été écrit ({report['importes']} {said}).")
    elif report.get("aucun_changement"):
        click.echo(
            "Aucun changement : les données sont déjà à jour ; aucun import n’est ajouté à l’historique."
        )
    else:
        click.echo(f"Import n° {report.get('import_id')} enregistré.")


@main.command("import")
@db_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien écrire.")
@click.option("--json", "as_json", is_flag=True, help="Afficher le compte rendu en JSON.")
@click.option(
    "--geocoder",
    type=click.Choice(["offline", "ban"]),
    default=lambda: config.load()["GEOCODER"],
    show_default="offline ou $LOCATOR_GEOCODER",
    help="Géocodage des lignes sans coordonnées : centre de la commune, ou Base adresse nationale.",
)
@click.option(
    "--auteur",
    default=None,
    help="Qui importe (gardé dans l’historique).",
    show_default="l’utilisateur du système + « (ligne de commande) »",
)
@click.option("--brouillon", is_flag=True, help="Créer les nouvelles structures en brouillon (non publiées).")
@click.option(
    "--hors-region",
    is_flag=True,
    help="Garder (avec un avertissement) les lignes dont la commune est hors de la région (réglage REGION).",
)
def import_(
    db_path: Path, file: Path, dry_run: bool, as_json: bool, geocoder: str, auteur, brouillon, hors_region
) -> None:
    """Importer un fichier : CSV de structures, liste de communes couvertes, ou annuaire DILA (JSON).

    Code de sortie : 0 importé (lignes en erreur listées et ignorées) ; 1 rien importé (fichier
    illisible, colonnes obligatoires absentes, aucune ligne valide), données inchangées ; 2 usage.
    """
    from .ingest import geocoders
    from .ingest.importer import import_file
    from .ingest.limits import Limits

    settings = config.load()
    if not file.is_file():  # a usage error, like any wrong argument: exit 2
        report = {"fichier": str(file), "erreur": f"fichier introuvable : {file}", "lus": 0}
        click.echo(json.dumps(report, ensure_ascii=False) if as_json else f"Erreur : {report['erreur']}")
        sys.exit(2)
    try:
        with _open_store(db_path) as db:
            options = {
                "statut": "brouillon" if brouillon else "publie",
                "max_bytes": int(settings["IMPORT_MAX_BYTES"]),
                "far_km": float(settings["FAR_FROM_COMMUNE_KM"]),
                "limits": Limits.from_settings(settings),
                "region": str(settings["REGION"]),
                "hors_region": hors_region,
                "hors_region_conseil": "si elle est voulue, importez de nouveau avec l’option --hors-region",
            }
            report = import_file(
                db,
                file,
                file.name,
                geocoders.make(geocoder, settings),
                options,
                dry_run=dry_run,
                auteur=auteur or _command_line_author(),
                region=str(settings["REGION"]),
            )
    except sqlite3.OperationalError as err:  # locked by another writer, disk full...
        report = _store_error(file.name, err)
    _finish(report, as_json, dry_run)


def _command_line_author() -> str:
    """Who runs the command, as the history shows it: the system user, "(ligne de commande)"."""
    import getpass

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in the password database
        user = "utilisateur inconnu"
    return f"{user} (ligne de commande)"


@main.command()
@db_option
@click.argument("import_id", type=click.IntRange(min=1), metavar="IMPORT_ID")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Afficher le compte rendu en JSON.")
@click.option(
    "--avec-dependances",
    is_flag=True,
    help="Annuler aussi les changements faits depuis qui dépendent de l’import (sinon : refus).",
)
@click.option("--auteur", default=None, help="Qui annule (gardé dans l’historique).")
def undo(db_path: Path, import_id: int, yes: bool, as_json: bool, avec_dependances: bool, auteur) -> None:
    """Annuler l'import IMPORT_ID comme la page d'administration : chaque fiche revient à son état d'avant.

    Code de sortie : 0 annulé ; 1 refusé ou impossible (import inconnu, déjà annulé, changements faits
    depuis : listés), données inchangées ; 2 usage.
    """
    from .admin.accounts import now_iso
    from .store import history, imports
    from .web.admin.history import paris_time  # « 04/12/2026 à 15:53 », as the admin pages say it

    out: dict = {"import_id": import_id, "annule": False}

    def fail(message: str, **extra) -> None:
        out.update(erreur=message, **extra)
        click.echo(json.dumps(out, ensure_ascii=False) if as_json else f"Erreur : {message}", err=not as_json)
        sys.exit(1)

    try:
        db = _open_store(db_path)
        try:
            record = imports.get(db.conn, import_id)
            if record is None:
                fail(f"import n° {import_id} inconnu (voir /admin/historique).")
            if record["annule_le"]:
                fail(f"l’import n° {import_id} a déjà été annulé le {paris_time(record['annule_le'])}.")
            blocked = history.undo_blockers(db.conn, import_id)
            if blocked and not avec_dependances:
                fail(
                    f"{blocked} Rien n’a changé. Pour les annuler aussi : --avec-dependances.",
                    bloquants=_blockers_json(blocked),
                )
            if not yes:
                when = paris_time(record["quand"])
                clifrench.confirm(
                    f"Annuler l’import n° {import_id} ({record['fichier']}, le {when}, "
                    + _count(record["crees"], "fiche créée", "fiches créées")
                    + ", "
                    + _count(record["mis_a_jour"], "mise à jour", "mises à jour")
                    + ")"
                    + (" et les changements faits depuis qui en dépendent" if blocked else "")
                    + "\u202f?",
                    abort=True,
                    err=True,
                )
            count = history.undo_import(
                db, import_id, auteur or _command_line_author(), now_iso(), with_dependants=avec_dependances
            )
        finally:
            db.close()
    except history.UndoBlocked as err:  # later work arrived between the check and the undo
        fail(f"{err} Rien n’a changé.", bloquants=_blockers_json(err))
    except ValueError as err:
        fail(str(err))
    except sqlite3.OperationalError as err:
        from .store.db import explain

        fail(f"le fichier de données n’a pas pu être écrit : {explain(err)} Rien n’a changé.")
    out.update(annule=True, fiches=count)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        fiches = _count(count, "fiche remise", "fiches remises")
        click.echo(f"Import n° {import_id} annulé : {fiches} dans leur état précédent.")


def _blockers_json(blocked) -> dict:
    """The later work that blocks an undo, as JSON: edited structures, coverage, antennes."""
    return {
        "structures_modifiees": [{"id": i, "nom": n} for i, n in blocked.edited],
        "communes_couvertes": blocked.coverage,
        "antennes": [{"id": i, "nom": n, "parent_id": p} for i, n, p in blocked.antennes],
    }


@main.command()
@db_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--avec-comptes",
    is_flag=True,
    help="Inclure les comptes (adresse, rôle, empreinte du mot de passe ; ni sessions ni tentatives).",
)
def backup(db_path: Path, target: Path, avec_comptes: bool) -> None:
    """Sauvegarder le fichier de données dans TARGET (possible pendant que le site sert).

    Sans --avec-comptes, la sauvegarde ne contient aucun compte : ils sont dans leur propre fichier
    (réglage AUTH_DB). Le fichier écrit n'est lisible que par son propriétaire.
    """
    from .store.backup import BackupError
    from .store.backup import backup as run_backup

    try:
        size = run_backup(db_path, target, _accounts_file(db_path) if avec_comptes else None)
    except BackupError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    said = " avec les comptes" if avec_comptes else " (sans les comptes)"
    click.echo(f"Sauvegarde écrite{said} : {target} ({size / 1e6:.1f} Mo)")


@main.command()
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "geojson", "data-inclusion", "gpkg"]), required=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier (défaut : sortie standard ; obligatoire pour gpkg).",
)
@click.option(
    "--tous", is_flag=True, help="Inclure les brouillons et les archives (défaut : structures publiées)."
)
def export(db_path: Path, fmt: str, output: Path | None, tous: bool) -> None:
    """Exporter l'annuaire : CSV (Excel), GeoJSON, structures data·inclusion ou GeoPackage."""
    import io

    from .publish import exports
    from .store.db import check, connect

    problem = check(db_path)
    if problem:
        click.echo(f"Erreur : {problem}", err=True)
        sys.exit(1)
    if fmt == "gpkg":
        _export_gpkg(db_path, output, tous)
        return
    settings = config.load()
    conn = connect(db_path)
    tmp = output.with_name(output.name + ".part") if output else None
    try:
        stream = (
            open(tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
            if tmp
            else io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
        )
        problems: list[str] = []
        try:
            if fmt == "csv":
                n = exports.write_csv(conn, stream, tous)
            elif fmt == "geojson":
                n = exports.write_geojson(conn, stream, settings["ATTRIBUTION"], settings["LICENCE"], tous)
            else:
                n, problems = exports.write_data_inclusion(conn, stream, all_statuses=tous)
        finally:
            stream.flush()
            if tmp:
                stream.close()
            else:
                stream.detach()
        if tmp:
            os.replace(tmp, output)
    finally:
        conn.close()
        if tmp and tmp.exists():
            tmp.unlink()
    for p in problems:
        click.echo(f"Non exportée (refusée par le schéma data·inclusion) : {p}", err=True)
    said = _count(n, "structure exportée", "structures exportées")
    click.echo(said + (f" dans {output}" if output else "") + ".", err=True)


def _export_gpkg(db_path: Path, output: Path | None, tous: bool) -> None:
    """Write the GeoPackage export (layers structures and territoires) to `output`, whole or not at all."""
    from .publish import exports

    if output is None:
        click.echo(
            "Erreur : un GeoPackage s’écrit dans un fichier : ajoutez --output FICHIER.gpkg.", err=True
        )
        sys.exit(2)
    tmp = output.with_name(f".{output.stem}.part.gpkg")  # GDAL wants the .gpkg extension
    tmp.unlink(missing_ok=True)
    try:
        counts = exports.write_gpkg(str(db_path), str(tmp), all_statuses=tous)
        os.replace(tmp, output)
    except OSError as err:
        click.echo(
            f"Erreur : impossible d’écrire {output} ({err.strerror or err}) ; rien n’a été écrit.", err=True
        )
        sys.exit(1)
    finally:
        tmp.unlink(missing_ok=True)
    said = f"{counts['structures']} structure(s) et {counts['territoires']} territoire(s)"
    click.echo(f"{said} exportés dans {output}.", err=True)


@main.command("carte")
@db_option
@click.option("--departement", default=None, help="Code du département (défaut : toute la région).")
@click.option("--types", default=None, help="Types de structures, séparés par des virgules (défaut : tous).")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Fichier HTML."
)
def carte(db_path: Path, departement: str | None, types: str | None, output: Path) -> None:
    """Écrire une carte à emporter : un fichier HTML qui s'ouvre sans serveur ni connexion."""
    from .geo import codes
    from .maps import skeletons
    from .store.db import check, connect
    from .store.schema import STRUCTURE_TYPES
    from .web import maps, standalone

    problem = check(db_path)
    if problem:
        click.echo(f"Erreur : {problem}", err=True)
        sys.exit(1)
    wanted = [t.strip() for t in (types or "").split(",") if t.strip()]
    unknown = [t for t in wanted if t not in STRUCTURE_TYPES]
    if unknown:
        click.echo(
            f"Erreur : {'type inconnu' if len(unknown) == 1 else 'types inconnus'} : {', '.join(unknown)} ; "
            f"choisir parmi {', '.join(STRUCTURE_TYPES)}.",
            err=True,
        )
        sys.exit(2)
    dep = codes.normalize_departement(departement.strip()) if departement else None
    if departement and not dep:
        click.echo(f"Erreur : « {departement[:10]} » n’est pas un code de département.", err=True)
        sys.exit(2)
    settings = config.load()
    conn = connect(db_path)
    try:
        html = standalone.page(
            conn,
            skeletons.standalone_skeleton(),  # folium's page, rendered now (no data in it)
            maps.tiles_data(maps.tile_layer(settings)),
            settings["REGION"],
            dep,
            wanted or None,
        )
    except ValueError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    finally:
        conn.close()
    tmp = output.with_name(output.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, output)
    click.echo(f"Carte écrite dans {output} ({len(html.encode('utf-8')) // 1024} Ko).", err=True)


def _fetch_options(url_setting: str, dir_setting: str) -> Callable[[Callable], Callable]:
    """The options every `locator fetch` command takes: --db, --url, --dir, --dry-run, --json."""

    def decorate(command: Callable) -> Callable:
        for option in reversed(
            [
                db_option,
                click.option(
                    "--url", default=lambda: config.load()[url_setting], show_default=f"réglage {url_setting}"
                ),
                click.option(
                    "--dir",
                    "dest_dir",
                    type=click.Path(file_okay=False, path_type=Path),
                    default=None,
                    help=f"Dossier de la copie (défaut : réglage {dir_setting}).",
                ),
                click.option(
                    "--dry-run",
                    is_flag=True,
                    help="Télécharger et vérifier, sans rien écrire dans les données.",
                ),
                click.option("--json", "as_json", is_flag=True, help="Afficher le compte rendu en JSON."),
            ]
        ):
            command = option(command)
        return command

    return decorate


@main.group()
def fetch() -> None:
    """Télécharger des données officielles."""


@fetch.command("annuaire")
@_fetch_options("ANNUAIRE_URL", "ANNUAIRE_DIR")
def fetch_annuaire(db_path: Path, url: str, dest_dir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Télécharger l'Annuaire de l'administration (DILA) et importer ses Missions locales et CIO."""
    from .ingest.fetch import FetchError, download
    from .ingest.importer import import_file
    from .ingest.limits import Limits

    settings = config.load()
    dest = dest_dir or Path(settings["ANNUAIRE_DIR"])
    try:
        path, count = download(
            url,
            dest,
            float(settings["ANNUAIRE_TIMEOUT"]),
            int(settings["ANNUAIRE_MAX_BYTES"]),
            Limits.from_settings(settings),
        )
    except FetchError as err:
        kept = dest / "annuaire.json"
        note = f" La dernière copie valide est gardée : {kept}." if kept.exists() else ""
        click.echo(f"Erreur : {err}.{note}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(f"Téléchargé : {path} ({count} organismes).")
    try:
        with _open_store(db_path) as db:
            report = import_file(
                db,
                path,
                "annuaire.json",
                options={
                    "max_bytes": int(settings["ANNUAIRE_MAX_BYTES"]),
                    "far_km": float(settings["FAR_FROM_COMMUNE_KM"]),
                    "limits": Limits.from_settings(settings),
                },
                dry_run=dry_run,
                auteur="locator fetch annuaire",
                region=str(settings["REGION"]),
            )
    except sqlite3.OperationalError as err:
        report = _store_error("annuaire.json", err)
    _finish(report, as_json, dry_run)


@fetch.command("couverture")
@_fetch_options("COUVERTURE_URL", "COUVERTURE_DIR")
def fetch_couverture(db_path: Path, url: str, dest_dir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Télécharger la liste des communes couvertes par chaque Mission locale (réseau des Missions
    locales), l'importer en une transaction et recalculer les territoires."""
    from .ingest.coverage import date_in_name
    from .ingest.fetch import COVERAGE_FILENAME, FetchError, coverage_checker, fetch_file
    from .ingest.importer import import_file
    from .ingest.limits import Limits
    from .store import territories as store_territories

    settings = config.load()
    region = str(settings["REGION"])
    dest = dest_dir or Path(settings["COUVERTURE_DIR"])
    max_bytes = int(settings["COUVERTURE_MAX_BYTES"])
    limits = Limits.from_settings(settings)
    db = _open_store(db_path)
    try:
        home = {c["code"] for c in store_territories.region_communes(db.conn, region)}
        others = store_territories.other_region_codes(db.conn, region)
        check = coverage_checker(
            home, others, region, int(settings["COUVERTURE_MIN_COMMUNES"]), max_bytes, limits
        )
        try:
            path, found = fetch_file(
                url,
                dest / COVERAGE_FILENAME,
                float(settings["ANNUAIRE_TIMEOUT"]),
                max_bytes,
                check,
                "text/csv",
            )
        except FetchError as err:
            kept = dest / COVERAGE_FILENAME
            note = f" La dernière copie valide est gardée : {kept}." if kept.exists() else ""
            click.echo(f"Erreur : {err}.{note}", err=True)
            sys.exit(1)
        if not as_json:
            click.echo(
                f"Téléchargé : {path} ({found['communes']} communes, dont {found['communes_region']} "
                f"de la région {region} ; {found['lignes_autres_regions']} lignes d’autres régions "
                "laissées de côté)."
            )
        try:
            report = import_file(
                db,
                found.pop("donnees"),  # the région's lines: other régions' would be rejected one by one
                COVERAGE_FILENAME,
                # The list's date is in its published name (« …_janvier_2026.csv »), not in our copy's.
                options={"max_bytes": max_bytes, "limits": limits, "date_maj": date_in_name(url) or "today"},
                dry_run=dry_run,
                auteur="locator fetch couverture",
                region=region,
            )
        except sqlite3.OperationalError as err:
            report = _store_error(COVERAGE_FILENAME, err)
    finally:
        db.close()
    report["telechargement"] = found
    _finish(report, as_json, dry_run)


@main.command()
@db_option
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@click.option(
    "--avec-comptes",
    is_flag=True,
    help="Remplacer aussi les comptes par ceux de la sauvegarde (toutes les sessions se ferment).",
)
def restore(db_path: Path, source: Path, yes: bool, avec_comptes: bool) -> None:
    """Remplacer le contenu du fichier de données par la sauvegarde SOURCE.

    Seule une sauvegarde faite par locator est acceptée : chaque table, index et déclencheur doit être
    exactement le sien. Les comptes, sessions et blocages de connexion actuels restent, sauf
    --avec-comptes. Les imports en attente de confirmation sont oubliés.
    """
    from .store.backup import BackupError
    from .store.backup import restore as run_restore

    if not yes:
        what = " et tous les comptes" if avec_comptes else ""
        clifrench.confirm(f"Remplacer tout le contenu de {db_path}{what} par {source}\u202f?", abort=True)
    from . import territories
    from .store import authdb

    accounts = authdb.location(db_path, config.load()["AUTH_DB"])
    try:
        run_restore(source, db_path, accounts, with_accounts=avec_comptes)
    except BackupError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    territories.migrate(db_path)  # a backup of schema 4 has no territories yet
    said = " (comptes inchangés)"
    if avec_comptes:
        said = " ; comptes remplacés, toutes les sessions sont fermées"
    click.echo(f"Restauré depuis {source}{said}.")


@main.group()
def user() -> None:
    """Gérer les comptes de l'espace d'administration."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt(
        "Mot de passe",
        hide_input=True,
        confirmation_prompt="Confirmez le mot de passe\u202f: ",
        prompt_suffix="\u202f: ",
    )


def _account_call(func, *args) -> str:
    """Run an account function; return what it returns (the account's email as stored)."""
    from .admin.accounts import AccountError

    try:
        return func(*args)
    except AccountError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)


@user.command("add")
@db_option
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editeur"]), required=True, help="Rôle du compte.")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l’entrée standard.")
def user_add(db_path: Path, email: str, role: str, password_stdin: bool) -> None:
    """Créer un compte (le mot de passe est demandé, jamais passé en argument)."""
    from .admin.accounts import add_user

    email = _account_call(add_user, _accounts_file(db_path), email, role, _read_password(password_stdin))
    click.echo(f"Compte créé : {email} ({role}).")


@user.command("list")
@db_option
def user_list(db_path: Path) -> None:
    """Lister les comptes."""
    from .store import authdb
    from .store import users as store_users

    conn = authdb.connect(_accounts_file(db_path))
    try:
        accounts = store_users.list_all(conn)
    finally:
        conn.close()
    if not accounts:
        click.echo("Aucun compte : créez-en un avec « locator user add EMAIL --role admin ».")
    for account in accounts:
        click.echo(f"{account['email']}\t{account['role']}\tcréé le {account['cree_le']}")


@user.command("remove")
@db_option
@click.argument("email")
def user_remove(db_path: Path, email: str) -> None:
    """Supprimer un compte (le dernier compte admin reste)."""
    from .admin.accounts import remove_user

    email = _account_call(remove_user, _accounts_file(db_path), email)
    click.echo(f"Compte supprimé : {email}.")


@user.command("set-password")
@db_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l’entrée standard.")
def user_set_password(db_path: Path, email: str, password_stdin: bool) -> None:
    """Changer le mot de passe d'un compte (ses sessions ouvertes se ferment)."""
    from .admin.accounts import set_password

    email = _account_call(set_password, _accounts_file(db_path), email, _read_password(password_stdin))
    click.echo(f"Mot de passe changé : {email}.")


@user.command("unlock")
@db_option
@click.argument("email")
@click.option(
    "--adresse",
    default=None,
    metavar="IP",
    help="Lever aussi le blocage de cette adresse IP (trop d’essais manqués, tous comptes confondus).",
)
def user_unlock(db_path: Path, email: str, adresse: str | None) -> None:
    """Lever le blocage de connexion d'un compte (trop d'essais manqués), depuis toute adresse."""
    from .admin.accounts import AccountError, unlock

    try:
        forgotten = unlock(_accounts_file(db_path), email, adresse)
    except AccountError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    where = f" et pour l’adresse {adresse}" if adresse else ""
    click.echo(
        f"Blocage levé pour {email.strip().lower()}{where} : "
        + _count(forgotten, "essai manqué oublié", "essais manqués oubliés")
        + "."
    )


if __name__ == "__main__":
    main()
