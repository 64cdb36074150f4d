//! The edge screening every JSON and form body passes before any handler (control characters,
//! nesting, where the refusal points). None may panic.
#![no_main]
use accountd_http::common::input::{BodyKind, refused_in_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in [BodyKind::Json, BodyKind::Form] {
        if let Some(r) = refused_in_body(kind, data) {
            let _ = r.pointer();
        }
    }
});
