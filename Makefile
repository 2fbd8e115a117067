# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app intake
DEBIAN_PACKAGES := chromium poppler-utils libreoffice-calc-nogui fonts-dejavu-core wrk sqlite3

.PHONY: run test lint load bench clean-venv system-packages translations wheel mailbox

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[run]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Compiled message catalogs are build products: made from the .po files we keep in git.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard intake/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing patient wording: merge new strings into each catalog, then translate them.
translations: $(VENV)/.installed
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d intake/translations --no-fuzzy-matching --ignore-obsolete

# The wheel to ship to a server, in build/dist/ beside its source archive: built from that
# archive, so nothing a previous build left in build/ gets in; the catalogs compiled into it.
wheel: $(VENV)/.installed-test
	$(BIN)/python -m build --no-isolation --outdir build/dist .

# Pinned in package-lock.json: axe-core, injected into pages by the accessibility tests, and
# LHC-Forms, which renders the exported Questionnaires as a FHIR client does. Only LHC-Forms'
# built files are loaded; the Angular packages it lists (what it was built from) each want one
# exact Angular release as a peer, which npm's resolver never settles: peers are left alone.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --legacy-peer-deps --no-audit --no-fund
	touch $@

# The web server and a job consumer together (Procfile); Ctrl-C stops both.
run: $(VENV)/.installed $(CATALOGS)
	$(FLASK) init-db
	$(FLASK) setup-link --base-url http://127.0.0.1:5000
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

# A mail server on 127.0.0.1:8025 that prints every email it receives, to try the emails
# on one machine: serve with INTAKE_MAIL_SERVER=127.0.0.1 INTAKE_MAIL_PORT=8025 (README).
mailbox: $(VENV)/.installed-test
	$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025

# Debian packages the suite drives: Chromium (browser tests), poppler (PDF to text and
# images), LibreOffice Calc (opening exports as a spreadsheet would), DejaVu (PDF font);
# for `make bench`, wrk (the load) and sqlite3 (the export baseline).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-calc-nogui"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v sqlite3 >/dev/null || missing="$$missing sqlite3"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "The test suite needs these Debian packages:$$missing"; \
	    echo "Install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

test: $(VENV)/.installed-test system-packages node_modules/.installed $(CATALOGS)
	$(BIN)/python -m pytest

# The zero-loss run at full size: 64 patients through gunicorn, with a SIGKILL mid-load.
load: $(VENV)/.installed-test $(CATALOGS)
	cd tests && ../$(BIN)/python -m support.loadrun --patients 64 --submissions 256

lint: $(VENV)/.installed-test
	$(BIN)/ruff check intake tests

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# Benchmarks print a Markdown table and write it, as JSON too, to bench/results/.
# BENCH_FULL=1 runs the full sizes.
bench: $(VENV)/.installed-bench system-packages $(CATALOGS)
	$(BIN)/python bench/run.py $(if $(BENCH_FULL),--full)
