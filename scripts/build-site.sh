#!/usr/bin/env bash
# Builds the site exactly as `cargo leptos build` would (same file names, same layout), without
# needing cargo-leptos installed:
#   1. the `app` crate for wasm32 with `hydrate`       -> target/wasm32-unknown-unknown/<profile>/app.wasm
#   2. wasm-bindgen --target web                         -> target/site/pkg/exam.js + exam.wasm
#   3. (release) wasm-opt -Oz on the wasm ($WASM_OPT, default: the one scripts/ensure-tools.sh installs);
#      terser on the JS ($TERSER, likewise), in both profiles
#   1–3 again with `hydrate,student`: the student bundle (only the student's pages, `app::bundle`)
#                                                        -> target/site/pkg/student.js + student.wasm
#   4. style/main.css                                    -> target/site/pkg/exam.css, and without the
#      blocks it marks as the teacher's pages' only       -> target/site/pkg/student.css
#   5. app/public/*                                      -> target/site/
#   6. the `server` binary with `ssr`
#   7. content-hashed names, as cargo-leptos' `hash-files` makes them: exam.<hash>.js|wasm|css
#      (16 hex digits of each file's SHA-256), listed in target/site/hash.txt, which the server
#      reads at start (no hash.txt: the plain names, e.g. under `cargo leptos watch`); the student
#      bundle's in target/site/hash-student.txt
#   8. brotli (.br) and gzip (.gz) copies of every asset, written by `server precompress`
#      (best compression in release; fast in debug, whose wasm is tens of MiB)
# Usage: scripts/build-site.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-debug}"
site=target/site
pkg="$site/pkg"
export LEPTOS_OUTPUT_NAME=exam

# One bundle: the app for wasm32 with these features, through wasm-bindgen (and wasm-opt), into
# $pkg.new as <name>.<hash>.js|wasm, the hashes appended to <hash file>.
bundle() {
  local name="$1" features="$2" hashes="$3" wasm
  if [ "$profile" = release ]; then
    cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features "$features" --profile wasm-release
    wasm=target/wasm32-unknown-unknown/wasm-release/app.wasm
  else
    cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features "$features"
    wasm=target/wasm32-unknown-unknown/debug/app.wasm
  fi
  wasm-bindgen --target web --no-typescript --out-dir "$pkg.new" --out-name "$name" "$wasm"
  mv "$pkg.new/${name}_bg.wasm" "$pkg.new/$name.wasm"
  if [ "$profile" = release ] && [ -x "$wasm_opt" ]; then
    # --converge: the passes again until the module stops shrinking (0.5 KB less as brotli).
    "$wasm_opt" -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int "$pkg.new/$name.wasm" -o "$pkg.new/$name.wasm"
  fi
  # The JS glue minified (45 KB to 21 KB for the student's; a quarter less as brotli). In both
  # profiles, so the browser tests load what a release serves.
  if [ -x "$terser" ]; then
    "$terser" "$pkg.new/$name.js" --module --compress --mangle -o "$pkg.new/$name.min.js"
    mv "$pkg.new/$name.min.js" "$pkg.new/$name.js"
  fi
  for ext in js wasm; do
    hash=$(sha256sum "$pkg.new/$name.$ext" | cut -c1-16)
    mv "$pkg.new/$name.$ext" "$pkg.new/$name.$hash.$ext"
    printf '%s: %s\n' "$ext" "$hash" >> "$hashes"
  done
}

wasm_opt="${WASM_OPT:-.tools/node_modules/.bin/wasm-opt}"
terser="${TERSER:-.tools/node_modules/.bin/terser}"
rm -rf "$pkg.new" && mkdir -p "$pkg.new"
: > "$pkg.new/hash.txt"
: > "$pkg.new/hash-student.txt"
bundle exam hydrate "$pkg.new/hash.txt"
bundle student hydrate,student "$pkg.new/hash-student.txt"
# The stylesheet: all of it for the full bundle's pages; for the student bundle's, without the
# blocks style/main.css marks as the teacher's pages' only (a marker comment alone on its line
# opens and closes each block; the browser tests check that none of them matches anything on a
# student's page).
# Comments are left out of both (a sixth of the file's bytes); the CSS has no `/*` in a string.
strip_comments() { perl -0777 -pe 's{/\*.*?\*/}{}gs; s/\n\s*\n/\n/g'; }
strip_comments < style/main.css > "$pkg.new/exam.css"
awk '/^\/\* teacher pages only \{ \*\/$/ { if (skip) { print "style/main.css:" NR ": block opened twice" > "/dev/stderr"; exit 1 } skip = 1; next }
     /^\/\* \} teacher pages only \*\/$/ { if (!skip) { print "style/main.css:" NR ": block closed twice" > "/dev/stderr"; exit 1 } skip = 0; next }
     !skip
     END { if (skip) { print "style/main.css: a teacher-only block is not closed" > "/dev/stderr"; exit 1 } }' style/main.css | strip_comments > "$pkg.new/student.css"
for name in exam student; do
  hash=$(sha256sum "$pkg.new/$name.css" | cut -c1-16)
  mv "$pkg.new/$name.css" "$pkg.new/$name.$hash.css"
  hashes="$pkg.new/hash.txt"; [ "$name" = student ] && hashes="$pkg.new/hash-student.txt"
  printf 'css: %s\n' "$hash" >> "$hashes"
done
mkdir -p "$site"
rm -rf "$pkg" && mv "$pkg.new" "$pkg"
mv "$pkg/hash.txt" "$pkg/hash-student.txt" "$site/"
if [ -d app/public ] && [ -n "$(ls -A app/public)" ]; then cp -R app/public/. "$site/"; fi

if [ "$profile" = release ]; then
  cargo build -p server --release
  target/release/server precompress "$pkg"
else
  cargo build -p server
  target/debug/server precompress --fast "$pkg"
fi
for name in exam student; do
  printf 'site: %s, %s bundle: wasm %s bytes, %s as brotli\n' "$site" "$name" "$(stat -c %s "$pkg"/$name.*.wasm)" "$(stat -c %s "$pkg"/$name.*.wasm.br)"
done
