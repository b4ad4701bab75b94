"""Browser fixtures: Debian's headless chromium driven by Playwright against a real gunicorn server.

Every request that does not go to 127.0.0.1 is blocked and recorded; the map tiles come from a
local tile server (the TILE_URL setting), so a page that works here works offline.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from locator.store import db as store_db
from locator.store import structures as store_structures
from locator.testing import serve_in_background

CHROMIUM = "/usr/bin/chromium"
# Flags that work on this machine: no sandbox as root, no background calls to the outside.
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
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# HTML, template syntax (Jinja, JS template literals) and a quote: each must show as typed.
XSS_NAME = "<img src=x onerror=alert(1)> {{ 7*7 }} {% if 1 %}si{% endif %} ${7*7} l'accueil"
# What pages show of it: every character as typed, the elision written the French way (’).
XSS_SHOWN = XSS_NAME.replace("l'accueil", "l’accueil")
XSS_ID = "test-xss-63003"
AMBERT_ML = "mission-locale-du-livradois-forez-63003"
AMBERT_HOURS = "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _png(width: int = 256, height: int = 256) -> bytes:
    """Return a plain light-grey PNG tile."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xee\xee\xee" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class TileServer:
    """A tile server on 127.0.0.1 answering every path with a blank tile, counting the requests."""

    def __init__(self):
        tile = _png()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                server.requests.append(self.path)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(tile)))
                    self.end_headers()
                    self.wfile.write(tile)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the map moved on and the browser dropped this tile

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/tuiles/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def tile_server():
    server = TileServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def browser_store(built_store, tmp_path_factory) -> Path:
    """The session store plus what the pages must survive: a hostile name, and real opening hours."""
    path = tmp_path_factory.mktemp("browser-store") / "locator.sqlite"
    shutil.copyfile(built_store, path)
    db = store_db.writer(path)
    conn = db.conn
    ambert = store_structures.get(conn, AMBERT_ML)
    hostile = {
        **ambert,
        "id": XSS_ID,
        "type": "cio",
        "nom": XSS_NAME,
        "adresse": "<script>alert(2)</script> 1 rue du Test",
        "site_web": "javascript:alert(3)",
        "latitude": 45.5462,
        "longitude": 3.7441,
        "horaires_accueil": None,
    }
    ambert["horaires_accueil"] = AMBERT_HOURS
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with db.conn:
        store_structures.upsert(db, [ambert, hostile], now)
    db.conn.close()
    return path


@pytest.fixture(scope="session")
def site(browser_store, tile_server):
    """Base URL of a real gunicorn server on the browser store, tiles from the local tile server."""
    with serve_in_background(browser_store, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """What a browser context did that a test may need to check: outside requests, dialogs, JS errors."""

    def __init__(self):
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []  # Content-Security-Policy violations (events and console errors)


# Every page reports its CSP violations to the test (the `securitypolicyviolation` event).
_CSP_WATCH = """document.addEventListener('securitypolicyviolation', (e) =>
    window.__locatorCsp && window.__locatorCsp(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"""


def open_context(browser, viewport=None, **options):
    """Return (context, watch): every request not for 127.0.0.1 is aborted and recorded."""
    watch = Watch()
    context = browser.new_context(viewport=viewport or DESKTOP, locale="fr-FR", **options)
    # Playwright's waits (for an element, a URL, a condition) end on the condition: 60 s is a safety net
    # for a busy machine, never what a test waits for.
    context.set_default_timeout(60_000)

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:", "file:")) or host == "127.0.0.1":
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    context.expose_function("__locatorCsp", lambda text: watch.csp.append(text))
    context.add_init_script(_CSP_WATCH)

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            watch.csp.append(message.text)

    def on_page(page):
        page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: watch.errors.append(str(e)))
        page.on("console", on_console)

    context.on("page", on_page)
    return context, watch


@pytest.fixture
def desktop(browser):
    context, watch = open_context(browser)
    page = context.new_page()
    yield page, watch
    context.close()


@pytest.fixture
def phone(browser):
    context, watch = open_context(
        browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    yield page, watch
    context.close()


def map_ready(page) -> None:
    """Wait until the page's map script has run (and, on the région map, the points are loaded)."""
    page.wait_for_selector("[data-carte][data-pret]", state="attached")


# A Leaflet map at rest: no zoom or pan animation, no markercluster animation, and the same view and
# size over two animation frames (polled at each frame), so positions read next are final.
_SETTLED = """(name) => {
    const map = window[name];
    if (!map) { return false; }
    const pane = map.getPane('mapPane');
    const moving = ['leaflet-zoom-anim', 'leaflet-pan-anim', 'leaflet-cluster-anim']
        .some(c => pane.classList.contains(c));
    const c = map.getCenter(), size = map.getSize();
    const view = [c.lat, c.lng, map.getZoom(), size.x, size.y].join();
    const same = window.vueAuRepos === view;
    window.vueAuRepos = view;
    return !moving && same && size.x > 0 && size.y > 0;
}"""


def map_settled(page) -> None:
    """Wait until the page's map has stopped moving (after a click that shows, fits or zooms it)."""
    name = page.get_attribute("[data-carte]", "data-carte")
    page.wait_for_function(_SETTLED, arg=name, polling="raf")


def suggestions_for(page, typed: str):
    """Wait until the suggestion list answers `typed` (not an earlier, shorter text); return the list."""
    listbox = page.locator(f'[role="listbox"][data-requete="{typed}"]')
    listbox.wait_for(state="attached")
    return listbox


def run_axe(page) -> list[dict]:
    """Run axe-core (WCAG 2.1 A/AA rules) in the page; return the serious and critical violations."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


# -- the admin's journeys: a real server with one admin account, logged in, a file analysed ------------
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.fr", "un-mot-de-passe-admin-solide"


@pytest.fixture
def admin_site(built_store, tmp_path, tile_server):
    """A real server on a private copy of the test's store, with one admin account; local tiles."""
    from locator.admin import accounts
    from locator.store import authdb

    db = tmp_path / "locator.sqlite"
    shutil.copyfile(built_store, db)
    accounts.add_user(authdb.location(db), ADMIN_EMAIL, "admin", ADMIN_PASSWORD)
    with serve_in_background(db, env={"LOCATOR_TILE_URL": tile_server.url}) as base:
        yield base


def log_in(page, base: str, then: str = "/admin/import") -> None:
    """Open `then` as the admin: the login form first, then back to the page asked for."""
    page.goto(base + then)
    assert page.url.startswith(base + "/admin/login")  # an admin page asks who you are first
    page.get_by_label("Adresse électronique").fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + then)


def analyse(page, base: str, path: Path) -> str:
    """Send a file to the import wizard and wait for its preview; return the preview's address."""
    import re

    page.goto(base + "/admin/import")
    page.get_by_label(re.compile("Fichier CSV")).set_input_files(str(path))
    page.get_by_role("button", name="Analyser le fichier").click()
    page.wait_for_url(re.compile(r".*/admin/import/[^/]+$"))
    return page.url
