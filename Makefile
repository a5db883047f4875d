# Every target installs what it needs itself, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MELTANO_VENV := .venv-meltano

.PHONY: install test test-kill test-sdk-next lint typecheck demo bench bench-scale meltano targets postgres clean

# What mypy checks, strictly (pyproject [tool.mypy]): every package that ships.
MYPY_PATHS := fakecoda tap_coda target_files coda_backup

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

$(MELTANO_VENV)/bin/meltano:
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install -q 'meltano>=4.4,<5'

meltano: $(MELTANO_VENV)/bin/meltano

# Real Singer targets for the warehouse tests (issue #15), each in its own venv: their
# singer-sdk (or singer-python) need not match ours. `make -j3 targets` installs them at once.
TARGETS_VENV := .venv-targets
# (`+` joins a venv's packages. duckdb 2 reads the first CSV line target-duckdb 0.8.0 writes
# per batch as a header and drops that row: duckdb stays at 1.1.)
TARGET_PACKAGES := postgres=meltanolabs-target-postgres==0.8.1 jsonl=target-jsonl==0.1.4 \
	duckdb=target-duckdb==0.8.0+duckdb==1.1.3
TARGET_STAMPS := $(foreach p,$(TARGET_PACKAGES),$(TARGETS_VENV)/$(firstword $(subst =, ,$(p)))/.installed)

$(TARGETS_VENV)/%/.installed:
	$(PYTHON) -m venv $(TARGETS_VENV)/$*
	$(TARGETS_VENV)/$*/bin/python -m pip install -q \
		$(subst +, ,$(patsubst $*=%,%,$(filter $*=%,$(TARGET_PACKAGES))))
	touch $@

targets: $(TARGET_STAMPS)

# A PostgreSQL server for hand use on 127.0.0.1:54329 (the tests start their own):
# needs Debian's `postgresql` package (`apt-get install -y postgresql`).
postgres: install
	$(BIN)/python -m tests.pgserver .pgdata --port 54329

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) typecheck

# --follow-imports=silent: modules outside the list are read for their types, not reported.
typecheck: install
	$(BIN)/mypy --follow-imports=silent $(MYPY_PATHS)

test: lint meltano targets
	PATH="$(CURDIR)/$(BIN):$$PATH" MELTANO_BIN="$(CURDIR)/$(MELTANO_VENV)/bin/meltano" $(BIN)/pytest -n auto --durations=25

# SIGKILL at 100 seeded moments of full and incremental runs (make test runs 10 of them):
# 7 min wall on 2 busy cores, so CI leaves it out (tests/e2e/test_kill_points.py).
test-kill: install
	CODA_KILL_MOMENTS=100 PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -n auto tests/e2e/test_kill_points.py

# The suite against the newest singer-sdk release, in its own venv: an upgrade's breakage
# is seen before the pin (~=0.54.9) moves: upgrading singer-sdk after the project's own
# install overrides the pin (pip only warns that tap-coda asks for another version).
SDK_NEXT_VENV := .venv-sdk-next
test-sdk-next: meltano
	$(PYTHON) -m venv $(SDK_NEXT_VENV)
	$(SDK_NEXT_VENV)/bin/python -m pip install -q --upgrade pip
	$(SDK_NEXT_VENV)/bin/python -m pip install -q -e '.[test]'
	$(SDK_NEXT_VENV)/bin/python -m pip install -q --upgrade 'singer-sdk[msgspec,testing]'
	$(SDK_NEXT_VENV)/bin/python -m pip show singer-sdk | grep '^Version'
	PATH="$(CURDIR)/$(SDK_NEXT_VENV)/bin:$$PATH" MELTANO_BIN="$(CURDIR)/$(MELTANO_VENV)/bin/meltano" $(SDK_NEXT_VENV)/bin/pytest -n auto $(PYTEST_ARGS)

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m fakecoda.demo

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m benchmarks.run

# Only the scale scenario (three workspace sizes); its section replaces the one in RESULTS.md.
bench-scale: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m benchmarks.run --scenario scale --update

clean:
	rm -rf $(VENV) $(MELTANO_VENV) $(TARGETS_VENV) demo-backups .pytest_cache .ruff_cache
