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

.PHONY: all setup configure build run test test-asan bench bench-micro bench-fastapi bench-targets bench-instructions fixtures clean

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

# Benchmarks (bench/README.md): `make bench` runs the micro-benchmarks of the
# hot paths, then issue 5's serving targets (mast vs nginx and FastAPI, OIP,
# batching, memory, start-up, scrape cost); bench-micro, bench-targets,
# bench-fastapi and bench-instructions (instructions per request) run one.
# BENCH_FILTER: regex of the micro-benchmarks to run; BENCH_MIN_TIME: seconds
# each runs for at least.
BENCH_FILTER ?= .
BENCH_MIN_TIME ?= 0.2
bench:
	$(MAKE) bench-micro
	$(MAKE) bench-targets

bench-micro: configure
	@[ "$(BUILD_TYPE)" = Release ] || echo "bench-micro: BUILD_TYPE=$(BUILD_TYPE), not Release" >&2
	cmake --build $(BUILD_DIR) -j$(JOBS) --target mast_microbench
	$(BUILD_DIR)/mast_microbench --benchmark_min_time=$(BENCH_MIN_TIME) \
	  --benchmark_filter='$(BENCH_FILTER)'

bench-fastapi: build
	bash bench/predict_vs_fastapi.sh

bench-targets: build
	bash bench/targets.sh

bench-instructions: build
	bash bench/instructions.sh

fixtures:
	/usr/bin/python3 tests/fixtures/make_fixtures.py

clean:
	rm -rf $(BUILD_DIR) build-asan
