# flowops — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_DEPRECATED := quiet

.PHONY: demo test lint typecheck unit bench synth templates setup clean

$(UV):
	$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv==0.13.9

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

setup: $(STAMP) node_modules/.installed

demo: setup
	$(VENV)/bin/flowops demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: setup lint typecheck
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/pytest

synth: setup
	npx cdk synth --quiet

# The local templates the wheel ships (tests/packaging/test_templates.py says when they are stale).
templates: setup
	$(VENV)/bin/python scripts/synth_templates.py

bench: setup
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) .tools cdk.out .flowops node_modules
