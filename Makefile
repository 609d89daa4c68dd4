# Set-up and everyday commands. Everything goes into a virtual environment in .venv.
#   make demo    set up (first time) and run the main job on a bundled sample clip
#   make test    set up (first time) and run the test suite
#   make bench   run the benchmarks (pytest --benchmark-only)
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.14.1
BIN    := $(VENV)/bin
ifneq ($(wildcard /usr/local/cuda),)
export CUDA_HOME ?= /usr/local/cuda
endif
SOURCES := setup.py pyproject.toml $(shell find csrc -type f)

.PHONY: install demo test bench clean
install: $(VENV)/.installed

$(VENV)/.installed: $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel
	$(BIN)/pip install "$(TORCH)" numpy pybind11 ninja
	$(BIN)/pip install --no-build-isolation -e ".[test]"
	$(BIN)/pyframegan --version
	touch $@

demo: install
	$(BIN)/python -m pyframegan.demo

test: install
	$(BIN)/pytest -q || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests (exit 5)" >&2; exit $$rc; }

bench: install
	$(BIN)/pytest --benchmark-only -q

clean:
	rm -rf build build-cmake *.egg-info pyframegan/_C*.so $(VENV)
