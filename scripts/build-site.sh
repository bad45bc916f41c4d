#!/usr/bin/env bash
# Builds the site exactly as `cargo leptos build` would (same file names, same layout), without
# needing cargo-leptos installed:
#   1. the `app` crate for wasm32 with `hydrate`       -> target/wasm32-unknown-unknown/<profile>/app.wasm
#   2. wasm-bindgen --target web                         -> target/site/pkg/exam.js + exam.wasm
#   3. (release) wasm-opt -Oz on the wasm ($WASM_OPT, default: the one scripts/ensure-tools.sh installs)
#   4. style/main.css                                    -> target/site/pkg/exam.css
#   5. app/public/*                                      -> target/site/
#   6. the `server` binary with `ssr`
#   7. content-hashed names, as cargo-leptos' `hash-files` makes them: exam.<hash>.js|wasm|css
#      (16 hex digits of each file's SHA-256), listed in target/site/hash.txt, which the server
#      reads at start (no hash.txt: the plain names, e.g. under `cargo leptos watch`)
#   8. brotli (.br) and gzip (.gz) copies of every asset, written by `server precompress`
#      (best compression in release; fast in debug, whose wasm is tens of MiB)
# Usage: scripts/build-site.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-debug}"
site=target/site
pkg="$site/pkg"
export LEPTOS_OUTPUT_NAME=exam

if [ "$profile" = release ]; then
  cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --profile wasm-release
  wasm=target/wasm32-unknown-unknown/wasm-release/app.wasm
else
  cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate
  wasm=target/wasm32-unknown-unknown/debug/app.wasm
fi

rm -rf "$pkg.new" && mkdir -p "$pkg.new"
wasm-bindgen --target web --no-typescript --out-dir "$pkg.new" --out-name exam "$wasm"
mv "$pkg.new/exam_bg.wasm" "$pkg.new/exam.wasm"
wasm_opt="${WASM_OPT:-.tools/node_modules/.bin/wasm-opt}"
if [ "$profile" = release ] && [ -x "$wasm_opt" ]; then
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg.new/exam.wasm" -o "$pkg.new/exam.wasm"
fi
cp style/main.css "$pkg.new/exam.css"
: > "$pkg.new/hash.txt"
for ext in js wasm css; do
  hash=$(sha256sum "$pkg.new/exam.$ext" | cut -c1-16)
  mv "$pkg.new/exam.$ext" "$pkg.new/exam.$hash.$ext"
  printf '%s: %s\n' "$ext" "$hash" >> "$pkg.new/hash.txt"
done
mkdir -p "$site"
rm -rf "$pkg" && mv "$pkg.new" "$pkg"
mv "$pkg/hash.txt" "$site/hash.txt"
if [ -d app/public ] && [ -n "$(ls -A app/public)" ]; then cp -R app/public/. "$site/"; fi

if [ "$profile" = release ]; then
  cargo build -p server --release
  target/release/server precompress "$pkg"
else
  cargo build -p server
  target/debug/server precompress --fast "$pkg"
fi
printf 'site: %s (wasm %s bytes, %s as brotli)\n' "$site" "$(stat -c %s "$pkg"/exam.*.wasm)" "$(stat -c %s "$pkg"/exam.*.wasm.br)"
