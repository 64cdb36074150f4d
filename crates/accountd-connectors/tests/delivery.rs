//! Real deliveries through `Connectors`: email to an SMTP server (Python's aiosmtpd, in a child
//! process), email and SMS to a local HTTP receiver that checks Logto's connector JSON and the
//! bearer token, and the development outbox. The store is a fresh database (SQLite by default,
//! PostgreSQL with `ACCOUNTD_TEST_BACKEND=postgres`).

#![expect(clippy::unwrap_used, reason = "tests")]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accountd_connectors::Connectors;
use accountd_core::connector::{ConnectorFields, ConnectorKind, SecretString, SmtpTls, Template, TenantConnector};
use accountd_core::message::{Channel, MessageSender, OutgoingMessage, Purpose, SendError};
use accountd_core::secret::MasterKey;
use accountd_core::store::Store;
use accountd_core::tenant::{NewTenant, TenantId};
use accountd_store::testdb::{Backend, TestDb};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

struct Fixture {
    _db: TestDb,
    store: Arc<dyn Store>,
    key: MasterKey,
    tenant: TenantId,
    sender: Connectors,
}

async fn fixture() -> Fixture {
    accountd_connectors::install_crypto_provider();
    let db = TestDb::new(Backend::from_env()).await;
    let store = accountd_store::connect(&db.url, &Default::default(), true).await.unwrap();
    let tenant = TenantId::from_stored("ten_mail".into());
    let new = NewTenant {
        id: tenant.clone(),
        name: "mail".into(),
        is_default: false,
        canonical_domain: "mail.test".into(),
        extra_domains: vec![],
    };
    store.insert_tenant(&new, 1).await.unwrap();
    let text = MasterKey::generate_base64();
    let key = MasterKey::from_base64(&text).unwrap();
    let http = reqwest::Client::builder().build().unwrap();
    let sender = Connectors::new(store.clone(), MasterKey::from_base64(&text).unwrap(), http);
    Fixture { _db: db, store, key, tenant, sender }
}

impl Fixture {
    /// Stores a connector as core would (secret sealed).
    async fn configure(&self, channel: Channel, fields: ConnectorFields) {
        let c = TenantConnector::apply(None, channel, fields, 1).unwrap();
        let stored = c.seal(&self.tenant, &self.key).unwrap();
        if !self.store.update_connector(&self.tenant, &stored).await.unwrap() {
            self.store.insert_connector(&self.tenant, &stored).await.unwrap();
        }
    }
}

fn message(channel: Channel, to: &str, purpose: Purpose, code: &str) -> OutgoingMessage {
    let mut payload = serde_json::Map::new();
    payload.insert("application".into(), json!({"id": "app_1", "name": "Shop"}));
    OutgoingMessage {
        channel,
        to: to.into(),
        purpose,
        code: code.into(),
        subject: String::new(),
        text: String::new(),
        payload,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------------
// SMTP through aiosmtpd

const SMTP_SINK: &str = r#"
import json, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

logins = []

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret pass"
    logins.append(auth_data.login.decode())
    # handled=False: aiosmtpd answers 535 itself (with handled=True it answers nothing).
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)

class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "logins": logins,
                          "data": envelope.content.decode("utf-8", "replace")}), flush=True)
        return "250 OK"

port = int(sys.argv[1])
controller = Controller(Sink(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                        auth_require_tls=False)
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// A running aiosmtpd; it stops when its standard input closes (the child is killed on drop too).
struct SmtpSink {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    port: u16,
}

impl SmtpSink {
    fn start() -> Self {
        let check = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        match check {
            Ok(o) if o.status.success() => {}
            Ok(_) => {
                panic!("this test needs Python's aiosmtpd: run `python3 -m pip install aiosmtpd` (scripts/test does)")
            }
            Err(e) => panic!("this test needs python3 with aiosmtpd (`python3 -m pip install aiosmtpd`): {e}"),
        }
        let port = free_port();
        let mut child = Command::new("python3")
            .args(["-c", SMTP_SINK, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines.recv_timeout(Duration::from_secs(20)).expect("aiosmtpd started");
        assert_eq!(ready, "READY");
        Self { child, lines, port }
    }

    fn next_mail(&self) -> Value {
        let line = self.lines.recv_timeout(Duration::from_secs(20)).expect("a mail arrived at aiosmtpd");
        serde_json::from_str(&line).unwrap()
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

fn smtp_fields(port: u16, password: &str) -> ConnectorFields {
    ConnectorFields {
        kind: Some(ConnectorKind::Smtp),
        host: Some("127.0.0.1".into()),
        port: Some(port),
        username: Some(Some("mailer".into())),
        password: Some(Some(SecretString::new(password))),
        from_address: Some("Accounts <no-reply@example.com>".into()),
        tls: Some(SmtpTls::None),
        ..Default::default()
    }
}

#[tokio::test]
async fn email_over_smtp_arrives_with_the_code() {
    let f = fixture().await;
    let sink = SmtpSink::start();
    f.configure(Channel::Email, smtp_fields(sink.port, "s3cret pass")).await;

    // Core left subject and text empty: the built-in template for the purpose is rendered.
    f.sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "493817")).await.unwrap();
    let mail = sink.next_mail();
    assert_eq!(mail["from"], "no-reply@example.com");
    assert_eq!(mail["to"], json!(["ada@example.com"]));
    assert_eq!(mail["logins"], json!(["mailer"]), "SMTP AUTH with the sealed password");
    let data = mail["data"].as_str().unwrap();
    assert!(data.contains("Subject: Your sign-in code"), "{data}");
    assert!(data.contains("Your code is 493817."), "{data}");

    // The tenant's own template, with the application's name.
    let t = Template { subject: "{{application}}: confirm".into(), content: "Code: {{code}} ({{locale}})".into() };
    f.store.upsert_message_template(&f.tenant, Channel::Email, Purpose::Register, &t, 2).await.unwrap();
    f.sender.send(&f.tenant, &message(Channel::Email, "bob@example.com", Purpose::Register, "111222")).await.unwrap();
    let data = sink.next_mail()["data"].as_str().unwrap().to_string();
    assert!(data.contains("Subject: Shop: confirm"), "{data}");
    assert!(data.contains("Code: 111222 (en)"), "{data}");

    // What core rendered is sent as it is.
    let mut m = message(Channel::Email, "ada@example.com", Purpose::Generic, "777000");
    m.subject = "Hello from core".into();
    m.text = "core text 777000".into();
    f.sender.send(&f.tenant, &m).await.unwrap();
    let data = sink.next_mail()["data"].as_str().unwrap().to_string();
    assert!(data.contains("Subject: Hello from core") && data.contains("core text 777000"), "{data}");

    // A wrong password is a failure that names no code; it applies within the cache's lifetime.
    f.configure(Channel::Email, smtp_fields(sink.port, "wrong")).await;
    tokio::time::sleep(accountd_connectors::CONFIG_TTL + Duration::from_millis(100)).await;
    let err = f.sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "555444")).await;
    match err {
        Err(SendError::Failed { channel: "email", detail }) => assert!(!detail.contains("555444"), "{detail}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(f.store.list_outbox_messages(&f.tenant, None, 10).await.unwrap().is_empty(), "fell back to the outbox");
}

#[tokio::test]
async fn unreachable_smtp_fails_cleanly() {
    let f = fixture().await;
    f.configure(Channel::Email, smtp_fields(free_port(), "x")).await;
    let r = f.sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "123123")).await;
    match r {
        Err(SendError::Failed { channel: "email", detail }) => assert!(!detail.contains("123123"), "{detail}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP (Logto's connector JSON)

/// One request the receiver got: its path, its `Authorization` header, its JSON body.
type Request = (String, Option<String>, Value);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Request>>>);

/// A local receiver on `/{path}` that records (path, Authorization, body) and answers `status`.
async fn receiver(status: StatusCode) -> (String, Received) {
    let received = Received::default();
    let r = received.clone();
    let app = axum::Router::new().route(
        "/{path}",
        axum::routing::post(
            move |axum::extract::Path(path): axum::extract::Path<String>,
                  headers: HeaderMap,
                  axum::Json(body): axum::Json<Value>| {
                let r = r.clone();
                async move {
                    let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                    r.0.lock().unwrap().push((path, auth, body));
                    (status, "the receiver echoes nothing useful")
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

fn http_fields(endpoint: String, token: Option<&str>) -> ConnectorFields {
    ConnectorFields {
        kind: Some(ConnectorKind::Http),
        endpoint: Some(endpoint),
        authorization_token: Some(token.map(SecretString::new)),
        ..Default::default()
    }
}

#[tokio::test]
async fn email_and_sms_over_http_post_logtos_json_with_the_bearer_token() {
    let f = fixture().await;
    let (base, received) = receiver(StatusCode::NO_CONTENT).await;
    f.configure(Channel::Email, http_fields(format!("{base}/email"), Some("tok-email"))).await;
    f.configure(Channel::Sms, http_fields(format!("{base}/sms"), Some("tok-sms"))).await;

    let mut email = message(Channel::Email, "ada@example.com", Purpose::BindNewIdentifier, "246810");
    email.payload.insert("locale".into(), json!("fr"));
    f.sender.send(&f.tenant, &email).await.unwrap();
    let mut sms = message(Channel::Sms, "+14155550100", Purpose::SignIn, "135791");
    sms.payload.clear();
    f.sender.send(&f.tenant, &sms).await.unwrap();

    let got = received.0.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "email");
    assert_eq!(got[0].1.as_deref(), Some("Bearer tok-email"));
    assert_eq!(
        got[0].2,
        json!({"to": "ada@example.com", "type": "BindNewIdentifier",
               "payload": {"code": "246810", "locale": "fr", "application": {"id": "app_1", "name": "Shop"}}})
    );
    assert_eq!(got[1].0, "sms");
    assert_eq!(got[1].1.as_deref(), Some("Bearer tok-sms"));
    assert_eq!(
        got[1].2,
        json!({"to": "+14155550100", "type": "SignIn", "payload": {"code": "135791", "locale": "en"}})
    );
    assert!(f.store.list_outbox_messages(&f.tenant, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn http_without_token_sends_no_authorization_and_non_2xx_fails_without_the_code() {
    let f = fixture().await;
    let (base, received) = receiver(StatusCode::BAD_GATEWAY).await;
    f.configure(Channel::Sms, http_fields(format!("{base}/sms"), None)).await;
    let r = f.sender.send(&f.tenant, &message(Channel::Sms, "+14155550100", Purpose::SignIn, "864209")).await;
    match r {
        Err(SendError::Failed { channel: "sms", detail }) => {
            assert!(detail.contains("502"), "{detail}");
            assert!(!detail.contains("864209") && !detail.contains("echoes"), "{detail}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(received.0.lock().unwrap()[0].1, None);

    // Nothing listens: a failure, quickly.
    f.configure(Channel::Sms, http_fields(format!("http://127.0.0.1:{}/sms", free_port()), None)).await;
    tokio::time::sleep(accountd_connectors::CONFIG_TTL + Duration::from_millis(100)).await;
    let r = f.sender.send(&f.tenant, &message(Channel::Sms, "+14155550100", Purpose::SignIn, "864209")).await;
    assert!(matches!(r, Err(SendError::Failed { channel: "sms", .. })), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// The development outbox

#[tokio::test]
async fn without_a_connector_messages_go_to_the_outbox() {
    let f = fixture().await;
    f.sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "102938")).await.unwrap();
    f.sender.send(&f.tenant, &message(Channel::Sms, "+14155550100", Purpose::MfaVerification, "564738")).await.unwrap();
    let kept = f.store.list_outbox_messages(&f.tenant, None, 10).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!((kept[0].recipient.as_str(), kept[0].code.as_str()), ("+14155550100", "564738"));
    assert_eq!(kept[0].channel, Channel::Sms);
    assert!(kept[0].text.contains("564738") && kept[0].subject.is_empty());
    assert_eq!((kept[1].purpose, kept[1].subject.as_str()), (Purpose::SignIn, "Your sign-in code"));

    // A configured then disabled connector falls back to the outbox; a configuration change
    // applies within the cache's lifetime.
    let (base, received) = receiver(StatusCode::OK).await;
    let mut fields = http_fields(format!("{base}/sms"), Some("t"));
    fields.enabled = Some(false);
    f.configure(Channel::Sms, fields).await;
    tokio::time::sleep(accountd_connectors::CONFIG_TTL + Duration::from_millis(100)).await;
    f.sender.send(&f.tenant, &message(Channel::Sms, "+14155550100", Purpose::SignIn, "000111")).await.unwrap();
    assert!(received.0.lock().unwrap().is_empty());
    assert_eq!(f.store.list_outbox_messages(&f.tenant, Some("+14155550100"), 10).await.unwrap().len(), 2);
    f.configure(Channel::Sms, http_fields(format!("{base}/sms"), Some("t"))).await;
    tokio::time::sleep(accountd_connectors::CONFIG_TTL + Duration::from_millis(100)).await;
    f.sender.send(&f.tenant, &message(Channel::Sms, "+14155550100", Purpose::SignIn, "000222")).await.unwrap();
    assert_eq!(received.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn without_the_outbox_fallback_an_unconfigured_channel_is_an_error() {
    let f = fixture().await;
    let sender = Connectors::new(
        f.store.clone(),
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap(),
        reqwest::Client::new(),
    )
    .with_outbox_fallback(false);
    let r = sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "1")).await;
    assert!(matches!(r, Err(SendError::NotConfigured("email"))), "{r:?}");
    // An explicitly chosen outbox still works.
    f.configure(Channel::Email, ConnectorFields { kind: Some(ConnectorKind::Outbox), ..Default::default() }).await;
    tokio::time::sleep(accountd_connectors::CONFIG_TTL + Duration::from_millis(100)).await;
    sender.send(&f.tenant, &message(Channel::Email, "ada@example.com", Purpose::SignIn, "2")).await.unwrap();
    assert_eq!(f.store.list_outbox_messages(&f.tenant, None, 10).await.unwrap()[0].code, "2");
}
