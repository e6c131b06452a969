# Two commands: `make demo` serves the demo hospital group; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the suite runs on every core (pytest-xdist), each worker with its own databases (tests/conftest.py);
# worksteal: an idle worker takes tests from the busy one's queue (loadfile left one file's minute at the
# end on one worker: 789 s against 732 s for the same code, 2026-12-07)
TEST_WORKERS ?= 2
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install browser-deps triage-model lock lint clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Debian's chromium for Playwright, and CJK fonts so Chinese is not drawn as empty boxes.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	else echo "Installing chromium and fonts-noto-cjk with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || { if [ "$$CI" = "true" ]; then echo "apt-get failed and CI needs a browser" >&2; exit 1; \
	       else echo "apt-get failed: browser tests will skip"; fi; }; fi

# The triage classifier, built from the data in the repository (kept under var/triage until that data changes).
triage-model: install
	$(BIN)/zhiyi triage build

demo: install triage-model
	$(BIN)/zhiyi demo

test: install browser-deps triage-model
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=15

lock:
	$(BIN)/pip-compile -q --extra dev --extra bench --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf var .pytest_cache
