# The two commands of the README's quick start. Both (re)create the
# environment in .venv/ first when it is missing or stale (seconds otherwise).
PY := .venv/bin/python

.PHONY: env demo test test-fast

env:
	@bash tools/setup_env.sh

demo: env
	@bash tools/run_demo.sh

# Everything, slow end-to-end tests included: what CI runs.
test: env
	@$(PY) -m pytest -m "slow or not slow" tests

# The fast unit tests only, for iterating.
test-fast: env
	@$(PY) -m pytest tests
