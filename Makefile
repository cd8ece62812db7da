# Two commands set up everything on a fresh machine: `make demo` and `make test`.
#   make demo   runtime package only (byte-compiled), then the offline demo run  (~90 s on an idle 2-core machine)
#   make test   adds the dev extras (pytest, playwright, ruff), then the test suite
# Every stage prints a line, so a piped or CI log shows where the time goes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev
# What `demo` needs installed first; the README tour test sets it empty to reuse its own interpreter.
INSTALL ?= $(RUNTIME)
# Extra flags for the demo run, e.g. DEMO_ARGS="--limit 300".
DEMO_ARGS ?=
# pytest-xdist workers for `make test` (tests sharing a demo run stay on one worker: tests/conftest.py).
TEST_WORKERS ?= 2

.PHONY: demo test bench install install-dev clean-venv

$(BIN)/python:
	@echo "==> [1/3] creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	@echo "==> [2/3] installing uv into $(VENV)"
	@$(BIN)/python -m pip install -q uv

$(RUNTIME): pyproject.toml | $(UV)
	@echo "==> [3/3] installing evalkit (runtime dependencies only, byte-compiled)"
	@$(UV) pip install -q --compile-bytecode --python $(BIN)/python -e .
	@# the editable source is not in site-packages: compile it too (machines with PYTHONDONTWRITEBYTECODE never do)
	@$(BIN)/python -m compileall -q src
	@touch $(RUNTIME)

$(DEV): $(RUNTIME)
	@echo "==> installing the dev extras (pytest, playwright, ruff)"
	@$(UV) pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@# netcal's metrics are pure numpy, but its package metadata pulls in torch (GBs): tests use only the metrics.
	@$(UV) pip install -q --python $(BIN)/python --no-deps 'netcal==1.4.0'
	@touch $(DEV)

install: $(RUNTIME)
install-dev: $(DEV)

# The main job, offline: run the demo suite with the simulated provider and write reports/<run-id>/report.html.
demo: $(INSTALL)
	@echo "==> demo: running suites/upgrades-demo.yaml offline (simulated models; about 60 s on an idle 2-core machine)"
	@$(BIN)/python -m compileall -q src  # sources changed since the install: compiled once, not on every start
	@EVALKIT_HOME=$${EVALKIT_HOME:-.evalkit} $(BIN)/evalkit run suites/upgrades-demo.yaml --fresh $(DEMO_ARGS)
	@echo "==> demo done. Reach the CLI with .venv/bin/evalkit, or: source .venv/bin/activate"

test: $(DEV)
	@echo "==> running the test suite on $(TEST_WORKERS) workers"
	@# the 15 slowest tests are listed at the end: the suite must stay near 10 minutes on 2 cores
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

bench: $(DEV)
	@$(BIN)/python -m compileall -q src  # timings of the current sources, not of compiling them
	@# every bench runs and prints its ratios; the target fails at the end if any bench missed or failed
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "missed or failed:$$failed"; exit 1; fi

clean-venv:
	rm -rf $(VENV)
