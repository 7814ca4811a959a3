# The two commands of the README's quick start.
#   make demo   set up, then run the built-in demo recipe (egs/mini) end to end
#   make test   set up (with test dependencies), then run the whole test suite
SHELL := /bin/bash
PYTEST_ARGS ?=

.PHONY: demo test setup setup-test
setup:
	tools/setup.sh
setup-test:
	tools/setup.sh --test
demo: setup
	cd egs/mini && ./run.sh
test: setup-test
	.venv/bin/python -m pytest $(PYTEST_ARGS)
