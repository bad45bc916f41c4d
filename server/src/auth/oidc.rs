//! Sign-in with the institution's OpenID Connect provider (`EXAM_OIDC_*`).
//!
//! The authorization-code flow with PKCE, state and nonce (`openidconnect` 4):
//! `GET /api/v1/auth/oidc/start?next=/path` keeps a [`Pending`] sign-in (PKCE verifier, state,
//! nonce, where to go next) in the tower-sessions session and answers 303 to the provider;
//! `GET /api/v1/auth/oidc/callback?code=&state=` takes that record out of the session (each
//! works once), exchanges the code, verifies the ID token (issuer, audience, signature from the
//! discovered JWKS, expiry, nonce) and signs in. The role comes from a configurable claim
//! ([`claim_values`]): a teacher is linked to (or given) an account and signed in exactly like
//! a password sign-in; anyone else becomes an [`OidcStudent`] in the session or is refused.
//!
//! The provider is discovered lazily (and once in the background at start), so a provider that
//! is down never stops the gateway: OIDC sign-in answers 503 until it is back, password
//! sign-in is unaffected. Discovery is repeated hourly so rotated signing keys are picked up.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use exam_core::identity::audit::Scope;
use exam_core::identity::secrets::same_secret;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope as OidcScope, StandardErrorResponse, StandardTokenResponse,
    SubjectIdentifier, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tower_sessions::Session;

use super::{SESSION_KEY, unix_now};
use crate::error::AppError;
use crate::settings::{OidcOthers, OidcSettings, Settings};
use crate::state::AppState;

pub const START_PATH: &str = "/api/v1/auth/oidc/start";
pub const CALLBACK_PATH: &str = "/api/v1/auth/oidc/callback";

/// The session key of a student who signed in with the provider (read by `auth::resolve`).
pub const STUDENT_KEY: &str = "oidc_student";
/// The session key of the sign-ins started in this browser and not yet back.
const PENDING_KEY: &str = "oidc_pending";
/// Sign-ins started and not yet back, kept per browser (several tabs may sign in at once).
const PENDING_MAX: usize = 4;
/// How long the provider may take to send the user back.
const PENDING_SECS: u64 = 600;
/// One request to the provider (discovery, token, userinfo) gives up after this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// The provider's metadata and keys are fetched again after this long.
const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);
/// After a failed discovery, requests answer 503 at once for this long instead of each
/// waiting for the provider again.
const FAILED_DISCOVERY_PAUSE: Duration = Duration::from_secs(5);
/// The largest answer read from the provider.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// A student who signed in with the provider: the session's record under [`STUDENT_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcStudent {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The provider's stable id of the person (`sub`).
    pub subject: String,
    /// Their display name (`name`, else `preferred_username`, else the email).
    pub name: String,
    /// Their email, when the provider sent one and marked it verified.
    pub email: Option<String>,
    /// Unix seconds of the sign-in.
    pub at: u64,
}

/// A sign-in on its way through the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: Option<String>,
    at: u64,
}

/// Every claim of an ID token or userinfo answer that is not a standard one (`groups`,
/// `realm_access`, `roles`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExtraClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type TokenResponse = StandardTokenResponse<
    IdTokenFields<ExtraClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>,
    CoreTokenType,
>;

/// The client made from the provider's discovered metadata (authorization endpoint set, token
/// and userinfo endpoints as discovered).
type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The values at `path` in `claims`: a dotted path (`realm_access.roles`), or a claim whose
/// name itself has dots (`https://example.com/roles`, as some providers namespace them). A
/// string is one value, an array its strings. `None` when the path is not there at all (so
/// the caller may look in the userinfo answer instead).
pub fn claim_values(claims: &Map<String, Value>, path: &str) -> Option<Vec<String>> {
    fn values(v: &Value) -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Value::Number(n) => vec![n.to_string()],
            Value::Bool(b) => vec![b.to_string()],
            _ => Vec::new(),
        }
    }
    if let Some(v) = claims.get(path) {
        return Some(values(v));
    }
    let (head, rest) = path.split_once('.')?;
    match claims.get(head)? {
        Value::Object(inner) => claim_values(inner, rest),
        _ => None,
    }
}

/// Whether any of `values` is one of the configured teacher values. Keycloak's group claim
/// may carry full paths (`/teachers`), so a leading `/` is ignored on both sides.
pub fn is_teacher(values: &[String], teacher_values: &[String]) -> bool {
    let bare = |v: &str| v.trim().trim_start_matches('/').to_owned();
    values.iter().any(|v| teacher_values.iter().any(|t| !bare(t).is_empty() && bare(v) == bare(t)))
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderHttpError {
    #[error("the provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the provider: {0}")]
    Connect(String),
    #[error("the provider's answer could not be read: {0}")]
    Body(String),
}

/// The HTTP client `openidconnect` talks to the provider with: hyper-util over hyper-rustls
/// (aws-lc-rs, the system's CA certificates). It never follows redirects (an OAuth client must
/// not: a redirected token request could carry the code and secret elsewhere).
#[derive(Clone)]
pub struct ProviderHttp {
    client: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderHttp {
    pub fn new(https: bool) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 && https {
            tracing::warn!(errors = ?found.errors, "no CA certificates found: sign-in with the OIDC provider will fail (install ca-certificates or set SSL_CERT_FILE)");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("cannot configure TLS for the OIDC provider: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(PROVIDER_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(tcp);
        Ok(ProviderHttp { client: HyperClient::builder(TokioExecutor::new()).build(connector) })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ProviderHttpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let response = tokio::time::timeout(PROVIDER_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| ProviderHttpError::Timeout(PROVIDER_TIMEOUT))?
            .map_err(|e| ProviderHttpError::Connect(e.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = tokio::time::timeout(PROVIDER_TIMEOUT, Limited::new(body, MAX_PROVIDER_BODY).collect())
            .await
            .map_err(|_| ProviderHttpError::Timeout(PROVIDER_TIMEOUT))?
            .map_err(|e| ProviderHttpError::Body(e.to_string()))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body.to_vec()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderHttpError>> + Send + 'c>>;
    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

struct Discovered {
    client: Arc<Client>,
    at: Instant,
}

/// The configured provider and what was discovered about it.
pub struct Oidc {
    settings: OidcSettings,
    redirect: RedirectUrl,
    http: ProviderHttp,
    discovered: tokio::sync::RwLock<Option<Discovered>>,
    failed_at: std::sync::Mutex<Option<Instant>>,
}

fn unavailable(detail: &str) -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "Sign-in with your school account is not available right now ({detail}). Please try again in a moment, or sign in with your password."
        ),
    )
}

impl Oidc {
    /// `base`: the public URL (`EXAM_PUBLIC_URL`, else `http://<addr>`); the provider sends the
    /// user back to `<base>/api/v1/auth/oidc/callback`.
    pub fn new(settings: OidcSettings, base: &str) -> anyhow::Result<Self> {
        let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", base.trim_end_matches('/')))?;
        IssuerUrl::new(settings.issuer.clone())?;
        let http = ProviderHttp::new(settings.issuer.starts_with("https://"))?;
        Ok(Oidc { settings, redirect, http, discovered: tokio::sync::RwLock::new(None), failed_at: std::sync::Mutex::new(None) })
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }

    async fn discover(&self) -> anyhow::Result<Client> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await?;
        let secret = self.settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose().to_owned()));
        Ok(Client::from_provider_metadata(metadata, ClientId::new(self.settings.client_id.clone()), secret)
            .set_redirect_uri(self.redirect.clone()))
    }

    /// The client, discovering the provider first when that has not happened yet or is an
    /// hour old (a failed refresh keeps the client it has).
    async fn client(&self) -> Result<Arc<Client>, AppError> {
        if let Some(d) = self.discovered.read().await.as_ref()
            && d.at.elapsed() < REDISCOVER_AFTER
        {
            return Ok(d.client.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(d) = slot.as_ref()
            && d.at.elapsed() < REDISCOVER_AFTER
        {
            return Ok(d.client.clone());
        }
        let recently_failed = self
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < FAILED_DISCOVERY_PAUSE);
        if recently_failed && slot.is_none() {
            return Err(unavailable("the sign-in provider cannot be reached"));
        }
        match self.discover().await {
            Ok(client) => {
                let client = Arc::new(client);
                if slot.is_none() {
                    tracing::info!(oidc.issuer = %self.settings.issuer, "OIDC provider discovered");
                }
                *slot = Some(Discovered { client: client.clone(), at: Instant::now() });
                *self.failed_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                Ok(client)
            }
            Err(e) => {
                tracing::warn!(oidc.issuer = %self.settings.issuer, error = %format!("{e:#}"), "OIDC provider discovery failed");
                *self.failed_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
                match slot.as_mut() {
                    // Keep using what we have; try again in a minute.
                    Some(d) => {
                        d.at = Instant::now() - REDISCOVER_AFTER + Duration::from_secs(60);
                        Ok(d.client.clone())
                    }
                    None => Err(unavailable("the sign-in provider cannot be reached")),
                }
            }
        }
    }

    /// Discovers the provider in the background, retrying with backoff for a few minutes, so
    /// the first sign-in does not wait for it (and the log says early if it is unreachable).
    fn warm_up(self: &Arc<Self>) {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_secs(1);
            for _ in 0..10 {
                let Some(oidc) = this.upgrade() else { return };
                if oidc.client().await.is_ok() {
                    return;
                }
                drop(oidc);
                tokio::time::sleep(wait.max(FAILED_DISCOVERY_PAUSE)).await;
                wait = (wait * 2).min(Duration::from_secs(60));
            }
        });
    }
}

/// The OIDC routes, when `EXAM_OIDC_*` is configured (none otherwise). `addr`: the address the
/// gateway is bound to (for the redirect URI without `EXAM_PUBLIC_URL`).
pub fn routes(settings: &Settings, addr: SocketAddr) -> Router<AppState> {
    let Some(oidc_settings) = settings.auth.oidc.clone() else { return Router::new() };
    let base = settings.auth.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    if settings.auth.public_url.is_none() && addr.ip().is_unspecified() {
        tracing::warn!(%addr, "OIDC without EXAM_PUBLIC_URL on a wildcard address: the provider cannot send browsers back; set EXAM_PUBLIC_URL");
    }
    let oidc = match Oidc::new(oidc_settings, &base) {
        Ok(o) => Arc::new(o),
        Err(e) => {
            tracing::error!(error = %e, "OIDC is configured wrongly: sign-in with the provider is off");
            return Router::new();
        }
    };
    tracing::info!(oidc.issuer = %settings.auth.oidc.as_ref().map(|o| o.issuer.as_str()).unwrap_or(""), oidc.redirect_uri = oidc.redirect_uri(), "OIDC sign-in configured");
    oidc.warm_up();
    Router::new().route(START_PATH, get(start)).route(CALLBACK_PATH, get(callback)).layer(Extension(oidc))
}

/// `next` if it is a path on this site (never `//evil.example`, `/\evil`, `https://…`).
fn local_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n', '\\']))
        .map(str::to_owned)
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A refusal: a small page for a browser (the callback is a navigation), JSON otherwise.
fn refuse(s: &AppState, headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    let browser = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if !browser {
        return AppError::new(status, message).into_response();
    }
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in failed · Exams</title><link rel=\"stylesheet\" href=\"{}\"></head>\
         <body><main class=\"page narrow\"><h1>Sign-in failed</h1><p class=\"error\" role=\"alert\">{}</p>\
         <p><a href=\"/login\">Back to the sign-in page</a></p></main></body></html>",
        crate::assets::stylesheet_href(&s.leptos),
        escape_html(message)
    );
    (status, Html(body)).into_response()
}

fn session_unavailable(e: tower_sessions::session::Error) -> Response {
    tracing::warn!(error = %e, "cannot use the session");
    AppError::new(StatusCode::SERVICE_UNAVAILABLE, "Sign-in is not available right now. Please try again in a moment.").into_response()
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: Option<String>,
}

/// `GET /api/v1/auth/oidc/start?next=`: to the provider, with a fresh state, nonce and PKCE
/// challenge; what is needed to finish is kept in the session.
async fn start(Extension(oidc): Extension<Arc<Oidc>>, session: Session, Query(q): Query<StartQuery>) -> Response {
    let client = match oidc.client().await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
    // `openid` is always sent by the crate.
    for scope in oidc.settings.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(OidcScope::new(scope.clone()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let now = unix_now();
    let mut pending: Vec<Pending> = match session.get(PENDING_KEY).await {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return session_unavailable(e),
    };
    pending.retain(|p| now.saturating_sub(p.at) < PENDING_SECS);
    pending.push(Pending {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: local_next(q.next.as_deref()),
        at: now,
    });
    if pending.len() > PENDING_MAX {
        pending.drain(..pending.len() - PENDING_MAX);
    }
    if let Err(e) = session.insert(PENDING_KEY, &pending).await {
        return session_unavailable(e);
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

const STALE: &str = "This sign-in cannot be finished: it was used already, took too long, or was started in another browser. Please start again from the sign-in page.";
const NOT_VERIFIED: &str =
    "The sign-in provider's answer could not be verified, so nobody was signed in. Please start again from the sign-in page.";

/// `GET /api/v1/auth/oidc/callback`: back from the provider.
async fn callback(
    State(s): State<AppState>,
    Extension(oidc): Extension<Arc<Oidc>>,
    session: Session,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    // The pending sign-in leaves the session before anything else: each works exactly once.
    let mut pending: Vec<Pending> = match session.get(PENDING_KEY).await {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return session_unavailable(e),
    };
    let found = q.state.as_deref().and_then(|st| pending.iter().position(|p| same_secret(&p.state, st))).map(|i| pending.remove(i));
    if found.is_some() {
        let written = if pending.is_empty() {
            session.remove::<Vec<Pending>>(PENDING_KEY).await.map(|_| ())
        } else {
            session.insert(PENDING_KEY, &pending).await
        };
        if let Err(e) = written {
            return session_unavailable(e);
        }
    }

    if let Some(error) = q.error.as_deref() {
        // The provider said no (the user cancelled, or is not allowed to use this client).
        let code: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        tracing::info!(oidc.error = %code, "the OIDC provider returned an error");
        let message = if code == "access_denied" {
            format!("Sign-in with {} was cancelled or not allowed.", oidc.settings.button)
        } else {
            format!("Sign-in with {} did not work (the provider said: {code}). Please try again.", oidc.settings.button)
        };
        let next = found.and_then(|p| p.next).map(|n| format!("&next={}", enc(&n))).unwrap_or_default();
        return Redirect::to(&format!("/login?error={}{next}", enc(&message))).into_response();
    }
    let Some(pending) = found.filter(|p| unix_now().saturating_sub(p.at) < PENDING_SECS) else {
        tracing::warn!("OIDC callback refused: unknown, used or expired state");
        return refuse(&s, &headers, StatusCode::BAD_REQUEST, STALE);
    };
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return refuse(&s, &headers, StatusCode::BAD_REQUEST, "The sign-in provider sent no authorization code. Please start again.");
    };

    let client = match oidc.client().await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let exchange = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the OIDC provider has no token endpoint");
            return unavailable("the provider has no token endpoint").into_response();
        }
    };
    let token = match exchange.set_pkce_verifier(PkceCodeVerifier::new(pending.verifier)).request_async(&oidc.http).await {
        Ok(t) => t,
        Err(RequestTokenError::ServerResponse(e)) => {
            tracing::warn!(oidc.error = %e.error(), "the OIDC provider refused the authorization code");
            return refuse(&s, &headers, StatusCode::BAD_REQUEST, STALE);
        }
        Err(RequestTokenError::Request(e)) => {
            tracing::warn!(error = %e, "cannot reach the OIDC provider's token endpoint");
            return unavailable("the sign-in provider cannot be reached").into_response();
        }
        Err(e) => {
            tracing::warn!(error = %e, "the OIDC provider's token answer was not understood");
            return refuse(&s, &headers, StatusCode::BAD_GATEWAY, NOT_VERIFIED);
        }
    };
    let Some(id_token) = token.id_token() else {
        tracing::warn!("the OIDC provider sent no ID token");
        return refuse(&s, &headers, StatusCode::BAD_GATEWAY, NOT_VERIFIED);
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce)) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC ID token refused");
            return refuse(&s, &headers, StatusCode::BAD_REQUEST, NOT_VERIFIED);
        }
    };
    let mut person = match serde_json::to_value(claims) {
        Ok(Value::Object(m)) => m,
        _ => return refuse(&s, &headers, StatusCode::BAD_GATEWAY, NOT_VERIFIED),
    };
    let issuer = claims.issuer().to_string();
    let subject = claims.subject().clone();

    // The role claim, email or name may only be in the userinfo answer.
    let mut roles = claim_values(&person, &oidc.settings.role_claim);
    if (roles.is_none() || !person.contains_key("email"))
        && let Some(info) = userinfo(&client, &oidc.http, token.access_token().clone(), subject.clone()).await
    {
        for (k, v) in info {
            person.entry(k).or_insert(v);
        }
        roles = claim_values(&person, &oidc.settings.role_claim);
    }
    let roles = roles.unwrap_or_default();
    let email = person.get("email").and_then(Value::as_str).map(str::to_owned);
    let verified = matches!(person.get("email_verified"), Some(Value::Bool(true)))
        || person.get("email_verified").and_then(Value::as_str) == Some("true");
    let name = ["name", "preferred_username"]
        .iter()
        .find_map(|k| person.get(*k).and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned));
    let address = super::client_address(&s, &headers, peer.map(|c| c.0.0));

    if is_teacher(&roles, &oidc.settings.teacher_values) {
        let Some(email) = email.filter(|_| verified) else {
            tracing::warn!(oidc.subject = %subject.as_str(), "OIDC teacher without a verified email refused");
            return refuse(
                &s,
                &headers,
                StatusCode::FORBIDDEN,
                "Your sign-in provider did not confirm an email address for you, which a teacher account here needs. Ask your administrator.",
            );
        };
        let identity = s.platform.identity();
        let teacher = match identity.accounts.ensure_external(&issuer, subject.as_str(), &email, name.as_deref().unwrap_or("")).await {
            Ok(t) => t,
            Err(e) => return AppError::from(e).into_response(),
        };
        if let Err(e) = session.remove::<OidcStudent>(STUDENT_KEY).await {
            return session_unavailable(e);
        }
        if let Err(e) = super::routes::start_session(&session, &teacher).await {
            return e.into_response();
        }
        identity.audit.record(Scope::Teacher(&teacher.id), "sign_in", Some(&teacher.id), None, Some(&address), "oidc").await;
        let next = pending.next.unwrap_or_else(|| "/teacher".into());
        return Redirect::to(&next).into_response();
    }

    match oidc.settings.others {
        OidcOthers::Refuse => {
            tracing::info!(oidc.subject = %subject.as_str(), "OIDC sign-in refused: not a teacher");
            refuse(
                &s,
                &headers,
                StatusCode::FORBIDDEN,
                "You are signed in with your school account, but your account is not a teacher account here. Nobody was signed in.",
            )
        }
        OidcOthers::Student => {
            let student = OidcStudent {
                issuer,
                subject: subject.as_str().to_owned(),
                name: name.or_else(|| email.clone()).unwrap_or_else(|| "Student".into()),
                email: email.filter(|_| verified),
                at: unix_now(),
            };
            // A new session id (no fixation), and no teacher left signed in beside the student.
            let written = async {
                session.cycle_id().await?;
                session.remove::<super::SignedIn>(SESSION_KEY).await?;
                session.insert(STUDENT_KEY, &student).await
            };
            if let Err(e) = written.await {
                return session_unavailable(e);
            }
            tracing::info!(oidc.subject = %student.subject, "student signed in with OIDC");
            // A teacher page would only send a student back to the sign-in page.
            let next = pending.next.filter(|n| n != "/teacher" && !n.starts_with("/teacher/") && !n.starts_with("/teacher?"));
            Redirect::to(&next.unwrap_or_else(|| "/".into())).into_response()
        }
    }
}

/// The userinfo answer's claims, when the provider has the endpoint and answers.
async fn userinfo(client: &Client, http: &ProviderHttp, access: AccessToken, subject: SubjectIdentifier) -> Option<Map<String, Value>> {
    let request = client.user_info(access, Some(subject)).ok()?;
    let claims: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> = match request.request_async(http).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "the OIDC provider's userinfo answer was refused");
            return None;
        }
    };
    match serde_json::to_value(&claims) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_role_claim_is_found_by_its_path_as_a_string_or_an_array() {
        let teachers = vec!["teachers".to_owned()];
        // `groups` (default): an array.
        let c = map(json!({"sub": "a", "groups": ["staff", "teachers"]}));
        assert_eq!(claim_values(&c, "groups"), Some(vec!["staff".to_owned(), "teachers".to_owned()]));
        assert!(is_teacher(&claim_values(&c, "groups").unwrap(), &teachers));
        // A single string.
        let c = map(json!({"groups": "teachers"}));
        assert!(is_teacher(&claim_values(&c, "groups").unwrap(), &teachers));
        // Keycloak: realm_access.roles, nested.
        let c = map(json!({"realm_access": {"roles": ["offline_access", "teacher"]}, "groups": ["/teachers"]}));
        assert_eq!(claim_values(&c, "realm_access.roles"), Some(vec!["offline_access".to_owned(), "teacher".to_owned()]));
        assert!(is_teacher(&claim_values(&c, "realm_access.roles").unwrap(), &["teacher".to_owned()]));
        assert!(!is_teacher(&claim_values(&c, "realm_access.roles").unwrap(), &teachers));
        // Keycloak's full group paths.
        assert!(is_teacher(&claim_values(&c, "groups").unwrap(), &teachers));
        // Entra ID app roles: `roles`.
        let c = map(json!({"roles": ["Exam.Teacher"], "groups": ["7d0c2f4e-0000-4000-8000-000000000001"]}));
        assert!(is_teacher(&claim_values(&c, "roles").unwrap(), &["Exam.Teacher".to_owned()]));
        assert!(is_teacher(&claim_values(&c, "groups").unwrap(), &["7d0c2f4e-0000-4000-8000-000000000001".to_owned()]));
        // A claim name with dots is taken whole before it is taken as a path.
        let c = map(json!({"https://school.example/roles": ["teachers"]}));
        assert!(is_teacher(&claim_values(&c, "https://school.example/roles").unwrap(), &teachers));
        // Missing: None (look in userinfo); present but no match: not a teacher.
        let c = map(json!({"realm_access": {"other": 1}, "groups": [], "name": "x"}));
        assert_eq!(claim_values(&c, "roles"), None);
        assert_eq!(claim_values(&c, "realm_access.roles"), None);
        assert_eq!(claim_values(&c, "name.first"), None);
        assert_eq!(claim_values(&c, "groups"), Some(vec![]));
        assert!(!is_teacher(&[], &teachers));
        assert!(!is_teacher(&["teachers-old".to_owned(), "Teachers".to_owned()], &teachers), "exact values only");
        assert!(!is_teacher(&["".to_owned(), "/".to_owned()], &["".to_owned(), "/".to_owned()]), "an empty value matches nothing");
    }

    #[test]
    fn next_is_only_a_local_path() {
        assert_eq!(local_next(Some("/teacher/exams/x?y=1")), Some("/teacher/exams/x?y=1".to_owned()));
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/a\r\nSet-Cookie: x", ""] {
            assert_eq!(local_next(Some(bad)), None, "{bad:?}");
        }
    }
}
