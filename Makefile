# credithub — `make run` serves a demo hub, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test lint audit lint-audit format bench bench-scale openapi clean bytecode

# The venv is rebuilt when pyproject.toml changes. pip's output goes to a log, shown only
# when the installation fails.
INSTALL_LOG := $(VENV)/install.log
$(BIN)/.installed: pyproject.toml
	@echo "installing credithub into $(VENV) (a few minutes the first time; log: $(INSTALL_LOG))"
	@$(PYTHON) -m venv $(VENV)
	@( $(BIN)/python -m pip install --upgrade pip \
	  && $(BIN)/python -m pip install -e '.[dev]' ) > $(INSTALL_LOG) 2>&1 \
	  || { tail -n 40 $(INSTALL_LOG); echo "installation failed: see $(INSTALL_LOG)"; exit 1; }
	@touch $@

# The hub's own modules compiled ahead, as pip compiles the packages it installs: where
# PYTHONDONTWRITEBYTECODE is set, every process a command starts (a server and its workers, a
# sync run, each hub a test starts) would compile them again, about half a second a start.
# Quick when nothing changed; a module changed since is compiled afresh by Python as before.
bytecode: $(BIN)/.installed
	@$(BIN)/python -m compileall -q credithub connectors schemas

# The last lines before the server starts: the URL, the console login and the demo token.
run: bytecode
	@$(BIN)/credithub init-db
	@$(BIN)/credithub demo --url http://$(HOST):$(PORT)/
	@$(BIN)/credithub serve --host $(HOST) --port $(PORT)

test: bytecode
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	@$(MAKE) --no-print-directory lint-audit

# Known vulnerabilities in the installed packages (PyPI's advisories, per installed version); the
# hub itself (editable) is not on PyPI. `make lint` fails on a known vulnerability and lists every
# package it could not audit (an index without PyPI's advisory API, or no network) — read that
# list: those packages were NOT checked. `make audit` is strict: a package it could not audit
# fails it too.
AUDIT := $(BIN)/pip-audit --skip-editable --progress-spinner off
audit: $(BIN)/.installed
	@$(AUDIT) --strict || { echo "pip-audit failed: a known vulnerability above, or packages" \
	  "it could not audit (it reads PyPI's advisories per package version)"; exit 1; }

lint-audit: $(BIN)/.installed
	@$(AUDIT) || { echo "pip-audit found a known vulnerability above"; exit 1; }

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every bench but the scale one, which loads 10,000,000 records (about half an hour and 20 GB on
# PostgreSQL): `make bench-scale`, or bench/scale.py with its options (docs/performance.md).
bench: bytecode
	@for f in bench/*.py; do case $$f in bench/scale*.py) continue;; esac; \
	  echo "== $$f"; $(BIN)/python $$f || exit 1; done

bench-scale: bytecode
	$(BIN)/python bench/scale.py --keep

openapi: $(BIN)/.installed
	@CREDITHUB_INSTANCE=$$(mktemp -d) $(BIN)/python -c "import json; from credithub import create_app; \
	app = create_app(); print(json.dumps(app.extensions['credithub.api'].spec.to_dict(), ensure_ascii=False, indent=2))"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
