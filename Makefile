# The two commands of the README: `make demo` and `make test`. Both install what they need.
.PHONY: setup demo test lint bench

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/snellen demo --out runs/demo

test: setup
	.venv/bin/python -m pytest -q

# the gate CI runs before the tests: ruff (lint and format) and mypy (strict where configured)
lint: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy src/snellen

bench: setup
	.venv/bin/python benchmarks/render.py
	.venv/bin/python benchmarks/score.py
	.venv/bin/python benchmarks/dataset.py
	.venv/bin/python benchmarks/eval.py
