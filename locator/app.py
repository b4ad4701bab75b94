"""The web app's factory: settings, store, blueprints (`locator.create_app`)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from . import config
from .web import typography
from .web.jsonfast import OrjsonProvider


def _secret_key(instance: Path) -> str:
    """Return the instance's signing key, generated once and kept out of the repository."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _templates() -> Path:
    """The Jinja pages: the checkout's top-level templates/, or the installed copy (locator/templates/)."""
    installed = Path(__file__).parent / "templates"
    return installed if installed.is_dir() else config.PROJECT_ROOT / "templates"


class _BoundedInt(IntegerConverter):
    """`<int:...>` in routes, up to what SQLite stores: a longer number is a 404, not an overflow."""

    def __init__(
        self, url_map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = 2**63 - 1
    ):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


class _Flask(Flask):
    """Flask with orjson answers (the API's serialisation is a large part of a request's cost)."""

    json_provider_class = OrjsonProvider
    # Stored names keep the sources' straight apostrophes; pages show them the French way (’).
    jinja_options = {**Flask.jinja_options, "finalize": typography.display}
    url_map_class = type(
        "_Map", (Map,), {"default_converters": {**Map.default_converters, "int": _BoundedInt}}
    )


def _bring_up_to_date(path: str) -> None:
    """Migrate a store of an older schema before serving it, as `locator serve` does: an app started by
    another WSGI server would otherwise fail on every page that reads a newer column."""
    from .store import db as store_db

    if Path(path).is_file() and store_db.outdated(path):
        from . import territories

        territories.migrate(path)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings (defaults < LOCATOR_* env < test_config), store, blueprints."""
    app = _Flask(
        "locator",  # the package: its folder is the app's root, its name the app's and its logger's
        template_folder=str(_templates()),
        static_folder="web/static",
        instance_path=str(config.PROJECT_ROOT / "instance"),
    )
    app.config.update(config.load(test_config))
    _bring_up_to_date(app.config["DB"])
    app.jinja_env.filters["brut"] = typography.as_typed  # form values go back as typed
    from .store import authdb

    app.config["AUTH_DB"] = str(authdb.location(app.config["DB"], app.config["AUTH_DB"]))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from flask_wtf.csrf import CSRFProtect

    from .web import admin, api, caching, errors, health, limits, security, views

    limits.init_bodies(app)  # before CSRFProtect: its check parses the whole form
    # Counted before CSRFProtect too, so that a flood of forms with a bad token is still limited.
    limits.init(app, api=[api.bp], pages=[views.bp, admin.public_bp])
    CSRFProtect(app)  # every POST of every blueprint carries the session's token (400 otherwise)
    errors.register(app)
    security.init(app)
    caching.init(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    admin.init_app(app)
    return app
