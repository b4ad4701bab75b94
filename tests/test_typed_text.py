"""Text people type outside imports (reports, account emails) is cleaned like imported text, and every
e-mail address kept is checked by email-validator: reports' contacts, accounts, structures."""

from __future__ import annotations

import sqlite3

import pytest
from admin_helpers import csrf_token, post_form, text
from click.testing import CliRunner
from import_helpers import rejected, run_import, structure, write
from test_admin_structures import EDIT, save

from locator.cli import main
from locator.store import authdb


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """These tests need the Puy-de-Dôme only: the small store (fast tier)."""
    return small_built_store


AMBERT_ML = "mission-locale-du-livradois-forez-63003"
FORM = f"/structures/{AMBERT_ML}/signaler"
RLO, LRI, PDI, ZWSP = "\u202e", "\u2066", "\u2069", "\u200b"
HOSTILE_EMAIL = "<svg/onload=alert(1)>@x.fr"


def _report(client, **fields):
    token = csrf_token(client, FORM)
    data = {"champ": "contact", "message": "Le numéro a changé.", "csrf_token": token, **fields}
    return client.post(FORM, data=data)


def _rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_report_message_loses_its_bidi_and_invisible_characters(admin_app, admin_store):
    message = f"Le numéro {RLO}33 05 37 37 40{ZWSP} est faux"
    r = _report(admin_app.test_client(), message=message, contact=f"{LRI}parent@example.fr{PDI}")
    assert r.status_code == 200
    [(stored_message, contact)] = _rows(admin_store, "SELECT message, contact FROM signalements")
    assert stored_message == "Le numéro 33 05 37 37 40 est faux"
    assert contact == "parent@example.fr"


def test_a_report_made_of_invisible_characters_only_is_refused(admin_app, admin_store):
    r = _report(admin_app.test_client(), message=f"{RLO}{ZWSP}\u2060")
    assert r.status_code == 400 and "Décrivez l’erreur" in text(r)
    assert _rows(admin_store, "SELECT COUNT(*) FROM signalements") == [(0,)]


@pytest.mark.parametrize(
    "contact, accepted",
    [
        ("parent@example.fr", True),
        ("04 73 82 05 88", True),
        ("+33 (0)4 73 82 05 88", True),
        (HOSTILE_EMAIL, False),
        ("parent@example..fr", False),
        ("appelez-moi demain", False),
    ],
)
def test_a_report_contact_is_a_checked_email_or_a_phone_number(admin_app, admin_store, contact, accepted):
    r = _report(admin_app.test_client(), contact=contact)
    assert r.status_code == (200 if accepted else 400), text(r)[-800:]
    assert _rows(admin_store, "SELECT COUNT(*) FROM signalements") == [(1 if accepted else 0,)]
    if not accepted:
        assert "courriel" in text(r) and "Traceback" not in text(r)


def test_an_account_email_is_checked_by_the_library_in_the_cli_and_the_admin_form(admin_client, admin_store):
    result = CliRunner().invoke(
        main,
        ["user", "add", HOSTILE_EMAIL, "--role", "editeur", "--password-stdin", "--db", str(admin_store)],
        input="un-mot-de-passe-assez-long\n",
    )
    assert result.exit_code == 1 and "Adresse électronique invalide." in result.output
    r = post_form(
        admin_client,
        "/admin/comptes/ajouter",
        {"email": "chef@region..fr", "role": "editeur", "password": "un-mot-de-passe-assez-long"},
    )
    assert r.status_code == 302
    assert "Adresse électronique invalide." in text(admin_client.get("/admin/comptes"))
    emails = {e for (e,) in _rows(authdb.location(admin_store), "SELECT email FROM utilisateurs")}
    assert emails == {"admin@example.fr", "editeur@example.fr"}


def test_invisible_characters_are_stripped_from_account_emails(admin_client, admin_store):
    r = post_form(
        admin_client,
        "/admin/comptes/ajouter",
        {
            "email": f"{RLO}Nouvelle@Region.fr{ZWSP}",
            "role": "editeur",
            "password": "un-mot-de-passe-assez-long",
        },
    )
    assert r.status_code == 302
    assert "Compte créé : nouvelle@region.fr." in text(admin_client.get("/admin/comptes"))
    assert ("nouvelle@region.fr",) in _rows(authdb.location(admin_store), "SELECT email FROM utilisateurs")
    # The same cleaning guards one's own account: an invisible character does not make it someone else's.
    r = post_form(admin_client, "/admin/comptes/supprimer", {"email": f"{ZWSP}admin@example.fr"})
    assert "Vous ne pouvez pas supprimer votre propre compte." in text(admin_client.get("/admin/comptes"))
    assert ("admin@example.fr",) in _rows(authdb.location(admin_store), "SELECT email FROM utilisateurs")


def test_a_structure_email_is_checked_by_the_library_in_imports_and_the_form(
    admin_client, admin_store, tmp_path
):
    csv_text = "type;nom;code_insee;courriel\ncio;CIO des Essais;63132;contact@cio..fr\n"
    code, report, out = run_import(admin_store, write(tmp_path, csv_text))
    assert code == 1 and "courriel invalide : « contact@cio..fr »" in rejected(report)[2], out
    assert structure(admin_store, "cio-des-essais-63132") is None
    r = save(admin_client, EDIT, courriel="contact@mission-locale..fr")
    assert r.status_code == 400 and "courriel invalide" in text(r)
    assert save(admin_client, EDIT, courriel="Contact@Mission-Locale.FR").status_code == 302
    assert structure(admin_store, AMBERT_ML)["courriel"] == "Contact@mission-locale.fr"
