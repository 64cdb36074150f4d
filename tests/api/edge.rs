//! Input every dialect refuses at the edge, each in its own error format, before anything reads
//! it: control characters (PostgreSQL cannot store U+0000, so an outsider could make 500s and
//! 503s at will) and bodies over the size limit.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::Method;
use serde_json::{Value, json};

use crate::me::{CALLBACK, EMAIL, PASSWORD, signed_in};
use crate::util::browser::Browser;
use crate::util::dpop::DpopKey;

/// The error format a refusal must come in.
#[derive(Debug, Clone, Copy)]
enum Dialect {
    /// `{statusCode, error, message, errorCode}` with this errorCode.
    Management(&'static str),
    /// `/me/v1`'s `{type, status, title, detail, validation_errors}`.
    MyAccount,
    /// RFC 6749 `{error: "invalid_request", error_description}`.
    OAuth,
    /// An HTML error page.
    Page,
}

enum Body {
    Empty,
    Json(Value),
    Form(String),
}

/// What a request is, with what it must get.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, String)>, Body, Dialect);

struct Answer {
    status: u16,
    content_type: String,
    text: String,
    body: Value,
}

async fn send(method: Method, url: &str, headers: &[(&str, String)], body: Body) -> Answer {
    let mut req = reqwest::Client::new().request(method, url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req = match body {
        Body::Empty => req,
        Body::Json(v) => req.json(&v),
        Body::Form(f) => req.header("content-type", "application/x-www-form-urlencoded").body(f),
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = r.text().await.unwrap();
    Answer { status, content_type, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

fn assert_refused(what: &str, a: &Answer, dialect: Dialect) {
    let ctx = format!("{what}: {} {}", a.status, a.text);
    assert_eq!(a.status, 400, "{ctx}");
    match dialect {
        Dialect::Management(code) => {
            assert_eq!(a.body["statusCode"], 400, "{ctx}");
            assert_eq!(a.body["error"], "Bad Request", "{ctx}");
            assert_eq!(a.body["errorCode"], code, "{ctx}");
            assert!(a.body["message"].as_str().unwrap().contains("control characters"), "{ctx}");
        }
        Dialect::MyAccount => {
            assert_eq!(a.body["type"], "https://auth0.com/api-errors/A0E-400-0003", "{ctx}");
            assert_eq!(a.body["status"], 400, "{ctx}");
            let detail = a.body["validation_errors"][0]["detail"].as_str().unwrap();
            assert!(detail.ends_with("must not contain control characters"), "{ctx}");
        }
        Dialect::OAuth => {
            assert_eq!(a.body["error"], "invalid_request", "{ctx}");
            assert!(a.body["error_description"].as_str().unwrap().contains("control character"), "{ctx}");
        }
        Dialect::Page => {
            assert!(a.content_type.starts_with("text/html"), "{ctx}");
            assert!(a.text.contains("characters that cannot be used"), "{ctx}");
        }
    }
}

/// A sign-in form for the user's SPA in `browser`; returns its sealed flow.
async fn sign_in_form(browser: &mut Browser, base: &str, client_id: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let page = browser.get(&format!("{base}/authorize?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.hidden("flow").unwrap()
}

#[tokio::test]
async fn control_characters_get_each_dialects_400_and_change_nothing() {
    let me = signed_in("127.0.0.1").await;
    let (base, mgmt, uid) = (me.base.clone(), me.mgmt.clone(), me.user_id.clone());
    let (client_id, secret) = (me.app.bootstrap.client_id.clone(), me.app.bootstrap.client_secret.clone());
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    let (admin, user) = (bearer(&mgmt), bearer(&me.token));
    let users_before = me.app.get("/api/v2/users", &mgmt).await.body;
    let clients_before = me.app.get("/api/v2/clients", &mgmt).await.body;
    let methods_before = me.method_ids().await;
    let password_id = format!("password%7C{}", uid.replace('|', "%7C"));

    use Body::{Empty, Form, Json};
    use Dialect::{Management, MyAccount, OAuth, Page};
    let cases: Vec<Case> = vec![
        // Without any credentials.
        (
            "token form client_id",
            Method::POST,
            format!("{base}/oauth/token"),
            vec![],
            Form("grant_type=client_credentials&client_id=a%00b&client_secret=s".into()),
            OAuth,
        ),
        (
            "token JSON code",
            Method::POST,
            format!("{base}/oauth/token"),
            vec![],
            Json(json!({"grant_type": "authorization_code", "client_id": me.client_id, "code": "a\u{0}b",
                        "redirect_uri": CALLBACK, "code_verifier": crate::me::Me::VERIFIER})),
            OAuth,
        ),
        (
            "token Basic client_id",
            Method::POST,
            format!("{base}/oauth/token"),
            vec![("authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("a\0b:s")))],
            Form("grant_type=client_credentials".into()),
            OAuth,
        ),
        (
            "revoke token",
            Method::POST,
            format!("{base}/oauth/revoke"),
            vec![],
            Form(format!("client_id={}&token=a%00b", me.client_id)),
            OAuth,
        ),
        (
            "passkey challenge client_id",
            Method::POST,
            format!("{base}/passkey/challenge"),
            vec![],
            Json(json!({"client_id": "a\u{0}b"})),
            OAuth,
        ),
        (
            "passkey register email",
            Method::POST,
            format!("{base}/passkey/register"),
            vec![],
            Json(json!({"client_id": me.client_id, "user_profile": {"email": "eve\u{0}@example.com"}})),
            OAuth,
        ),
        (
            "authorize client_id",
            Method::GET,
            format!("{base}/authorize?client_id=a%00b&response_type=code"),
            vec![],
            Empty,
            Page,
        ),
        // The management API.
        (
            "create user email",
            Method::POST,
            format!("{base}/api/v2/users"),
            admin.clone(),
            Json(json!({"email": "eve\u{0}@example.com", "password": "long enough password"})),
            Management("invalid_body"),
        ),
        (
            "update user name",
            Method::PATCH,
            format!("{base}/api/v2/users/{uid}"),
            admin.clone(),
            Json(json!({"name": "Ada\u{0}"})),
            Management("invalid_body"),
        ),
        (
            "update user metadata key",
            Method::PATCH,
            format!("{base}/api/v2/users/{uid}"),
            admin.clone(),
            Json(json!({"user_metadata": {"k\u{0}": 1}})),
            Management("invalid_body"),
        ),
        (
            "create role escape",
            Method::POST,
            format!("{base}/api/v2/roles"),
            admin.clone(),
            Json(json!({"name": "admin\u{1b}[31m"})),
            Management("invalid_body"),
        ),
        (
            "create client bell",
            Method::POST,
            format!("{base}/api/v2/clients"),
            admin.clone(),
            Json(json!({"name": "ding\u{7}"})),
            Management("invalid_body"),
        ),
        (
            "get user id",
            Method::GET,
            format!("{base}/api/v2/users/a%00b"),
            admin.clone(),
            Empty,
            Management("invalid_uri"),
        ),
        (
            "delete user id",
            Method::DELETE,
            format!("{base}/api/v2/users/auth0%7Ca%00b"),
            admin.clone(),
            Empty,
            Management("invalid_uri"),
        ),
        (
            "search users",
            Method::GET,
            format!("{base}/api/v2/users?q=email%3A%22a%00b%40example.com%22"),
            admin.clone(),
            Empty,
            Management("invalid_query_string"),
        ),
        (
            "users by email",
            Method::GET,
            format!("{base}/api/v2/users-by-email?email=ada%00%40example.com"),
            admin.clone(),
            Empty,
            Management("invalid_query_string"),
        ),
        // The My Account API.
        (
            "profile name",
            Method::PATCH,
            format!("{base}/me/v1/profile"),
            user.clone(),
            Json(json!({"name": "Ada\u{0}"})),
            MyAccount,
        ),
        (
            "enroll email",
            Method::POST,
            format!("{base}/me/v1/authentication-methods"),
            user.clone(),
            Json(json!({"type": "email", "email": "ada\u{0}@example.com"})),
            MyAccount,
        ),
        (
            "rename method",
            Method::PATCH,
            format!("{base}/me/v1/authentication-methods/{password_id}"),
            user.clone(),
            Json(json!({"name": "pw\u{0}"})),
            MyAccount,
        ),
        (
            "get method id",
            Method::GET,
            format!("{base}/me/v1/authentication-methods/totp%7Ca%00b"),
            user.clone(),
            Empty,
            MyAccount,
        ),
        (
            "update method id",
            Method::PATCH,
            format!("{base}/me/v1/authentication-methods/{password_id}%00"),
            user.clone(),
            Json(json!({"name": "x"})),
            MyAccount,
        ),
        (
            "delete method id",
            Method::DELETE,
            format!("{base}/me/v1/authentication-methods/a%00b"),
            user.clone(),
            Empty,
            MyAccount,
        ),
        (
            "list methods query",
            Method::GET,
            format!("{base}/me/v1/authentication-methods?type=totp%00"),
            user.clone(),
            Empty,
            MyAccount,
        ),
    ];
    for (what, method, url, headers, body, dialect) in cases {
        let a = send(method, &url, &headers, body).await;
        assert_refused(what, &a, dialect);
    }

    // The hosted sign-in form shows itself again, and stays usable.
    let mut browser = Browser::new(me.app.port);
    let flow = sign_in_form(&mut browser, &base, &me.client_id).await;
    let login = format!("{base}/u/login");
    let page = browser
        .post_form(&login, &[("flow", &flow), ("identifier", "ada\0@example.com"), ("password", PASSWORD)])
        .await;
    let ctx = format!("{} {}", page.status, page.html);
    assert_eq!(page.status, 400, "{ctx}");
    assert!(page.html.contains("action=\"/u/login\"") && page.html.contains("cannot be used"), "{ctx}");
    assert_eq!(page.hidden("flow").as_deref(), Some(flow.as_str()), "the same form again");
    assert!(browser.cookie("accountd_session").is_none());

    // Proofs anyone can make: a DPoP proof id and a push device id are looked up too.
    let key = DpopKey::new();
    let token_url = format!("{base}/oauth/token");
    let mut claims = key.claims("POST", &token_url, None, None);
    claims["jti"] = json!("a\u{0}b");
    let proof = key.sign(&key.header(), &claims);
    let a = send(
        Method::POST,
        &token_url,
        &[("dpop", proof)],
        Json(json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                    "audience": format!("{base}/api/v2/")})),
    )
    .await;
    assert_eq!((a.status, a.body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{}", a.text);
    assert!(a.body["error_description"].as_str().unwrap().contains("jti"), "{}", a.text);
    let device = format!(
        "Device {}.{}.c2ln",
        B64.encode(r#"{"typ":"device+jwt","alg":"ES256"}"#),
        B64.encode(json!({"sub": "push-notification|a\u{0}b"}).to_string())
    );
    let a = send(Method::GET, &format!("{base}/push/v1/challenges"), &[("authorization", device)], Empty).await;
    assert_eq!((a.status, a.body["error"].as_str()), (401, Some("invalid_token")), "{}", a.text);

    // Nothing changed.
    assert_eq!(me.app.get("/api/v2/users", &mgmt).await.body, users_before);
    assert_eq!(me.app.get("/api/v2/clients", &mgmt).await.body, clients_before);
    assert_eq!(me.app.get("/api/v2/roles", &mgmt).await.body, json!([]));
    assert_eq!(me.method_ids().await, methods_before);

    // The sign-in form still works.
    let ok = browser.post_form(&login, &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(ok.status, 302, "{}", ok.html);

    // Free text keeps its tabs and line breaks.
    let r = me.app.patch(&format!("/api/v2/users/{uid}"), &mgmt, json!({"user_metadata": {"note": "a\tb\r\nc"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user_metadata"]["note"], "a\tb\r\nc");
    me.app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_each_apis_413() {
    let me = signed_in("127.0.0.1").await;
    let base = me.base.clone();
    let limit = 1024 * 1024;
    let big = "x".repeat(limit + 1);

    let a = send(
        Method::POST,
        &format!("{base}/api/v2/users"),
        &[("authorization", format!("Bearer {}", me.mgmt))],
        Body::Json(json!({"email": "big@example.com", "name": big})),
    )
    .await;
    assert_eq!(a.status, 413, "{}", &a.text[..a.text.len().min(300)]);
    assert_eq!(
        a.body,
        json!({"statusCode": 413, "error": "Payload Too Large",
               "message": format!("Payload content length greater than maximum allowed: {limit}")})
    );

    let a = send(
        Method::PATCH,
        &format!("{base}/me/v1/profile"),
        &[("authorization", format!("Bearer {}", me.token))],
        Body::Json(json!({"name": big})),
    )
    .await;
    assert_eq!(a.status, 413, "{}", &a.text[..a.text.len().min(300)]);
    assert_eq!(a.body["type"], "https://auth0.com/api-errors/A0E-413-0001");
    assert_eq!(a.body["status"], 413);
    assert_eq!(a.body["title"], "Payload Too Large");

    let a = send(
        Method::POST,
        &format!("{base}/oauth/token"),
        &[],
        Body::Form(format!("grant_type=client_credentials&client_id={}&scope={big}", me.client_id)),
    )
    .await;
    assert_eq!(a.status, 413, "{}", &a.text[..a.text.len().min(300)]);
    assert_eq!(a.body["error"], "invalid_request");
    assert!(a.body["error_description"].as_str().unwrap().contains(&limit.to_string()), "{}", a.text);

    let a =
        send(Method::POST, &format!("{base}/u/login"), &[], Body::Form(format!("flow=f&identifier={big}&password=p")))
            .await;
    assert_eq!(a.status, 413, "{}", &a.text[..a.text.len().min(300)]);
    assert!(a.content_type.starts_with("text/html"), "{}", a.content_type);

    // Nothing was created or changed.
    assert_eq!(me.app.get("/api/v2/users-by-email?email=big%40example.com", &me.mgmt).await.body, json!([]));
    assert_eq!(me.get("/profile").await.body["name"], "Ada Lovelace");
    me.app.stop().await;
}
