# volmargin: `make demo` (deploy + replay the March 2020 crash on the embedded
# chain) and `make test` set everything up on a fresh clone: a Python venv
# with the exact pins of pyproject.toml, and anvil from the npm registry.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml package.json | sha1sum | cut -c1-12)
# ape-vyper uses the pip-installed vyper only when the venv's bin is on PATH;
# ape-foundry finds anvil on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Ape 0.8's settings model warns about itself at every start; the warning is not ours.
export PYTHONWARNINGS := ignore:Field 'import_remapping' has an incomplete definition
EPISODE ?= eth-2020-03
OUT ?= reports/$(EPISODE)
FOUNDRY := --network ethereum:local:foundry

.PHONY: setup demo test gas bench compile clean deep

setup: $(STAMP) node_modules/.bin/anvil
	@# headless Chromium renders the risk monitor's pages in tests/integration/test_monitor_page.py
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

# Everything the venv holds comes from pyproject.toml (the package, its pins and the
# lab and test extras); nothing is installed beside it.
$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e ".[lab,test]"
	rm -f $(VENV)/.installed-*
	touch $@

# `npm ci` installs exactly the committed lockfile (every platform's optional anvil
# binary is listed in it) and never rewrites it, so the tree stays clean.
node_modules/.bin/anvil: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	test -x $@ && touch $@

# ape's compile cache does not follow `import`ed modules: rebuild everything
# whenever any contract, module or interface changed.
SOURCES := $(shell find contracts interfaces -name '*.vy' -o -name '*.vyi')
.build/__local__.json: $(SOURCES) ape-config.yaml | setup
	ape compile --force

compile: setup .build/__local__.json

## The main job: deploy and replay a real crash, writing $(OUT)/summary.json, steps.csv, report.md
demo: compile
	ape run replay --episode $(EPISODE) --out $(OUT)

## Every test on the embedded chain, then the differential fuzz and the integration tests on anvil
test: compile
	ape test tests -q
	ape test tests/fuzz tests/integration/test_foundry.py -q $(FOUNDRY)

## Long invariant run (outside CI): the stateful differential test under the `deep` hypothesis
## profile (5,000 examples of up to 40 steps); prints the steps run and whether every invariant held
deep: compile
	HYPOTHESIS_PROFILE=deep ape test tests/stateful -q -s \
	  && echo "deep run: every invariant held" || { echo "deep run: FAILED"; exit 1; }

## Gas of every user action on anvil (receipts, 21,000 base included) -> reports/bench/gas.json
gas: compile
	ape run gas $(FOUNDRY)

## Parity throughput (pure checks on anvil, stateful steps, model account-steps) -> reports/bench/parity.json
bench: compile
	ape run bench $(FOUNDRY)

## Stress lab: every policy through the real crashes, Monte Carlo (dask), on-chain parity subset -> reports/stress
.PHONY: stress
stress: compile
	ape run stress --out reports/stress

clean:
	rm -rf .build reports deployments .hypothesis
