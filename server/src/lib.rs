// The page views' types (app) are deep: the SSR futures the router builds from them exceed the
// default query depth.
#![recursion_limit = "256"]
//! The gateway: axum + Leptos SSR. Serves the pages, the `/api/v1` contract and the
//! WebSockets. In the embedded default it also hosts the directory store, the in-process bus
//! and the in-process generator worker; with `S3_ENDPOINT` and `KAFKA_BOOTSTRAP_SERVERS` it
//! uses the S3 store and Kafka and leaves generation to the generator function.
//!
//! `main` reads [`Settings`] and calls [`Application::build`]; tests do the same on port 0.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod lifecycle;
pub mod metrics;
pub mod serve;
pub mod settings;
pub mod sfn_errors;
pub mod shutdown;
pub mod sittings;
pub mod state;
pub mod ws;
pub mod ws_limits;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use exam_core::pipeline::{Extractor, Pipeline, PipelineConfig, spawn_worker};
use exam_core::service::{Platform, PlatformConfig};
use exam_domain::ExamStatus;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

pub use settings::Settings;
use state::AppState;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    platform: Arc<Platform>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    limits: serve::ConnectionLimits,
    shutdown: shutdown::Shutdown,
    sockets: Arc<ws_limits::SocketLimits>,
    shutdown_delay: std::time::Duration,
    /// The metrics listener's port (`EXAM_METRICS_ADDR`), if any.
    metrics_port: Option<u16>,
}

impl Application {
    /// Wires the store, the bus and (with the in-process bus) the generator, rebuilds the
    /// catalog and binds the listener (port 0 allowed).
    pub async fn build(settings: Settings, extractor: Extractor) -> anyhow::Result<Self> {
        let metrics = metrics::Metrics::new();
        let exam_backends::Wired { backends, generation } = exam_backends::wire(&settings.process, extractor, metrics.core()).await?;
        let (store, bus) = (backends.store.clone(), backends.bus.clone());
        let mut tasks = Vec::new();
        // The generation service is also needed without the embedded pipeline: teachers
        // regenerate single questions here.
        if settings.embedded_generator.unwrap_or(backends.in_process_bus) {
            let pipeline = Arc::new(Pipeline::new(
                store.clone(),
                bus.clone(),
                PipelineConfig { announcements_topic: settings.process.announcements_topic.clone(), generation: generation.clone() },
            ));
            tasks
                .push(spawn_worker(pipeline, bus.clone(), &settings.process.uploads_topic, settings.process.generation.concurrency).await?);
        }

        let platform = Platform::with_metrics(
            store.clone(),
            bus.clone(),
            PlatformConfig {
                announcements_topic: settings.process.announcements_topic.clone(),
                pass_mark: settings.pass_mark,
                generation,
                clock: Arc::new(exam_core::clock::SystemClock),
            },
            metrics.core().clone(),
        );
        tasks.push(platform.start().await?);
        first_teacher(&platform, &settings).await?;
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
        let mut metrics_port = None;
        if let Some(at) = settings.metrics_addr {
            let l = tokio::net::TcpListener::bind(at).await.with_context(|| format!("cannot listen for metrics on {at}"))?;
            metrics_port = Some(l.local_addr()?.port());
            tracing::info!(addr = %l.local_addr()?, "metrics on /metrics");
            tasks.push(metrics::serve(l, &metrics));
        }
        // Content-hashed asset names when the site build wrote them (see `assets`).
        let hashes = assets::hashing(&settings.site_root);
        let leptos = LeptosOptions::builder()
            .output_name("exam")
            .hash_files(hashes.is_some())
            .hash_file(hashes.map_or_else(|| assets::HASH_FILE.into(), |f| f.to_string_lossy().into()))
            .site_root(settings.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(if settings.leptos_dev { Env::DEV } else { Env::PROD })
            .build();
        let sessions = auth::sessions::StoreSessions::new(store.clone());
        tasks.push(tokio::spawn({
            let sessions = sessions.clone();
            async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    every.tick().await;
                    match sessions.delete_expired().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                        Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
                    }
                }
            }
        }));
        let limits = serve::ConnectionLimits {
            max_connections: settings.max_connections,
            read_timeout: settings.read_timeout,
            grace: settings.shutdown_grace,
        };
        let shutdown = shutdown::Shutdown::default();
        let sockets = ws_limits::SocketLimits::new(settings.ws_max_per_client, settings.ws_max_total);
        let shutdown_delay = settings.shutdown_delay;
        let router = router(platform.clone(), Arc::new(settings), leptos, sessions, sockets.clone(), shutdown.clone(), metrics);
        Ok(Application { listener, router, platform, tasks, limits, shutdown, sockets, shutdown_delay, metrics_port })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The port `/metrics` is served on (`EXAM_METRICS_ADDR`), `None` without one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The router, for handler-level tests with `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub fn platform(&self) -> Arc<Platform> {
        self.platform.clone()
    }

    /// Serves until `signal` resolves, then shuts down gracefully (see [`shutdown`]): readiness
    /// off for the shutdown delay, then no new connections, sockets closed with 1012, in-flight
    /// requests finished within the grace period.
    pub async fn run_until_stopped(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        let (phase, delay) = (self.shutdown.clone(), self.shutdown_delay);
        let stop = async move {
            signal.await;
            phase.set(shutdown::Phase::Draining);
            tracing::info!(delay_secs = delay.as_secs(), "draining: /readyz answers 503");
            tokio::time::sleep(delay).await;
            phase.set(shutdown::Phase::Stopping);
            tracing::info!("stopping: no new connections, closing sockets, finishing requests");
        };
        // The peer address (`ConnectInfo`) is what sign-in failures are counted by (see
        // `auth::limits`); connections are capped and timed (see `serve`).
        let grace = self.limits.grace;
        serve::serve(self.listener, self.router, self.limits, stop).await?;
        // The sockets were told to close; let their close frames go out.
        let grace = tokio::time::Instant::now() + grace;
        while self.sockets.open() > 0 && tokio::time::Instant::now() < grace {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        for t in self.tasks {
            t.abort();
        }
        tracing::info!(sockets_left = self.sockets.open(), "stopped");
        Ok(())
    }

    /// Where the gateway is in its shutdown (tests watch it).
    pub fn shutdown(&self) -> shutdown::Shutdown {
        self.shutdown.clone()
    }
}

fn router(
    platform: Arc<Platform>,
    settings: Arc<Settings>,
    leptos: LeptosOptions,
    sessions: auth::sessions::StoreSessions,
    sockets: Arc<ws_limits::SocketLimits>,
    shutdown: shutdown::Shutdown,
    metrics: metrics::Metrics,
) -> Router {
    let limit = app::server_fns::UploadLimitContext(settings.max_upload_bytes);
    let public_url = app::server_fns::PublicUrl(settings.auth.public_url.clone());
    let oidc_login = app::pages::auth::OidcLogin(settings.auth.oidc.as_ref().map(|o| o.button.clone()));
    let state = AppState {
        platform: platform.clone(),
        settings: settings.clone(),
        leptos: leptos.clone(),
        limiter: Arc::new(auth::limits::FailureLimiter::default()),
        join_limiter: Arc::new(auth::limits::FailureLimiter::new(std::time::Duration::from_secs(15 * 60), 30, 200)),
        sockets,
        shutdown,
        metrics: metrics.clone(),
    };
    let routes = generate_route_list(app::App);
    let context = move || {
        provide_context(platform.clone());
        provide_context(limit);
        provide_context(public_url.clone());
        provide_context(oidc_login.clone());
        // The page's Content-Security-Policy carries the nonce Leptos puts on its scripts.
        if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
            && let Ok(policy) = axum::http::HeaderValue::from_str(&auth::origin::page_policy(nonce.as_inner()))
        {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
        }
    };
    let shell = {
        let leptos = leptos.clone();
        move || app::shell(leptos.clone())
    };
    let https = settings.auth.https();
    let idle = time::Duration::seconds(i64::try_from(settings.auth.session_idle.as_secs()).unwrap_or(i64::MAX));
    let session_layer = tower_sessions::SessionManagerLayer::new(sessions)
        // `__Host-`: Secure, no Domain, Path=/ — the cookie cannot be set by a sibling subdomain.
        .with_name(if https { "__Host-exam_session" } else { "exam_session" })
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_path("/")
        .with_expiry(tower_sessions::Expiry::OnInactivity(idle));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(auth::routes::routes())
        .merge(auth::oidc::routes(&settings, leptos.site_addr))
        .merge(api::teacher_routes(settings.max_upload_bytes))
        .merge(api::student_routes())
        .merge(lifecycle::teacher_routes(settings.max_upload_bytes))
        // Anything else under the API is a JSON 404 (not the HTML "page not found").
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .merge(assets::pkg_routes(std::path::Path::new(leptos.site_root.as_ref())))
        .leptos_routes_with_context(&state, routes, context, shell)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        // Outermost last: trace → headers → cross-site refusal → session → identity → guard.
        .layer(axum::middleware::from_fn(auth::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::origin::refuse_cross_site))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::origin::security_headers))
        .layer(axum::middleware::map_response(sfn_errors::client_errors_are_4xx))
        .layer(axum::middleware::from_fn(assets::page_caching))
        .layer(assets::compression())
        .layer(TraceLayer::new_for_http().make_span_with(RequestSpan).on_response(RequestSpan))
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .with_state(state)
}

/// The HTTP server span of each request (`exam_telemetry::http_request_span`): named by the
/// matched route, continuing a caller's `traceparent`, the status recorded. Probes get none, so
/// a kubelet polling every few seconds fills no trace store.
#[derive(Clone, Copy)]
struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        let route = req.extensions().get::<axum::extract::MatchedPath>().map(axum::extract::MatchedPath::as_str);
        if matches!(route, Some("/healthz" | "/readyz")) {
            return tracing::Span::none();
        }
        exam_telemetry::http_request_span(req.method(), route, req.uri().path(), req.headers())
    }
}

impl<B> tower_http::trace::OnResponse<B> for RequestSpan {
    fn on_response(self, response: &axum::http::Response<B>, _latency: std::time::Duration, span: &tracing::Span) {
        exam_telemetry::record_status(span, response.status());
    }
}

/// The first teacher: `EXAM_ADMIN_*` creates it; otherwise, while no teacher exists, a setup
/// link is printed and written to `<data dir>/setup-link.txt`. Exams from before owners
/// existed are given to the first teacher.
async fn first_teacher(platform: &Platform, settings: &Settings) -> anyhow::Result<()> {
    let identity = platform.identity();
    if let Some(admin) = &settings.auth.admin {
        let t = identity
            .accounts
            .ensure(&admin.email, &admin.name, admin.password.expose())
            .await
            .context("cannot create the admin account")?;
        tracing::info!(teacher.id = %t.id, "admin account present");
    }
    if let Some(token) = identity.setup.prepare(&identity.accounts).await.context("cannot prepare the setup link")? {
        let base = settings.auth.public_url.clone().unwrap_or_else(|| format!("http://{}", settings.addr));
        let link = format!("{base}/setup?token={token}");
        let file = settings.process.data_dir.join("setup-link.txt");
        let written = std::fs::create_dir_all(&settings.process.data_dir).and_then(|()| std::fs::write(&file, format!("{link}\n")));
        // The one place a secret is logged on purpose: it is single-use, dies with the first
        // account, and the operator needs it.
        tracing::warn!(setup.link = %link, "no teacher account yet: open the setup link to create the first one");
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %file.display(), "could not write the setup link to a file");
        }
    }
    identity.adopt_orphans(platform.exams().into_iter().map(|e| e.id)).await?;
    Ok(())
}

async fn api_not_found(uri: axum::http::Uri) -> error::AppError {
    error::AppError::new(StatusCode::NOT_FOUND, format!("no such API route: {}", uri.path()))
}

async fn readyz(axum::extract::State(s): axum::extract::State<AppState>) -> axum::response::Response {
    if s.shutdown.phase() != shutdown::Phase::Serving {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match s.platform.check().await {
        Ok(()) => "ready".into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    }
}
