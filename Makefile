# The two commands a newcomer needs:   make run   (the NLP API on 127.0.0.1)   make test   (everything CI runs)
# Both bootstrap what they need from the project's own files: uv (pinned), the locked .venv, node tools.

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint typecheck pytest sync clean

run: $(VENV)/.synced
	$(PY) -m services

test: lint typecheck pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy .

# Exits non-zero on any failure, and also when no test was collected (pytest exit code 5).
pytest: $(VENV)/.synced node_modules/.installed
	$(VENV)/bin/pytest

sync: $(VENV)/.synced

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode at install: with PYTHONDONTWRITEBYTECODE set (as on our CI machines) every start of a
# service would otherwise compile FastAPI, pydantic and aiohttp from source (~0.7 s a start).
$(VENV)/.synced: pyproject.toml uv.lock $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --compile-bytecode
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) .tools node_modules .pytest_cache .mypy_cache .ruff_cache
