//! A DPoP proof (RFC 9449) from the `DPoP` header: compact JWS splitting, the header's key, the
//! claims' JSON, the window and ath checks, the signature check. None may panic.
#![no_main]
use accountd_oauth::dpop::{self, Expected, ProofKeys};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = std::str::from_utf8(data) else { return };
    let keys = ProofKeys::default();
    let nonce_ok = |n: &str| n.len() == 3;
    for expected in
        [Expected::default(), Expected { access_token: Some("token"), jkt: Some("jkt"), nonce_ok: Some(&nonce_ok) }]
    {
        let _ = dpop::verify(&keys, proof, "POST", "https://accountd.example/oauth/token", expected, 1_800_000_000);
    }
});
