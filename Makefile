# Every target creates its own virtual environment from the lock file; nothing is installed by hand.
# requirements.lock pins every dependency, transitive ones included, with hashes: a fresh clone
# installs the same packages today and next month. `make lock` refreshes it on purpose.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
UV_VERSION := 0.13.9
UV_VENV := .venv-lock

.PHONY: demo estate-charts test test-slow check lint typecheck bench clean lock schema sarif-tool

$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	# compat: a .pth line with the checkout's path instead of setuptools' import-hook finder, which
	# costs every start (infra-audit --help included) about 20-35 ms of imports (docs/performance.md).
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	touch $(STAMP)

# Re-resolve every dependency within the ranges of pyproject.toml (plus setuptools, the build
# backend) for every platform and Python >= 3.11, with hashes. uv is pinned and lives in its own venv.
lock:
	$(PY) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	printf 'setuptools>=69\n' | $(UV_VENV)/bin/uv pip compile pyproject.toml - --extra dev --extra bedrock --extra vertex --universal \
		--python-version 3.11 --generate-hashes --no-header --quiet --upgrade -o $(LOCK)

# Microsoft's SARIF Multitool (npm; its linux package ships a self-contained binary), outside the repo:
# tests/e2e/test_sarif_github.py validates audit.sarif with it (schema + GitHub rules) when it is there.
SARIF_TOOL_DIR ?= $(HOME)/.cache/infra-audit/sarif-multitool
sarif-tool:
	mkdir -p $(SARIF_TOOL_DIR)
	cd $(SARIF_TOOL_DIR) && npm install --no-audit --no-fund --no-save @microsoft/sarif-multitool@5.7.0
	chmod u+x $(SARIF_TOOL_DIR)/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

schema: $(STAMP)
	$(BIN)/python -m pipeline.render.schema docs/audit.schema.json
	$(BIN)/python -m pipeline.render.checks_doc docs/checks.md

demo: $(STAMP)
	INFRA_AUDIT_CHART_CACHE=/nonexistent/infra-audit-no-charts $(BIN)/infra-audit run examples/homelab --cluster examples/homelab/cluster --out reports/homelab --run-id demo-homelab --date 2026-11-20

# The charts of examples/flux-homelab and examples/argocd-homelab, imported as an air-gapped user
# would, under the refs the estates pull them from. Then: infra-audit run ... --chart-cache $(CHART_CACHE)
CHART_CACHE ?= .chart-cache
CHARTS := examples/charts/packaged
estate-charts: $(STAMP)
	$(BIN)/infra-audit charts import $(CHARTS)/podkit-3.7.2.tgz --as oci://ghcr.io/example-org/charts/podkit:3.7.2 --chart-cache $(CHART_CACHE)
	$(BIN)/infra-audit charts import $(CHARTS)/podkit-4.0.1.tgz --as oci://ghcr.io/example-org/charts/podkit:4.0.1 --chart-cache $(CHART_CACHE)
	$(BIN)/infra-audit charts import $(CHARTS)/raw-2.0.0.tgz --as oci://ghcr.io/example-org/charts/raw:2.0.0 --chart-cache $(CHART_CACHE)

# pytest-xdist: one worker per core, each test file whole on one worker (a module fixture builds once)
test: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# The scaling test compares timings (4x the cluster may take at most 6x the time). Timings on a shared
# machine are not deterministic, so it is not part of make test or CI; run it beside the benchmarks.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(UV_VENV) .pytest_cache .mypy_cache .ruff_cache
