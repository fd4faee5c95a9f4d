# ferrokit: `make bench` runs the main job, `make test` runs the tests.
# Both install what they need first (Python packages from requirements-dev.txt;
# the Rust toolchain and gcc are expected on the machine).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

PYTHON ?= python3
CARGO ?= cargo
RUSTLIB := rustlib
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all deps build build-release test test-sdist rust-check python-check pytest bench pyo3-tutorial vtext-bench wheel header sanitize fuzz fuzz-smoke fuzz-deps clean

all: test

deps: .deps.stamp
.deps.stamp: requirements-dev.txt
	$(PYTHON) -m pip install -q -r requirements-dev.txt
	@command -v cargo-clippy >/dev/null || rustup component add clippy
	@command -v rustfmt >/dev/null || rustup component add rustfmt
	touch $@

# Editable install with the test-only exports (feature `testing`: fk_test_panic).
build: deps
	FERROKIT_CARGO_FEATURES=testing $(PYTHON) -m pip install -q --no-build-isolation --no-deps -e .

# Editable install as shipped (no test-only exports), used for benchmarks.
build-release: deps
	$(PYTHON) -m pip install -q --no-build-isolation --no-deps -e .

header:
	cd $(RUSTLIB) && $(CARGO) run -q --locked -p ferrokit-header-gen

rust-check:
	cd $(RUSTLIB) && $(CARGO) fmt --all -- --check
	cd $(RUSTLIB)/fuzz && $(CARGO) fmt -- --check
	cd $(RUSTLIB) && $(CARGO) clippy --locked --all-targets --all-features -- -D warnings
	cd $(RUSTLIB) && $(CARGO) test --locked --all-features -q

python-check: deps
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

pytest: build
	$(PYTHON) -m pytest -q tests

test: deps rust-check python-check build pytest fuzz-smoke

pyo3-tutorial: deps
	bash benchmarks/build_pyo3_tutorial.sh

# vtext's HashingVectorizer timed on the text corpus (context in the text suite;
# the suite skips that row if this build fails, e.g. without the crate registry).
vtext-bench:
	-cd benchmarks/vtext && $(CARGO) build -q --release --locked

bench: build-release pyo3-tutorial vtext-bench
	FERROKIT_VTEXT_BENCH=benchmarks/vtext/target/release/vtext-bench $(PYTHON) -m ferrokit bench --out bench-results
	$(PYTHON) benchmarks/readme_table.py bench-results

wheel: deps
	rm -rf dist
	$(PYTHON) -m pip wheel -q --no-build-isolation --no-deps -w dist .
	@ls dist/*.whl

# The sdist builds from scratch in a clean virtualenv and passes selftest (minutes:
# a full release compile, so not part of `make test`; tests/test_sdist.py).
test-sdist: deps
	FERROKIT_SLOW_TESTS=1 $(PYTHON) -m pytest -q tests/test_sdist.py

# valgrind memcheck over the C programs (examples + tests/c/stress.c) and the leak soak.
sanitize: build
	$(PYTHON) -m pytest -q tests/test_sanitize.py tests/test_soak.py

# Fuzzing. cargo-fuzz instruments with AddressSanitizer through unstable rustc
# flags; RUSTC_BOOTSTRAP=1 lets the one stable toolchain accept them (no
# nightly is available). Crash inputs go into the regressions/ folders, which
# every run replays first.
FUZZ_SECONDS ?= 300
ATHERIS := $(PYTHON) tests/fuzz/fuzz_python_api.py

fuzz-deps: deps
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked --version 0.13.2

FUZZ_TARGETS := c_abi_seed mlp_load c_abi_kernels model_load serve_decode

# $(1): seconds per cargo-fuzz target, $(2): seconds of atheris.
define run_fuzzers
	set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(RUSTLIB)/fuzz/corpus/$$t; \
		(cd $(RUSTLIB)/fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t regressions/$$t -- -runs=0); \
		(cd $(RUSTLIB)/fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t corpus/$$t regressions/$$t -- \
			-max_total_time=$(1) -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -4); \
	done
	mkdir -p tests/fuzz/corpus
	$(ATHERIS) -runs=0 tests/fuzz/regressions/*
	$(ATHERIS) -max_total_time=$(2) -artifact_prefix=tests/fuzz/crash- tests/fuzz/corpus \
		tests/fuzz/regressions 2>&1 | tail -3
endef

# A short run for `make test` (under 60 s of fuzzing in all).
fuzz-smoke: fuzz-deps build
	$(call run_fuzzers,12,15)

fuzz: fuzz-deps build
	$(call run_fuzzers,$(FUZZ_SECONDS),$(FUZZ_SECONDS))

clean:
	rm -rf build dist bench-results .deps.stamp pybind/ferrokit/_ffi*.so pybind/ferrokit/libferrokit.so pybind/ferrokit/include
	cd $(RUSTLIB) && $(CARGO) clean
