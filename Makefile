# Plan Bridge: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages the tests need: a real WordPress multisite (PHP, MariaDB), Chromium for the
# browser journeys, PHPUnit for the plugin, gettext for the translations, systemd and haproxy
# to check deploy/'s units (systemd-analyze verify) and load-balancer config (haproxy -c).
DEBS := wordpress wordpress-theme-twentytwentythree php-cli php-mysql php-xml php-mbstring \
        php-curl mariadb-server chromium phpunit gettext redis-server postgresql systemd haproxy

.PHONY: run demo test deps venv lint typecheck pytest phpunit php-lint bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Installs missing Debian packages when run as root. A temporary policy-rc.d keeps apt from
# starting apache2 or a system database; the test harness starts its own private instances.
deps:
	@bash scripts/install-debs.sh $(DEBS)

run: venv
	@bash scripts/run-dev.sh $(HOST) $(PORT)

# A WordPress multisite network wired to a bridge, on free loopback ports, until Ctrl-C
# (scripts/demo.py). Needs the Debian packages of `make deps`; says which are missing.
demo: venv
	@$(BIN)/python scripts/demo.py

lint: venv
	$(BIN)/ruff check bridge tests bench scripts
	$(BIN)/ruff format --check bridge tests bench scripts

typecheck: venv
	$(BIN)/mypy

php-lint: deps
	@bash scripts/php-lint.sh

phpunit: deps
	cd wp-plugin-stub && phpunit --colors=never --do-not-cache-result -c phpunit.xml.dist

pytest: venv deps
	$(BIN)/python -m pytest

test: deps venv lint typecheck php-lint phpunit pytest

bench: venv
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python bench/quote.py
	$(BIN)/python bench/commit.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

# The crash test for longer than `make test` gives it (RELIABILITY.md): SOAK_KILLS kills per
# database or SOAK_S seconds of kills per database, whichever comes first; SEED= replays a seed.
SOAK_KILLS ?= 1000
SOAK_S ?= 900
soak: venv
	BRIDGE_FAULTS_KILLS=$(SOAK_KILLS) BRIDGE_FAULTS_BUDGET_S=$(SOAK_S) BRIDGE_FAULTS_SEED=$(SEED) \
		$(BIN)/python -m pytest -s -p no:cacheprovider tests/integration/faults/test_crash_anywhere.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
