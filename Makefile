# credithub — `make run` serves a demo hub, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test lint format bench openapi clean

# The venv is rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(BIN)/.installed
	$(BIN)/credithub init-db
	@echo "--- demo admin token (try: curl -H \"Authorization: Bearer <token>\" http://$(HOST):$(PORT)/api/v1/entities/91230500MA1B3N1N2M)"
	@$(BIN)/credithub demo
	$(BIN)/credithub serve --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.installed
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

openapi: $(BIN)/.installed
	@CREDITHUB_INSTANCE=$$(mktemp -d) $(BIN)/python -c "import json; from credithub import create_app; \
	app = create_app(); print(json.dumps(app.extensions['credithub.api'].spec.to_dict(), ensure_ascii=False, indent=2))"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
