//! What accountd itself does with a browser's WebAuthn answer (`authn_response`, Logto's
//! `payload`), around `webauthn-rs`: the attestation object's CBOR and authenticator data it reads
//! the COSE key and AAGUID from; registrations of passkeys and security keys (the enrollment of
//! `/me/v1` and the webauthn grant, and Logto's Verification API, which renames the `type`); the
//! user handle of a discoverable assertion and the passkey sign-in; second-factor assertions.
//! The first byte picks how the rest is used: as the attestation object's text, as its bytes, as
//! its authenticator data; as a JSON answer to every ceremony; as the authenticator data of a
//! registration accountd builds around it with each ceremony's challenge and origin (so mutations
//! get past the client data checks to the attested data). None may panic.
#![no_main]
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use accountd_core::authn::credential::{
    Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, RelyingParty,
};
use accountd_core::authn::method::MethodType;
use accountd_core::authn::webauthn::{self, WebAuthn};
use accountd_core::secret::MasterKey;
use accountd_core::user::{StandardClaims, User, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const ORIGIN: &str = "https://accountd.example";

static RP: LazyLock<RelyingParty> =
    LazyLock::new(|| RelyingParty { id: "accountd.example".into(), origin: ORIGIN.into(), name: "accountd".into() });

static USER: LazyLock<User> = LazyLock::new(|| User {
    id: UserId("auth0|0123456789abcdef01234567".into()),
    email: Some("fuzz@accountd.example".into()),
    email_verified: true,
    username: None,
    phone_number: None,
    phone_verified: false,
    name: Some("Fuzz".into()),
    given_name: None,
    family_name: None,
    nickname: None,
    picture: None,
    claims: StandardClaims::default(),
    user_metadata: json!({}),
    app_metadata: json!({}),
    blocked: false,
    created_at: 0,
    updated_at: 0,
    last_login_at: None,
    logins_count: 0,
});

static MASTER_KEY: LazyLock<MasterKey> =
    LazyLock::new(|| MasterKey::from_bytes(&[7; MasterKey::LEN]).expect("a 32-byte master key"));

/// Related origins of the Verification API: one URL, one not.
const RELATED: [&str; 2] = ["https://app.accountd.example", "not a url"];

/// SHA-256 of the RP ID, which authenticator data starts with.
static RP_ID_HASH: LazyLock<Vec<u8>> =
    LazyLock::new(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, RP.id.as_bytes()).as_ref().to_vec());

/// Stored credentials the assertions are checked against: none of them usable.
const STORED: [&str; 3] = ["", "{}", "not json"];

/// Runs a future that does no I/O (the credential module's) to its end.
fn run<T>(f: impl Future<Output = T>) -> Option<T> {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(t) => Some(t),
        Poll::Pending => None,
    }
}

fn enroll_context() -> EnrollContext<'static> {
    EnrollContext {
        user: &USER,
        rp: &RP,
        master_key: &MASTER_KEY,
        existing_key_ids: vec![B64.encode(b"an existing key")],
        user_agent: Some("fuzz"),
        base_url: "https://accountd.example/",
    }
}

/// A ceremony begun once: the state kept, and the challenge the answer must carry.
struct Ceremony {
    state: Value,
    challenge: String,
}

fn challenge_of(options: &Value) -> String {
    options["challenge"].as_str().unwrap_or_default().to_string()
}

/// Enrollment (`/me/v1`, the webauthn grant): a passkey, a platform and a roaming security key.
static ENROLLMENTS: LazyLock<Vec<Ceremony>> = LazyLock::new(|| {
    let requests = [
        EnrollRequest::Passkey { exclude: true },
        EnrollRequest::SecurityKey { platform: true },
        EnrollRequest::SecurityKey { platform: false },
    ];
    requests
        .iter()
        .filter_map(|r| run(WebAuthn.begin(&enroll_context(), r, "webauthn|fuzz")))
        .filter_map(Result::ok)
        .map(|b| {
            let challenge = match &b.challenge {
                EnrollChallenge::WebAuthn { options } => challenge_of(options),
                _ => String::new(),
            };
            Ceremony { state: b.state, challenge }
        })
        .collect()
});

/// Logto's Verification API registration.
static VERIFICATION: LazyLock<Option<Ceremony>> = LazyLock::new(|| {
    webauthn::start_verification_registration(&RP, &USER, &[B64.encode(b"an existing key")])
        .ok()
        .map(|(options, state)| Ceremony { state, challenge: challenge_of(&options) })
});

/// Passkey sign-in and a second-factor challenge (the latter over no key, whatever it gives).
static DISCOVERABLE: LazyLock<Value> = LazyLock::new(|| webauthn::start_discoverable(&RP).unwrap_or_default().1);
static SECOND_FACTOR: LazyLock<Value> = LazyLock::new(|| webauthn::start_second_factor(&RP, &[]).unwrap_or_default().1);

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    let m = major << 5;
    match u8::try_from(len) {
        Ok(n) if n < 24 => out.push(m | n),
        Ok(n) => out.extend([m | 24, n]),
        Err(_) => match u16::try_from(len) {
            Ok(n) => {
                out.push(m | 25);
                out.extend(n.to_be_bytes());
            }
            Err(_) => {
                out.push(m | 26);
                out.extend(u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            }
        },
    }
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len());
    out.extend(s.as_bytes());
}

/// `{"fmt": "none", "attStmt": {}, "authData": auth_data}`, base64url.
fn attestation_object(auth_data: &[u8]) -> String {
    let mut o = vec![0xa3];
    cbor_text(&mut o, "fmt");
    cbor_text(&mut o, "none");
    cbor_text(&mut o, "attStmt");
    o.push(0xa0);
    cbor_text(&mut o, "authData");
    cbor_head(&mut o, 2, auth_data.len());
    o.extend(auth_data);
    B64.encode(o)
}

/// A registration answering `challenge` from the RP's origin, whose authenticator data is the RP
/// ID hash and `tail` (flags, counter, AAGUID, credential id length and id, COSE key…).
fn registration(challenge: &str, tail: &[u8]) -> Value {
    let mut auth_data = RP_ID_HASH.clone();
    auth_data.extend(tail);
    let cred_id = tail
        .get(21..23)
        .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        .and_then(|n| tail.get(23..23 + n))
        .unwrap_or(b"credential");
    let client_data =
        json!({ "type": "webauthn.create", "challenge": challenge, "origin": ORIGIN, "crossOrigin": false });
    json!({
        "id": B64.encode(cred_id),
        "rawId": B64.encode(cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": B64.encode(client_data.to_string()),
            "attestationObject": attestation_object(&auth_data),
            "transports": ["internal", "hybrid"],
        },
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
    })
}

fn details(m: &accountd_core::authn::method::NewMethod) {
    let _ = serde_json::to_value(&m.method.details);
    let _ = m.lookup_key.as_deref();
}

fn enroll(ceremony: &Ceremony, response: Value) {
    let cx = enroll_context();
    let proof = EnrollProof::Attestation(response);
    if let Some(Ok(m)) = run(WebAuthn.finish(&cx, ceremony.state.clone(), proof, "webauthn|fuzz")) {
        details(&m);
    }
}

fn verify_registration(ceremony: &Ceremony, response: Value) {
    let related: Vec<String> = RELATED.iter().map(|s| s.to_string()).collect();
    if let Ok(p) =
        webauthn::finish_verification_registration(&RP, &related, &USER.id, &ceremony.state, response, Some("fuzz"))
    {
        let _ = serde_json::to_value(&p);
    }
}

/// Every ceremony, answered by `response`.
fn answer(response: &Value) {
    for c in ENROLLMENTS.iter() {
        enroll(c, response.clone());
    }
    if let Some(c) = VERIFICATION.as_ref() {
        // Logto's payload as its typed body gives it: an object whose `type` is `WebAuthn`.
        let mut logto = response.clone();
        if let Some(o) = logto.as_object_mut() {
            o.insert("type".into(), json!("WebAuthn"));
        }
        verify_registration(c, logto);
        verify_registration(c, response.clone());
    }
    if let Ok((cred, handle)) = webauthn::asserted_user_handle(response) {
        let _ = handle.len();
        let stored: Vec<String> = STORED.iter().map(|s| s.to_string()).collect();
        let _ = webauthn::finish_discoverable(&RP, &DISCOVERABLE, &cred, &stored);
    }
    let stored: Vec<(MethodType, String)> = STORED
        .iter()
        .flat_map(|s| [(MethodType::Passkey, s.to_string()), (MethodType::WebauthnRoaming, s.to_string())])
        .collect();
    let _ = webauthn::finish_second_factor(&RP, &SECOND_FACTOR, response, &stored);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 5 {
        0 => {
            let _ = webauthn::attested_key(&String::from_utf8_lossy(rest));
        }
        1 => {
            let _ = webauthn::attested_key(&B64.encode(rest));
        }
        2 => {
            let _ = webauthn::attested_key(&attestation_object(rest));
        }
        3 => {
            if let Ok(v) = serde_json::from_slice::<Value>(rest) {
                answer(&v);
            }
        }
        _ => {
            let _ = webauthn::attested_key(&attestation_object(rest));
            for c in ENROLLMENTS.iter() {
                enroll(c, registration(&c.challenge, rest));
            }
            if let Some(c) = VERIFICATION.as_ref() {
                verify_registration(c, registration(&c.challenge, rest));
            }
        }
    }
});
