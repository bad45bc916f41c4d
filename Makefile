# The two commands: `make run` and `make test`. Both install what is missing first.
.DEFAULT_GOAL := run
.PHONY: run test build build-release tools tools-test unit e2e deploy-check dev fmt lint clean-data bench quality image image-check

PORT ?= 3000

## Build (release) and serve the embedded default on http://127.0.0.1:$(PORT)
run: build-release
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} LEPTOS_SITE_ADDR=127.0.0.1:$(PORT) LEPTOS_SITE_ROOT=target/site ./target/release/server

## Run every test: unit, integration (real servers on loopback), browser end-to-end
test: tools-test
	$(MAKE) --no-print-directory deploy-check
	cargo test --workspace --locked
	scripts/build-site.sh debug
	cd end2end && npm test

tools:
	scripts/ensure-tools.sh build
tools-test:
	scripts/ensure-tools.sh test

build: tools
	scripts/build-site.sh debug
build-release:
	scripts/ensure-tools.sh release
	scripts/build-site.sh release

unit:
	cargo test --workspace --locked
## Offline checks of the Dockerfile, Helm charts and helmfile (lint, render, schemas, contracts)
deploy-check:
	PYTHONPATH=.tools/pyhelm python3 -m unittest discover -s helm/tests

e2e: tools-test
	scripts/build-site.sh debug
	cd end2end && npm test

## Container images exam-gateway:dev and exam-generator:dev (podman or docker; offline: local base
## images made with debootstrap). Not part of `make test`: ~20 min cold on 2 cores (README)
image:
	scripts/image.sh
## Run both images read-only, non-root, host network: health, page, assets, an upload through the pipeline
image-check:
	scripts/image-check.sh

## Watch mode for front-end work (installs cargo-leptos once, ~20 min on 2 cores)
dev: tools
	@command -v cargo-leptos >/dev/null || cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
	cargo leptos watch

fmt:
	cargo fmt --all
lint:
	cargo clippy --workspace --all-targets -- -D warnings

clean-data:
	rm -rf data

## Measure the gateway beside its peers (Streamlit, pdfminer.six; installed into .tools/ once) in one
## run: memory per idle session, CPU per answer, first-load bytes, fan-out to live sockets, PDF pages
## per second. Writes target/bench/report.{json,md} and SVG charts (release build; BENCH_ROUNDS=3)
bench: build-release
	python3 scripts/bench/run.py

## Question quality on the real PDFs of quality/corpus: writes and prints target/quality/report.md
quality:
	cargo run --release --locked -p exam-generator --example quality
