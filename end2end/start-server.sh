#!/usr/bin/env bash
# Starts the server built by `make test` with an empty data directory of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d -t exam-e2e-XXXXXX)
export EXAM_DATA_DIR="$data" EXAM_SPOOL_DIR="$data" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_ADDR="127.0.0.1:${E2E_PORT:-3107}"
export EXAM_MAX_UPLOAD_MB="${EXAM_MAX_UPLOAD_MB:-2}" RUST_LOG="${RUST_LOG:-warn}"
# The first teacher, as an operator would create it (the password from a file, like a Secret).
printf '%s' "${E2E_ADMIN_PASSWORD:-e2e teacher password}" > "$data/admin-password"
export EXAM_ADMIN_EMAIL="${E2E_ADMIN_EMAIL:-teacher@e2e.test}" EXAM_ADMIN_PASSWORD_FILE="$data/admin-password" EXAM_ADMIN_NAME="Ms Teacher"
exec ./target/debug/server
