//! The gateway's integration tests, as one test binary.
//!
//! Each file here used to be its own binary under `server/tests/`, and each of those linked the
//! whole gateway (aws-sdk-s3, rdkafka, leptos, reqwest): a dozen copies of the same ~250 MB of
//! code to write to disk and link on two cores. One binary links once. Run one group with
//! `cargo test -p server --test it <module>::` (for example `access::`).

mod common;
#[path = "../../../generator/tests/hostile/mod.rs"]
mod hostile;
mod real;

mod access;
mod bad_input;
mod connection_limits;
mod exam_flow;
mod identity;
mod joining;
mod lifecycle;
mod metrics;
mod oidc;
mod pages;
mod real_pipeline;
mod results;
mod review_versions;
mod shutdown;
mod sittings;
mod traces;
mod websocket_limits;
