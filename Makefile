# ASTRA: two commands set everything up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.astra-installed
OUT    ?= astra-out

.PHONY: install run test lint bench dashboard lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/astra demo --out $(OUT)

# pytest exit code 5 means "no tests collected": treat it as a failure, never a silent pass.
test: install
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; exit 1; fi; \
	exit $$rc

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	@mkdir -p benchmarks/results
	@for f in benchmarks/*.py; do \
	  name=$$(basename $$f .py); case $$name in _*) continue;; esac; \
	  echo "== $$name" >&2; $(BIN)/python $$f > benchmarks/results/$$name.json || exit 1; \
	  cat benchmarks/results/$$name.json; done

dashboard: install
	$(BIN)/astra dashboard

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]' hatchling editables
	.lock-venv/bin/python -m pip freeze --exclude-editable | sort -f > requirements.lock.new
	rm -rf .lock-venv && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
