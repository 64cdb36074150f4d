//! The JSON bodies of both account APIs as their adapters read them: Auth0's schema checks
//! (`from_body`) and Logto's typed bodies with their guards. None may panic.
#![no_main]
use accountd_http::account::extract::Guarded;
use accountd_http::account::wire as logto;
use accountd_http::me_v1::wire as me;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn logto_body<T: serde::de::DeserializeOwned + Guarded>(v: &Value) {
    if let Ok(b) = serde_json::from_value::<T>(v.clone()) {
        let _ = b.check();
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    if let Some(body) = v.as_object() {
        let body: &Map<String, Value> = body;
        let _ = me::CreateAuthenticationMethodRequest::from_body(body);
        let _ = me::UpdateAuthenticationMethodRequest::from_body(body);
        let _ = me::ConnectRequest::from_body(body);
        let _ = me::CompleteRequest::from_body(body);
        for t in [accountd_core::authn::method::MethodType::Totp, accountd_core::authn::method::MethodType::Passkey] {
            let _ = me::VerifyAuthenticationMethodRequest::from_body(t, body);
        }
    }
    logto_body::<logto::UpdateAccountBody>(&v);
    logto_body::<logto::UpdateProfileBody>(&v);
    logto_body::<logto::UpdatePasswordBody>(&v);
    logto_body::<logto::PrimaryEmailBody>(&v);
    logto_body::<logto::PrimaryPhoneBody>(&v);
    logto_body::<logto::SocialBody>(&v);
    logto_body::<logto::SocialVerifyBody>(&v);
    logto_body::<logto::SendCodeBody>(&v);
    logto_body::<logto::VerifyCodeBody>(&v);
});
