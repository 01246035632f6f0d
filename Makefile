# The benchmark (separate from the tests). See bench/README.md and docs/performance.md.
PYTHON := .venv/bin/python
VENV := bash -c '. scripts/_venv.sh && ensure_venv "[bench]"'

.PHONY: bench bench-quick bench-profile bench-report

bench:          ## the full run: 10,000 streams held 5 minutes, then every figure again with Redis (~12 min)
	@$(VENV)
	$(PYTHON) -m bench

bench-quick:    ## the same figures, shorter (~5 min)
	@$(VENV)
	$(PYTHON) -m bench --quick

bench-profile:  ## where the time and memory go: py-spy and tracemalloc (~8 min)
	@$(VENV)
	$(PYTHON) -m bench profile

bench-report:   ## bench-results/latest.json as the Markdown table of docs/performance.md
	@$(PYTHON) -m bench report
