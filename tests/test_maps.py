"""Folium maps built for our templates: our own assets, escaped data, no CDN."""

from __future__ import annotations

import re

from locator import config, maps

HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>${alert(3)}`"


def _static(path: str) -> str:
    return "/static/" + path


def _build(**settings):
    tiles = maps.tile_layer(config.load(settings))
    pins = [
        maps.Pin("a", HOSTILE, "cio", 45.55, 3.74, 1),
        maps.Pin("b", "Mission locale du Livradois-Forez", "mission_locale", 45.5506, 3.7381, 2),
    ]
    return maps.build(pins, _static, tiles, place=(45.549, 3.742, "Ambert"))


def test_every_script_and_stylesheet_is_served_by_the_app():
    parts = _build()
    sources = re.findall(r'(?:src|href)="([^"]+)"', parts.header)
    assert sources
    assert all(s.startswith("/static/vendor/") for s in sources)
    assert "user-scalable" not in parts.header + parts.html


def test_the_only_outside_address_loaded_is_the_tile_template():
    parts = _build()
    html = parts.header + parts.html + parts.script
    urls = set(re.findall(r"https?://[^\s\"'\\]+", html))
    # the tile template, and the copyright link inside the attribution (a link, not a request)
    assert urls == {
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://www.openstreetmap.org/copyright",
    }


def test_plan_ign_and_a_local_tile_url_are_settings():
    assert "GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in _build(TILES="plan_ign").script
    local = "http://127.0.0.1:9/tuiles/{z}/{x}/{y}.png"
    assert local in _build(TILE_URL=local).script
    assert maps.tile_origin(local) == "http://127.0.0.1:9"


def test_names_cannot_break_out_of_the_script():
    script = _build().script
    assert "<img" not in script and "</script>" not in script.lower() and "<script" not in script.lower()
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in script


def test_pins_are_clustered_numbered_and_named_and_the_view_fits_them():
    parts = _build()
    assert "L.markerClusterGroup" in parts.script
    assert parts.script.count(f".addTo({parts.cluster_name})") == 2
    assert '"title": "2. Mission locale du Livradois-Forez"' in parts.script
    assert '"structureId": "b"' in parts.script
    assert "Lieu recherch\\u00e9 : Ambert" in parts.script or "Lieu recherché : Ambert" in parts.script
    assert "fitBounds" in parts.script
