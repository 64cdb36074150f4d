//! `/authorize`'s query string: form decoding, then the request's checks against a client
//! (redirect URI, response type and mode, PKCE, scopes, prompt, max_age). None may panic.
#![no_main]
use accountd_core::application::{AppType, ApplicationFields, new_application};
use accountd_core::authorization::{AuthorizeParams, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = serde_urlencoded::from_bytes::<AuthorizeParams>(data) else { return };
    let fields = ApplicationFields {
        name: Some("SPA".into()),
        app_type: Some(AppType::Spa),
        callbacks: Some(vec!["http://localhost:3000/callback".into()]),
        ..Default::default()
    };
    let Ok((app, _)) = new_application(fields, 0) else { return };
    let _ = validate(&params, Some(&app));
    let _ = validate(&params, None);
});
