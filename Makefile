# compare — the two entry points of the README:
#   make demo   installs what is missing, builds, trains VAE, HVAE and DDPM on gmm2d, writes Reports/demo.md
#   make test   installs what is missing, builds, runs the whole test suite
# Both run as root on a fresh Debian machine of this kind (apt-get for the system libraries).

SWIFT ?= swift
CONFIG ?= release
BIN := .build/$(CONFIG)/compare
# openmpi-bin and libopenmpi-dev: `mpirun` and the libmpi.so.40 that compare loads at run time under it
# (docs/scaling.md); building needs neither.
DEBIAN_PACKAGES := libopenblas-dev libhdf5-dev pkg-config zlib1g-dev libpng-dev dataset-fashion-mnist python3-sklearn python3-venv \
                   openmpi-bin libopenmpi-dev

.PHONY: demo test deps build unit-tests script-tests clean

demo: deps build
	$(BIN) demo

test: deps build unit-tests script-tests

# Installs the Debian packages that are missing (nothing when all are present).
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Every import must be a declared dependency of its target (Package.swift says which way they point).
SWIFT_BUILD_FLAGS := -c $(CONFIG) --explicit-target-dependency-import-check error

build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

# XCTest suites, built optimized (the tests train small models).
unit-tests:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --build-tests
	$(SWIFT) test -c $(CONFIG) --skip-build

# Tests that drive the real binary from the shell and from Python (h5py).
script-tests:
	COMPARE_BIN=$(BIN) bash scripts/interop.sh
	COMPARE_BIN=$(BIN) bash scripts/kill-resume-test.sh
	COMPARE_BIN=$(BIN) bash scripts/fuzz-readers.sh
	COMPARE_BIN=$(BIN) bash scripts/conv-runs-test.sh
	COMPARE_BIN=$(BIN) bash scripts/reproduce-test.sh
	COMPARE_BIN=$(BIN) bash scripts/mpi-test.sh
	COMPARE_BIN=$(BIN) bash scripts/mpi-runs-test.sh
	python3 scripts/check_docs.py
	python3 scripts/check_imports.py

clean:
	rm -rf .build
