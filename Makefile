# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
DEMO ?= demo
BATCH_DATE ?= 2026-12-01

.PHONY: install system-deps demo test lint typecheck bench clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] in ((3, 11), (3, 12)), "Python 3.11 or 3.12 needed"'
	$(PYTHON) -m venv $(VENV)
	# The lock pins every transitive package; --no-deps keeps pip from re-resolving (rapidocr names
	# opencv-python, we ship the headless build of the same version).
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
	  || $(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) system-deps

system-deps:
	@bash scripts/ensure-system-deps.sh

demo: install
	rm -rf $(DEMO)
	$(PY) -m policy_ray sample $(DEMO)/night --n 200 --seed 7
	$(PY) -m policy_ray ingest $(DEMO)/night --lake $(DEMO)/lake --batch-date $(BATCH_DATE)
	$(PY) -m policy_ray sql --lake $(DEMO)/lake \
	  "SELECT carrier_name, document_type, count(*) AS documents, sum(total_premium) AS premium \
	   FROM policies GROUP BY carrier_name, document_type ORDER BY documents DESC"
	$(PY) -m policy_ray sql --lake $(DEMO)/lake \
	  "SELECT failure_category, count(*) AS documents FROM dead_letters GROUP BY failure_category ORDER BY 2 DESC"

test: install
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(DEMO) .pytest_cache .mypy_cache .ruff_cache
