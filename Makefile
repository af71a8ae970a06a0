# `make demo` and `make test` each do all set-up on a fresh clone, then run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint types docs docs-serve notebooks notebooks-outputs claims bench pretrained clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: its CPU wheel lies on this disk; any other version pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,dev,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hourglass demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=10

# The inner loop: lint, format, types and the unit tests, in under 3 minutes.
check: lint types
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports   # the layer contracts in pyproject.toml

types: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

# The tutorials (docs/tutorials/*.ipynb), every cell executed at a small size; -outputs: at the tutorial's size,
# their outputs kept for the site.
notebooks: $(STAMP)
	$(BIN)/python docs/tutorials/run_notebooks.py

notebooks-outputs: $(STAMP)
	$(BIN)/python docs/tutorials/run_notebooks.py --keep

docs-serve: $(STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

claims: $(STAMP)
	$(BIN)/hourglass claims --out claims-output

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/train_throughput.py
	$(BIN)/python bench/step_parts.py
	$(BIN)/python bench/pca_link.py
	$(BIN)/python bench/score_matching.py
	$(BIN)/python bench/variants.py
	$(BIN)/python bench/anomaly.py
	$(BIN)/python bench/onnx_inference.py
	$(BIN)/python bench/serve_load.py
	$(BIN)/python bench/inference.py
	$(BIN)/python bench/precision.py
	$(BIN)/python bench/ddp.py
	$(BIN)/python bench/contention.py
	$(BIN)/python bench/out_of_core.py --remove
	for recipe in conv30 hinton vae iwae; do $(BIN)/python bench/time_to_quality.py $$recipe || exit 1; done

# The built-in denoisers in hourglass/pretrained/, trained again from the photos that ship in wheels (about 95
# minutes on 2 cores; see docs/benchmarks.md).
pretrained: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/photo_pretrain.py

clean:
	rm -rf $(VENV) demo-output claims-output claims-quick bench-output .pytest_cache site
