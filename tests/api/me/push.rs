//! Push approval end to end: the account API starts a `push-notification` enrollment, the real
//! `accountd device` binary redeems its QR code and later answers sign-in challenges, which are
//! started and read through core as the sign-in page does.

use std::path::Path;
use std::time::Duration;

use accountd_core::authn::pending::PendingStatus;
use accountd_core::user::UserId;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Me, signed_in};
use crate::util::Resp;

/// Runs `accountd device <args>` without blocking the server running in this test's runtime.
async fn device(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_accountd"))
            .arg("device")
            .args(&args)
            .env_remove("ACCOUNTD_CONFIG")
            .output()
            .expect("run accountd device");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A new P-256 key and its public JWK.
fn key_pair() -> (EcdsaKeyPair, Value) {
    let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let p = k.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..65])});
    (k, jwk)
}

/// `Device <JWS>` over `claims`, signed by `key`.
fn proof(key: &EcdsaKeyPair, claims: Value) -> String {
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
    let input = format!("{}.{}", b64(json!({"typ": "device+jwt", "alg": "ES256"})), b64(claims));
    let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("Device {input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn now() -> i64 {
    accountd_core::clock::now_millis() / 1000
}

/// What `device enroll` saved: the device id and its private key.
fn saved_device(state: &Path) -> (String, String, EcdsaKeyPair) {
    let v: Value = serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap();
    let der = STANDARD.decode(v["private_key_pkcs8"].as_str().unwrap()).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).unwrap();
    (v["device_id"].as_str().unwrap().to_string(), v["base_url"].as_str().unwrap().to_string(), key)
}

/// A request without the harness's bearer token.
async fn send(method: reqwest::Method, url: &str, authorization: Option<&str>, body: Option<Value>) -> Resp {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Resp { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

/// A push method enrolled through the device binary: (device id, state file, its directory).
async fn enrolled(me: &Me) -> (String, std::path::PathBuf, tempfile::TempDir) {
    let (r, location) = me.enroll(json!({"type": "push-notification"})).await;
    let uri = r.body["barcode_uri"].as_str().unwrap().to_string();
    let session = r.body["auth_session"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("device.json");
    let (ok, out, err) = device(args(&["enroll", "--uri", &uri, "--state", state.to_str().unwrap()])).await;
    assert!(ok, "{err}");
    let v = me.post(&format!("{location}/verify"), json!({"auth_session": session})).await;
    assert_eq!(v.status, 201, "{}", v.text);
    (out.trim().to_string(), state, dir)
}

#[tokio::test]
async fn a_device_redeems_the_qr_code_once_and_signs_its_requests() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "push-notification"})).await;
    let uri = r.body["barcode_uri"].as_str().unwrap().to_string();
    let session = r.body["auth_session"].as_str().unwrap().to_string();
    let parsed = reqwest::Url::parse(&uri).unwrap();
    let param = |n: &str| parsed.query_pairs().find(|(k, _)| k == n).unwrap().1.into_owned();
    let (ticket, base_url) = (param("ticket"), param("base_url"));
    assert_eq!(base_url, format!("{}/", me.base));
    let enroll_url = format!("{base_url}push/v1/enroll");

    // Nothing to verify until a device has redeemed the ticket.
    let early = me.post(&format!("{location}/verify"), json!({"auth_session": session})).await;
    assert_eq!(early.status, 400, "{}", early.text);
    assert!(early.body["detail"].as_str().unwrap().contains("No device has redeemed"), "{}", early.text);

    // Wrong tickets and unusable keys are refused without using the ticket up.
    let (_, jwk) = key_pair();
    let (method_id, _) = ticket.rsplit_once('.').unwrap();
    for bad in [format!("{method_id}.wrong"), "push-notification|dev_nope.x".into(), "garbage".into()] {
        let r = send(reqwest::Method::POST, &enroll_url, None, Some(json!({"ticket": bad, "public_key": jwk}))).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["error"], "invalid_ticket", "{}", r.text);
    }
    let mut private = jwk.clone();
    private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    for bad_key in [private, json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), json!("not a key")] {
        let r = send(reqwest::Method::POST, &enroll_url, None, Some(json!({"ticket": ticket, "public_key": bad_key})))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["error"], "invalid_request", "{}", r.text);
    }
    let r = send(reqwest::Method::POST, &enroll_url, None, Some(json!({"ticket": ticket}))).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // The real device binary redeems it and keeps its key owner-only.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("device.json");
    let state_arg = state.to_str().unwrap().to_string();
    let (ok, out, err) = device(args(&["enroll", "--uri", &uri, "--state", &state_arg, "--name", "Ada's phone"])).await;
    assert!(ok, "{err}");
    let device_id = out.trim().to_string();
    assert_eq!(device_id, method_id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // A second redemption of the same ticket is refused, by HTTP and by the binary.
    let again =
        send(reqwest::Method::POST, &enroll_url, None, Some(json!({"ticket": ticket, "public_key": jwk}))).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert!(again.body["error_description"].as_str().unwrap().contains("already redeemed"), "{}", again.text);
    let other = dir.path().join("other.json");
    let (ok, _, err) = device(args(&["enroll", "--uri", &uri, "--state", other.to_str().unwrap()])).await;
    assert!(!ok);
    assert!(err.contains("already redeemed"), "{err}");
    assert!(!other.exists());

    // Now the enrollment verifies, named after the device.
    let done = me.post(&format!("{location}/verify"), json!({"auth_session": session})).await;
    assert_eq!(done.status, 201, "{}", done.text);
    assert_eq!(done.body["id"], device_id.as_str());
    assert_eq!(done.body["type"], "push-notification");
    let listed = me.get("/authentication-methods?type=push-notification").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let m = &listed.body["authentication_methods"][0];
    assert_eq!(m["id"], device_id.as_str());
    assert_eq!(m["name"], "Ada's phone");
    // The enrollment is gone: the ticket cannot be redeemed any more.
    let after =
        send(reqwest::Method::POST, &enroll_url, None, Some(json!({"ticket": ticket, "public_key": jwk}))).await;
    assert_eq!(after.status, 400, "{}", after.text);

    // Device requests: a good proof lists (nothing yet); bad, old, replayed proofs are refused.
    let (id, base, key) = saved_device(&state);
    assert_eq!(base, base_url);
    let url = format!("{base_url}push/v1/challenges");
    let claims =
        |iat: i64, jti: &str, htu: &str, htm: &str| json!({"sub": id, "htm": htm, "htu": htu, "iat": iat, "jti": jti});
    let good = proof(&key, claims(now(), "j1", &url, "GET"));
    let ok = send(reqwest::Method::GET, &url, Some(&good), None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body, json!({"challenges": []}));
    let (stranger, _) = key_pair();
    let unknown = json!({"sub": "push-notification|dev_unknown", "htm": "GET", "htu": url, "iat": now(), "jti": "u1"});
    let refused = [
        ("replayed", Some(good.clone())),
        ("missing", None),
        ("not a JWS", Some("Device abc".to_string())),
        ("bearer", Some("Bearer abc".to_string())),
        ("old", Some(proof(&key, claims(now() - 120, "j2", &url, "GET")))),
        ("future", Some(proof(&key, claims(now() + 120, "j3", &url, "GET")))),
        ("other method", Some(proof(&key, claims(now(), "j4", &url, "POST")))),
        ("other url", Some(proof(&key, claims(now(), "j5", &format!("{base_url}push/v1/enroll"), "GET")))),
        ("other key", Some(proof(&stranger, claims(now(), "j6", &url, "GET")))),
        ("unknown device", Some(proof(&key, unknown))),
    ];
    for (why, auth) in refused {
        let r = send(reqwest::Method::GET, &url, auth.as_deref(), None).await;
        assert_eq!(r.status, 401, "{why}: {}", r.text);
        assert_eq!(r.body["error"], "invalid_token", "{why}: {}", r.text);
        assert!(r.header("www-authenticate").unwrap().starts_with("Device "), "{why}");
    }
    me.app.stop().await;
}

#[tokio::test]
async fn the_device_approves_and_denies_sign_ins() {
    let me = signed_in("127.0.0.1").await;
    let (device_id, state, _dir) = enrolled(&me).await;
    let state_arg = state.to_str().unwrap().to_string();
    let core = me.app.core();
    let tenant = me.app.bootstrap.tenant.id.clone();
    let user = UserId(me.user_id.clone());

    // Nothing waiting: approve gives up.
    let (ok, _, err) = device(args(&["approve", "--state", &state_arg])).await;
    assert!(!ok);
    assert!(err.contains("no sign-in is waiting"), "{err}");

    // The device waits for the sign-in that starts after it does, and approves it.
    let approving = tokio::spawn(device(args(&["approve", "--state", &state_arg, "--wait", "5"])));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let challenge = core.start_push_challenge(&tenant, &user, &device_id, "Code 4711").await.unwrap();
    assert_eq!(core.push_challenge_status(&tenant, &challenge).await.unwrap(), Some(PendingStatus::Pending));
    let (ok, out, err) = approving.await.unwrap();
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("approved {challenge}"));
    assert!(err.contains("Code 4711"), "{err}");
    assert_eq!(core.push_challenge_status(&tenant, &challenge).await.unwrap(), Some(PendingStatus::Approved));

    // Answered challenges are not listed and cannot be answered again.
    let (ok, out, err) = device(args(&["list", "--state", &state_arg])).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "");
    let (ok, _, err) =
        device(args(&["approve", "--state", &state_arg, &format!("--challenge={challenge}"), "--deny"])).await;
    assert!(!ok);
    assert!(err.contains("404"), "{err}");
    assert_eq!(core.push_challenge_status(&tenant, &challenge).await.unwrap(), Some(PendingStatus::Approved));

    // Two waiting: both listed oldest first; the chosen one is denied, the other stays open.
    let first = core.start_push_challenge(&tenant, &user, &device_id, "Code 1").await.unwrap();
    // Oldest first, to the millisecond.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = core.start_push_challenge(&tenant, &user, &device_id, "Code 2").await.unwrap();
    let (ok, out, err) = device(args(&["list", "--state", &state_arg])).await;
    assert!(ok, "{err}");
    assert_eq!(out, format!("{first}\tCode 1\n{second}\tCode 2\n"));
    let (ok, out, err) =
        device(args(&["approve", "--state", &state_arg, &format!("--challenge={second}"), "--deny"])).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("denied {second}"));
    assert_eq!(core.push_challenge_status(&tenant, &second).await.unwrap(), Some(PendingStatus::Denied));
    assert_eq!(core.push_challenge_status(&tenant, &first).await.unwrap(), Some(PendingStatus::Pending));

    // Challenges are for push methods of the user only, with a short binding message.
    let nobody = UserId("auth0|nobody".into());
    assert!(matches!(
        core.start_push_challenge(&tenant, &nobody, &device_id, "x").await,
        Err(accountd_core::Error::NotFound(_))
    ));
    assert!(matches!(
        core.start_push_challenge(&tenant, &user, &device_id, &"x".repeat(65)).await,
        Err(accountd_core::Error::Invalid(_))
    ));
    assert_eq!(core.push_challenge_status(&tenant, "no-such-challenge").await.unwrap(), None);
    me.app.stop().await;
}
