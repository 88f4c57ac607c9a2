# The two commands of the README: `make up` (install, start, demo) and `make test`.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv/bin
SMARTCTL := $(VENV)/python deploy/local/smartctl.py

# every service, mailer and test platform is a Python process of its own: they keep their
# compiled modules (__pycache__, ignored by git) instead of compiling every import again at each
# start, even where the environment asks Python not to write them (a platform starts in about
# half the CPU time)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: up install infra services demo test test-unit down status logs lint schemas test-tools

up: install
	$(SMARTCTL) up
	@if [ -f tests/demo/run.py ]; then $(VENV)/python -m tests.demo.run; fi

install:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen --all-packages --quiet

infra: install
	$(SMARTCTL) up --infra-only

services: install
	$(SMARTCTL) up

demo:
	$(VENV)/python -m tests.demo.run

test: install test-tools
	$(VENV)/pytest

# the portal's browser tests drive Debian's Chromium; Playwright never downloads a browser
# what the tests need beyond Python: Chromium for the portal's pages, poppler and zbar to read
# the documents back (Debian packages, installed once when missing)
test-tools:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q $$missing; fi

test-unit: install
	$(VENV)/pytest -m "not integration and not e2e"

down:
	@if [ -x $(VENV)/python ]; then $(SMARTCTL) down; else python3 deploy/local/smartctl.py down; fi

status:
	$(SMARTCTL) status

logs:
	$(SMARTCTL) logs

lint:
	$(VENV)/ruff check shared testing services tests
	$(VENV)/mypy shared/src testing/src services/*/src

schemas:
	$(VENV)/smart schemas --out docs/events
