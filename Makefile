# promptd: `make run` and `make test` are the README's two commands; the rest are helpers.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYSRC  := daemon lsp tests bench

.PHONY: run test lint format pytest docs docs-check bench clients clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## Start the daemon in the foreground on the offline engine (Ctrl-C stops it).
run: $(STAMP)
	$(VENV)/bin/promptd start --foreground

## Everything CI runs: lint, type check, generated docs current, the whole suite, the clients.
test: $(STAMP) lint docs-check clients pytest

# PYTEST_ARGS="-m 'not editor'" leaves out the real-VS-Code test (code-server + Chromium).
PYTEST_ARGS ?=
pytest: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# mypy resolves imports by folder, and the package promptd.daemon lives in daemon/: a tree of two
# links (build/typecheck/promptd/{daemon,lsp}) gives it the installed layout without copying.
TYPECHECK := build/typecheck/promptd

$(TYPECHECK):
	mkdir -p $(TYPECHECK)
	ln -sfn ../../../daemon $(TYPECHECK)/daemon
	ln -sfn ../../../lsp $(TYPECHECK)/lsp

lint: $(STAMP) $(TYPECHECK)
	$(VENV)/bin/ruff check $(PYSRC)
	$(VENV)/bin/ruff format --check $(PYSRC)
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(PYSRC)
	$(VENV)/bin/ruff format $(PYSRC)

## docs/rules.md is generated from the rule definitions; CI checks it is current.
docs: $(STAMP)
	$(PY) -m promptd.daemon.engine.rules_doc > docs/rules.md

docs-check: $(STAMP)
	$(PY) -m promptd.daemon.engine.rules_doc --check docs/rules.md

clients: $(STAMP)
	$(MAKE) -C clients/vscode test

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache clients/vscode/node_modules clients/vscode/dist
