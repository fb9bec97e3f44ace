# mast: the two commands a new machine needs.
#   make run    installs what is missing, builds, serves the example model
#               on 127.0.0.1:8000
#   make test   installs what is missing, builds, runs every test
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= Release
DEPS_DIR ?= $(HOME)/.cache/mast-deps
JOBS ?= 2
# ccache hits across clones of the repository (CI builds in a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup configure build run test test-asan bench fixtures clean

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
	$(MAKE) test-asan

# The model lifecycle and server tests again under AddressSanitizer and
# LeakSanitizer (third-party libraries' own leaks suppressed: tests/lsan.supp).
ASAN_TESTS := ModelLifecycle*:HttpServer*:Registry*:FeatureMapper*:Metrics*
test-asan: setup
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAST_SANITIZE=address \
	  -DMAST_DEPS_DIR=$(DEPS_DIR) >/dev/null
	cmake --build build-asan -j$(JOBS) --target mast_unit_tests
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  build-asan/mast_unit_tests --gtest_filter='$(ASAN_TESTS)'

bench: build
	bash bench/predict_vs_fastapi.sh

fixtures:
	/usr/bin/python3 tests/fixtures/make_fixtures.py

clean:
	rm -rf $(BUILD_DIR) build-asan
