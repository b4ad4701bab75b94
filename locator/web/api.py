"""JSON API v1: thin routes over locator.lookup; every error is JSON with a French message."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, current_app, jsonify, render_template, request, send_file, url_for

from .. import lookup
from ..geo import codes
from ..publish import gpkg, serializers
from ..store import db as store_db
from . import formatting, params
from .openapi import endpoints, spec
from .params import ApiError
from .store import get_conn

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Structures whose name matches, offered by the search box under their own heading.
STRUCTURE_SUGGESTIONS = 5


def _credits() -> dict[str, str]:
    return {
        "attribution": current_app.config["ATTRIBUTION"],
        "licence": current_app.config["LICENCE"],
    }


# CORS: the public API is open data, read from any site (a lycée's page, a town hall's) like
# geo.api.gouv.fr; no cookie is ever sent or honoured cross-origin. Pages and /admin get nothing.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Type, If-None-Match",
    "Access-Control-Expose-Headers": "ETag, Retry-After",
    "Access-Control-Max-Age": "86400",
}


@bp.after_app_request
def _cors(response):
    """Let other sites' pages call the API from the browser (GET and the OPTIONS preflight)."""
    if request.path.startswith(bp.url_prefix + "/") and request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers.update(CORS_HEADERS)
    return response


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return jsonify({"erreur": err.message}), err.status


@bp.before_request
def _bounded_query():
    """Refuse an oversized query string before any route parses it."""
    config = current_app.config
    params.check_query(request.query_string, config["QUERY_MAX_BYTES"], config["QUERY_MAX_FIELDS"])


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(spec())


@bp.get("/")
def index():
    """The API's endpoints, read from its OpenAPI description: a page for a browser, JSON for a client."""
    listed = endpoints(spec())
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return render_template("api.html", endpoints=listed)
    return jsonify(
        {
            "endpoints": listed,
            "openapi": url_for("api.openapi"),
            "documentation": url_for("api.docs"),
            **_credits(),
        }
    )


@bp.get("/docs")
def docs():
    """The OpenAPI description in a readable page (Swagger UI, served by the app, started by a file)."""
    return render_template("api_docs.html")


def _resolved(conn, default_limit: int, missing: str) -> list[dict[str, Any]]:
    """Resolve the request's `q` (400 saying `missing` without it) to places, best first, up to `limit`."""
    q = params.text(request.args, "q")
    if q is None:
        raise ApiError(missing)
    limit = params.limit(request.args, default_limit, current_app.config["MAX_LIMIT"])
    return lookup.resolve(conn, q, limit=limit, region=current_app.config["REGION"])


@bp.get("/communes")
def communes():
    """Communes matching a text, best first (names, postcodes, INSEE codes, former communes)."""
    conn = get_conn()
    results = []
    for place in _resolved(
        conn, 10, "Le paramètre q (nom, code postal ou code INSEE de la commune) est obligatoire."
    ):
        commune = place.get("commune")
        if place["type"] == "departement" or commune is None:
            continue
        info = lookup.commune_info(conn, commune["code"]) or commune
        results.append(serializers.commune({**info, "match": place["match"], "note": place.get("note")}))
    return jsonify({"results": results, **_credits()})


@bp.get("/lieux")
def places():
    """Places for the search box: communes, départements and points, best first."""
    conn = get_conn()
    results = []
    for place in _resolved(conn, 8, "Le paramètre q est obligatoire."):
        item: dict[str, Any] = {"type": place["type"], "match": place["match"], "note": place.get("note")}
        if place["type"] == "departement":
            item.update(code=place["code"], nom=place["nom"])
        elif place["type"] == "point":
            item.update(latitude=place["latitude"], longitude=place["longitude"])
            if place.get("commune"):
                item["commune"] = serializers.commune(place["commune"])
        else:
            info = lookup.commune_info(conn, place["code"]) or place["commune"]
            item.update(serializers.commune(info))
            item["type"] = "commune"
        results.append(item)
    structures = [
        {
            "id": s["id"],
            "nom": s["nom"],
            "type": s["type"],
            "type_libelle": formatting.type_label(s["type"]),
            "code_postal": s["code_postal"],
            "commune": s["commune"],
            "url": url_for("views.structure", structure_id=s["id"]),
        }
        for s in lookup.structures_named(conn, request.args["q"], limit=STRUCTURE_SUGGESTIONS)
    ]
    return jsonify({"results": results, "structures": structures, **_credits()})


def _commune_or_404(code: str, full: bool = True) -> dict[str, Any]:
    """Return the commune of an INSEE code (full: with postcodes and former communes), else 400/404."""
    code = code.strip().upper()
    if not codes.is_insee_code(code):
        raise ApiError(f"« {code[:20]} » n’est pas un code INSEE de commune (5 caractères).", 400)
    info = (lookup.commune_info if full else lookup.commune_centre)(get_conn(), code)
    if info is None:
        raise ApiError(f"Aucune commune n’a le code INSEE {code}.", 404)
    return info


@bp.get("/communes/<code>")
def commune(code: str):
    """One commune by INSEE code (a former commune's code gives the current commune)."""
    return jsonify({**serializers.commune(_commune_or_404(code)), **_credits()})


@bp.get("/communes/<code>/mission-locale")
def mission_locale(code: str):
    """The Mission locale competent for a commune, how it was chosen, and its nearest reception point."""
    info = _commune_or_404(code)
    config = current_app.config
    answer = lookup.two_level(
        get_conn(),
        info["ancienne"]["code"] if info.get("ancienne") else info["code"],
        region=config["REGION"],
        finder_url=config["NATIONAL_FINDER_URL"],
        far_km=config["FAR_KM_BY_TYPE"],
    )
    ml = answer["mission_locale"]
    point = answer.get("point_accueil")
    return jsonify(
        {
            "commune": serializers.commune(answer["commune"]),
            "mission_locale": serializers.structure(ml, answer["distance_km"]) if ml else None,
            "methode": answer["methode"],
            "raison": answer["raison"],
            **({"liste": answer["liste"]} if "liste" in answer else {}),
            "mission_locale_hors_region": bool(answer.get("mission_locale_hors_region")),
            **({"annuaire_national": answer["annuaire_national"]} if "annuaire_national" in answer else {}),
            "missions_locales": [
                serializers.structure(s, s.get("distance_km")) for s in answer["missions_locales"]
            ],
            "point_accueil": (
                {
                    "structure": serializers.structure(point["structure"], point["distance_km"]),
                    "raison": point["raison"],
                }
                if point
                else None
            ),
            "autres": [
                {
                    "type": a["type"],
                    "structure": serializers.structure(a["structure"], a["distance_km"]),
                    "distance_km": a["distance_km"],
                    "loin_km": a["loin_km"],
                    "raison": a["raison"],
                }
                for a in answer["autres"]
            ],
            **_credits(),
        }
    )


def _structures_query(
    default_limit: int, everything: bool = False
) -> tuple[list[tuple[dict[str, Any], float | None]], dict[str, Any] | None]:
    """Apply the shared filters of /structures and /structures.geojson; return pairs and the place.

    Without a place, `everything` returns (None, None): every published structure (GeoJSON), which
    the caller keeps; else it is an error.
    """
    args = request.args
    types = params.types(args)
    config = current_app.config
    limit = params.limit(args, default_limit, config["MAX_LIMIT"])
    rayon = params.number(args, "rayon_km", 0.001, 20000)
    point = params.point(args)
    commune_code = params.text(args, "commune", 10)
    departement = params.text(args, "departement", 3)
    q = params.text(args, "q")
    given = [
        n
        for n, v in (("commune", commune_code), ("lat/lon", point), ("departement", departement), ("q", q))
        if v is not None
    ]
    if len(given) > 1:
        raise ApiError(f"Un seul critère de lieu à la fois (reçus : {', '.join(given)}).")
    conn = get_conn()
    if commune_code is not None:
        info = _commune_or_404(commune_code, full=False)
        return _near(conn, info["latitude"], info["longitude"], types, limit, rayon), {
            "type": "commune",
            **serializers.commune(info),
        }
    if point is not None:
        return _near(conn, point[0], point[1], types, limit, rayon), {
            "type": "point",
            "latitude": point[0],
            "longitude": point[1],
        }
    if departement is not None:
        return _departement(conn, departement, types, limit)
    if q is not None:
        places = lookup.resolve(conn, q, limit=1, region=config["REGION"])
        if places and places[0]["type"] == "departement":
            return _departement(conn, places[0]["code"], types, limit)
        if places and places[0]["type"] == "point":
            p = places[0]
            return _near(conn, p["latitude"], p["longitude"], types, limit, rayon), {
                "type": "point",
                "latitude": p["latitude"],
                "longitude": p["longitude"],
            }
        if places:
            c = lookup.commune_info(conn, places[0]["code"]) or places[0]["commune"]
            return _near(conn, c["latitude"], c["longitude"], types, limit, rayon), {
                "type": "commune",
                **serializers.commune(c),
            }
        words = q.split()[:6]
        return [(s, None) for s in lookup.by_name(conn, words, types, limit)], None
    if everything:
        return None, None  # every published structure (of `types`): the caller builds and keeps it
    raise ApiError("Précisez un lieu : commune=CODE, lat=…&lon=…, departement=DD ou q=TEXTE.")


def _near(conn, lat, lon, types, limit, rayon):
    if lat is None or lon is None:
        raise ApiError("La position de ce lieu est inconnue.", 404)
    return lookup.nearest(conn, lat, lon, types=types, limit=limit, rayon_km=rayon)


def _departement(conn, code, types, limit):
    dep = codes.normalize_departement(code)
    info = lookup.departement_info(conn, dep) if dep else None
    if info is None:
        raise ApiError(f"Département inconnu : « {code[:10]} ».", 404 if dep else 400)
    pairs = [(s, None) for s in lookup.in_departement(conn, dep, types, limit)]
    return pairs, {"type": "departement", "code": info["code"], "nom": info["nom"]}


@bp.get("/structures")
def structures():
    """Structures near a commune, a point, in a département or matching a text; nearest first."""
    pairs, centre = _structures_query(current_app.config["DEFAULT_LIMIT"])
    return jsonify(
        {
            "results": [serializers.structure(s, d) for s, d in pairs],
            "lieu": centre,
            **_credits(),
        }
    )


class _Directory(threading.local):
    """The GeoJSON of every published structure, per types asked, kept per thread until the store
    changes: the home page's map asks for it on every visit, and it costs what the directory holds."""

    def __init__(self) -> None:
        self.version: Any = None
        self.bodies: dict[tuple[str, ...], bytes] = {}


# Type lists kept per thread (every subset could be asked: 2⁹); the whole directory is one of them.
DIRECTORY_KEPT = 16


def _directory_geojson(types: list[str] | None) -> bytes:
    """Every published structure (of these types) as GeoJSON bytes, built once per store version."""
    local = current_app.extensions.get("locator_directory")
    if local is None:
        local = current_app.extensions.setdefault("locator_directory", _Directory())
    version = store_db.version(get_conn())
    if local.version != version:
        local.version, local.bodies = version, {}
    key = tuple(sorted(types or ()))
    body = local.bodies.get(key)
    if body is None:
        pairs = [(s, None) for s in lookup.published(get_conn(), types)]
        body = orjson.dumps(serializers.feature_collection(pairs, **_credits()))
        if len(local.bodies) >= DIRECTORY_KEPT:
            local.bodies.pop(next(iter(local.bodies)))
        local.bodies[key] = body
    return body


@bp.get("/structures.geojson")
def structures_geojson():
    """The same structures as GeoJSON (no filter: every published structure, kept per store version)."""
    pairs, _centre = _structures_query(current_app.config["MAX_LIMIT"], everything=True)
    if pairs is None:
        return current_app.response_class(
            _directory_geojson(params.types(request.args)), mimetype="application/geo+json"
        )
    body = serializers.feature_collection(pairs, **_credits())
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    return response


class _Fingerprints(threading.local):
    """Each layer's fingerprint, kept per thread until the store changes (hashing reads every row)."""

    def __init__(self) -> None:
        self.version: Any = None
        self.by_layer: dict[str, str] = {}


def _fingerprint(layer: str) -> str:
    local = current_app.extensions.setdefault("locator_gpkg", _Fingerprints())
    version = store_db.version(get_conn())
    if local.version != version:
        local.version, local.by_layer = version, {}
    if layer not in local.by_layer:
        local.by_layer[layer] = gpkg.fingerprint(get_conn(), layer)
    return local.by_layer[layer]


def _geopackage(layer: str):
    """One layer as a GeoPackage file, written by a child process and kept until the store changes."""
    config = current_app.config
    try:
        directory = config["EXPORT_CACHE_DIR"] or Path(config["DB"]).parent / "exports"
        path = gpkg.cached(config["DB"], layer, directory, config["EXPORT_TIMEOUT"], _fingerprint(layer))
    except (gpkg.ExportFailed, OSError) as err:
        current_app.logger.error("export GeoPackage %s impossible : %s", layer, err)
        raise ApiError(
            "Le fichier GeoPackage n’a pas pu être préparé ; réessayez dans quelques minutes.", 503
        ) from None
    # The file's name carries the store content's fingerprint: it is its ETag.
    response = send_file(
        path,
        mimetype="application/geopackage+sqlite3",
        as_attachment=True,
        download_name=f"{layer}.gpkg",
        etag=path.stem,
        conditional=True,
        max_age=config["API_MAX_AGE"],
    )
    return response


@bp.get("/structures.gpkg")
def structures_gpkg():
    """Every published structure as a GeoPackage (layer structures, Points in EPSG:4326)."""
    return _geopackage("structures")


@bp.get("/territoires.gpkg")
def territories_gpkg():
    """Every published Mission locale's territory as a GeoPackage (layer territoires, EPSG:4326)."""
    return _geopackage("territoires")


@bp.get("/structures/<structure_id>")
def structure(structure_id: str):
    """One published structure by id, with its reception points."""
    conn = get_conn()
    s = lookup.structure(conn, structure_id[:120])
    if s is None:
        raise ApiError(f"Aucune structure publiée n’a l’identifiant « {structure_id[:80]} ».", 404)
    out = serializers.structure(s)
    out["points_accueil"] = [serializers.structure(c) for c in lookup.reception_points(conn, s["id"])]
    return jsonify({**out, **_credits()})


def _territory_feature(
    ml: dict[str, Any], t: dict[str, Any], origin: dict[str, Any], outside: bool
) -> dict[str, Any]:
    """A territory as a Feature: its outline, counts, and where it comes from (official list or inferred)."""
    return {
        "type": "Feature",
        "geometry": json.loads(t["geometrie"]) if t["geometrie"] else None,
        "properties": {
            "id": ml["id"],
            "nom": ml["nom"],
            "departement": ml["departement"],
            "communes": t["communes"],
            "population": t["population"],
            "par_couverture": t["par_couverture"],
            "par_territoire_probable": t["par_territoire_probable"],
            "methode": origin["methode"],
            "officiel": origin["officiel"],
            "source": origin["source"],
            "date": origin["date"],
            "hors_region": outside,
            # Where the map writes the name: inside the territory, clear of the other names.
            "etiquette": (
                {"latitude": t["etiquette_latitude"], "longitude": t["etiquette_longitude"]}
                if t.get("etiquette_latitude") is not None
                else None
            ),
        },
    }


def _geojson(body: dict[str, Any]):
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/structures/<structure_id>/territoire.geojson")
def territory(structure_id: str):
    """A Mission locale's territory: a Feature (MultiPolygon) with its communes, population and how
    many were given by a coverage list or by the probable-territory rule."""
    conn = get_conn()
    ml = lookup.structure(conn, structure_id[:120])
    if ml is None or ml["type"] != "mission_locale":
        raise ApiError(f"Aucune Mission locale publiée n’a l’identifiant « {structure_id[:80]} ».", 404)
    t = lookup.territory_of(conn, ml["id"])
    if t is None:
        raise ApiError("Le territoire de cette Mission locale n’est pas encore calculé.", 404)
    origin = lookup.territory_origin(conn, t)
    outside = lookup.outside_region(conn, ml, current_app.config["REGION"]) is not None
    return _geojson({**_territory_feature(ml, t, origin, outside), **_credits()})


@bp.get("/territoires.geojson")
def territories():
    """Every Mission locale's territory, as a FeatureCollection."""
    conn = get_conn()
    overview = lookup.territories_overview(conn, current_app.config["REGION"])
    mls = {s["id"]: s for s in lookup.published(conn, ["mission_locale"])}
    features = [
        _territory_feature(
            mls[r["structure_id"]],
            lookup.territory_of(conn, r["structure_id"]),
            r["origine"],
            r["hors_region"] is not None,
        )
        for r in overview["region"] + overview["autres"]
        if r["structure_id"] in mls
    ]
    return _geojson({"type": "FeatureCollection", "features": features, **_credits()})
