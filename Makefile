# carepath: the two commands every new user runs.
#   make demo   install into .venv and run the main job on the bundled data
#   make test   install into .venv (with the test extras) and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
FULL := $(VENV)/.installed-test

.PHONY: demo test install calibrate-demo benchmarks lint browser clean

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit("carepath needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(FULL): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[test,calibrate]"
	touch $@ $(BASE)

install: $(BASE)

demo: $(BASE)
	$(BIN)/carepath check pathways/thanet.yaml
	$(BIN)/carepath run pathways/thanet.yaml --reps 10 --jobs 0 --out results/demo-thanet

test: $(FULL) browser
	$(BIN)/python -m pytest

lint: $(FULL)
	$(BIN)/ruff check sim tests benchmarks data

benchmarks: $(FULL)
	$(BIN)/python benchmarks/engine.py

# Debian's chromium for the report's browser tests (skipped where it cannot be installed)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "chromium not found: browser tests will be skipped"; fi; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
