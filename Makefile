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
EPISODE ?= eth-2020-03
OUT ?= reports/$(EPISODE)
FOUNDRY := --network ethereum:local:foundry

.PHONY: setup demo test gas bench compile clean deep

setup: $(STAMP) $(VENV)/.warnings-filter node_modules/.bin/anvil
	@# headless Chromium renders the risk monitor's pages in tests/integration/test_monitor_page.py
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

# Everything the venv holds comes from pyproject.toml (the package, its pins and the
# lab and test extras); nothing is installed beside it.
$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e ".[lab,test]"
	rm -f $(VENV)/.installed-*
	touch $@

# ape-vyper 0.8.12's settings model (VyperConfig.import_remapping, a forward reference that
# is never resolved) makes pydantic-settings warn "Field 'import_remapping' has an incomplete
# definition" whenever Ape reads the vyper settings: on every `ape` command. The venv gets a
# .pth line that ignores exactly that warning at interpreter start, so that plain `ape ...`
# is quiet as well as `make ...` (nothing in site-packages is edited).
$(VENV)/.warnings-filter: | $(STAMP)
	site=$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
	echo "import warnings; warnings.filterwarnings('ignore', message=\"Field 'import_remapping' has an incomplete definition\", category=UserWarning)" \
	  > "$$site/volmargin_quiet_settings.pth"
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
	ape test tests/fuzz tests/integration/test_foundry.py tests/integration/test_keeper.py \
	  tests/integration/test_risk_keeper.py -q $(FOUNDRY)

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

## A persistent local chain: `make node deploy-local`, then `make keeper-local`, `make monitor-local`,
## `ape run feed|admin --network ethereum:anvil ...` or `ape console --network ethereum:anvil`.
## anvil with the test mnemonic of ape-config.yaml on 127.0.0.1:$(NODE_PORT); PID and log in .node/
NODE_PORT ?= 8545
NODE_DIR := .node
NODE_NET := ethereum:anvil:http://127.0.0.1:$(NODE_PORT)
MNEMONIC := $(shell sed -n 's/^  mnemonic: *//p' ape-config.yaml)
N_ACCOUNTS := $(shell sed -n 's/^  number_of_accounts: *//p' ape-config.yaml)
.PHONY: node node-stop deploy-local keeper-local monitor-local

node: | node_modules/.bin/anvil
	@mkdir -p $(NODE_DIR)
	@if [ -f $(NODE_DIR)/anvil.pid ] && kill -0 $$(cat $(NODE_DIR)/anvil.pid) 2>/dev/null; then \
	  echo "node already running (pid $$(cat $(NODE_DIR)/anvil.pid), log $(NODE_DIR)/anvil.log); \
	stop it with make node-stop"; exit 0; fi; \
	if (exec 3<>/dev/tcp/127.0.0.1/$(NODE_PORT)) 2>/dev/null; then \
	  echo "port $(NODE_PORT) is taken by another process: stop it or choose NODE_PORT=..."; exit 1; fi; \
	nohup anvil --host 127.0.0.1 --port $(NODE_PORT) --mnemonic "$(MNEMONIC)" --accounts $(N_ACCOUNTS) \
	  --balance 1000000 --block-base-fee-per-gas 0 --gas-price 0 $(ANVIL_ARGS) > $(NODE_DIR)/anvil.log 2>&1 & \
	echo $$! > $(NODE_DIR)/anvil.pid; \
	for i in $$(seq 100); do \
	  if (exec 3<>/dev/tcp/127.0.0.1/$(NODE_PORT)) 2>/dev/null; then \
	    echo "node up: $(NODE_NET) (pid $$(cat $(NODE_DIR)/anvil.pid), log $(NODE_DIR)/anvil.log)"; exit 0; fi; \
	  kill -0 $$(cat $(NODE_DIR)/anvil.pid) 2>/dev/null || break; sleep 0.1; done; \
	echo "anvil did not start; the end of $(NODE_DIR)/anvil.log:"; tail -5 $(NODE_DIR)/anvil.log; \
	rm -f $(NODE_DIR)/anvil.pid; exit 1

node-stop:
	@if [ -f $(NODE_DIR)/anvil.pid ] && kill -0 $$(cat $(NODE_DIR)/anvil.pid) 2>/dev/null; then \
	  kill $$(cat $(NODE_DIR)/anvil.pid) && echo "node stopped (pid $$(cat $(NODE_DIR)/anvil.pid))"; \
	else echo "no node running"; fi; rm -f $(NODE_DIR)/anvil.pid

## Deploy to the node (writes the deployment manifest)
deploy-local: compile
	ape run deploy --network $(NODE_NET)

## Keeper and risk monitor against the node
keeper-local: compile
	ape run keeper --network $(NODE_NET)

monitor-local: compile
	ape run monitor --html reports/monitor --watch 5 --network $(NODE_NET)

clean:
	rm -rf .build reports deployments .hypothesis
