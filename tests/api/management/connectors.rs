//! `/api/v2/emails/provider`, `/api/v2/connectors/sms`, `/api/v2/connectors/{channel}/templates`
//! and `/api/v2/connectors/outbox`; and `accountd admin connector …` / `accountd admin outbox`.

use accountd_core::connector::{ConnectorConfig, OutboxMessage};
use accountd_core::message::{Channel, Purpose};
use serde_json::{Value, json};

use crate::util::TestApp;

async fn default_tenant(app: &TestApp) -> accountd_core::tenant::TenantId {
    app.core().find_tenant("default").await.unwrap().id
}

/// The stored email connector's secret, as the sender would read it.
async fn stored_secret(app: &TestApp, channel: Channel) -> Option<String> {
    let c = app.core().connector(&default_tenant(app).await, channel).await.unwrap()?;
    c.config.secret().map(|s| s.expose().to_string())
}

fn assert_400(r: &crate::util::Resp, message_part: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["statusCode"], 400, "{}", r.text);
    assert_eq!(r.body["error"], "Bad Request");
    let message = r.body["message"].as_str().unwrap_or("");
    assert!(message.contains(message_part), "expected {message_part:?} in {message:?}");
}

#[tokio::test]
async fn email_provider_round_trip_never_returns_secrets() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;

    // Nothing configured: the development outbox.
    let r = app.get("/api/v2/emails/provider", &t).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"name": "outbox", "enabled": true, "credentials": {}}));

    let created = app
        .post(
            "/api/v2/emails/provider",
            &t,
            json!({"name": "smtp", "enabled": true, "default_from_address": "Accounts <no-reply@example.com>",
                   "credentials": {"smtp_host": "smtp.example.com", "smtp_port": 587,
                                   "smtp_user": "mailer", "smtp_pass": "pa55-word"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let expected = json!({"name": "smtp", "enabled": true, "default_from_address": "Accounts <no-reply@example.com>",
                          "credentials": {"smtp_host": "smtp.example.com", "smtp_port": 587,
                                          "smtp_user": "mailer", "smtp_tls": "starttls"}});
    assert_eq!(created.body, expected);
    assert_eq!(app.get("/api/v2/emails/provider", &t).await.body, expected);
    assert_eq!(stored_secret(&app, Channel::Email).await.as_deref(), Some("pa55-word"));

    // A second POST conflicts.
    let again = app.post("/api/v2/emails/provider", &t, json!({"name": "outbox"})).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.body["errorCode"], "email_provider_conflict");

    // PATCH merges and keeps the password.
    let patched =
        app.patch("/api/v2/emails/provider", &t, json!({"credentials": {"smtp_port": 465}, "enabled": false})).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["credentials"]["smtp_port"], 465);
    assert_eq!(patched.body["credentials"]["smtp_tls"], "starttls", "an explicit choice is kept");
    assert_eq!(patched.body["enabled"], false);
    assert_eq!(stored_secret(&app, Channel::Email).await.as_deref(), Some("pa55-word"));

    // Another provider starts afresh.
    let http = app
        .patch(
            "/api/v2/emails/provider",
            &t,
            json!({"name": "http", "credentials": {"endpoint": "https://hooks.example.com/mail", "api_key": "k3y"}}),
        )
        .await;
    assert_eq!(http.status, 200, "{}", http.text);
    assert_eq!(
        http.body,
        json!({"name": "http", "enabled": false, "credentials": {"endpoint": "https://hooks.example.com/mail"}})
    );
    assert_eq!(stored_secret(&app, Channel::Email).await.as_deref(), Some("k3y"));

    assert_eq!(app.delete("/api/v2/emails/provider", &t).await.status, 204);
    assert_eq!(app.get("/api/v2/emails/provider", &t).await.body["name"], "outbox");
    assert_eq!(app.delete("/api/v2/emails/provider", &t).await.status, 204, "deleting twice is fine");

    // Every change is audited, without secrets.
    let logs = app.get("/api/v2/logs", &t).await;
    let actions: Vec<&str> = logs.body.as_array().unwrap().iter().filter_map(|e| e["description"].as_str()).collect();
    for secret in ["pa55-word", "k3y"] {
        assert!(!logs.text.contains(secret), "secret {secret} in the audit log");
    }
    assert_eq!(
        actions.iter().filter(|a| a.starts_with("connector.")).copied().collect::<Vec<_>>(),
        ["connector.delete", "connector.update", "connector.update", "connector.create"],
        "{}",
        logs.text
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_email_provider_bodies_get_400_and_change_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let smtp = |creds: Value| {
        json!({"name": "smtp", "default_from_address": "a@example.com",
               "credentials": creds})
    };
    let good = json!({"smtp_host": "smtp.example.com", "smtp_port": 587});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"enabled": true}), "Missing required property: name"),
        (json!({"name": "sendgrid"}), "must be one of: smtp, http, outbox' on property name"),
        (json!({"name": "smtp", "credentials": {"smtp_port": 25}}), "'is required' on property credentials.smtp_host"),
        (smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": "25"})), "on property credentials.smtp_port"),
        (
            smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": 0})),
            "'must be between 1 and 65535' on property credentials.smtp_port",
        ),
        (
            smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": 25, "smtp_tls": "ssl"})),
            "must be none, starttls or tls",
        ),
        (smtp(json!({"smtp_host": "bad host", "smtp_port": 25})), "on property credentials.smtp_host"),
        (
            smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": 25, "smtp_user": "u"})),
            "'is required with a username' on property credentials.smtp_pass",
        ),
        (
            smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": 25, "api_key": "x"})),
            "'applies to http connectors only' on property credentials.api_key",
        ),
        (
            smtp(json!({"smtp_host": "smtp.example.com", "smtp_port": 25, "region": "eu"})),
            "Additional properties not allowed: region",
        ),
        (
            json!({"name": "smtp", "default_from_address": "nobody", "credentials": good}),
            "on property default_from_address",
        ),
        (
            json!({"name": "smtp", "credentials": good, "default_from_address": "a@example.com", "settings": {"headers": {}}}),
            "no provider settings are supported",
        ),
        (
            json!({"name": "http", "credentials": {"endpoint": "ftp://example.com"}}),
            "must be an http:// or https:// URL' on property credentials.endpoint",
        ),
        (
            json!({"name": "http", "credentials": {"endpoint": "https://x.example", "api_key": "a\r\nb"}}),
            "on property credentials.api_key",
        ),
        (
            json!({"name": "outbox", "credentials": {"endpoint": "https://x.example"}}),
            "applies to http connectors only",
        ),
    ];
    for (body, message) in cases {
        let r = app.post("/api/v2/emails/provider", &t, body.clone()).await;
        assert_400(&r, message);
        assert_eq!(r.body["errorCode"], "invalid_body", "{body}");
    }
    // PATCH on nothing needs a name, too; a non-JSON body is refused.
    assert_400(&app.patch("/api/v2/emails/provider", &t, json!({"enabled": false})).await, "on property name");
    let raw = app.post_raw("/api/v2/emails/provider", Some(&t), "text/plain", "name=smtp").await;
    assert_eq!(raw.status, 400);
    assert_eq!(app.get("/api/v2/emails/provider", &t).await.body["name"], "outbox", "something was stored");
    assert!(!app.get("/api/v2/logs", &t).await.text.contains("connector."), "a refused change was audited");
    app.stop().await;
}

#[tokio::test]
async fn sms_connector_put_get_delete() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    assert_eq!(
        app.get("/api/v2/connectors/sms", &t).await.body,
        json!({"name": "outbox", "enabled": true, "credentials": {}})
    );
    let put = |body: Value| {
        let app = &app;
        let t = &t;
        async move { app.request(reqwest::Method::PUT, "/api/v2/connectors/sms", Some(t), Some(body)).await }
    };
    let r =
        put(json!({"name": "http", "credentials": {"endpoint": "https://sms.example.com/send", "api_key": "s3cret"}}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"name": "http", "enabled": true, "credentials": {"endpoint": "https://sms.example.com/send"}})
    );
    assert!(!r.text.contains("s3cret"));
    assert_eq!(app.get("/api/v2/connectors/sms", &t).await.body, r.body);
    // A PUT without the key keeps it; `null` removes it.
    let r = put(json!({"name": "http", "credentials": {"endpoint": "https://sms.example.com/v2"}})).await;
    assert_eq!(r.body["credentials"]["endpoint"], "https://sms.example.com/v2");
    assert_eq!(stored_secret(&app, Channel::Sms).await.as_deref(), Some("s3cret"));
    put(json!({"name": "http", "credentials": {"endpoint": "https://sms.example.com/v2", "api_key": null}})).await;
    assert_eq!(stored_secret(&app, Channel::Sms).await, None);

    assert_400(&put(json!({"name": "smtp"})).await, "must be one of: http, outbox' on property name");
    assert_400(&put(json!({"name": "http"})).await, "'is required' on property credentials.endpoint");
    assert_400(
        &put(json!({"name": "http", "credentials": {"smtp_host": "x"}})).await,
        "Additional properties not allowed: smtp_host",
    );
    assert_400(&put(json!({"credentials": {}})).await, "Missing required property: name");
    assert_eq!(
        app.get("/api/v2/connectors/sms", &t).await.body["credentials"]["endpoint"],
        "https://sms.example.com/v2"
    );

    let r = put(json!({"name": "outbox"})).await;
    assert_eq!(r.body, json!({"name": "outbox", "enabled": true, "credentials": {}}));
    let stored = app.core().connector(&default_tenant(&app).await, Channel::Sms).await.unwrap().unwrap();
    assert_eq!(stored.config, ConnectorConfig::Outbox);
    assert_eq!(app.delete("/api/v2/connectors/sms", &t).await.status, 204);
    assert!(app.core().connector(&default_tenant(&app).await, Channel::Sms).await.unwrap().is_none());
    app.stop().await;
}

#[tokio::test]
async fn message_templates_per_channel_and_purpose() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let list = app.get("/api/v2/connectors/email/templates", &t).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), Purpose::ALL.len());
    assert!(items.iter().all(|i| i["is_default"] == true && i["content"].as_str().unwrap().contains("{{code}}")));
    assert_eq!(items[0]["purpose"], "SignIn");

    let put = |path: &str, body: Value| {
        let (app, t, path) = (&app, &t, path.to_string());
        async move { app.request(reqwest::Method::PUT, &path, Some(t), Some(body)).await }
    };
    let r = put(
        "/api/v2/connectors/email/templates/SignIn",
        json!({"subject": "Sign in to {{application}}", "content": "Your code: {{ code }}"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"channel": "email", "purpose": "SignIn", "subject": "Sign in to {{application}}",
               "content": "Your code: {{ code }}", "is_default": false})
    );
    // snake_case names the same purpose.
    assert_eq!(app.get("/api/v2/connectors/email/templates/sign_in", &t).await.body, r.body);
    assert_eq!(app.get("/api/v2/connectors/sms/templates/SignIn", &t).await.body["is_default"], true);
    let sms =
        put("/api/v2/connectors/sms/templates/MfaVerification", json!({"content": "{{code}} is your code"})).await;
    assert_eq!((sms.status.as_u16(), sms.body["subject"].as_str()), (200, Some("")));

    // Bad templates and paths: 400, nothing changed.
    assert_400(
        &put("/api/v2/connectors/email/templates/SignIn", json!({"subject": "Hi", "content": "no code here"})).await,
        "'must contain {{code}}' on property content",
    );
    assert_400(
        &put("/api/v2/connectors/email/templates/SignIn", json!({"subject": "Hi", "content": "{{code}} {{user}}"}))
            .await,
        "unknown placeholder {{user}}",
    );
    assert_400(
        &put("/api/v2/connectors/sms/templates/SignIn", json!({"subject": "Hi", "content": "{{code}}"})).await,
        "SMS messages have no subject",
    );
    assert_400(
        &put("/api/v2/connectors/email/templates/SignIn", json!({"subject": "Hi"})).await,
        "Missing required property: content",
    );
    let r = app.get("/api/v2/connectors/email/templates/Welcome", &t).await;
    assert_400(&r, "on property purpose");
    assert_eq!(r.body["errorCode"], "invalid_uri");
    assert_400(&app.get("/api/v2/connectors/push/templates", &t).await, "'must be email or sms' on property channel");
    assert_eq!(app.get("/api/v2/connectors/email/templates/SignIn", &t).await.body["content"], "Your code: {{ code }}");

    assert_eq!(app.delete("/api/v2/connectors/email/templates/SignIn", &t).await.status, 204);
    assert_eq!(app.get("/api/v2/connectors/email/templates/SignIn", &t).await.body["is_default"], true);
    app.stop().await;
}

fn outbox_message(id: &str, to: &str, code: &str, at: i64) -> OutboxMessage {
    OutboxMessage {
        id: id.into(),
        channel: Channel::Email,
        recipient: to.into(),
        purpose: Purpose::SignIn,
        subject: "Your sign-in code".into(),
        text: format!("Your code is {code}."),
        code: code.into(),
        created_at: at,
    }
}

#[tokio::test]
async fn outbox_lists_recent_messages_with_their_codes() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let tenant = default_tenant(&app).await;
    let now = accountd_core::clock::now_millis();
    let store = app.core().store();
    store
        .insert_outbox_message(&tenant, &outbox_message("m1", "ada@example.com", "111111", now - 2), 0, 1000)
        .await
        .unwrap();
    store
        .insert_outbox_message(&tenant, &outbox_message("m2", "bob@example.com", "222222", now - 1), 0, 1000)
        .await
        .unwrap();

    let r = app.get("/api/v2/connectors/outbox", &t).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["to"], "bob@example.com");
    assert_eq!(items[0]["code"], "222222");
    assert_eq!(items[0]["purpose"], "SignIn");
    assert!(items[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let only = app.get("/api/v2/connectors/outbox?to=ada%40example.com&limit=5", &t).await;
    assert_eq!(only.body.as_array().unwrap().len(), 1);
    assert_eq!(only.body[0]["code"], "111111");

    let r = app.get("/api/v2/connectors/outbox?limit=0", &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str()), (400, Some("invalid_query_string")));
    let r = app.get("/api/v2/connectors/outbox?from=x", &t).await;
    assert_eq!(r.status, 400);

    // Codes are for those who may change the connectors; reading settings is not enough.
    let reader = app.mgmt_token_with(&["read:tenant_settings"]).await;
    let r = app.get("/api/v2/connectors/outbox", &reader).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str()), (403, Some("insufficient_scope")));
    assert_eq!(app.get("/api/v2/emails/provider", &reader).await.status, 200);
    let r = app.post("/api/v2/emails/provider", &reader, json!({"name": "outbox"})).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.request(reqwest::Method::GET, "/api/v2/connectors/sms", None, None).await.status, 401);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The admin CLI

const BIN: &str = env!("CARGO_BIN_EXE_accountd");

fn run_cli(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(BIN)
        .args(args)
        .env("ACCOUNTD_STORAGE__DATA_DIR", dir)
        .env("ACCOUNTD_STORAGE__DATABASE_URL", db)
        .env("ACCOUNTD_PASSWORDS__ARGON2_MEMORY_KIB", "1024")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn accountd");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    let out = child.wait_with_output().expect("accountd ran");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn admin_cli_configures_connectors_and_reads_the_outbox() {
    use accountd_store::testdb::{Backend, TestDb};
    let db = TestDb::new(Backend::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str], stdin: Option<&str>| run_cli(dir.path(), &db.url, args, stdin);

    let (ok, out, err) = cli(&["admin", "connector", "show"], None);
    assert!(ok, "{err}");
    assert!(out.contains("email: outbox (default)") && out.contains("sms: outbox (default)"), "{out}");

    let (ok, out, err) = cli(
        &[
            "admin",
            "connector",
            "email",
            "set-smtp",
            "--host",
            "127.0.0.1",
            "--port",
            "2525",
            "--username",
            "mailer",
            "--password-stdin",
            "--from",
            "no-reply@example.com",
            "--tls",
            "none",
        ],
        Some("pw-from-stdin\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("email: smtp 127.0.0.1:2525 (none), user mailer, password set"), "{out}");
    let (ok, out, err) = cli(
        &["admin", "connector", "sms", "set-http", "--endpoint", "https://sms.example.com/x", "--token-stdin"],
        Some("tok\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("sms: http https://sms.example.com/x (bearer token set)"), "{out}");
    let (ok, out, _) = cli(&["admin", "--json", "connector", "show"], None);
    assert!(ok);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["email"]["password_set"], true);
    assert_eq!(v["sms"]["endpoint"], "https://sms.example.com/x");
    assert!(!out.contains("pw-from-stdin") && !out.contains("\"tok\""), "{out}");

    // Bad input is refused with the field named.
    let (ok, _, err) = cli(&["admin", "connector", "email", "set-http", "--endpoint", "mailto:x"], None);
    assert!(!ok);
    assert!(err.contains("endpoint: must be an http:// or https:// URL"), "{err}");

    let (ok, out, _) = cli(&["admin", "connector", "email", "use-outbox"], None);
    assert!(ok && out.contains("email: outbox"), "{out}");

    let (ok, out, _) = cli(&["admin", "outbox"], None);
    assert!(ok && out.contains("the outbox is empty"), "{out}");
    // A message kept by the server shows with its code.
    let store = accountd_store::connect(&db.url, &Default::default(), false).await.unwrap();
    let tenant = accountd_core::tenant::TenantId::from_stored("default".into());
    let now = accountd_core::clock::now_millis();
    store
        .insert_outbox_message(&tenant, &outbox_message("c1", "ada@example.com", "908172", now), 0, 1000)
        .await
        .unwrap();
    store
        .insert_outbox_message(&tenant, &outbox_message("c2", "bob@example.com", "111000", now + 1), 0, 1000)
        .await
        .unwrap();
    store.close().await;
    let (ok, out, err) = cli(&["admin", "outbox", "--to", "ada@example.com", "--limit", "5"], None);
    assert!(ok, "{err}");
    assert!(out.contains("ada@example.com") && out.contains("SignIn") && out.contains("code 908172"), "{out}");
    assert!(!out.contains("bob@example.com"), "{out}");
}
