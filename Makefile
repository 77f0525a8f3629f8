# Two commands: `make run` sets up and starts the bot; `make test` sets up and runs every check.
# `make check` is the inner loop while working: the tests that need no other process, browser
# or database server, with lighter fuzzing (tests/quick.py).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check setup lint clean bench

# Quiet: one line says what is happening; pip and venv still print their errors.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "sis-maint needs Python 3.11 or newer (set PYTHON=python3.x)"; exit 1; }
	@echo "Installing the pinned dependencies in $(VENV) (once)..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@# -qq: errors only; setuptools' notice about editable installs is not one.
	@$(BIN)/pip install -qq -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# With Slack credentials: the migrations of DATABASE_URL, then the bot. Without: the sandbox,
# which migrates only its own temporary ledger.
run: $(STAMP)
	@$(BIN)/sis-maint serve --migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One pytest worker per core (pytest-xdist): most tests wait on sockets, threads and
# processes, and two workers fill two cores.
test: lint
	bash tests/bot/sandbox/ensure-chromium.sh
	$(BIN)/pytest -n auto

# The quick tests wait on threads and sockets, not on processes: two workers per core keep the
# cores busy (on two cores: 110 s instead of 138 s).
check: $(STAMP)
	$(BIN)/pytest --quick -n $$(( 2 * $$(nproc) ))

# The benchmarks (docs/performance.md); a smaller run: make bench ARGS=--small
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
