"""The `locator` command: thin click wrappers over importable functions."""

from __future__ import annotations

import json
import sqlite3
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
    run_server(
        app,
        host,
        port,
        workers or int(app.config["WORKERS"]),
        threads or int(app.config["THREADS"]),
    )


@main.group()
def user() -> None:
    """Gérer les comptes de l'espace d'administration."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")


def _account_call(func, *args) -> None:
    from .accounts import AccountError

    try:
        func(*args)
    except AccountError as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)


@user.command("add")
@db_option
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editeur"]), required=True, help="Rôle du compte.")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
def user_add(db_path: Path, email: str, role: str, password_stdin: bool) -> None:
    """Créer un compte (le mot de passe est demandé, jamais passé en argument)."""
    from .accounts import add_user

    _account_call(add_user, db_path, email, role, _read_password(password_stdin))
    click.echo(f"Compte créé : {email.strip().lower()} ({role}).")


@user.command("list")
@db_option
def user_list(db_path: Path) -> None:
    """Lister les comptes."""
    from .store import db as store_db
    from .store import users as store_users

    try:
        conn = store_db.connect(db_path)
    except store_db.StoreMissing as err:
        click.echo(f"Erreur : {err}", err=True)
        sys.exit(1)
    try:
        accounts = store_users.list_all(conn)
    except sqlite3.OperationalError:
        accounts = []  # a store built before accounts existed: `locator user add` creates the table
    finally:
        conn.close()
    if not accounts:
        click.echo("Aucun compte : créez-en un avec « locator user add EMAIL --role admin ».")
    for account in accounts:
        click.echo(f"{account['email']}\t{account['role']}\tcréé le {account['cree_le']}")


@user.command("remove")
@db_option
@click.argument("email")
def user_remove(db_path: Path, email: str) -> None:
    """Supprimer un compte (le dernier compte admin reste)."""
    from .accounts import remove_user

    _account_call(remove_user, db_path, email)
    click.echo(f"Compte supprimé : {email.strip().lower()}.")


@user.command("set-password")
@db_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
def user_set_password(db_path: Path, email: str, password_stdin: bool) -> None:
    """Changer le mot de passe d'un compte (ses sessions ouvertes se ferment)."""
    from .accounts import set_password

    _account_call(set_password, db_path, email, _read_password(password_stdin))
    click.echo(f"Mot de passe changé : {email.strip().lower()}.")


if __name__ == "__main__":
    main()
