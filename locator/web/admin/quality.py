"""The data-quality dashboard: lists, a map, and a formula-safe CSV export of each list."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, jsonify, render_template

from ...admin import quality
from ...publish import spreadsheet
from ..store import get_conn
from . import bp, tile_settings

# How many rows each folded list shows on the page (the CSV export has them all).
PAGE_ROWS = 50


def _run() -> dict[str, list[dict]]:
    cfg = current_app.config
    return quality.run(get_conn(), cfg["REGION"], date.today(), int(cfg["STALE_MONTHS"]))


@bp.get("/qualite")
def quality_page():
    """The counts of every check first, the map, then each list folded (its first rows; all in the CSV)."""
    results = _run()
    for key in quality.COMMUNE_CHECKS:  # the page shows the first rows: the most populous communes first
        results[key] = sorted(results[key], key=lambda c: -(c.get("population") or 0))
    return render_template(
        "admin/qualite.html",
        results=results,
        checks=quality.CHECKS,
        commune_checks=quality.COMMUNE_CHECKS,
        page_rows=PAGE_ROWS,
        tiles=tile_settings(),
    )


@bp.get("/qualite/<check>.csv")
def quality_csv(check: str):
    """One check's full list as CSV (UTF-8 with BOM, ';', cells that look like formulas neutralised)."""
    if check not in quality.CHECKS:
        abort(404)
    cfg = current_app.config
    rows = quality.run_one(get_conn(), check, cfg["REGION"], date.today(), int(cfg["STALE_MONTHS"]))
    body = spreadsheet.text(quality.COLUMNS[check], rows)
    filename = f"qualite-{check}-{date.today().isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _point(kind: str, row: dict, lat: float | None, lon: float | None) -> dict | None:
    if lat is None or lon is None:
        return None
    properties = {"controle": kind, "id": row.get("id") or row.get("code"), "nom": row["nom"]}
    if kind != "sans_liste":  # thousands of communes share one message: the page says it once
        properties["probleme"] = row["probleme"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": properties,
    }


@bp.get("/qualite/carte.json")
def quality_map():
    """The problems as GeoJSON points, one `controle` property per check (communes at their centre)."""
    features = []
    for kind, rows in _run().items():
        for row in rows:
            feature = _point(kind, row, row.get("latitude"), row.get("longitude"))
            if feature:
                features.append(feature)
    return jsonify({"type": "FeatureCollection", "features": features})
