//! Logs, and with the `otel` cargo feature, OpenTelemetry trace export.
//!
//! Export is configured the way every OpenTelemetry SDK is, by the standard variables: it starts when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, speaks OTLP over
//! HTTP (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, the default, or `http/json`), and takes
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*` and
//! `OTEL_EXPORTER_OTLP_HEADERS`. Spans are the request span (continuing the caller's `traceparent`)
//! and the work inside it that takes time of its own (password hashing); their fields are the
//! ones the log lines carry, so no secret is exported.

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::Config;

/// What must outlive the server: the trace exporter, flushed when dropped.
#[must_use = "dropping it stops trace export"]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("accountd: trace export did not flush: {e}");
        }
    }
}

/// Whether the standard variables ask for trace export.
fn export_requested() -> bool {
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

/// Starts logging to stderr (text or JSON) and, when asked and built in, trace export.
pub fn init(cfg: &Config, force_json: bool) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.log.level));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if force_json || cfg.log.format == "json" {
        fmt.json().with_current_span(true).with_span_list(false).boxed()
    } else {
        fmt.boxed()
    };
    let registry = tracing_subscriber::registry().with(filter).with(fmt);

    #[cfg(feature = "otel")]
    {
        let provider = if export_requested() { otel::provider() } else { None };
        let layer = provider.as_ref().map(otel::layer);
        registry.with(layer).init();
        Telemetry { provider }
    }
    #[cfg(not(feature = "otel"))]
    {
        registry.init();
        if export_requested() {
            tracing::warn!(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but this accountd was built without the `otel` feature: \
                 no traces are exported (cargo build --release --features otel)"
            );
        }
        Telemetry {}
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    /// The exporter and its batching thread; `None` (and a line on stderr) when the variables are
    /// wrong, so that a typo in telemetry settings does not keep the server down.
    pub(super) fn provider() -> Option<SdkTracerProvider> {
        // The exporter's reqwest has rustls without a provider (an https collector needs one);
        // Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let exporter = match opentelemetry_otlp::SpanExporter::builder().with_http().build() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("accountd: OpenTelemetry trace export is off: {e}");
                return None;
            }
        };
        let mut resource = Resource::builder()
            .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
        // OTEL_SERVICE_NAME, when set, names the service; else it is accountd.
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("accountd");
        }
        // The W3C trace context, for the request span's parent.
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build())
    }

    pub(super) fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(provider.tracer("accountd"))
    }
}
