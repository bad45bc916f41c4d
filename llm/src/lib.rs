//! Question generation with a language model behind an OpenAI-compatible chat-completions
//! API: OpenAI, vLLM, Ollama, LM Studio, Bedrock's OpenAI-compatible endpoint, or anything else
//! that serves `POST {base}/chat/completions`.
//!
//! * [`LlmSettings::from_lookup`]: `EXAM_LLM_*` (README.md); `None` unless a base URL and a model
//!   are set, so the built-in generator stays the default.
//! * [`generation`]: the [`exam_core::generation::Generation`] both binaries run: the built-in
//!   generator, or this model with the built-in generator as fallback.
//! * [`client::ChatClient`]: the HTTP client (hyper-util + rustls, both already in the tree): structured JSON output with graceful downgrade,
//!   timeouts, bounded retries with backoff, `Retry-After`.
//! * [`LlmGenerator`]: the [`exam_core::generation::QuestionModel`]: chunks the document to the
//!   context budget, asks for questions citing page and quote, validates each with the shared
//!   validator and asks again for the ones that fail.
//!
//! Architecture invariant: the only crate that speaks to a language model; it knows nothing of
//! stores, buses or the gateway's HTTP.

pub mod client;
mod generator;
pub mod prompt;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use exam_core::Secret;
use exam_core::generation::{Extractor, Fallback, Generation, GenerationConfig, QuestionModel};
use exam_core::store::ObjectStore;

pub use client::{ChatClient, JsonMode, LlmError};
pub use generator::LlmGenerator;

/// How to reach the model. Debug output never shows the API key.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSettings {
    /// `EXAM_LLM_BASE_URL`, up to and including the API version: `https://api.openai.com/v1`,
    /// `http://ollama:11434/v1`, `http://vllm:8000/v1`,
    /// `https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1`.
    pub base_url: String,
    /// `EXAM_LLM_MODEL`: the model name the server knows (`gpt-4o-mini`, `llama3.1:8b`, …).
    pub model: String,
    /// `EXAM_LLM_API_KEY` (from a Kubernetes Secret), sent as a bearer token; unset for local
    /// servers without authentication.
    pub api_key: Option<Secret>,
    /// `EXAM_LLM_TIMEOUT_SECS` (default 120): one request, reply included.
    pub timeout: Duration,
    /// `EXAM_LLM_MAX_RETRIES` (default 3): retries of one request after a timeout, a
    /// connection failure, 408, 429 or 5xx.
    pub max_retries: u32,
    /// `EXAM_LLM_CONTEXT_CHARS` (default 12000): document characters per request. About four
    /// characters make a token in English; leave room for the prompt and the reply.
    pub context_chars: usize,
    /// `EXAM_LLM_ATTEMPTS` (default 3): how many times a chunk is asked, the first included,
    /// while its questions fail validation.
    pub attempts: u32,
    /// `EXAM_LLM_CONCURRENCY` (default 2): requests in flight for one document.
    pub concurrency: usize,
    /// `EXAM_LLM_TEMPERATURE`: sampling temperature; unset leaves the server's default (some
    /// reasoning models accept no other).
    pub temperature: Option<f32>,
    /// `EXAM_LLM_FALLBACK` (`builtin`, the default, or `none`): what happens when the model
    /// cannot deliver.
    pub fallback: Fallback,
    /// First retry delay, doubled per retry (500 ms).
    pub retry_base: Duration,
    /// Longest wait between retries, and the longest `Retry-After` honoured (60 s).
    pub max_retry_wait: Duration,
}

impl LlmSettings {
    /// Settings for `model` at `base_url` with every other value at its default.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmSettings {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            max_retries: 3,
            context_chars: 12_000,
            attempts: 3,
            concurrency: 2,
            temperature: None,
            fallback: Fallback::Builtin,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(60),
        }
    }

    /// From `EXAM_LLM_*` in `lookup` (the binaries: `exam_backends::settings::Env`). `None`
    /// when neither `EXAM_LLM_BASE_URL` nor `EXAM_LLM_MODEL` is set: the built-in generator.
    /// One without the other is an error, as is any malformed value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let num = |name: &str| -> anyhow::Result<Option<u64>> {
            var(name).map(|v| v.parse::<u64>().with_context(|| format!("{name}={v:?}: expected a whole number"))).transpose()
        };
        let (base_url, model) = match (var("EXAM_LLM_BASE_URL"), var("EXAM_LLM_MODEL")) {
            (None, None) => return Ok(None),
            (Some(u), Some(m)) => (u, m),
            (Some(_), None) => bail!("EXAM_LLM_BASE_URL is set but EXAM_LLM_MODEL is not: name the model to use"),
            (None, Some(_)) => {
                bail!("EXAM_LLM_MODEL is set but EXAM_LLM_BASE_URL is not: give the server's URL, e.g. https://api.openai.com/v1")
            }
        };
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("EXAM_LLM_BASE_URL={base_url:?}: expected an http:// or https:// URL");
        }
        let mut s = LlmSettings::new(base_url, model);
        s.api_key = var("EXAM_LLM_API_KEY").map(Secret::new);
        if let Some(v) = num("EXAM_LLM_TIMEOUT_SECS")? {
            s.timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = num("EXAM_LLM_MAX_RETRIES")? {
            s.max_retries = u32::try_from(v.min(10)).unwrap_or(10);
        }
        if let Some(v) = num("EXAM_LLM_CONTEXT_CHARS")? {
            if v < 1000 {
                bail!("EXAM_LLM_CONTEXT_CHARS={v}: at least 1000 characters, or questions lose their context");
            }
            s.context_chars = usize::try_from(v).unwrap_or(usize::MAX);
        }
        if let Some(v) = num("EXAM_LLM_ATTEMPTS")? {
            s.attempts = u32::try_from(v.clamp(1, 10)).unwrap_or(3);
        }
        if let Some(v) = num("EXAM_LLM_CONCURRENCY")? {
            s.concurrency = usize::try_from(v.clamp(1, 16)).unwrap_or(2);
        }
        if let Some(v) = var("EXAM_LLM_TEMPERATURE") {
            let t: f32 = v.parse().with_context(|| format!("EXAM_LLM_TEMPERATURE={v:?}: expected a number"))?;
            if !(0.0..=2.0).contains(&t) {
                bail!("EXAM_LLM_TEMPERATURE={t}: expected 0 to 2");
            }
            s.temperature = Some(t);
        }
        s.fallback = match var("EXAM_LLM_FALLBACK").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("builtin") => Fallback::Builtin,
            Some("none") => Fallback::None,
            Some(other) => bail!("EXAM_LLM_FALLBACK={other:?}: expected builtin or none"),
        };
        Ok(Some(s))
    }
}

/// The generation a binary runs: the built-in generator when `llm` is `None`, else the model
/// with its fallback rule.
pub fn generation(
    store: Arc<dyn ObjectStore>,
    extractor: Extractor,
    extract_budget: Duration,
    llm: Option<&LlmSettings>,
) -> anyhow::Result<Generation> {
    let Some(settings) = llm else {
        return Ok(Generation::builtin(store, extractor, extract_budget));
    };
    let model: Arc<dyn QuestionModel> = Arc::new(LlmGenerator::new(settings.clone()).context("cannot set up the language model client")?);
    tracing::info!(base_url = %settings.base_url, model = %settings.model, fallback = ?settings.fallback, "questions are written by a language model");
    Ok(Generation::new(store, GenerationConfig { extractor, extract_budget, model: Some(model), fallback: settings.fallback }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> anyhow::Result<Option<LlmSettings>> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        LlmSettings::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn no_variables_mean_the_builtin_generator() {
        assert_eq!(from(&[]).unwrap(), None);
        assert_eq!(from(&[("EXAM_LLM_API_KEY", "sk-1")]).unwrap(), None);
    }

    #[test]
    fn every_variable_is_read_and_the_key_never_prints() {
        let s = from(&[
            ("EXAM_LLM_BASE_URL", "https://api.openai.com/v1"),
            ("EXAM_LLM_MODEL", "gpt-4o-mini"),
            ("EXAM_LLM_API_KEY", "sk-secret"),
            ("EXAM_LLM_TIMEOUT_SECS", "30"),
            ("EXAM_LLM_MAX_RETRIES", "5"),
            ("EXAM_LLM_CONTEXT_CHARS", "8000"),
            ("EXAM_LLM_ATTEMPTS", "2"),
            ("EXAM_LLM_CONCURRENCY", "4"),
            ("EXAM_LLM_TEMPERATURE", "0.2"),
            ("EXAM_LLM_FALLBACK", "none"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((s.base_url.as_str(), s.model.as_str()), ("https://api.openai.com/v1", "gpt-4o-mini"));
        assert_eq!(s.api_key.as_ref().map(Secret::expose), Some("sk-secret"));
        assert_eq!((s.timeout, s.max_retries, s.context_chars, s.attempts, s.concurrency), (Duration::from_secs(30), 5, 8000, 2, 4));
        assert_eq!((s.temperature, s.fallback), (Some(0.2), Fallback::None));
        assert!(!format!("{s:?}").contains("sk-secret"));
    }

    #[test]
    fn half_or_malformed_configuration_is_refused_with_the_variable_named() {
        for (vars, needle) in [
            (&[("EXAM_LLM_BASE_URL", "http://x/v1")][..], "EXAM_LLM_MODEL"),
            (&[("EXAM_LLM_MODEL", "m")][..], "EXAM_LLM_BASE_URL"),
            (&[("EXAM_LLM_BASE_URL", "ftp://x"), ("EXAM_LLM_MODEL", "m")][..], "http"),
            (&[("EXAM_LLM_BASE_URL", "http://x"), ("EXAM_LLM_MODEL", "m"), ("EXAM_LLM_TIMEOUT_SECS", "soon")][..], "EXAM_LLM_TIMEOUT_SECS"),
            (&[("EXAM_LLM_BASE_URL", "http://x"), ("EXAM_LLM_MODEL", "m"), ("EXAM_LLM_FALLBACK", "maybe")][..], "EXAM_LLM_FALLBACK"),
            (&[("EXAM_LLM_BASE_URL", "http://x"), ("EXAM_LLM_MODEL", "m"), ("EXAM_LLM_CONTEXT_CHARS", "10")][..], "EXAM_LLM_CONTEXT_CHARS"),
        ] {
            let err = from(vars).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should name {needle}");
        }
    }
}
