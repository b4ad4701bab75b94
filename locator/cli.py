"""The `locator` command: thin click wrappers over importable functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import config


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="locator")
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
@click.option("--json", "as_json", is_flag=True, help="Afficher le compte rendu en JSON.")
def build(db_path: Path, seed: Path, as_json: bool) -> None:
    """Construire (ou mettre à jour) le fichier de données : communes de France + structures."""
    from .ingest.build import build as run_build

    report = run_build(db_path, seed, say=(lambda _m: None) if as_json else click.echo)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        click.echo(f"Terminé en {report['secondes']} s : {db_path}")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Processus (défaut : réglage WORKERS)."
)
@click.option("--threads", type=click.IntRange(1, 64), default=None, help="Fils par processus.")
def serve(db_path: Path, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Servir le site et l'API avec gunicorn."""
    from . import create_app
    from .server import serve as run_server
    from .store.db import check

    problem = check(db_path)
    if problem:
        click.echo(f"Erreur : {problem}", err=True)
        sys.exit(1)
    app = create_app({"DB": str(db_path)})
    _warm(db_path, app.config["REGION"])
    run_server(
        app,
        host,
        port,
        workers or int(app.config["WORKERS"]),
        threads or int(app.config["THREADS"]),
    )


def _warm(db_path: Path, region: str) -> None:
    """Build the name index before the workers fork: they share it instead of each building it."""
    from .resolve import warm
    from .store.db import connect

    conn = connect(db_path)
    try:
        warm(conn, region)
    finally:
        conn.close()


@main.command()
@db_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(db_path: Path, target: Path) -> None:
    """Sauvegarder le fichier de données dans TARGET (possible pendant que le site sert)."""
    from .store.backup import BackupError
    from .store.backup import backup as run_backup

    try:
        size = run_backup(db_path, target)
    except BackupError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    click.echo(f"Sauvegarde écrite : {target} ({size / 1e6:.1f} Mo)")


@main.command()
@db_option
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
def restore(db_path: Path, source: Path, yes: bool) -> None:
    """Remplacer le contenu du fichier de données par la sauvegarde SOURCE."""
    from .store.backup import BackupError
    from .store.backup import restore as run_restore

    if not yes:
        click.confirm(f"Remplacer tout le contenu de {db_path} par {source} ?", abort=True)
    try:
        run_restore(source, db_path)
    except BackupError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    click.echo(f"Restauré depuis {source}.")


if __name__ == "__main__":
    main()
