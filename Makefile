# mast: the two commands a new machine needs.
#   make run    installs what is missing, builds, serves the example model
#               on 127.0.0.1:8000
#   make test   installs what is missing, builds, runs every test
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DEPS_DIR ?= $(HOME)/.cache/mast-deps
JOBS ?= 2

.PHONY: all setup configure build run test bench fixtures clean

all: build

setup:
	@MAST_DEPS_DIR=$(DEPS_DIR) bash scripts/setup.sh >/dev/null

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DMAST_DEPS_DIR=$(DEPS_DIR) >/dev/null

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	MODEL_PATH=examples/churn/model.onnx LOG_LEVEL=$${LOG_LEVEL:-INFO} \
	  $(BUILD_DIR)/mast serve --port $${PORT:-8000}

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 600

bench: build
	bash bench/predict_vs_fastapi.sh

fixtures:
	/usr/bin/python3 tests/fixtures/make_fixtures.py

clean:
	rm -rf $(BUILD_DIR)
