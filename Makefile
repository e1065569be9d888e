# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit lint install run bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gridbot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The console's tests drive Debian's Chromium (through Playwright, which downloads nothing); CJK fonts make the
# screenshots readable. Installed once, when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "warning: could not install Chromium; the console's browser test will be skipped"
	@fc-list 2>/dev/null | grep -qi "noto.*cjk" || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk || true

test: lint browser
	$(BIN)/python -m pytest -q

# The rules on in-memory fakes alone: no database, no Telegram, no model; seconds.
unit: $(STAMP)
	$(BIN)/python -m pytest -q --confcutdir=tests/unit tests/unit

bench: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
