"""The OpenAPI 3 description of /api/v1, written next to the routes it describes (tests compare them)."""

from __future__ import annotations

from typing import Any

from ..publish.serializers import COMMUNE_FIELDS
from ..store.schema import STRUCTURE_FIELDS, STRUCTURE_TYPES

_NUMBER_FIELDS = {"latitude", "longitude", "distance_km"}


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False, where: str = "query"):
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


_ERRORS = {
    "400": _json("#/components/schemas/Erreur", "Paramètre invalide"),
    "404": _json("#/components/schemas/Erreur", "Inconnu"),
    "429": _json("#/components/schemas/Erreur", "Trop de requêtes"),
}

_GPKG = {
    "description": "Fichier GeoPackage",
    "content": {"application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}}},
}

_FILTERS = [
    _param("commune", "Code INSEE de la commune (les plus proches de son centre)", {"type": "string"}),
    _param("lat", "Latitude WGS84 (avec lon)", {"type": "number", "minimum": -90, "maximum": 90}),
    _param("lon", "Longitude WGS84 (avec lat)", {"type": "number", "minimum": -180, "maximum": 180}),
    _param("departement", "Code du département", {"type": "string"}),
    _param(
        "q",
        "Texte libre : commune, code postal, département, « lat,lon » ou nom de structure",
        {"type": "string"},
    ),
    _param(
        "types",
        "Types séparés par des virgules (ou le paramètre répété), chacun compté une fois ; "
        "200 caractères au plus",
        {"type": "string", "maxLength": 200, "example": "mission_locale,cio"},
    ),
    _param("limit", "Nombre de résultats (1 à 100)", {"type": "integer", "minimum": 1, "maximum": 100}),
    _param("rayon_km", "Distance maximale en km", {"type": "number", "minimum": 0, "exclusiveMinimum": True}),
]


def spec() -> dict[str, Any]:
    """Return the OpenAPI document."""
    structure_props: dict[str, Any] = {
        f: {"type": "number" if f in _NUMBER_FIELDS else "string", "nullable": True} for f in STRUCTURE_FIELDS
    }
    structure_props["type"] = {"type": "string", "enum": list(STRUCTURE_TYPES)}
    structure_props["distance_km"] = {"type": "number", "description": "Distance à vol d’oiseau (km)"}
    commune_props: dict[str, Any] = {f: {"type": "string", "nullable": True} for f in COMMUNE_FIELDS}
    commune_props.update(
        latitude={"type": "number", "nullable": True},
        longitude={"type": "number", "nullable": True},
        population={"type": "integer", "nullable": True},
        codes_postaux={"type": "array", "items": {"type": "string"}},
    )
    credits = {"attribution": {"type": "string"}, "licence": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "locator — API des acteurs de la lutte contre le décrochage scolaire",
            "version": "1",
            "description": "Communes de France et structures d’Auvergne-Rhône-Alpes : recherche, "
            "structures les plus proches, Mission locale compétente. Distances à vol d’oiseau (km).",
        },
        "paths": {
            "/healthz": {"get": {"summary": "État du service", "responses": {"200": {"description": "OK"}}}},
            "/api/v1/openapi.json": {
                "get": {"summary": "Cette description", "responses": {"200": {"description": "OpenAPI 3"}}}
            },
            "/api/v1/": {
                "get": {
                    "summary": "La liste des adresses de l’API : une page pour un navigateur, du JSON sinon",
                    "responses": {
                        "200": {
                            "description": "Adresses de l’API",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/PointsAcces"}},
                                "text/html": {"schema": {"type": "string"}},
                            },
                        }
                    },
                }
            },
            "/api/v1/docs": {
                "get": {
                    "summary": "Cette description, lisible dans un navigateur",
                    "responses": {
                        "200": {
                            "description": "Page HTML",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/api/v1/communes": {
                "get": {
                    "summary": "Rechercher une commune",
                    "parameters": [
                        _param("q", "Nom, code postal ou code INSEE", {"type": "string"}, required=True),
                        _FILTERS[6],
                    ],
                    "responses": {"200": _json("#/components/schemas/Communes", "Communes"), **_ERRORS},
                }
            },
            "/api/v1/lieux": {
                "get": {
                    "summary": "Suggestions pour la recherche : communes, départements, coordonnées",
                    "parameters": [
                        _param("q", "Début du texte saisi", {"type": "string"}, required=True),
                        _FILTERS[6],
                    ],
                    "responses": {"200": {"description": "Lieux"}, **_ERRORS},
                }
            },
            "/api/v1/communes/{code}": {
                "get": {
                    "summary": "Une commune",
                    "parameters": [_param("code", "Code INSEE", {"type": "string"}, True, "path")],
                    "responses": {"200": _json("#/components/schemas/Commune", "Commune"), **_ERRORS},
                }
            },
            "/api/v1/communes/{code}/mission-locale": {
                "get": {
                    "summary": "La Mission locale compétente et son lieu d’accueil le plus proche",
                    "parameters": [_param("code", "Code INSEE", {"type": "string"}, True, "path")],
                    "responses": {"200": _json("#/components/schemas/MissionLocale", "Réponse"), **_ERRORS},
                }
            },
            "/api/v1/structures": {
                "get": {
                    "summary": "Structures autour d’un lieu (les plus proches d’abord)",
                    "parameters": _FILTERS,
                    "responses": {"200": _json("#/components/schemas/Structures", "Structures"), **_ERRORS},
                }
            },
            "/api/v1/structures.geojson": {
                "get": {
                    "summary": "Les mêmes structures en GeoJSON (sans filtre : toutes)",
                    "parameters": _FILTERS,
                    "responses": {
                        "200": {
                            "description": "FeatureCollection",
                            "content": {"application/geo+json": {"schema": {"type": "object"}}},
                        },
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/structures/{structure_id}": {
                "get": {
                    "summary": "Une structure",
                    "parameters": [_param("structure_id", "Identifiant", {"type": "string"}, True, "path")],
                    "responses": {"200": _json("#/components/schemas/Structure", "Structure"), **_ERRORS},
                }
            },
            "/api/v1/structures/{structure_id}/territoire.geojson": {
                "get": {
                    "summary": "Le territoire d’une Mission locale (Feature GeoJSON, MultiPolygon ; "
                    "propriétés : communes, population, par_couverture, par_territoire_probable, "
                    "methode (couverture, territoire_probable ou mixte), officiel, source, date, "
                    "hors_region, etiquette : latitude et longitude où écrire son nom)",
                    "parameters": [_param("structure_id", "Identifiant", {"type": "string"}, True, "path")],
                    "responses": {"200": {"description": "Feature GeoJSON"}, **_ERRORS},
                }
            },
            "/api/v1/territoires.geojson": {
                "get": {
                    "summary": "Les territoires de toutes les Missions locales (FeatureCollection)",
                    "responses": {"200": {"description": "FeatureCollection GeoJSON"}},
                }
            },
            "/api/v1/structures.gpkg": {
                "get": {
                    "tags": ["Téléchargements"],
                    "summary": "Toutes les structures publiées au format GeoPackage",
                    "description": "Le fichier contient une couche « structures » : un point par structure "
                    "publiée, en WGS84 (EPSG:4326), avec les mêmes champs que l’API. Il est préparé à la "
                    "première demande après chaque modification de l’annuaire, puis servi tel quel.",
                    "responses": {
                        "200": _GPKG,
                        "503": _json("#/components/schemas/Erreur", "Fichier pas prêt"),
                    },
                }
            },
            "/api/v1/territoires.gpkg": {
                "get": {
                    "tags": ["Téléchargements"],
                    "summary": "Les territoires des Missions locales au format GeoPackage",
                    "description": "Le fichier contient une couche « territoires » : le contour de chaque "
                    "Mission locale publiée (MultiPolygon en WGS84, EPSG:4326), avec son nombre de "
                    "communes, sa population et la part venue d’une liste officielle.",
                    "responses": {
                        "200": _GPKG,
                        "503": _json("#/components/schemas/Erreur", "Fichier pas prêt"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Erreur": {
                    "type": "object",
                    "required": ["erreur"],
                    "properties": {"erreur": {"type": "string"}},
                },
                "Structure": {"type": "object", "properties": structure_props},
                "PointsAcces": {
                    "type": "object",
                    "properties": {
                        "endpoints": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "chemin": {"type": "string"},
                                    "methode": {"type": "string"},
                                    "resume": {"type": "string"},
                                    "parametres": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                        "openapi": {"type": "string"},
                        "documentation": {"type": "string"},
                        **credits,
                    },
                },
                "Commune": {"type": "object", "properties": commune_props},
                "Communes": {
                    "type": "object",
                    "properties": {
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Commune"}},
                        **credits,
                    },
                },
                "Structures": {
                    "type": "object",
                    "properties": {
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Structure"}},
                        "lieu": {"type": "object", "nullable": True},
                        **credits,
                    },
                },
                "MissionLocale": {
                    "type": "object",
                    "properties": {
                        "commune": {"$ref": "#/components/schemas/Commune"},
                        "mission_locale": {"$ref": "#/components/schemas/Structure", "nullable": True},
                        "methode": {
                            "type": "string",
                            "enum": ["couverture", "territoire_probable", "hors_region", "inconnue"],
                            "description": "couverture: the commune is in an imported coverage list "
                            "(several: all in missions_locales); territoire_probable: no list, inferred "
                            "per intercommunality from where the Missions locales receive (siège or "
                            "antenne; see raison); hors_region: outside the home région, no Mission locale "
                            "(see annuaire_national); inconnue: none known in the département, or no "
                            "position.",
                        },
                        "raison": {"type": "string", "description": "Why, in French."},
                        "liste": {
                            "type": "object",
                            "description": "couverture only: the list that names the commune: source, date "
                            "(ISO, first day of the list's month), officielle (true: the Missions locales "
                            "network's own list).",
                        },
                        "mission_locale_hors_region": {
                            "type": "boolean",
                            "description": "true when the Mission locale is seated outside the home région "
                            "(a Mission locale of another région covering this commune).",
                        },
                        "annuaire_national": {
                            "type": "string",
                            "description": "hors_region only: the national finder of Missions locales.",
                        },
                        "autres": {
                            "type": "array",
                            "description": "Nearest structure of each other type (cio, psad, e2c…); "
                            "loin_km is set when it lies beyond that distance, raison then says so.",
                            "items": {"type": "object"},
                        },
                        "missions_locales": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Structure"},
                        },
                        "point_accueil": {"type": "object", "nullable": True},
                        **credits,
                    },
                },
            }
        },
    }


def endpoints(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the endpoints an OpenAPI document describes, in its order: chemin, methode, resume and
    parametres (names, the required ones first)."""
    out = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            out.append(
                {
                    "chemin": path,
                    "methode": method.upper(),
                    "resume": operation.get("summary", ""),
                    "parametres": [p["name"] for p in parameters if p.get("required")]
                    + [p["name"] for p in parameters if not p.get("required")],
                }
            )
    return out
