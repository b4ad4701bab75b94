"""Every map the app shows, built by folium with no data in it, and rendered once into static files.

Each kind is a `folium.Map` with: a tile layer whose URL, attribution and zoom limit the page gives (the
TILES setting can differ per deployment; the skeleton stays the same), `MarkerCluster` where there are
many pins, `LocateControl` and `Fullscreen` with French labels, and a `Realtime` data layer that is never
started on its own: its `JsCode` source reads the page's `<script type="application/json">` block or
fetches the app's own JSON API, and its `JsCode` callbacks build pins, popups and labels with
`textContent` (helpers in our static files: `js/cartes.js` and one per kind). No structure's name, address
or any stored text is ever passed to folium: what folium renders is the map's code, the same for every
page, and the page's data reaches the browser only as JSON.

folium's element ids are random (`os.urandom`): while a skeleton is built they come from a counter
prefixed with its kind, so the files are byte-identical across processes, workers and restarts, and
two maps on one page (a structure and its territory) never share a JS name.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import mimetypes
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, LocateControl, MarkerCluster, Realtime
from folium.template import Template
from folium.utilities import JsCode

from . import KINDS, MANIFEST, OUTPUT, SLOT_BODY, SLOT_DATA, SLOT_TITLE, STANDALONE, STATIC

# Centre and zoom of the whole région (Auvergne-Rhône-Alpes) before the data is drawn.
REGION_CENTRE = (45.52, 4.53)
REGION_ZOOM = 7

# The npm files copied into static/vendor by `make install` (paths under /static/).
LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"
CLUSTER_JS = "vendor/leaflet.markercluster/leaflet.markercluster.js"
CLUSTER_CSS = (
    "vendor/leaflet.markercluster/MarkerCluster.css",
    "vendor/leaflet.markercluster/MarkerCluster.Default.css",
)
LOCATE_JS = "vendor/leaflet.locatecontrol/L.Control.Locate.min.js"
LOCATE_CSS = "vendor/leaflet.locatecontrol/L.Control.Locate.min.css"
FULLSCREEN_JS = "vendor/leaflet.fullscreen/Control.FullScreen.js"
FULLSCREEN_CSS = "vendor/leaflet.fullscreen/Control.FullScreen.css"
REALTIME_JS = "vendor/leaflet-realtime/leaflet-realtime.min.js"

# Our helpers the callbacks call (DOM text only), per kind, after the common one.
COMMON_JS = "js/cartes.js"
HELPERS = {
    "structures": ("js/carte.js",),
    "territoires": ("js/territoires.js",),
    "import": ("admin/commun.js", "admin/import.js"),
    "qualite": ("admin/commun.js", "admin/qualite.js"),
    "position": ("admin/fiche.js",),
}

_LOCK = threading.Lock()
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


class PageTiles(folium.TileLayer):
    """folium's tile layer, whose URL (like its attribution and zoom limit) is read from the page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.tileLayer(
                {{ this.tiles|tojavascript }},
                {{ this.options|tojavascript }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str):
        tiles = f'locatorCartes.tuiles("{map_name}")'
        super().__init__(
            tiles=JsCode(f"{tiles}.url"),
            attr=JsCode(f"{tiles}.attribution"),
            max_zoom=JsCode(f"{tiles}.max_zoom"),
            name="tuiles",
            subdomains="abc",
        )
        self.options.pop("max_native_zoom", None)


class Behaviour(JSCSSMixin, MacroElement):
    """The map's last script: starts its data layers and wires the page (our code, never data)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this.code }}
        {% endmacro %}
        """
    )

    def __init__(self, code: str, helpers: tuple[str, ...]):
        super().__init__()
        self._name = "Comportement"
        self.code = _checked(code)
        self.default_js = [(path, path) for path in (COMMON_JS, *helpers)]
        self.default_css = []


def _checked(code: str) -> str:
    """Refuse our own code if it held template syntax: branca compiles every rendered script again."""
    if _TEMPLATE_SYNTAX.search(code):
        raise ValueError(f"template syntax in a map's code: {code[:80]!r}")
    return code


def js(code: str) -> JsCode:
    """A JsCode callback, checked like the rest of our code."""
    return JsCode(_checked(code))


@contextmanager
def counted_ids(prefix: str) -> Iterator[None]:
    """While a skeleton is built and rendered, folium's element ids come from a counter (`prefix_n`)."""
    counter = itertools.count(1)
    with _LOCK:
        saved = Element.__dict__["_generate_id"]
        Element._generate_id = classmethod(lambda cls: f"{prefix}_{next(counter)}")  # type: ignore[method-assign]
        try:
            yield
        finally:
            Element._generate_id = saved  # type: ignore[method-assign]


def _map(kind: str, **options: Any) -> folium.Map:
    """A map of the région with no tiles of folium's, no zoom buttons (ours are in French), our files."""
    m = folium.Map(location=REGION_CENTRE, zoom_start=REGION_ZOOM, tiles=None, zoom_control=False, **options)
    name, _, ident = KINDS[kind].partition("_")
    m._name, m._id = name, ident
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    PageTiles(KINDS[kind]).add_to(m)
    return m


def _controls(m: folium.Map) -> tuple[LocateControl, Fullscreen]:
    """« Ma position » and full screen, in French, from our static files."""
    locate = LocateControl(
        position="topleft",
        flyTo=False,
        showPopup=False,
        strings={
            "title": "Montrer ma position sur la carte",
            "metersUnit": "mètres",
            "popup": "Vous êtes à moins de {distance} {unit} de ce point",
            "outsideMapBoundsMsg": "Votre position semble hors de la carte",
        },
    )
    locate.default_js = [("locate", LOCATE_JS)]
    locate.default_css = [("locate_css", LOCATE_CSS)]
    locate.add_to(m)
    full = Fullscreen(position="topleft", title="Plein écran", title_cancel="Quitter le plein écran")
    full.default_js = [("fullscreen", FULLSCREEN_JS)]
    full.default_css = [("fullscreen_css", FULLSCREEN_CSS)]
    full.add_to(m)
    return locate, full


def _cluster(name: str | None, icon: str | None = None, **options: Any) -> MarkerCluster:
    cluster = MarkerCluster(icon_create_function=icon, control=False, **options)
    if name:
        cluster._name, _, cluster._id = name.partition("_")
    cluster.default_js = [("markercluster", CLUSTER_JS)]
    cluster.default_css = [(path, path) for path in CLUSTER_CSS]
    return cluster


def _realtime(source: str, **options: Any) -> Realtime:
    """A data layer that waits for our code to call `update()` (start=False): its data is the page's."""
    layer = Realtime(js(source), start=False, **options)
    layer.default_js = [("realtime", REALTIME_JS)]
    return layer


def _names(**elements: Any) -> str:
    """The JS object `{key: element's JS name, ...}` that our helpers receive."""
    return "{" + ", ".join(f"{key}: {e.get_name()}" for key, e in elements.items()) + "}"


# ---------------------------------------------------------------- the kinds


def structures(standalone: bool = False) -> folium.Map:
    """Pins of structures: the answer's, numbered and outside the clusters; the others clustered."""
    name = KINDS["structures"]
    # The standalone page has the map above its list; on the site, the page's CSS sizes the map.
    m = _map("structures", height="70vh") if standalone else _map("structures")
    cluster = _cluster(
        "groupe_leaflet",
        icon="locatorCarte.grappe",
        show_coverage_on_hover=False,
        max_cluster_radius=40,
        spiderfy_on_max_zoom=True,
    )
    cluster.add_to(m)
    answer = folium.FeatureGroup(control=False)
    answer._name, answer._id = "reponse", "leaflet"
    answer.add_to(m)
    pin = js(
        """function (feature, latlng) {
            var p = feature.properties;
            return L.marker(latlng, {
                icon: locatorCarte.icone(p), title: p.title, keyboard: true, riseOnHover: true,
                structureId: p.lieu ? undefined : p.id, zIndexOffset: p.lieu ? -1000 : (p.answer ? 500 : 0)
            });
        }"""
    )
    each = js("function (feature, layer) { locatorCarte.relier(feature, layer); }")
    source = f'locatorCarte.source("{name}")'
    shown = _realtime(
        source,
        container=answer,
        filter=js("locatorCarte.auPremierPlan"),
        point_to_layer=pin,
        on_each_feature=each,
    )
    shown.add_to(m)
    rest = _realtime(
        source,
        container=cluster,
        filter=js("function (f) { return !locatorCarte.auPremierPlan(f); }"),
        point_to_layer=pin,
        on_each_feature=each,
    )
    rest.add_to(m)
    locate, _full = _controls(m)
    parts = {"carte": m, "groupe": cluster, "reponse": shown, "autres": rest, "localiser": locate}
    if standalone:
        outline = _realtime(
            f'locatorCarte.contours("{name}")',
            style=js(
                "function () { return {color: '#1f3b73', weight: 2, fillColor: '#1f3b73', "
                "fillOpacity: 0.06}; }"
            ),
            on_each_feature=js("function (feature, layer) { locatorCarte.nommer(feature, layer); }"),
        )
        outline.add_to(m)
        parts["contours"] = outline
    Behaviour(f"locatorCarte.demarrer({_names(**parts)});", HELPERS["structures"]).add_to(m)
    return m


def territories() -> folium.Map:
    """The Missions locales' territories, fetched from the app's GeoJSON API; names as text labels."""
    name = KINDS["territoires"]
    m = _map("territoires", scroll_wheel_zoom=False, zoom_snap=0.1)
    layer = _realtime(
        f'locatorTerritoires.source("{name}")',
        style=js("function (feature) { return locatorTerritoires.style(feature); }"),
        on_each_feature=js("function (feature, shape) { locatorTerritoires.relier(feature, shape); }"),
    )
    layer.add_to(m)
    locate, _full = _controls(m)
    Behaviour(
        f"locatorTerritoires.demarrer({_names(carte=m, territoires=layer, localiser=locate)});",
        HELPERS["territoires"],
    ).add_to(m)
    return m


def import_rows() -> folium.Map:
    """Admin: one draggable pin per row of the file (bounded, asked again for the rows in view)."""
    name = KINDS["import"]
    m = _map("import", scroll_wheel_zoom=False)
    rows = folium.FeatureGroup(control=False)
    rows.add_to(m)
    layer = _realtime(
        f'locatorImport.source("{name}")',
        container=rows,
        remove_missing=True,
        get_feature_id=js("function (f) { return String(f.properties.ligne); }"),
        point_to_layer=js(
            """function (feature, latlng) {
                var p = feature.properties;
                var label = "Ligne " + p.ligne + " (" + p.libelle + ") : " + (p.nom || "");
                return L.marker(latlng, {draggable: true, keyboard: true, title: label, alt: label,
                                         icon: locatorImport.icone(p.action)});
            }"""
        ),
        on_each_feature=js("function (feature, layer) { locatorImport.relier(feature, layer); }"),
    )
    layer.add_to(m)
    locate, _full = _controls(m)
    Behaviour(
        f"locatorImport.demarrer({_names(carte=m, lignes=layer, localiser=locate)});", HELPERS["import"]
    ).add_to(m)
    return m


def quality() -> folium.Map:
    """Admin: the data-quality problems, one toggled set per check, clustered."""
    name = KINDS["qualite"]
    m = _map("qualite", scroll_wheel_zoom=False)
    cluster = _cluster(None, show_coverage_on_hover=False, max_cluster_radius=30)
    cluster.add_to(m)
    layer = _realtime(
        f'locatorQualite.source("{name}")',
        container=cluster,
        get_feature_id=js("function (f) { return f.properties.controle + ':' + f.properties.id; }"),
        point_to_layer=js(
            """function (feature, latlng) {
                var p = feature.properties;
                return L.marker(latlng, {icon: locatorQualite.icone(p.controle), title: p.nom || "",
                                         keyboard: true});
            }"""
        ),
        on_each_feature=js("function (feature, layer) { locatorQualite.relier(feature, layer); }"),
    )
    layer.add_to(m)
    locate, _full = _controls(m)
    Behaviour(
        f"locatorQualite.demarrer({_names(carte=m, groupe=cluster, problemes=layer, localiser=locate)});",
        HELPERS["qualite"],
    ).add_to(m)
    return m


def position() -> folium.Map:
    """Admin: a structure's pin, tied both ways to the form's latitude and longitude fields."""
    name = KINDS["position"]
    m = _map("position", scroll_wheel_zoom=False)
    layer = _realtime(
        f'locatorFiche.source("{name}")',
        point_to_layer=js(
            """function (feature, latlng) {
                return L.marker(latlng, {draggable: true, keyboard: true,
                                         title: "Position de la structure", alt: "Position de la structure"});
            }"""
        ),
        on_each_feature=js("function (feature, layer) { locatorFiche.relier(feature, layer); }"),
    )
    layer.add_to(m)
    locate, _full = _controls(m)
    Behaviour(
        f"locatorFiche.demarrer({_names(carte=m, repere=layer, localiser=locate)});", HELPERS["position"]
    ).add_to(m)
    return m


BUILDERS: dict[str, Callable[[], folium.Map]] = {
    "structures": structures,
    "territoires": territories,
    "import": import_rows,
    "qualite": quality,
    "position": position,
}


# ---------------------------------------------------------------- rendering


def render(kind: str) -> dict[str, Any]:
    """Build and render one kind: its script, the files it needs (in order) and its element's HTML."""
    with counted_ids(kind):
        figure = BUILDERS[kind]().get_root()
        figure.render()
        script = figure.script.render()
        html = figure.html.render().strip()
    links = list(figure.header._children.values())
    return {
        "nom": KINDS[kind],
        "code": "/* locator: la carte « "
        + kind
        + " », écrite par folium (aucune donnée) */\n"
        + _tidy(script),
        "js": [link.url for link in links if isinstance(link, JavascriptLink)],
        "css": [link.url for link in links if isinstance(link, CssLink)],
        "html": html,
    }


def _tidy(code: str) -> str:
    """folium's script without its blank lines and trailing spaces (same bytes every time)."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip()) + "\n"


def standalone_skeleton(static: Path = STATIC) -> str:
    """The pins' map as one HTML file with every asset inlined and slots for the title, list and data.

    folium's natural output (`get_root().render()`), its `default_js`/`default_css` pointed at data: URIs
    of our static files (CSS images inlined too): it opens from a USB stick, with no server or network.
    """
    with counted_ids(STANDALONE):
        m = structures(standalone=True)
        figure: Figure = m.get_root()
        figure.title = None
        figure.header.add_child(Element("<title>" + SLOT_TITLE + "</title>"), name="titre")
        figure.header.add_child(Element(_STANDALONE_STYLE), name="style_locator")
        figure.html.add_child(Element(_STANDALONE_TOP), name="haut", index=0)
        Slots().add_to(m)  # its html comes after the map's element
        _inline(figure, m, static)
        html = figure.render()
    # folium's page forbids zooming the page itself: a person reading the list on a phone needs it.
    html = re.sub(r",\s*maximum-scale=1\.0,\s*user-scalable=no", "", html)
    return "\n".join(line.rstrip() for line in html.splitlines() if line.strip()) + "\n"


class Slots(MacroElement):
    """The standalone page's places for the list and the data, under the map (filled after rendering)."""

    _template = Template("{% macro html(this, kwargs) %}" + SLOT_BODY + "\n" + SLOT_DATA + "{% endmacro %}")

    def __init__(self):
        super().__init__()
        self._name = "Emplacements"


def _inline(figure: Figure, m: folium.Map, static: Path) -> None:
    """Point every element's default_js/default_css (and our site CSS) at data: URIs of the files."""
    for element in [m, *_descendants(m)]:
        if hasattr(element, "default_js"):
            element.default_js = [(n, _data_uri(static, p, "text/javascript")) for n, p in element.default_js]
            element.default_css = [(n, _data_uri(static, p, "text/css")) for n, p in element.default_css]
    figure.header.add_child(CssLink(_data_uri(static, "css/site.css", "text/css")), name="site_css")


def _descendants(element: Element) -> Iterator[Element]:
    for child in element._children.values():
        yield child
        yield from _descendants(child)


def _data_uri(static: Path, path: str, mime: str) -> str:
    """A data: URI of a static file; a stylesheet's url(...) images become data: URIs first."""
    file = static / path
    content = file.read_bytes()
    if mime == "text/css":
        content = _inline_css_urls(content.decode("utf-8"), file.parent).encode("utf-8")
    return f"data:{mime};base64," + base64.b64encode(content).decode("ascii")


def _inline_css_urls(css: str, folder: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#", "http:", "https:")):
            return match.group(0)
        file = folder / target.split("?")[0]
        if not file.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f'url("data:{mime};base64,{base64.b64encode(file.read_bytes()).decode("ascii")}")'

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", replace, css)


_STANDALONE_STYLE = """<style>
body { margin: 0 auto; max-width: 70rem; padding: 0 1rem; font: 16px/1.5 system-ui, sans-serif; }
.autonome-note { color: #444; }
#carte_leaflet { border: 1px solid #999; }
.autonome-liste { columns: 2 22rem; }
.autonome-liste .fiche { break-inside: avoid; border-top: 1px solid #ccc; padding: .25rem 0 .5rem; }
@media print { #carte_leaflet { display: none; } .autonome-liste { columns: 2; } }
</style>"""

_STANDALONE_TOP = (
    """<header class="autonome-haut">
<h1 id="autonome-titre">"""
    + SLOT_TITLE
    + """</h1>
<p class="autonome-note">Carte à emporter : elle s’ouvre sans serveur ni connexion. Sans connexion,
le fond de carte (les tuiles) ne s’affiche pas : restent les repères numérotés, les territoires des
Missions locales du département et, sous la carte, la liste des structures avec leurs adresses et
téléphones, lisible aussi imprimée.</p>
</header>"""
)


def build(static: Path = STATIC, output: Path | None = None) -> dict[str, Any]:
    """Render every kind and the standalone skeleton into content-hashed files, and their manifest."""
    folder = output or (static / OUTPUT)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.suffix in (".js", ".html", ".json"):
            old.unlink()
    manifest: dict[str, Any] = {"folium": folium.__version__}
    for kind in KINDS:
        rendered = render(kind)
        code = rendered.pop("code").encode("utf-8")
        name = f"{kind}.{hashlib.sha256(code).hexdigest()[:16]}.js"
        (folder / name).write_bytes(code)
        manifest[kind] = {**rendered, "script": f"{OUTPUT}/{name}"}
    page = standalone_skeleton(static).encode("utf-8")
    name = f"{STANDALONE}.{hashlib.sha256(page).hexdigest()[:16]}.html"
    (folder / name).write_bytes(page)
    manifest[STANDALONE] = {"page": f"{OUTPUT}/{name}"}
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest
