"""locator: partner directory and geographic locator against school dropout (Auvergne-Rhône-Alpes)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from . import config

__version__ = "0.1.0"


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


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings (defaults < LOCATOR_* env < test_config), store, blueprints."""
    app = Flask(
        __name__,
        template_folder=str(config.PROJECT_ROOT / "templates"),
        instance_path=str(config.PROJECT_ROOT / "instance"),
    )
    app.config.update(config.load(test_config))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    app.json.ensure_ascii = False  # French text stays readable in JSON answers
    app.json.sort_keys = False

    from flask_wtf.csrf import CSRFProtect

    from .web import admin, api, errors, health, views

    CSRFProtect(app)  # every POST of every blueprint carries the session's token (400 otherwise)
    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    admin.init_app(app)
    return app
