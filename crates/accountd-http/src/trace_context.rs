//! W3C trace context for exported spans (the `otel` feature): a request span continues the trace
//! its caller's `traceparent` names, so accountd's spans join the caller's trace.

use axum::http::HeaderMap;
use opentelemetry::propagation::Extractor;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Reads propagation headers (`traceparent`, `tracestate`) from a request.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes `span` a child of the caller's span when the request carries a valid `traceparent`;
/// a missing or malformed one leaves it the root of a new trace.
pub(crate) fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    // Err only when no OpenTelemetry layer is installed (export not configured).
    let _ = span.set_parent(parent);
}

/// Names the exported span after what the request turned out to be (`GET /me/v1/factors`): the
/// route template is known only once routing has run, after the span has started.
pub(crate) fn name_span(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt as _;
    span.context().span().update_name(name);
}
