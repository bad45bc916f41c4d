# Two images from one build; works with BuildKit, Docker's classic builder and buildah/podman
# (no `# syntax=` line: that would make BuildKit fetch its frontend from Docker Hub):
#   docker build --target gateway   -t exam-gateway   .   # axum + Leptos SSR, site assets, `server`
#   docker build --target generator -t exam-generator .   # the generator function, `generator-fn`
# `make image` builds both with whatever engine is present; `make image-check` runs them.
#
# Base images are build arguments (defaults: the public images), so a closed network can build
# from local stand-ins (scripts/image.sh makes them from a debootstrap root file system):
#   --build-arg BUILDER_IMAGE=rust:1.95.0-slim-bookworm
#   --build-arg RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
#
# Layering: the toolchain (Debian packages, wasm32 target, cargo-chef, wasm-bindgen CLI, wasm-opt,
# terser) changes rarely; dependencies are compiled from cargo-chef's recipe (Cargo.toml + Cargo.lock
# only), so editing a source file rebuilds our crates, not the dependency tree.
# Runtime images are distroless (glibc, libssl3, CA certificates; no shell, no package manager),
# run as uid 65532 and work with a read-only root filesystem: the gateway writes only to /tmp
# (upload spool) and, in the embedded mode, to EXAM_DATA_DIR (/data), both meant to be volumes;
# the generator's embedded default is /tmp/data.

# Must equal the wasm-bindgen crate in Cargo.lock (helm/tests checks this file against it).
ARG WASM_BINDGEN_VERSION=0.2.130
ARG CARGO_CHEF_VERSION=0.1.78
ARG BINARYEN_VERSION=132
ARG TERSER_VERSION=5.51.4
ARG BUILDER_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILDER_IMAGE} AS toolchain
ARG WASM_BINDGEN_VERSION
ARG CARGO_CHEF_VERSION
ARG BINARYEN_VERSION
ARG TERSER_VERSION
# make/perl/g++: librdkafka's bundled build (the same toolchain the project builds with);
# libssl-dev/pkg-config: rdkafka's TLS; npm: binaryen (wasm-opt) and terser (the JS glue).
# aws-lc-sys builds with gcc alone.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make perl g++ pkg-config libssl-dev npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}" \
 && cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" \
 && npm install --global --no-audit --no-fund "binaryen@${BINARYEN_VERSION}" "terser@${TERSER_VERSION}" \
 && rm -rf /usr/local/cargo/registry
# zlib is linked statically so the runtime image needs nothing beyond glibc and OpenSSL.
ENV LIBZ_SYS_STATIC=1 \
    WASM_OPT=/usr/local/bin/wasm-opt \
    TERSER=/usr/local/bin/terser \
    CARGO_TERM_COLOR=never
WORKDIR /src

FROM toolchain AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM toolchain AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: cached until Cargo.toml/Cargo.lock change.
RUN cargo chef cook --release --locked -p server -p generator-fn --recipe-path recipe.json \
 && cargo chef cook --profile wasm-release --locked --target wasm32-unknown-unknown \
      -p app --no-default-features --features hydrate --recipe-path recipe.json
COPY . .
# The same script `make run` uses: WASM (hydrate) -> wasm-bindgen -> wasm-opt -> target/site, then
# the server; then the generator function.
# Both binaries in one cargo invocation: the feature set the dependency layer was cooked with
# (building `-p generator-fn` alone resolves other features and recompiles the tree). Symbols are
# stripped (~29 MB less); panics still name file and line.
RUN scripts/build-site.sh release \
 && cargo build --release --locked -p server -p generator-fn \
 && mkdir -p /out/data \
 && cp target/release/server target/release/generator-fn /out/ \
 && strip /out/server /out/generator-fn \
 && cp -R target/site /out/site

FROM ${RUNTIME_IMAGE} AS gateway
LABEL org.opencontainers.image.title="exam-gateway" \
      org.opencontainers.image.description="Exam platform gateway: axum + Leptos SSR and the hydrated front end" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /out/server /app/server
COPY --from=builder /out/site /app/site
COPY --from=builder --chown=65532:65532 /out/data /data
ENV LEPTOS_ENV=PROD \
    LEPTOS_OUTPUT_NAME=exam \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    EXAM_DATA_DIR=/data \
    EXAM_SPOOL_DIR=/tmp \
    RUST_LOG=info \
    EXAM_LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2
WORKDIR /app
USER 65532:65532
EXPOSE 3000
ENTRYPOINT ["/app/server"]
CMD ["serve"]

FROM ${RUNTIME_IMAGE} AS generator
LABEL org.opencontainers.image.title="exam-generator" \
      org.opencontainers.image.description="Exam platform generator function: KafkaSource CloudEvents in, question banks out" \
      org.opencontainers.image.licenses="MIT"
COPY --from=builder /out/generator-fn /app/generator-fn
ENV PORT=8080 \
    EXAM_DATA_DIR=/tmp/data \
    RUST_LOG=info \
    EXAM_LOG_FORMAT=json
WORKDIR /app
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/app/generator-fn"]
CMD ["serve"]
