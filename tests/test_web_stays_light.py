"""A serving process never loads GeoPandas, pandas, pyogrio or folium, GeoPackage downloads included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "worker_memory.py"


@pytest.fixture(scope="session")
def built_store(small_built_store):
    """Four départements are enough: the fast tier."""
    return small_built_store


def test_serving_pages_api_and_geopackages_keeps_heavy_libraries_out_of_the_process(built_store, tmp_path):
    exports = tmp_path / "exports"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--db", str(built_store), "--exports", str(exports)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["statuts"].values()) == {200}, result["statuts"]
    assert not {"geopandas", "pandas", "pyogrio", "folium", "branca"} & set(result["modules_lourds"])
    # the files were written all the same, by a child process, and read back here
    (structures,) = exports.glob("structures-*.gpkg")
    (territories,) = exports.glob("territoires-*.gpkg")
    assert geopandas.read_file(structures).crs.to_epsg() == 4326
    assert len(geopandas.read_file(territories)) > 0
