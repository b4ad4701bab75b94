"""Measure the search pages in Debian's headless chromium: weight before tiles, time to the answer.

Usage: .venv/bin/python scripts/bench_pages.py [--db instance/locator.sqlite] [--runs 5]
Starts `locator serve` on a free port; tiles are refused (they are not part of the budget).
"""

from __future__ import annotations

import argparse
import statistics
import time
from urllib.parse import urlsplit

from locator.testing import serve_in_background

QUERIES = ("Ambert", "Lyon 3e", "Annecy-le-Vieux")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="instance/locator.sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with serve_in_background(args.db, workers=2) as base:
        run(base, args.runs)


def local_only(route) -> None:
    """Let requests to 127.0.0.1 through; refuse the rest (tiles are outside the budget)."""
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def run(base: str, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for width, label in ((1280, "desktop"), (390, "phone 390 px")):
            for query in QUERIES:
                times, paints, weights = [], [], []
                for i in range(runs + 1):  # the first run warms the server's caches and is not counted
                    context = browser.new_context(viewport={"width": width, "height": 844})
                    weight = [0]

                    def count(response, weight=weight):
                        if urlsplit(response.url).hostname == "127.0.0.1":
                            weight[0] += len(response.body())

                    context.route("**/*", local_only)
                    page = context.new_page()
                    page.on("response", count)
                    start = time.perf_counter()
                    page.goto(f"{base}/recherche?q={query}")
                    page.locator(".bloc-ml h2").wait_for()
                    page.wait_for_selector("[data-carte][data-pret]", state="attached")
                    elapsed = time.perf_counter() - start
                    page.wait_for_load_state("networkidle")
                    # first contentful paint: the answer (server-rendered) is on screen
                    paint = page.evaluate(
                        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
                    )
                    if i:
                        times.append(elapsed * 1000)
                        paints.append(paint or float("nan"))
                        weights.append(weight[0])
                    context.close()
                print(
                    f"{label:13} {query:16} answer painted: median {statistics.median(paints):4.0f} ms; "
                    f"answer and map ready (fresh tab): median {statistics.median(times):4.0f} ms, "
                    f"max {max(times):4.0f} ms; HTML+JS+CSS {max(weights) / 1000:5.1f} kB before tiles"
                )
        browser.close()


if __name__ == "__main__":
    main()
