# The front door. `make serve` and `make test` are the README's two set-up commands: each installs
# missing Debian packages (idempotent), configures and builds, then runs. `make bench` runs the
# benchmarks (bench/README.md); `make demo` runs the partner scenario (scripts/demo.sh).
BUILD_DIR ?= build/release
DATA ?= var
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build serve test bench demo format clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

serve: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target liaison
	@bash scripts/serve.sh $(BUILD_DIR)/src/cli/liaison $(DATA) $(LISTEN)

# Unit, store conformance and end-to-end tests against SQLite and a throwaway PostgreSQL cluster
# (scripts/ci-test.sh starts it on a free loopback port and always stops it).
test: build
	@bash scripts/ci-test.sh $(BUILD_DIR) $(JOBS)

# The partner scenario of issue 4: three hubs on loopback, a timeline of measured latencies.
demo: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target liaison
	@bash scripts/demo.sh $(BUILD_DIR)/src/cli/liaison

bench: deps
	@cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIAISON_BUILD_BENCHMARKS=ON >/dev/null
	@cmake --build build/bench -j $(JOBS)
	@bash scripts/run-benchmarks.sh build/bench

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	@rm -rf build
