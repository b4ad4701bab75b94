"""`python -m locator.maps [--output DIR]`: render every map skeleton into static files (`make install`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .skeletons import build


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Écrit les cartes (squelettes folium) en fichiers statiques."
    )
    parser.add_argument("--output", type=Path, default=None, help="dossier (défaut : web/static/cartes)")
    args = parser.parse_args()
    start = time.perf_counter()
    manifest = build(output=args.output)
    kinds = [k for k in manifest if k != "folium"]
    print(f"{len(kinds)} cartes écrites en {time.perf_counter() - start:.2f} s : {', '.join(kinds)}")


if __name__ == "__main__":
    main()
