"""Public pages (French): search, the two-level answer, structure, commune and département pages.

Routes are thin: the answers come from `locator.lookup`, the maps from `locator.web.maps`; this module
only arranges them into numbered entries shared by the list and the map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import config as default_settings
from .. import lookup
from ..geo import codes, names
from ..hours import french, opening_hours
from ..store import db as store_db
from ..store.schema import STRUCTURE_TYPES
from . import formatting, maps, pagecache, params, standalone
from .store import get_conn

bp = Blueprint("views", __name__)

# How many more structures "Encore à proximité" lists after the two-level answer.
MORE_NEARBY = 8
# The map's first view shows the answer: the nearest others count only within this radius (km), so a
# far structure (an EPIDE 150 km away) never drags the view off the place searched.
FIRST_VIEW_KM = 30.0
# Who else can help when a type is far, by what the answer shows: (subject, after "adressez-vous à").
HELPERS = {
    "mlcio": ("La Mission locale et le CIO ci-dessus", "l’un ou l’autre"),
    "ml": ("La Mission locale ci-dessus", "elle"),
    "cio": ("Le CIO ci-dessus", "lui"),
    "": ("La Mission locale de votre commune", "la Mission locale de votre commune"),
}
# What the search box says after « Me localiser » (before the commune's name), as typed or as shown.
POSITION_PREFIXES = ("Autour de votre position",)
# How many structures whose name matches a search lists.
STRUCTURES_FOUND = 8
# How many candidates an ambiguous search offers.
CANDIDATES = 10


class PageError(Exception):
    """A request the user can fix: answered by the French error page with its status."""

    def __init__(self, message: str, status: int = 404):
        super().__init__(message)
        self.message = message
        self.status = status


@bp.errorhandler(PageError)
def _page_error(err: PageError):
    return render_template("erreur.html", status=err.status, message=err.message), err.status


@bp.errorhandler(params.ApiError)
def _param_error(err: params.ApiError):
    """A bad parameter of a page (the shared parsing raises ApiError): the French error page."""
    return render_template("erreur.html", status=err.status, message=err.message), err.status


@bp.before_request
def _bounded_query():
    """Refuse an oversized query string before any page parses it."""
    config = current_app.config
    params.check_query(request.query_string, config["QUERY_MAX_BYTES"], config["QUERY_MAX_FIELDS"])


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "type_label": formatting.type_label,
        "km": formatting.km,
        "tel_href": formatting.tel_href,
        "telephone": formatting.telephone,
        "web_url": formatting.web_url,
        "host": formatting.host,
        "mailto": formatting.mailto,
        "directions_url": formatting.directions_url,
        "pretty_address": formatting.pretty_address,
        "sources": formatting.sources,
        "precision_note": formatting.precision_note,
        "horaires": lambda spec: opening_hours.describe(_osm_hours(spec)),
        "statut_horaires": _hours_status,
        "csrf_token": pagecache.csrf_token,  # a mark in cached pages, each visitor's token when served
        "information_date": lambda d: formatting.information_date(
            d, int(current_app.config["INFO_OLD_AFTER_YEARS"])
        ),
        "all_types": STRUCTURE_TYPES,
        "what_is": formatting.what_is,
        "siege_hors_region": _outside_region,
        "map_assets": lambda kinds: maps.assets(kinds, lambda path: url_for("static", filename=path)),
        "map_element": maps.element,
        "map_name": lambda kind: maps.KINDS[kind],
        "qr_reponse": _answer_qr,
    }


# The arguments that make an answer's page (the page cache keys on the same ones).
ANSWER_ARGS = ("q", "commune", "types")


def _answer_qr() -> Markup | None:
    """The printout's QR code to this answer's page at PUBLIC_URL; None when no public address is set."""
    public = (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not public:
        return None
    asked = [(k, v) for k in ANSWER_ARGS for v in request.args.getlist(k) if v]
    url = public + request.path + ("?" + urlencode(asked) if asked else "")
    # segno writes the markup itself: the URL becomes modules of a path, never text in the page.
    return Markup(formatting.qr_svg(url))  # noqa: S704


def _outside_region(s: dict[str, Any]) -> dict[str, Any] | None:
    """The département and région of a structure seated outside the home région (a Mission locale of
    another région that covers communes of this one), or None; the région's départements read once."""
    if "region_departements" not in g:
        g.region_departements = {d["code"] for d in lookup.departements(get_conn(), _region())}
    if not s.get("departement") or s["departement"] in g.region_departements:
        return None
    return lookup.outside_region(get_conn(), s, _region())


def _osm_hours(spec: str | None) -> str | None:
    """Stored hours as OSM: hours stored in French before imports converted them are read the same way."""
    if spec is None or opening_hours.is_valid(spec):
        return spec
    return french.read(spec).horaires or spec


def _hours_status(spec: str | None) -> dict[str, Any] | None:
    """Open now or not (Paris time) at the app's clock; the page cache keeps it until it changes."""
    found = opening_hours.status(_osm_hours(spec), pagecache.now())
    if found is not None:
        pagecache.expires_at(found["expire"])
    return found


# ---------------------------------------------------------------- request parsing


def _types() -> list[str] | None:
    """Return the types asked for (`types=a,b` or repeated checkboxes), None for all."""
    wanted = params.listed(request.args, "types")  # bounded and de-duplicated (400 beyond)
    if not wanted:
        return None
    unknown = [t for t in wanted if t not in STRUCTURE_TYPES]
    if unknown:
        raise PageError(
            f"Type de structure inconnu : « {', '.join(unknown)[:60]} ». "
            "Choisissez parmi les cases proposées sur la page de recherche.",
            400,
        )
    return [t for t in STRUCTURE_TYPES if t in wanted]


def _precision() -> int | None:
    """Return the precision (metres) a geolocated search carries, if any."""
    return params.whole(request.args.get("precision"), 0, 9_999_999)


# ---------------------------------------------------------------- answers


def _entry(
    s: dict[str, Any], distance: float | None, numero: int, titre: str = "", vue: bool = False
) -> dict[str, Any]:
    """A numbered card; `vue`: its pin is part of the answer the map's first view must show."""
    return {"s": s, "distance": distance, "numero": numero, "titre": titre, "vue": vue}


def two_level_answer(
    conn,
    code: str | None,
    types: list[str] | None,
    origin: tuple[float, float] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Return the two-level answer arranged for a page: sections of numbered entries, and map pins.

    With a commune code, the answer is lookup.two_level's; with only a point (`origin`), the nearest
    Mission locale and the nearest structure of each type.
    """
    wanted = types or list(STRUCTURE_TYPES)
    show_ml = any(t in wanted for t in lookup.RECEPTION_TYPES)
    others = [t for t in lookup.OTHER_TYPES if t in wanted]
    config = current_app.config
    far = far_km(config)
    if code is not None:
        answer = lookup.two_level(
            conn,
            code,
            others=others,
            origin=origin,
            region=config["REGION"],
            finder_url=config["NATIONAL_FINDER_URL"],
            far_km=far,
        )
    else:
        answer = lookup.point_answer(conn, origin[0], origin[1], others, far_km=far)
    entries: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "commune": answer.get("commune"),
        "methode": answer.get("methode"),
        "raison": answer.get("raison"),
        "annuaire_national": answer.get("annuaire_national"),
        "mission_locale": None,
        "accueil": None,
        "accueil_raison": None,
        "accueil_est_siege": False,
        "autres": [],
        "plus": [],
        "loin": None,
        "show_ml": show_ml,
    }
    if note and out["raison"] and note not in out["raison"]:
        out["raison"] = f"{note} {out['raison']}"
    ml = answer.get("mission_locale")
    if show_ml and ml is not None:
        out["mission_locale"] = _entry(ml, answer.get("distance_km"), len(entries) + 1, vue=True)
        entries.append(out["mission_locale"])
        point = answer.get("point_accueil")
        if point:
            out["accueil_raison"] = point["raison"]
            if point["structure"]["id"] == ml["id"]:
                out["accueil_est_siege"] = True
            else:
                out["accueil"] = _entry(point["structure"], point["distance_km"], len(entries) + 1, vue=True)
                entries.append(out["accueil"])
    far_types = []
    for other in answer.get("autres", []):
        if other.get("loin_km"):
            # Beyond its type's distance no card presents it as the nearest: the answer says so instead.
            far_types.append(other)
            continue
        titre = formatting.NEAREST.get(other["type"], "La structure la plus proche")
        e = _entry(
            other["structure"],
            other["distance_km"],
            len(entries) + 1,
            titre,
            vue=other["distance_km"] is not None and other["distance_km"] <= FIRST_VIEW_KM,
        )
        out["autres"].append(e)
        entries.append(e)
    if out["methode"] != "hors_region":  # outside the région the one message says it all
        out["loin"] = far_answer(far_types, out)
    centre = origin or _centre(answer.get("commune"))
    if centre is not None:
        shown = {e["s"]["id"] for e in entries}
        for s, d in lookup.nearest(conn, centre[0], centre[1], types=types, limit=MORE_NEARBY + len(shown)):
            near = d <= far.get(s["type"], d)
            if near and s["id"] not in shown and len(out["plus"]) < MORE_NEARBY:
                e = _entry(s, d, len(entries) + 1)
                out["plus"].append(e)
                entries.append(e)
    out["entries"] = explain_first(entries)
    return out


def far_km(config) -> dict[str, float]:
    """Return every type's distance threshold (km): the setting, each type it leaves out at its default."""
    return {**default_settings.FAR_KM_BY_TYPE, **(config.get("FAR_KM_BY_TYPE") or {})}


def far_answer(far_types: list[dict[str, Any]], out: dict[str, Any]) -> dict[str, Any] | None:
    """Say plainly which types have none nearby, and who else can help (the structures shown)."""
    if not far_types:
        return None
    lines = [f"{lookup.NONE_KNOWN[o['type']][0]} à moins de {o['loin_km']:g} km." for o in far_types]
    shown = {e["s"]["type"] for e in out["autres"]}
    key = ("ml" if out["mission_locale"] is not None else "") + ("cio" if "cio" in shown else "")
    who, them = HELPERS.get(key, HELPERS[""])
    if key and any(o["type"] == "psad" for o in far_types):
        aide = (
            f"{who} travaillent avec la plateforme de suivi des décrocheurs (PSAD) de votre secteur : "
            f"adressez-vous à {them}, qui vous orientera aussi vers les autres aides."
        )
        if key != "mlcio":
            aide = aide.replace("travaillent", "travaille")
    else:
        aide = f"Pour ces aides, adressez-vous à {them} : on vous y orientera."
    return {"lignes": lines, "aide": aide}


def explain_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give the first card of each type its "c'est quoi ?" line (the later ones would repeat it)."""
    seen: set[str] = set()
    for e in entries:
        type_ = e["s"]["type"]
        if type_ not in seen:
            seen.add(type_)
            e["quoi"] = formatting.what_is(type_)
    return entries


def _centre(commune: dict[str, Any] | None) -> tuple[float, float] | None:
    if commune and commune.get("latitude") is not None:
        return commune["latitude"], commune["longitude"]
    return None


def _pins(entries: list[dict[str, Any]]) -> list[maps.Pin]:
    return [
        maps.Pin(
            e["s"]["id"],
            e["s"]["nom"],
            e["s"]["type"],
            e["s"]["latitude"],
            e["s"]["longitude"],
            e["numero"],
            e.get("vue", False),
        )
        for e in entries
        if e["s"].get("latitude") is not None
    ]


def _map(
    pins: list[maps.Pin],
    place: tuple[float, float, str] | None = None,
    label: str = "",
    geojson: str | None = None,
) -> maps.MapParts:
    return maps.build(
        pins,
        lambda path: url_for("static", filename=path),
        maps.tile_layer(current_app.config),
        place=place,
        label=label or "Carte des résultats",
        geojson=geojson,
    )


def _region() -> str:
    return current_app.config["REGION"]


# ---------------------------------------------------------------- pages


@bp.get("/")
@pagecache.cached()
def index():
    """Home page: one search box, "Me localiser", and the région's structures by département."""
    conn = get_conn()
    counts = lookup.published_by_departement(conn)
    departements = [
        {**d, "structures": counts.get(d["code"], 0)} for d in lookup.departements(conn, _region())
    ]
    carte = _map(
        [], label="Carte de toutes les structures de la région", geojson=url_for("api.structures_geojson")
    )
    total = sum(d["structures"] for d in departements)
    return render_template(
        "index.html",
        departements=departements,
        total=total,
        total_hors_region=sum(counts.values()) - total,
        carte=carte,
    )


@bp.get("/recherche")
@pagecache.cached("q", "commune", "types", "precision")
def search():
    """Search results: the two-level answer for a commune or a point, or the candidates to choose."""
    q = request.args.get("q", "").strip()[:200]
    # The box after « Me localiser » says « Autour de votre position : Thiers »: sent again, it means Thiers.
    for prefix in POSITION_PREFIXES:
        if q.startswith(prefix):
            q = q[len(prefix) :].strip(" \u202f\u00a0:")
    code = request.args.get("commune", "").strip().upper()[:10]
    types = _types()
    if not q and not code:
        return render_template("recherche_vide.html", q=q, types=types)
    conn = get_conn()
    if code:
        return _commune_result(conn, code, q, types)
    places = lookup.resolve(conn, q, limit=CANDIDATES, region=_region())
    structures = lookup.structures_named(conn, q, limit=STRUCTURES_FOUND)
    strong = [p for p in places if p["match"] not in ("debut", "approche")]
    if not places or (structures and not strong):
        # No place, or only a guess of one, but structures named so: they are what was meant.
        return render_template(
            "recherche_vide.html",
            q=q,
            types=types,
            introuvable=not structures,
            structures=structures,
            candidates=_candidates(conn, places[:5]),
        )
    first = places[0]
    if first["type"] == "departement":
        return redirect(url_for(".departement", code=first["code"], types=types or None))
    if first["type"] == "point":
        return _point_result(conn, first, q, types)
    # Ambiguous: only a start or a guess of a name, or several places answer the name as well.
    ambiguous = len(places) > 1 and (
        first["match"] in ("debut", "approche")
        or places[1]["match"] == first["match"]
        or any(p["nom"] == first["nom"] for p in places[1:])
    )
    if ambiguous:
        return render_template(
            "choix.html", q=q, types=types, candidates=_candidates(conn, places), structures=structures
        )
    return _commune_result(
        conn, first["code"], q, types, place=first, others=places[1:], structures=structures
    )


def _candidates(conn, places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in places:
        if p["type"] == "departement":
            out.append({"type": "departement", "code": p["code"], "nom": p["nom"]})
        elif p["type"] == "commune":
            info = lookup.commune_info(conn, p["code"]) or p["commune"]
            out.append({"type": "commune", "info": info, "note": p.get("note"), "code": p["code"]})
    return out


def _commune_result(conn, code, q, types, place=None, others=(), structures=()):
    if not codes.is_insee_code(code):
        raise PageError(f"« {code[:20]} » n’est pas un code de commune (code INSEE à 5 caractères).")
    info = lookup.commune_info(conn, code)
    if info is None:
        raise PageError(f"Aucune commune n’a le code INSEE {code}.")
    note = place.get("note") if place else None
    if place is None and q:
        note = next(
            (
                p["note"]
                for p in lookup.resolve(conn, q, limit=CANDIDATES, region=_region())
                if p.get("code") == info["code"] and p.get("note")
            ),
            None,
        )
    answer = two_level_answer(conn, code, types, note=note)
    approx = place is not None and place["match"] == "approche"
    centre = _centre(info)
    carte = _map(
        _pins(answer["entries"]),
        place=(centre[0], centre[1], info["nom"]) if centre else None,
        label=f"Carte : les structures proches de {info['nom']}",
    )
    return render_template(
        "recherche.html",
        q=q,
        types=types,
        commune=info,
        note=note,
        approche=approx,
        autres_communes=_candidates(conn, [p for p in others if p["type"] == "commune"][:5]),
        answer=answer,
        carte=carte,
        origin=None,
        structures=structures,
        # Said when the name typed is not the commune found (« Test » → La Teste-de-Buch): for
        # « Marseille » the answer's own message says it, once.
        hors_region=bool(q)
        and info.get("region") != _region()
        and names.normalize(q) != names.normalize(info["nom"]),
    )


def _point_result(conn, place, q, types):
    origin = (place["latitude"], place["longitude"])
    commune = place.get("commune")
    answer = two_level_answer(conn, commune["code"] if commune else None, types, origin=origin)
    carte = _map(
        _pins(answer["entries"]),
        place=(origin[0], origin[1], "votre position"),
        label="Carte : les structures proches de votre position",
    )
    return render_template(
        "recherche.html",
        q=q,
        types=types,
        commune=lookup.commune_info(conn, commune["code"]) if commune else None,
        point=origin,
        precision=_precision(),
        note=None,
        approche=False,
        autres_communes=[],
        answer=answer,
        carte=carte,
        origin=origin,
    )


@bp.get("/communes/<code>")
@pagecache.cached("types")
def commune(code: str):
    """A commune: what it is, and its two-level answer."""
    code = code.strip().upper()[:10]
    if not codes.is_insee_code(code):
        raise PageError(f"« {code[:20]} » n’est pas un code de commune (code INSEE à 5 caractères).")
    conn = get_conn()
    info = lookup.commune_info(conn, code)
    if info is None:
        raise PageError(f"Aucune commune n’a le code INSEE {code}.")
    types = _types()
    answer = two_level_answer(conn, code, types)
    centre = _centre(info)
    carte = _map(
        _pins(answer["entries"]),
        place=(centre[0], centre[1], info["nom"]) if centre else None,
        label=f"Carte : les structures proches de {info['nom']}",
    )
    return render_template("commune.html", commune=info, types=types, answer=answer, carte=carte, origin=None)


@bp.get("/structures/<structure_id>")
@pagecache.cached()
def structure(structure_id: str):
    """A structure's printable fiche, with its Mission locale or its reception points."""
    conn = get_conn()
    s = lookup.structure(conn, structure_id[:120])
    if s is None:
        raise PageError("Cette structure n’existe pas ou n’est plus publiée.")
    parent = lookup.structure(conn, s["parent_id"]) if s.get("parent_id") else None
    children = lookup.reception_points(conn, s["id"])
    entries = explain_first([_entry(s, None, 1)] + [_entry(c, None, i + 2) for i, c in enumerate(children)])
    carte = _map(_pins(entries), label=f"Carte\u202f: {s['nom']}")
    dep = lookup.departement_info(conn, s["departement"]) if s.get("departement") else None
    territoire = lookup.territory_of(conn, s["id"]) if s["type"] == "mission_locale" else None
    return render_template(
        "structure.html",
        departement_nom=dep["nom"] if dep else None,
        s=s,
        parent=parent,
        children=entries[1:],
        entry=entries[0],
        carte=carte,
        origin=None,
        territoire=territoire,
        origine_territoire=lookup.territory_origin(conn, territoire) if territoire else None,
        tiles=maps.tiles_data(maps.tile_layer(current_app.config)),
    )


@bp.get("/departements/<code>")
@pagecache.cached("types")
def departement(code: str):
    """A département: its structures by type, on a list and a map."""
    dep = codes.normalize_departement(code.strip()[:5])
    conn = get_conn()
    info = lookup.departement_info(conn, dep) if dep else None
    if info is None:
        raise PageError(f"Aucun département n’a le code « {code[:10]} ».")
    types = _types()
    structures = lookup.in_departement(conn, info["code"], types)
    groups: list[dict[str, Any]] = []
    numero = 0
    for type_ in STRUCTURE_TYPES:
        members = [s for s in structures if s["type"] == type_]
        if members:
            entries = []
            for s in members:
                numero += 1
                entries.append(_entry(s, None, numero))
            groups.append({"type": type_, "entries": entries, "quoi": formatting.what_is(type_)})
    all_entries = [e for grp in groups for e in grp["entries"]]
    carte = _map(_pins(all_entries), label=f"Carte : les structures du département {info['nom']}")
    return render_template(
        "departement.html",
        dep=info,
        types=types,
        groups=groups,
        count=len(all_entries),
        carte=carte,
        origin=None,
    )


@bp.get("/departements/<code>/carte.html")
def departement_map_file(code: str):
    """The département's map to take away: one HTML file that opens with no server and no network."""
    dep = codes.normalize_departement(code.strip()[:5])
    conn = get_conn()
    info = lookup.departement_info(conn, dep) if dep else None
    if info is None:
        raise PageError(f"Aucun département n’a le code « {code[:10]} ».")
    types = _types()
    html = standalone.cached_page(
        conn,
        Path(current_app.static_folder or ""),
        maps.tiles_data(maps.tile_layer(current_app.config)),
        _region(),
        info["code"],
        types,
        store_db.version(conn),
    )
    name = f"carte-{info['code']}" + (f"-{'-'.join(types)}" if types else "") + ".html"
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/territoires")
@pagecache.cached("commune", "code")
def territories():
    """The région's Missions locales as a map of their territories, and the same as a table; with
    `?commune=`, the territory of that commune highlighted and its Mission locale named."""
    conn = get_conn()
    overview = lookup.territories_overview(conn, _region())
    typed = request.args.get("commune", "").strip()[:200]
    picked = request.args.get("code", "").strip()[:10] or None
    search = None
    if typed or picked:
        search = lookup.territory_search(
            conn, typed or picked or "", picked, _region(), current_app.config["NATIONAL_FINDER_URL"]
        )
    deps = {d["code"]: d["nom"] for d in lookup.departements(conn)}
    named = {
        key: [{**r, "departement_nom": deps.get(r["departement"], r["departement"])} for r in overview[key]]
        for key in ("region", "autres")
    }
    return render_template(
        "territoires.html",
        territoires=named["region"],
        autres=named["autres"],
        apercu=overview,
        tiles=maps.tiles_data(maps.tile_layer(current_app.config)),
        recherche=search,
        saisie=typed or picked or "",
    )
