# NeuroMech KG — every task a newcomer needs, from a fresh clone.
#   make run    set up and build the graph into dist/ (the main job)
#   make test   set up and run lint, type checks and the test suite (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup system-deps build site lint typecheck pytest fmt validate bench clean

run: setup build

test: setup lint typecheck pytest

# HermiT (through owlready2) needs Java, and `build --watch` keeps it warm in a small server
# compiled by javac (src/neuromech/java/HermitServer.java): a JDK. The site needs npm (its
# JavaScript libraries) and its browser tests Debian's chromium (driven by Playwright; never
# `playwright install`) with CJK fonts. Install what is missing from Debian.
system-deps:
	@command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 || { \
	  echo "installing a Java development kit for HermiT (default-jdk-headless)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq default-jdk-headless; }
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing npm (the site's JavaScript libraries come from the npm registry)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm; }
	@[ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi cjk || { \
	  echo "installing chromium and CJK fonts for the site's browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: system-deps $(STAMP) node_modules/.package-lock.json

build:
	$(BIN)/neuromech build

site: setup
	$(BIN)/neuromech site

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

fmt: setup
	$(BIN)/neuromech fmt

validate: setup
	$(BIN)/neuromech validate

bench: setup
	cd benchmarks && ../$(BIN)/python bench_build.py --triples 10000 100000

clean:
	rm -rf dist $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
