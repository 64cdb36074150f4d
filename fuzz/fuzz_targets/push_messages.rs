//! The push device protocol (`/push/v1`): the JSON bodies a device sends (enroll, answer), the
//! enrollment ticket in the enroll body and its check against the enrollment's state, and the
//! device proof of every request (`Authorization: Device <JWS>`): its `sub` read before the
//! signature check, then the checks themselves. The first byte picks how the rest becomes the
//! proof: as it is; as header, payload and signature segments (split at 0xFF) base64url-encoded;
//! as header and payload signed with the device's key; as a payload under the device proof header,
//! signed, so mutations reach the claims checks. None may panic.
#![no_main]
use std::sync::LazyLock;

use accountd_core::authn::push;
use accountd_core::secret::hash_high_entropy_secret;
use accountd_http::push::{AnswerBody, EnrollBody, json_body};
use accountd_oauth::device_proof;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const URL: &str = "https://accountd.example/push/v1/challenges";
const NOW: i64 = 1_800_000_000;

/// The device's key, generated once (ECDSA signatures are randomized anyway; a crash replays
/// with any key).
static DEVICE: LazyLock<(EcdsaKeyPair, Value)> = LazyLock::new(|| {
    let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key generation");
    let p = k.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])});
    (k, jwk)
});

/// A pending enrollment's state, whose ticket secret is `secret`.
static STATE: LazyLock<Value> = LazyLock::new(|| json!({ "ticket_hash": hash_high_entropy_secret("secret") }));

const HEADER: &[u8] = br#"{"typ":"device+jwt","alg":"ES256"}"#;

fn signed(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    match DEVICE.0.sign(&SystemRandom::new(), input.as_bytes()) {
        Ok(sig) => format!("{input}.{}", B64.encode(sig.as_ref())),
        Err(_) => input,
    }
}

fn bodies(body: &[u8]) {
    let bytes = Bytes::copy_from_slice(body);
    let _ = json_body::<EnrollBody>(&bytes, "{ticket, public_key, name?}");
    let _ = json_body::<AnswerBody>(&bytes, "{\"approve\": true|false}");
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
    // What redeeming the ticket does with the enroll body, short of the database.
    if let Some((_, secret)) = v["ticket"].as_str().and_then(|t| push::parse_ticket(t.trim())) {
        let _ = push::ticket_matches(&STATE, secret);
    }
    let _ = push::redeemed_state(&STATE, v["public_key"].clone(), v["name"].as_str().map(str::to_string));
}

fn proof(proof: &str) {
    let _ = device_proof::unverified_subject(proof);
    for method in ["GET", "POST"] {
        if let Ok(p) = device_proof::verify(proof, &DEVICE.1, method, URL, NOW) {
            let _ = p.replay_key();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    bodies(rest);
    let mut parts = rest.splitn(3, |&b| b == 0xFF);
    let (a, b, c) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let token = match mode % 4 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => format!("{}.{}.{}", B64.encode(a), B64.encode(b), B64.encode(c)),
        2 => signed(a, b),
        _ => signed(HEADER, rest),
    };
    proof(&token);
});
