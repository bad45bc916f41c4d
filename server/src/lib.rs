//! The gateway: axum + Leptos SSR. Serves the pages, the `/api/v1` contract and the
//! WebSockets. In the embedded default it also hosts the directory store, the in-process bus
//! and the in-process generator worker; with `S3_ENDPOINT` and `KAFKA_BOOTSTRAP_SERVERS` it
//! uses the S3 store and Kafka and leaves generation to the generator function.
//!
//! `main` reads [`Settings`] and calls [`Application::build`]; tests do the same on port 0.

pub mod api;
pub mod error;
pub mod settings;
pub mod sittings;
pub mod state;
pub mod ws;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use exam_backends::BackendSettings;
use exam_core::pipeline::{Extractor, Pipeline, PipelineConfig, spawn_worker};
use exam_core::service::{Platform, PlatformConfig};
use exam_domain::ExamStatus;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

pub use settings::Settings;
use state::AppState;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    platform: Arc<Platform>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Wires the store, the bus and (with the in-process bus) the generator, rebuilds the
    /// catalog and binds the listener (port 0 allowed).
    pub async fn build(settings: Settings, extractor: Extractor) -> anyhow::Result<Self> {
        let backend_settings = settings.backends.clone().unwrap_or_else(|| {
            BackendSettings::embedded(settings.data_dir.clone(), settings.bucket.clone(), settings.uploads_topic.clone())
        });
        let backends = exam_backends::connect(&backend_settings).await?;
        let (store, bus) = (backends.store.clone(), backends.bus.clone());
        let mut tasks = Vec::new();
        // Also needed without the embedded pipeline: teachers regenerate single questions here.
        let generation = Arc::new(exam_llm::generation(store.clone(), extractor, settings.extract_budget, settings.llm.as_ref())?);

        if settings.embedded_generator.unwrap_or(backends.in_process_bus) {
            let pipeline = Arc::new(Pipeline::new(
                store.clone(),
                bus.clone(),
                PipelineConfig { announcements_topic: settings.announcements_topic.clone(), generation: generation.clone() },
            ));
            tasks.push(spawn_worker(pipeline, bus.clone(), &settings.uploads_topic, settings.generator_concurrency).await?);
        }

        let platform = Platform::new(
            store.clone(),
            bus.clone(),
            PlatformConfig {
                announcements_topic: settings.announcements_topic.clone(),
                pass_mark: settings.pass_mark,
                generation,
                clock: Arc::new(exam_core::clock::SystemClock),
            },
        );
        tasks.push(platform.start().await?);
        // Every replica submits expired attempts, also those no browser is connected to.
        tasks.push(platform.spawn_sweeper(settings.sweep_interval));
        // Uploads whose notification we sent ourselves but whose generation was interrupted
        // by a restart are announced again (the pipeline is idempotent).
        if let Some(notifier) = &backends.notifier {
            for exam in platform.exams().into_iter().filter(|e| e.status == ExamStatus::Generating) {
                for obj in store.list(&format!("{}{}/", exam_domain::keys::UPLOADS_PREFIX, exam.id)).await? {
                    tracing::info!(exam.id = %exam.id, "resuming interrupted generation");
                    if let Err(e) = notifier.renotify(&obj.key).await {
                        tracing::warn!(error = %e, "could not resume generation");
                    }
                }
            }
        }

        let listener = tokio::net::TcpListener::bind(settings.addr).await.with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr()?;
        let leptos = LeptosOptions::builder()
            .output_name("exam")
            .site_root(settings.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(match std::env::var("LEPTOS_ENV").as_deref() {
                Ok("DEV" | "dev" | "development") => Env::DEV,
                _ => Env::PROD,
            })
            .build();
        let router = router(platform.clone(), Arc::new(settings), leptos);
        Ok(Application { listener, router, platform, tasks })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The router, for handler-level tests with `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn platform(&self) -> Arc<Platform> {
        self.platform.clone()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        for t in self.tasks {
            t.abort();
        }
        Ok(())
    }
}

fn router(platform: Arc<Platform>, settings: Arc<Settings>, leptos: LeptosOptions) -> Router {
    let limit = app::server_fns::UploadLimitContext(settings.max_upload_bytes);
    let state = AppState { platform: platform.clone(), settings: settings.clone(), leptos: leptos.clone() };
    let routes = generate_route_list(app::App);
    let context = move || {
        provide_context(platform.clone());
        provide_context(limit);
    };
    let shell = {
        let leptos = leptos.clone();
        move || app::shell(leptos.clone())
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(api::teacher_routes(settings.max_upload_bytes))
        .merge(api::student_routes())
        .leptos_routes_with_context(&state, routes, context, shell)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn readyz(axum::extract::State(s): axum::extract::State<AppState>) -> axum::response::Response {
    match s.platform.check().await {
        Ok(()) => "ready".into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    }
}
