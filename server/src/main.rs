//! `server`: the exam platform gateway.
//!
//! * `server`: serve (the embedded default unless the environment names S3 and Kafka; see
//!   README.md).
//! * `server setup-notifications`: configure the S3 store's bucket notification (object
//!   created under `exams/` → the store's Kafka target `EXAM_NOTIFY_QUEUE_ARN`, default
//!   `arn:minio:sqs::exams:kafka`). Idempotent; run by the Helm hook Job.
//! * `server extract-pdf`: the isolated PDF reader the gateway starts for each document.
//! * `server precompress [--fast] <dir>`: the site build's step that writes brotli and gzip
//!   copies beside the assets in `<dir>` (see `server::assets`).

use std::process::ExitCode;

use server::{Application, Settings};

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    if command.as_deref() == Some("extract-pdf") {
        return exam_generator::run_extract_child();
    }
    if command.as_deref() == Some("precompress") {
        return precompress(&std::env::args().skip(2).collect::<Vec<_>>());
    }
    let open_files = server::ws_limits::raise_open_files_limit();
    // Logs and, with OTEL_EXPORTER_OTLP_ENDPOINT, traces; spans still queued are exported
    // when the guard drops, after the runtime has stopped.
    let _telemetry = exam_telemetry::init("exam-gateway");
    tracing::debug!(limit = ?open_files, "open files");
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command.as_deref() {
        None | Some("serve") => runtime.block_on(run()),
        Some("setup-notifications") => runtime.block_on(setup_notifications()),
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}: use serve, setup-notifications or extract-pdf")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn precompress(args: &[String]) -> ExitCode {
    let effort = if args.iter().any(|a| a == "--fast") { server::assets::Effort::Fast } else { server::assets::Effort::Best };
    let Some(dir) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: server precompress [--fast] <dir>");
        return ExitCode::FAILURE;
    };
    match server::assets::precompress(std::path::Path::new(dir), effort) {
        Ok((files, bytes, brotli)) => {
            println!("precompressed {files} files in {dir}: {bytes} bytes, {brotli} as brotli");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot precompress {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let extractor = settings.process.generation.isolated_reader(std::env::current_exe()?, "extract-pdf");
    let app = Application::build(settings, extractor).await?;
    app.run_until_stopped(shutdown_signal()).await
}

async fn setup_notifications() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let Some(exam_backends::BackendSettings { store: exam_backends::StoreSettings::S3(s3), .. }) = settings.process.backends else {
        anyhow::bail!("setup-notifications needs the S3 store: set S3_ENDPOINT (or EXAM_STORE=s3) and the AWS_* credentials");
    };
    let arn = settings.notify_queue_arn;
    let store = exam_backends::S3Store::connect(&s3).await?;
    store.configure_upload_notifications(&arn, exam_domain::keys::UPLOADS_PREFIX).await?;
    tracing::info!(bucket = %s3.bucket, queue_arn = %arn, prefix = exam_domain::keys::UPLOADS_PREFIX, "bucket notification configured");
    Ok(())
}

/// SIGTERM (Kubernetes) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
