//! What the `accountd` binary writes to its log (issue 17, item 6), as an operator reads it with
//! `serve --log-json`: every line is a JSON object, each request has one line with its route
//! template, status, latency, tenant and request id (taken from `traceparent` when the caller sent
//! one), and no line holds a password, a code, a token or a full email address — checked after a
//! sign-in, a refresh and two enrolments, with the log at `debug`, louder than an operator runs it.

use std::process::Stdio;

use accountd_store::testdb::{Backend, TestDb};
use serde_json::{Value, json};

use crate::cli::{free_port, serve_with, stop};
use crate::crash::Target;
use crate::me::{EMAIL, ME_SCOPES, PASSWORD};

/// A W3C trace context header a caller's tracing would send, and the trace id in it.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn json_log_lines_describe_each_request_and_hold_no_secret() {
    accountd_connectors::install_crypto_provider();
    let db = TestDb::new(Backend::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = if db.url.starts_with("sqlite") { String::new() } else { db.url.clone() };
    let log_path = dir.path().join("accountd.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let (mut child, out) =
        serve_with(&data, &url, port, &["--log-json"], &[("ACCOUNTD_LOG__LEVEL", "debug")], Stdio::from(log));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let t = Target::provision(&base, &out, &client).await;
    let client_secret = out.lines().find_map(|l| l.trim().strip_prefix("client_secret:")).unwrap().trim().to_string();

    // A sign-in with the password, for a My Account token and a refresh token.
    let scope = format!("openid offline_access {}", ME_SCOPES.join(" "));
    let (access, refresh, code) = t.sign_in_with_code(port, EMAIL, &scope, Some(&format!("{base}/me/"))).await;
    assert!(!refresh.is_empty(), "no refresh token");
    // A refresh, sent with a trace context: its id becomes the request id.
    let r = client
        .post(format!("{base}/oauth/token"))
        .header("traceparent", TRACEPARENT)
        .json(&json!({"grant_type": "refresh_token", "client_id": t.spa, "refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], TRACE_ID, "the trace id is the request id the caller gets back");
    let refreshed: Value = r.json().await.unwrap();
    let (access2, refresh2) =
        (refreshed["access_token"].as_str().unwrap(), refreshed["refresh_token"].as_str().unwrap());
    // A TOTP app and recovery codes, enrolled through /me/v1.
    let (status, totp) =
        t.me(reqwest::Method::POST, "/authentication-methods", access2, Some(json!({"type": "totp"}))).await;
    assert_eq!(status, 202, "{totp}");
    let totp_secret = totp["manual_input_code"].as_str().unwrap().to_string();
    let otp = accountd_core::authn::totp::current_code(&totp_secret).unwrap();
    let path = format!("/authentication-methods/{}/verify", totp["id"].as_str().unwrap().replace('|', "%7C"));
    let body = json!({"auth_session": totp["auth_session"], "otp_code": otp});
    let (status, verified) = t.me(reqwest::Method::POST, &path, access2, Some(body)).await;
    assert_eq!(status, 201, "{verified}");
    let (status, recovery) =
        t.me(reqwest::Method::POST, "/authentication-methods", access2, Some(json!({"type": "recovery-code"}))).await;
    assert_eq!(status, 202, "{recovery}");
    let recovery_code = recovery["recovery_code"].as_str().unwrap().to_string();
    assert!(stop(&mut child), "Ctrl-C exits cleanly");

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "too few log lines: {text}");

    // One line per request, with what an operator filters and sums by.
    let answered: Vec<&Value> =
        lines.iter().filter(|l| l["fields"]["message"] == "finished processing request").collect();
    let refresh_line = answered
        .iter()
        .find(|l| l["span"]["request.id"] == TRACE_ID)
        .unwrap_or_else(|| panic!("no line for the traced refresh: {text}"));
    assert_eq!(refresh_line["span"]["route"], "/oauth/token");
    assert_eq!(refresh_line["span"]["method"], "POST");
    assert_eq!(refresh_line["fields"]["status"], 200);
    assert!(refresh_line["fields"]["latency"].is_string(), "{refresh_line}");
    assert!(refresh_line["span"]["tenant"].as_str().is_some_and(|t| !t.is_empty()), "{refresh_line}");
    let routes: Vec<&str> = answered.iter().filter_map(|l| l["span"]["route"].as_str()).collect();
    for route in ["/authorize", "/u/login", "/oauth/token", "/me/v1/authentication-methods"] {
        assert!(routes.contains(&route), "no request line for {route}: {routes:?}");
    }
    assert!(answered.iter().all(|l| l["span"]["request.id"].as_str().is_some_and(|id| !id.is_empty())));

    // No secret anywhere. The timestamp is left out: its six digits of microseconds could spell
    // a six-digit code by chance.
    let mut words = String::new();
    for mut line in lines {
        line.as_object_mut().unwrap().remove("timestamp");
        words.push_str(&line.to_string());
        words.push('\n');
    }
    let secrets = [
        ("the password", PASSWORD.to_string()),
        ("the email address", EMAIL.to_string()),
        ("the authorization code", code),
        ("the access token", access),
        ("the refresh token", refresh),
        ("the refreshed access token", access2.to_string()),
        ("the rotated refresh token", refresh2.to_string()),
        ("the management token", t.mgmt.clone()),
        ("the client secret", client_secret),
        ("the TOTP secret", totp_secret),
        ("the recovery code", recovery_code),
    ];
    for (what, secret) in &secrets {
        assert!(!secret.is_empty(), "{what} is empty");
        assert!(!words.contains(secret.as_str()), "the log holds {what}");
    }
    // A six-digit code only counts where it stands alone, not inside a longer number.
    assert!(!stands_alone_in(&words, &otp), "the log holds the TOTP code");
}

/// Whether `number` appears in `text` with no digit right before or after it.
fn stands_alone_in(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_some_and(|c| c.is_ascii_digit());
        let after = text[i + number.len()..].chars().next().is_some_and(|c| c.is_ascii_digit());
        !before && !after
    })
}
