//! A small client for OpenAI-compatible `POST {base}/chat/completions` that asks for JSON.
//!
//! * **Structured output, degrading politely.** The first request asks for
//!   `response_format: {"type": "json_schema", …, "strict": true}`. A server that rejects it
//!   with 400 (older vLLM, LM Studio versions, some gateways) is asked again with
//!   `{"type": "json_object"}`, then with no `response_format` at all (the prompt still says
//!   "JSON only"). The level that worked is remembered for the life of the client.
//! * **Retries, bounded.** Timeouts, connection failures, 408, 429 and 5xx are retried up to
//!   `max_retries` times with exponential backoff (`retry_base` × 2ⁿ, at most
//!   `max_retry_wait`; no jitter: a worker runs one generation at a time). A 429's
//!   `Retry-After` (seconds) is honoured; one longer than `max_retry_wait` ends the attempt at
//!   once rather than holding a worker for an hour. Other 4xx (bad key, unknown model) are
//!   not retried.
//! * **Errors a teacher can read**: the server's own `error.message` when it sends one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::LlmSettings;

/// Why a chat completion failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("the language model did not answer within {0} s")]
    Timeout(u64),
    #[error("the language model at {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the language model is rate-limited{}", retry_after.map(|d| format!(" (asked to wait {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("the language model answered {status}: {message}")]
    Status { status: u16, message: String },
    /// The server answered, but not with the JSON we asked for. Asking again can help.
    #[error("the language model's reply is not the JSON asked for: {0}")]
    Malformed(String),
}

impl LlmError {
    /// Worth sending the same request again after a pause.
    fn retryable(&self) -> bool {
        match self {
            LlmError::Timeout(_) | LlmError::Unreachable { .. } | LlmError::RateLimited { .. } => true,
            LlmError::Status { status, .. } => *status == 408 || *status >= 500,
            LlmError::Malformed(_) => false,
        }
    }

    /// The model service itself failed (as opposed to one reply being unusable).
    pub fn is_service_failure(&self) -> bool {
        !matches!(self, LlmError::Malformed(_))
    }
}

/// How a request asks for JSON, from most to least structured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum JsonMode {
    Schema = 0,
    Object = 1,
    Prompt = 2,
}

impl JsonMode {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => JsonMode::Schema,
            1 => JsonMode::Object,
            _ => JsonMode::Prompt,
        }
    }
    fn next(self) -> Option<Self> {
        match self {
            JsonMode::Schema => Some(JsonMode::Object),
            JsonMode::Object => Some(JsonMode::Prompt),
            JsonMode::Prompt => None,
        }
    }
}

/// How long to wait before retry number `attempt + 1`; `None`: do not retry.
pub fn retry_delay(attempt: u32, retry_after: Option<Duration>, base: Duration, cap: Duration) -> Option<Duration> {
    match retry_after {
        Some(d) if d > cap => None,
        Some(d) => Some(d),
        None => Some(base.saturating_mul(1u32 << attempt.min(16)).min(cap)),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare on APIs and treated as absent).
fn parse_retry_after(v: Option<&HeaderValue>) -> Option<Duration> {
    let s = v?.to_str().ok()?.trim();
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

pub struct ChatClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: String,
    settings: Arc<LlmSettings>,
    mode: AtomicU8,
}

impl ChatClient {
    pub fn new(settings: Arc<LlmSettings>) -> anyhow::Result<Self> {
        let tls = tls_config(settings.base_url.starts_with("https:"))?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(settings.timeout.min(Duration::from_secs(10))));
        let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().wrap_connector(tcp);
        let http = Client::builder(TokioExecutor::new()).build(connector);
        let url = format!("{}/chat/completions", settings.base_url.trim_end_matches('/'));
        Ok(ChatClient { http, url, settings, mode: AtomicU8::new(JsonMode::Schema as u8) })
    }

    /// The JSON mode the next request starts with.
    pub fn json_mode(&self) -> JsonMode {
        JsonMode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    /// One chat completion whose reply is parsed as JSON. `schema` is a JSON Schema for the
    /// reply (used when the server supports `json_schema`).
    pub async fn complete_json(&self, system: &str, user: &str, schema_name: &str, schema: &Value) -> Result<Value, LlmError> {
        let mut mode = self.json_mode();
        loop {
            let body = self.body(mode, system, user, schema_name, schema);
            match self.send_with_retries(&body).await {
                Err(LlmError::Status { status: 400, message }) => match mode.next() {
                    Some(next) => {
                        tracing::info!(?mode, %message, "the model server refused the response format; trying a simpler one");
                        mode = next;
                    }
                    None => return Err(LlmError::Status { status: 400, message }),
                },
                Err(e) => return Err(e),
                Ok(content) => {
                    self.mode.fetch_max(mode as u8, Ordering::Relaxed);
                    return parse_json_reply(&content);
                }
            }
        }
    }

    fn body(&self, mode: JsonMode, system: &str, user: &str, schema_name: &str, schema: &Value) -> Value {
        let mut body = json!({
            "model": self.settings.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        });
        if let Some(t) = self.settings.temperature {
            body["temperature"] = json!(t);
        }
        match mode {
            JsonMode::Schema => {
                body["response_format"] =
                    json!({"type": "json_schema", "json_schema": {"name": schema_name, "strict": true, "schema": schema}});
            }
            JsonMode::Object => body["response_format"] = json!({"type": "json_object"}),
            JsonMode::Prompt => {}
        }
        body
    }

    async fn send_with_retries(&self, body: &Value) -> Result<String, LlmError> {
        let s = &self.settings;
        let mut attempt = 0;
        loop {
            let err = match self.send_once(body).await {
                Ok(content) => return Ok(content),
                Err(e) => e,
            };
            let retry_after = match &err {
                LlmError::RateLimited { retry_after } => *retry_after,
                _ => None,
            };
            let delay =
                (err.retryable() && attempt < s.max_retries).then(|| retry_delay(attempt, retry_after, s.retry_base, s.max_retry_wait));
            match delay.flatten() {
                Some(wait) => {
                    tracing::warn!(error = %err, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "language model request failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return Err(err),
            }
        }
    }

    async fn send_once(&self, body: &Value) -> Result<String, LlmError> {
        let mut req = Request::post(&self.url).header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = &self.settings.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| LlmError::Status { status: 0, message: "the API key contains characters not allowed in a header".into() })?;
            value.set_sensitive(true);
            req = req.header(header::AUTHORIZATION, value);
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| LlmError::Unreachable { url: self.settings.base_url.clone(), reason: e.to_string() })?;
        let exchange = async {
            let res = self.http.request(req).await.map_err(|e| self.transport(&e))?;
            let (parts, body) = res.into_parts();
            let bytes = body.collect().await.map_err(|e| self.transport(&e))?.to_bytes();
            Ok::<_, LlmError>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(self.settings.timeout, exchange)
            .await
            .map_err(|_| LlmError::Timeout(self.settings.timeout.as_secs()))??;
        let status = parts.status;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(LlmError::RateLimited { retry_after: parse_retry_after(parts.headers.get(header::RETRY_AFTER)) });
        }
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(LlmError::Status { status: status.as_u16(), message: error_message(status, &text) });
        }
        let reply: Value = serde_json::from_str(&text).map_err(|e| LlmError::Malformed(format!("not a chat completion ({e})")))?;
        let message = &reply["choices"][0]["message"];
        match message["content"].as_str() {
            Some(c) if !c.trim().is_empty() => Ok(c.to_owned()),
            _ => match message["refusal"].as_str() {
                Some(r) => Err(LlmError::Malformed(format!("the model refused: {}", clip(r, 200)))),
                None => Err(LlmError::Malformed("the reply has no message content".into())),
            },
        }
    }

    /// A connection or protocol failure, with its chain of causes.
    fn transport(&self, e: &(dyn std::error::Error + 'static)) -> LlmError {
        let mut reason = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        LlmError::Unreachable { url: self.settings.base_url.clone(), reason }
    }
}

/// The server's `{"error": {"message": …}}`, or the start of its body.
fn error_message(status: StatusCode, body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| match &v["error"] {
        Value::String(s) => Some(s.clone()),
        e => e["message"].as_str().map(str::to_owned),
    });
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    if text.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { clip(&text, 300) }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The reply's JSON, tolerating a Markdown code fence around it (common without
/// `response_format`).
fn parse_json_reply(content: &str) -> Result<Value, LlmError> {
    let t = content.trim();
    let t = t.strip_prefix("```json").or_else(|| t.strip_prefix("```")).map(|r| r.trim_end().trim_end_matches("```")).unwrap_or(t);
    serde_json::from_str(t.trim()).map_err(|e| LlmError::Malformed(format!("{e} (reply starts {:?})", clip(t, 80))))
}

/// rustls with aws-lc-rs and the system's CA certificates (required when `https`).
fn tls_config(https: bool) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 && https {
        anyhow::bail!(
            "no CA certificates found for TLS to the language model (install ca-certificates, or set SSL_CERT_FILE); errors: {:?}",
            found.errors
        );
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_retry_after_wins_unless_too_long() {
        let (base, cap) = (Duration::from_millis(500), Duration::from_secs(30));
        let delays: Vec<_> = (0..8).map(|a| retry_delay(a, None, base, cap).unwrap().as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(retry_delay(0, Some(Duration::from_secs(7)), base, cap), Some(Duration::from_secs(7)));
        assert_eq!(retry_delay(3, Some(Duration::ZERO), base, cap), Some(Duration::ZERO));
        assert_eq!(retry_delay(0, Some(Duration::from_secs(3600)), base, cap), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let h = HeaderValue::from_static;
        assert_eq!(parse_retry_after(Some(&h("2"))), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(Some(&h(" 0.5 "))), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after(Some(&h("Wed, 21 Oct 2015 07:28:00 GMT"))), None);
        assert_eq!(parse_retry_after(Some(&h("-1"))), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(LlmError::Timeout(1).retryable());
        assert!(LlmError::RateLimited { retry_after: None }.retryable());
        assert!(LlmError::Status { status: 503, message: String::new() }.retryable());
        assert!(LlmError::Status { status: 408, message: String::new() }.retryable());
        assert!(!LlmError::Status { status: 401, message: String::new() }.retryable());
        assert!(!LlmError::Status { status: 404, message: String::new() }.retryable());
        assert!(!LlmError::Malformed(String::new()).retryable());
    }

    #[test]
    fn replies_in_code_fences_and_server_errors_are_read() {
        assert_eq!(parse_json_reply("```json\n{\"a\": 1}\n```").unwrap(), json!({"a": 1}));
        assert_eq!(parse_json_reply(" {\"a\": 1} ").unwrap(), json!({"a": 1}));
        assert!(matches!(parse_json_reply("Sure! Here are"), Err(LlmError::Malformed(_))));
        let body = r#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#;
        assert_eq!(error_message(StatusCode::UNAUTHORIZED, body), "Incorrect API key provided");
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
        assert_eq!(error_message(StatusCode::BAD_REQUEST, r#"{"error": "model not found"}"#), "model not found");
    }
}
