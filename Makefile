# Every target installs what it needs itself, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MELTANO_VENV := .venv-meltano

.PHONY: install test test-sdk-next lint typecheck demo bench bench-scale meltano clean

# Modules mypy checks (strict, pyproject [tool.mypy]): those already clean. To be widened to
# the whole of coda_backup once configfile.py and verify.py are clean.
MYPY_PATHS := fakecoda tap_coda target_files \
	coda_backup/__init__.py coda_backup/__main__.py coda_backup/archive.py \
	coda_backup/backup.py coda_backup/childlog.py coda_backup/cli.py coda_backup/damage.py \
	coda_backup/diff.py coda_backup/dryrun.py coda_backup/errors.py coda_backup/flags.py \
	coda_backup/guard.py coda_backup/lock.py coda_backup/ping.py coda_backup/pipeline.py \
	coda_backup/progress.py coda_backup/prune.py coda_backup/report.py \
	coda_backup/retention.py coda_backup/runs.py coda_backup/settings.py coda_backup/state.py \
	coda_backup/tablediff.py coda_backup/totals.py

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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) typecheck

# --follow-imports=silent: modules outside the list are read for their types, not reported.
typecheck: install
	$(BIN)/mypy --follow-imports=silent $(MYPY_PATHS)

test: lint meltano
	PATH="$(CURDIR)/$(BIN):$$PATH" MELTANO_BIN="$(CURDIR)/$(MELTANO_VENV)/bin/meltano" $(BIN)/pytest -n auto

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
	rm -rf $(VENV) $(MELTANO_VENV) demo-backups .pytest_cache .ruff_cache
