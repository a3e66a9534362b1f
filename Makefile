# One entry point for people and CI alike: install, demo, test, lint, bench.
VENV ?= .venv
PY := $(VENV)/bin/python
DEBIAN_PACKAGES := chromium nginx-light wrk poppler-utils libvips42 faketime redis-server redis-tools libnginx-mod-nchan pushpin prometheus
PYTEST_ARGS ?=
# The built viewer lives inside the app package, so wheels carry it as package data.
VIEWER_DIST := seatmap_app/viewer_dist
VIEWER_STAMP := viewer/node_modules/.built

.PHONY: install viewer dist system-deps demo test lint bench clean

install: $(VENV)/.installed $(VIEWER_STAMP)

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[embedded,dev]'
	touch $@

viewer/node_modules/.installed: viewer/package.json viewer/package-lock.json
	cd viewer && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Rebuilt from scratch whenever a source changes, so no stale chunk is left behind.
$(VIEWER_STAMP): viewer/node_modules/.installed viewer/package.json $(wildcard viewer/src/*)
	rm -rf $(VIEWER_DIST)
	cd viewer && npm run build
	touch $@

viewer: $(VIEWER_STAMP)

# An sdist and a wheel in dist/; the wheel is built from the sdist, so both carry the same files.
dist: $(VENV)/.installed $(VIEWER_STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .

# Debian packages the browser tests and benchmarks use (Chromium, nginx, wrk, pdftotext,
# redis-server + redis-cli for the Redis Cluster the tests start).
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install
	$(VENV)/bin/seatmap demo

test: install system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check seatmap httpkit tileserver lockservice seatmap_app tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install system-deps
	$(PY) benchmarks/tiles.py
	$(PY) benchmarks/holds.py
	$(PY) benchmarks/holds_cluster.py
	$(PY) benchmarks/viewer.py
	$(PY) benchmarks/onsale.py

clean:
	rm -rf $(VENV) viewer/node_modules $(VIEWER_DIST) dist build data artifacts
