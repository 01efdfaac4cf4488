# Two entry points on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test venv bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[postgres,spark,bench,dev]'
	@# An editable install is not byte-compiled; with PYTHONDONTWRITEBYTECODE set, every run would
	@# compile claimwatch's modules again (~0.08 s of each command's start-up).
	$(PY) -m compileall -q src
	@touch $(STAMP)

demo: venv
	$(PY) demo/run_demo.py

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) bench/detect_eval.py ../shared/eval/claims-dev.jsonl
	$(PY) bench/scan_bench.py

clean:
	rm -rf $(VENV) claimwatch-data .pytest_cache
