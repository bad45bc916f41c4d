//! `generator-fn`: the generator function binary.
//!
//! * `generator-fn` / `generator-fn serve`: HTTP on `$PORT` (default 8080) for KafkaSource
//!   CloudEvents (Knative Service).
//! * `generator-fn consume`: read the uploads topic directly (clusters without Knative); still
//!   serves `/healthz`, `/readyz` and `/metrics` on `$PORT`.
//! * `generator-fn extract-pdf`: the isolated PDF reader it starts as a child process.
//!
//! Configuration: the same `S3_*`, `AWS_*`, `KAFKA_*`, `EXAM_*` variables as the gateway
//! (README.md), read by `exam_backends::settings::FunctionSettings`; `EXAM_LLM_*` selects a
//! language model instead of the built-in generator.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use exam_backends::settings::{Env, FunctionSettings};
use exam_core::pipeline::{Pipeline, PipelineConfig, spawn_worker};
use generator_fn::{FnState, metered_router};

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if mode == "extract-pdf" {
        return exam_generator::run_extract_child();
    }
    // Logs and, with OTEL_EXPORTER_OTLP_ENDPOINT, traces; spans still queued are exported
    // when the guard drops, after the runtime has stopped.
    let _telemetry = exam_telemetry::init("exam-generator");
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&mode)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mode: &str) -> anyhow::Result<()> {
    if !matches!(mode, "serve" | "consume") {
        anyhow::bail!("unknown mode {mode:?}: use serve, consume or extract-pdf");
    }
    let settings = FunctionSettings::read(&Env::process())?;
    let metrics = generator_fn::metrics::FnMetrics::new();
    let extractor = settings.process.generation.isolated_reader(std::env::current_exe()?, "extract-pdf");
    let exam_backends::Wired { backends, generation } = exam_backends::wire(&settings.process, extractor, metrics.core()).await?;
    let pipeline = Arc::new(Pipeline::new(
        backends.store.clone(),
        backends.bus.clone(),
        PipelineConfig { announcements_topic: settings.process.announcements_topic.clone(), generation },
    ));
    // Consume mode handles one document at a time so offsets are stored in order; scale out
    // with partitions and replicas.
    let uploads = &settings.process.uploads_topic;
    let worker = if mode == "consume" { Some(spawn_worker(pipeline.clone(), backends.bus.clone(), uploads, 1).await?) } else { None };
    let addr = settings.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, mode, "generator function listening");
    let app = metered_router(FnState { pipeline, store: backends.store, bus: backends.bus }, metrics);
    // In-flight requests finish before the process exits (Knative sends SIGTERM).
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    if let Some(w) = worker {
        // Unacknowledged messages are redelivered after a restart; generation is idempotent.
        w.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
