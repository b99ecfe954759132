# Quantix-OS build and test entry points. See README.md.
#   make run        build what is missing, boot the disk image in QEMU
#   make test       everything: checks, image build, VM scenarios
#   make check      fast tier: lint, type-check, unit + integration tests (no VM boots)
#   make squashfs | iso | disk     the images, in output/
#   make bench      benchmarks (print figures)
#   make clean
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VERSION ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0)
export VERSION

.PHONY: all deps check lint typecheck unit test clean

all: check

deps:
	@scripts/host-deps.sh

lint: deps
	npx biome lint $(wildcard packages scripts tests bench)

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

unit: deps
	node scripts/run-tests.mjs

check: lint typecheck unit

test: check

clean:
	rm -rf output build .tmp
