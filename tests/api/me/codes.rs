//! Email and phone methods: the code travels through the tenant's real connector — SMTP to a
//! Python aiosmtpd process the test starts, SMS to a local HTTP receiver speaking Logto's HTTP
//! connector JSON — and is verified through /me/v1; a second factor at sign-in uses the same path.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::signed_in;
use crate::util::browser::Browser;

const SMTP_SINK: &str = r#"
import json, sys
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace")}), flush=True)
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// A real SMTP server process (aiosmtpd); each mail arrives as one JSON line.
struct SmtpSink {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    port: u16,
}

impl SmtpSink {
    fn start() -> Self {
        let ok = Command::new("python3").args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
        assert!(ok, "this test needs Python's aiosmtpd: `python3 -m pip install aiosmtpd` (scripts/test installs it)");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("python3")
            .args(["-c", SMTP_SINK, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        assert_eq!(lines.recv_timeout(Duration::from_secs(20)).expect("aiosmtpd starts"), "READY");
        Self { child, lines, port }
    }

    fn next_mail(&self) -> Value {
        serde_json::from_str(&self.lines.recv_timeout(Duration::from_secs(20)).expect("a mail arrives")).unwrap()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the SMS receiver got: the Authorization header and the JSON body of each request.
type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

fn six_digits(text: &str) -> String {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5))
        .find(|&i| {
            bytes[i..i + 6].iter().all(u8::is_ascii_digit)
                && (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit())
        })
        .map(|i| text[i..i + 6].to_string())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

#[tokio::test]
async fn an_email_method_is_proven_with_a_code_sent_over_smtp() {
    let smtp = SmtpSink::start();
    let me = signed_in("127.0.0.1").await;
    let r = me
        .app
        .post(
            "/api/v2/emails/provider",
            &me.mgmt,
            json!({"name": "smtp", "enabled": true, "default_from_address": "no-reply@example.com",
                   "credentials": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let (r, location) = me.enroll(json!({"type": "email", "email": "Ada.Codes@Example.com"})).await;
    assert!(r.body["id"].as_str().unwrap().starts_with("email|"));
    let mail = smtp.next_mail();
    assert_eq!(mail["to"], json!(["ada.codes@example.com"]));
    let code = six_digits(mail["data"].as_str().unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bad = me
        .post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "otp_code": wrong}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let ok =
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "otp_code": code})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["email"], "ada.codes@example.com");
    assert_eq!(ok.body["confirmed"], true);

    // At sign-in the same address gets a fresh code.
    let mut browser = Browser::new(me.app.port);
    let audience = format!("{}/me/", me.base);
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", super::CALLBACK),
        ("scope", "openid"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
        ("audience", audience.as_str()),
    ];
    let page = browser.get(&format!("{}/authorize?{}", me.base, serde_urlencoded::to_string(params).unwrap())).await;
    let flow = page.hidden("flow").unwrap();
    let page = browser
        .post_form(
            &format!("{}/u/login", me.base),
            &[("flow", &flow), ("identifier", super::EMAIL), ("password", super::PASSWORD)],
        )
        .await;
    assert!(page.html.contains("We sent a code to a***@example.com"), "{}", page.html);
    let code = six_digits(smtp.next_mail()["data"].as_str().unwrap());
    let flow = page.hidden("flow").unwrap();
    let done = browser.post_form(&format!("{}/u/mfa", me.base), &[("flow", &flow), ("code", &code)]).await;
    assert_eq!(done.status, 302, "{}", done.html);

    // Sends per recipient are limited (5 per 15 minutes; two were sent).
    for i in 0..4 {
        let r = me.post("/authentication-methods", json!({"type": "email", "email": "ada.codes@example.com"})).await;
        if i < 3 {
            // Sends 3, 4 and 5.
            assert_eq!(r.status, 202, "{}", r.text);
            smtp.next_mail();
        } else {
            assert_eq!(r.status, 429, "{}", r.text);
            assert!(r.header("retry-after").is_some());
        }
    }
    me.app.stop().await;
}

#[tokio::test]
async fn a_phone_method_is_proven_with_a_code_sent_by_the_http_sms_connector() {
    let received: Received = Arc::default();
    let r = received.clone();
    let receiver = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
            let r = r.clone();
            async move {
                let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                r.lock().unwrap().push((auth, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let me = signed_in("127.0.0.1").await;
    let put = me
        .app
        .request(
            Method::PUT,
            "/api/v2/connectors/sms",
            Some(&me.mgmt),
            Some(json!({"name": "http", "credentials": {"endpoint": endpoint, "api_key": "sms-s3cret"}})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);

    let (r, location) = me
        .enroll(json!({"type": "phone", "phone_number": "+15551234567", "preferred_authentication_method": "sms"}))
        .await;
    let (auth, body) = received.lock().unwrap().pop().expect("the receiver got the SMS");
    assert_eq!(auth.as_deref(), Some("Bearer sms-s3cret"));
    // Logto's HTTP connector body.
    assert_eq!(body["to"], "+15551234567");
    assert_eq!(body["type"], "Generic");
    let code = body["payload"]["code"].as_str().unwrap().to_string();
    let ok =
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "otp_code": code})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["phone_number"], "+15551234567");
    assert_eq!(ok.body["preferred_authentication_method"], "sms");
    let id = ok.body["id"].as_str().unwrap();
    let patched = me
        .call(
            Method::PATCH,
            &format!("/authentication-methods/{id}"),
            Some(json!({"preferred_authentication_method": "voice"})),
        )
        .await;
    assert_eq!(patched.body["preferred_authentication_method"], "voice");
    me.app.stop().await;
}
