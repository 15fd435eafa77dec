# The two commands of the README's quick start. Both (re)create the
# environment in .venv/ first when it is missing or stale (seconds otherwise).
PY := .venv/bin/python

.PHONY: env demo test test-fast

env:
	@bash tools/setup_env.sh

demo: env
	@bash tools/run_demo.sh

# Two pytest-xdist workers, one thread each, a test file to a worker (module
# fixtures such as the detectors' training run once): 27 min for everything
# on a 2-core machine where one serial run took 46 (docs/setup.md).
WORKERS := -n 2 --dist loadfile

# Everything, slow end-to-end tests included: what CI runs.
test: env
	@$(PY) -m pytest $(WORKERS) -m "slow or not slow" tests

# The fast unit tests only, for iterating.
test-fast: env
	@$(PY) -m pytest $(WORKERS) tests
