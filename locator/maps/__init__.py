"""The maps: folium skeletons with no data in them, rendered offline into static files.

`skeletons` (imports folium) builds one data-free map per kind and renders it once, at `make install`
(`python -m locator.maps`), into content-hashed JS files under `web/static/cartes/` with a manifest;
the web workers only read that manifest, so they never import folium (0.6 s and +75 MB each, see
../shared/FOLIUM.md). `autonome` fills the standalone map (a file to open with no server) with its data
by plain string work, after folium has rendered it. Nothing here reaches a template engine as source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Where the rendered skeletons live, under the web app's static folder.
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
OUTPUT = "cartes"
MANIFEST = "cartes.json"

# The map kinds, each with the JS name of its map (also the id of its element): the page's own script,
# the tests and a console reach a map as window[name].
KINDS = {
    "structures": "carte_leaflet",  # the pins: search answer, commune, département, structure, région
    "territoires": "carte_territoires",  # the Missions locales' territories
    "import": "carte_import",  # admin: the rows of a file being imported, pins to drag
    "qualite": "carte_qualite",  # admin: the data-quality problems
    "position": "carte_fiche",  # admin: one structure's pin to drag (structure form, row fix)
}
STANDALONE = "autonome"

# Places where the standalone skeleton receives its title, list and data, after folium rendered it.
SLOT_TITLE = "<!--locator:titre-->"
SLOT_BODY = "<!--locator:liste-->"
SLOT_DATA = "<!--locator:donnees-->"


def neutral_json(data: Any) -> str:
    """Return JSON that no template engine reads as syntax and no HTML parser ends early.

    `{{`, `{%` and `{#` become `{\\u007b`, `{\\u0025`, `{\\u0023` (JSON decodes them back to the same
    characters; a structural `{` is never followed by `{`, `%` or `#`), and <, >, & and ' are escaped
    so the text cannot close the <script> block it sits in.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return text.replace("{{", "{\\u007b").replace("{%", "{\\u0025").replace("{#", "{\\u0023")


def manifest_path(static: Path | None = None) -> Path:
    """The manifest of the rendered skeletons (kind → script, assets, element)."""
    return (static or STATIC) / OUTPUT / MANIFEST
