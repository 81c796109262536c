.DEFAULT_GOAL := help
.PHONY: help demo test locks bench bench-instructions bench-delivery bench-burst screenshot lint format clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := $(VENV)/.installed
# A directory holding just uv, so the demo's own install finds uv but not this venv's python.
UV_ONLY := $(VENV)/uv-only
# Test workers: more than cores, as most tests wait on baked services and their servers.
JOBS ?= 4
LINTED := hooks lift/hooks tests harness benchmarks tools
DEMO_DIR := demo
BENCH_VENV := .venv-bench
# Passed to the benchmark, e.g. make bench BENCH_ARGS="--duration 5 --rounds 2"
BENCH_ARGS ?=
# The slug --no-input gives, asked from cookiecutter so it follows cookiecutter.json;
# expanded only when the demo recipe runs, after the tooling venv exists.
DEFAULT_SLUG = $(shell $(BIN)/python -c 'from cookiecutter.generate import generate_context; \
	from cookiecutter.prompt import prompt_for_config; \
	print(prompt_for_config(generate_context("cookiecutter.json"), no_input=True)["project_slug"])')

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# The tools at the versions uv.lock pins; pip installs uv first when the venv has none.
$(TOOLS): pyproject.toml uv.lock
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv sync --locked --quiet
	mkdir -p $(UV_ONLY) && ln -sf ../bin/uv $(UV_ONLY)/uv
	touch $@

demo: $(TOOLS) ## Bake the default project into demo/ and serve it on http://127.0.0.1:8000
	$(BIN)/cookiecutter . --no-input --default-config --overwrite-if-exists --output-dir $(DEMO_DIR)
	PATH="$(CURDIR)/$(UV_ONLY):$$PATH" $(MAKE) -C $(DEMO_DIR)/$(DEFAULT_SLUG) install migrate seed dev

# Without bytecode files, every process a test starts would compile its imports again.
test: $(TOOLS) ## Test the template: hooks, and every option set baked, linted, tested and run
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest tests -n $(JOBS)

locks: $(TOOLS) ## Lock the generated project again for every database, queue and Python (UPGRADE=1: newest pins)
	$(BIN)/python -m tools.locks $(if $(UPGRADE),--upgrade)

$(BENCH_VENV)/.installed: benchmarks/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements.txt
	touch $@

bench: $(BENCH_VENV)/.installed ## Measure what Sentry costs per request; writes docs/benchmarks.md
	$(BENCH_VENV)/bin/python -m benchmarks.run $(BENCH_ARGS)

bench-instructions: $(BENCH_VENV)/.installed ## Count instructions per request with callgrind, unmoved by noise
	$(BENCH_VENV)/bin/python -m benchmarks.instructions $(BENCH_ARGS)

bench-delivery: $(TOOLS) ## Measure latency and memory of the baked service while its error server fails
	$(BIN)/python -m benchmarks.delivery

bench-burst: $(TOOLS) ## Measure a write burst (64 connections) on SQLite and PostgreSQL; writes docs/benchmarks/write-burst.md
	$(BIN)/python -m benchmarks.write_burst $(BENCH_ARGS)

screenshot: $(BENCH_VENV)/.installed ## Take the README's picture of a checkout's trace in Spotlight
	$(BENCH_VENV)/bin/python -m tools.screenshot

lint: $(TOOLS) ## Check the hooks, tests, harness, benchmarks and tools with the generated project's ruff rules
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

format: $(TOOLS) ## Fix style and formatting of the hooks, tests, harness, benchmarks and tools
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

clean: ## Remove the tooling venv, the demo project and caches
	rm -rf $(VENV) $(BENCH_VENV) .bench .screenshot $(DEMO_DIR) .pytest_cache .ruff_cache tests/.pytest_cache
