//! The subscriber and the OTLP exporter (feature `export`).

use std::fmt;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How log lines are written (`EXAM_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line (containers: what log collectors parse).
    Json,
}

impl LogFormat {
    /// `json` or `text` (case-insensitive); unset or empty is text.
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("EXAM_LOG_FORMAT must be json or text, not {other:?}")),
        }
    }
}

/// Keeps the tracer provider; dropping it exports what is still queued (bounded by the SDK's
/// shutdown timeout) and stops the exporter. Hold it in `main` until the process ends.
#[must_use = "dropping the guard stops trace export"]
pub struct Guard {
    provider: Option<SdkTracerProvider>,
}

impl Guard {
    /// Whether spans are exported (`OTEL_EXPORTER_OTLP_ENDPOINT` was set).
    pub fn tracing(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("could not flush the trace exporter: {e}");
        }
    }
}

/// Installs the process's subscriber from the environment: `RUST_LOG` (default `info`),
/// `EXAM_LOG_FORMAT`, and the standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT` turns
/// tracing on; `OTEL_SERVICE_NAME` overrides `service_name`; the SDK reads the rest, such as
/// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_SCHEDULE_DELAY`).
pub fn init(service_name: &str) -> Guard {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (format, format_error) = match LogFormat::parse(var("EXAM_LOG_FORMAT").as_deref()) {
        Ok(f) => (f, None),
        Err(e) => (LogFormat::Text, Some(e)),
    };
    let endpoint = var("OTEL_EXPORTER_OTLP_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    let service = var("OTEL_SERVICE_NAME").unwrap_or_else(|| service_name.to_owned());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let guard = init_with(filter, format, endpoint.is_some().then_some(service.as_str()));
    if let Some(e) = format_error {
        tracing::warn!("{e}; writing text");
    }
    if guard.tracing() {
        tracing::info!(service = %service, "exporting traces over OTLP/HTTP");
    }
    guard
}

/// [`init`] with explicit settings: `otlp_service` `Some(name)` exports spans as that service to
/// the endpoint the `OTEL_EXPORTER_OTLP_*` variables name.
pub fn init_with(filter: EnvFilter, format: LogFormat, otlp_service: Option<&str>) -> Guard {
    let mut export_error = None;
    let provider = otlp_service.and_then(|service| match provider(service) {
        Ok(p) => Some(p),
        Err(e) => {
            export_error = Some(e);
            None
        }
    });
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    }
    if let Some(p) = &provider {
        opentelemetry::global::set_tracer_provider(p.clone());
    }
    if let Err(e) = subscriber(filter, format, provider.as_ref(), std::io::stdout).try_init() {
        eprintln!("a subscriber was already installed: {e}");
    }
    if let Some(e) = export_error {
        tracing::error!(error = %e, "cannot export traces; continuing without");
    }
    Guard { provider }
}

/// The layered subscriber: filter, the OpenTelemetry layer when `provider` is given, the text
/// or JSON lines to `writer`.
pub(crate) fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    provider: Option<&SdkTracerProvider>,
    writer: W,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let otel = provider.map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("exam")).with_tracked_inactivity(false));
    let traced = otel.is_some();
    // Colours only with tracing off: with it on the trace id is spliced into each line, and
    // escapes would only get in the way of whoever reads the logs.
    let (text, json) = match format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(!traced)
                    .event_format(WithTraceId { inner: tracing_subscriber::fmt::format() }),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .json()
                    .map_event_format(|f| WithTraceId { inner: f })
                    .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new()),
            ),
        ),
    };
    tracing_subscriber::registry().with(filter).with(otel).with(text).with(json)
}

fn provider(service: &str) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter =
        opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(opentelemetry_otlp::Protocol::HttpBinary).build()?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

/// Adds the trace id and span id of the innermost recorded span around the event to the line
/// `inner` writes: `,"trace_id":…,"span_id":…` inside a JSON object, ` trace_id=… span_id=…` at
/// the end of a text line. Lines outside any span, and every line with tracing off, are
/// written exactly as `inner` writes them.
struct WithTraceId<F> {
    inner: F,
}

impl<S, N, F> FormatEvent<S, N> for WithTraceId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let ids = ctx.event_scope().and_then(|scope| {
            scope.into_iter().find_map(|span| {
                let ext = span.extensions();
                let data = ext.get::<tracing_opentelemetry::OtelData>()?;
                Some((data.trace_id()?, data.span_id()?))
            })
        });
        let Some((trace, span)) = ids.filter(|(t, _)| *t != opentelemetry::TraceId::INVALID) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner.format_event(ctx, Writer::new(&mut line), event)?;
        let body = line.trim_end_matches('\n');
        match body.strip_suffix('}') {
            Some(object) if body.starts_with('{') => write!(writer, "{object},\"trace_id\":\"{trace}\",\"span_id\":\"{span}\"}}")?,
            _ => write!(writer, "{body} trace_id={trace} span_id={span}")?,
        }
        writeln!(writer)
    }
}

/// For tests of propagation in other crates: a subscriber whose spans are recorded (valid
/// trace and span ids, exported nowhere, no log output), with the W3C propagator installed
/// process-wide. Use it with `tracing::subscriber::set_default`.
pub fn recording_subscriber() -> impl Subscriber + Send + Sync {
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    subscriber(EnvFilter::new("info"), LogFormat::Text, Some(&SdkTracerProvider::builder().build()), std::io::sink)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Lines {
        type Writer = Lines;
        fn make_writer(&'w self) -> Lines {
            self.clone()
        }
    }

    /// Logs one line outside any span and one inside a span, returning the lines and the
    /// span's trace id as the OpenTelemetry layer sees it.
    fn log(format: LogFormat, provider: Option<&SdkTracerProvider>) -> (Vec<String>, Option<String>) {
        let out = Lines::default();
        let subscriber = subscriber(EnvFilter::new("info"), format, provider, out.clone());
        let trace = tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let span = tracing::info_span!("work", exam.id = "e1");
            let _entered = span.enter();
            tracing::info!(n = 3, "inside");
            crate::trace_id(&span)
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        (text.lines().map(str::to_owned).collect(), trace)
    }

    #[test]
    fn json_lines_within_a_span_carry_its_trace_id_when_tracing_is_on() {
        let provider = SdkTracerProvider::builder().build();
        let (lines, trace) = log(LogFormat::Json, Some(&provider));
        let trace = trace.expect("the span is recorded");
        assert_eq!(trace.len(), 32);
        let outside: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        let inside: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(outside["fields"]["message"], "outside");
        assert!(outside.get("trace_id").is_none(), "{outside}");
        assert_eq!(inside["fields"]["message"], "inside");
        assert_eq!(inside["fields"]["n"], 3);
        assert_eq!(inside["span"]["exam.id"], "e1");
        assert_eq!(inside["trace_id"], trace.as_str(), "{inside}");
        assert_eq!(inside["span_id"].as_str().map(str::len), Some(16));
    }

    #[test]
    fn text_lines_end_with_the_trace_id_and_nothing_changes_with_tracing_off() {
        let provider = SdkTracerProvider::builder().build();
        let (lines, trace) = log(LogFormat::Text, Some(&provider));
        let trace = trace.unwrap();
        assert!(!lines[0].contains("trace_id"), "{}", lines[0]);
        assert!(lines[1].contains("inside n=3"), "{}", lines[1]);
        assert!(lines[1].contains(&format!(" trace_id={trace} span_id=")), "{}", lines[1]);
        assert!(!lines[1].contains('\u{1b}'), "no colour escapes with tracing on: {}", lines[1]);

        let (lines, trace) = log(LogFormat::Json, None);
        assert_eq!(trace, None);
        let inside: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        assert!(inside.get("trace_id").is_none(), "{inside}");
    }

    #[test]
    fn the_log_format_setting_is_json_or_text() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some(" ")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("EXAM_LOG_FORMAT"));
    }
}
