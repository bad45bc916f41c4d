#!/usr/bin/env bash
# Starts the server built by `make test` with an empty data directory of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d -t exam-e2e-XXXXXX)
export EXAM_DATA_DIR="$data" EXAM_SPOOL_DIR="$data" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_ADDR="127.0.0.1:${E2E_PORT:-3107}"
export EXAM_MAX_UPLOAD_MB="${EXAM_MAX_UPLOAD_MB:-2}" RUST_LOG="${RUST_LOG:-warn}"
# No teacher exists: the server writes the setup link to "$data/setup-link.txt", and the
# suite's first step (tests/auth.setup.ts) creates the first teacher through it, as a newcomer
# after `make run` would. It finds the link through this file.
mkdir -p end2end/.auth
printf '%s' "$data" > end2end/.auth/server-data-dir
exec ./target/debug/server
