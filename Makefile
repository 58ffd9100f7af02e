# Two commands (see README): `make run` serves the demo site, `make test` runs the whole test suite.
# Both create .venv with the machine's Python 3.11+, install the pinned requirements and are safe to repeat.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
SOURCES := accounts analytics api campaigns core demo drafts editions moderation ops outcomes suggestions search templates app.py
# Two processes, each taking whole test files (tests of one file share fixtures and, for some, one Redis
# database); `make test PYTEST_ARGS=...` replaces this, e.g. PYTEST_ARGS="tests/test_csrf.py" for one file.
PYTEST_ARGS ?= -n 2 --dist loadfile
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test install install-dev translations extract-messages db demo clean vendor

run: install translations db demo
	$(BIN)/gunicorn --bind $(HOST):$(PORT) 'app:create_app()'  # workers, threads, limits: gunicorn.conf.py

test: install-dev translations
	$(BIN)/pytest $(PYTEST_ARGS)

# The stamp is written only after the venv and pip work, so a failed attempt is retried next time.
$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.runtime: requirements.txt | $(VENV)/.created
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/.created
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

translations: install $(MO_FILES)

%.mo: %.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -i $< -o $@

# For developers: refresh the catalogue after changing UI strings, then translate the new entries.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--width 120 -o translations/messages.pot $(SOURCES)
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --width 120

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load --if-empty
	$(FLASK) accounts load-regions
	$(FLASK) moderation seed-words
	$(FLASK) search catch-up

clean:
	rm -rf $(VENV) .pytest_cache

# Front-end libraries come from npm and are committed under static/vendor/ with their licence files (no CDN:
# pages must work on closed networks). Run after changing a version here.
# axe-core is for the browser tests only (tests/browser/vendor/), never served.
ECHARTS_VERSION := 6.1.0
AXE_VERSION := 4.14.1
vendor:
	rm -rf .npm-vendor && mkdir -p .npm-vendor static/vendor/echarts tests/browser/vendor/axe-core
	npm install --silent --no-save --no-package-lock --prefix .npm-vendor echarts@$(ECHARTS_VERSION) \
		axe-core@$(AXE_VERSION)
	cp .npm-vendor/node_modules/axe-core/axe.min.js .npm-vendor/node_modules/axe-core/LICENSE* \
		tests/browser/vendor/axe-core/
	echo "axe-core $(AXE_VERSION) (npm), axe.min.js" > tests/browser/vendor/axe-core/VERSION
	cp .npm-vendor/node_modules/echarts/dist/echarts.common.min.js .npm-vendor/node_modules/echarts/LICENSE \
		.npm-vendor/node_modules/echarts/NOTICE static/vendor/echarts/
	cp -r .npm-vendor/node_modules/echarts/licenses static/vendor/echarts/
	echo "echarts $(ECHARTS_VERSION) (npm), dist/echarts.common.min.js: line, bar, pie and the common components" \
		> static/vendor/echarts/VERSION
	rm -rf .npm-vendor
