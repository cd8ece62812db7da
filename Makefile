# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean-venv docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	# the editable source is not in site-packages: compile it too (machines with PYTHONDONTWRITEBYTECODE never do)
	$(BIN)/python -m compileall -q src
	# netcal's metrics are pure numpy, but its package metadata pulls in torch (GBs): tests use only the metrics.
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps 'netcal==1.4.0'
	@touch $(STAMP)

install: $(STAMP)

# The main job, offline: run the demo suite with the simulated provider and write reports/<run-id>/report.html.
demo: $(STAMP)
	EVALKIT_HOME=$${EVALKIT_HOME:-.evalkit} $(BIN)/evalkit run suites/upgrades-demo.yaml --fresh

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
