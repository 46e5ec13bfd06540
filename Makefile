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

# Thanet's board question: step-up beds against rapid response nurses, every
# scenario paired with the no-community-service baseline; then the board report.
demo: $(BASE)
	$(BIN)/carepath check pathways/thanet.yaml
	$(BIN)/carepath sweep experiments/thanet_beds_staff.yaml
	$(BIN)/carepath report results/thanet_beds_staff --animate
	@echo "The board report: $(CURDIR)/results/thanet_beds_staff/report.html"

test: $(FULL) browser
	$(BIN)/python -m pytest

lint: $(FULL)
	$(BIN)/ruff check sim tests benchmarks data

calibrate-demo: $(FULL)
	$(BIN)/carepath calibrate outputs calibration --out results/calibration-demo --jobs 0

benchmarks: $(FULL)
	for script in benchmarks/engine.py benchmarks/sweep.py benchmarks/report.py benchmarks/west_kent.py benchmarks/calibration.py; do \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

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
