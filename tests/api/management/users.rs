use serde_json::json;

use crate::util::{TestApp, redact};

#[tokio::test]
async fn users_round_trip() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let created = app
        .post(
            "/api/v2/users",
            &t,
            json!({"connection": "Username-Password-Authentication", "email": "Ada@Example.com",
                   "password": "correct horse battery", "given_name": "Ada", "user_metadata": {"theme": "dark"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    insta::assert_json_snapshot!("user_created", redact(created.body.clone()));
    let id = created.body["user_id"].as_str().unwrap();
    assert!(created.body.get("password").is_none());

    // The id contains `|`; raw and %7C-encoded both work.
    assert_eq!(app.get(&format!("/api/v2/users/{id}"), &t).await.status, 200);
    assert_eq!(
        app.get(&format!("/api/v2/users/{}", id.replace('|', "%7C")), &t).await.body["email"],
        "ada@example.com"
    );

    app.post("/api/v2/users", &t, json!({"email": "bob@example.com"})).await;
    let found = app.get("/api/v2/users?q=email%3A%22ADA%40example.com%22&include_totals=true", &t).await;
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["users"][0]["user_id"], id);
    let by_email = app.get("/api/v2/users-by-email?email=ada%40example.com", &t).await;
    assert_eq!(by_email.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v2/users", &t).await.body.as_array().unwrap().len(), 2);

    let patched = app
        .patch(
            &format!("/api/v2/users/{id}"),
            &t,
            json!({"user_metadata": {"lang": "fr", "theme": null}, "blocked": true}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["user_metadata"], json!({"lang": "fr"}), "merged; null deletes");
    assert_eq!(patched.body["blocked"], true);

    // A new password is stored (checked through the core, as sign-in will).
    app.patch(&format!("/api/v2/users/{id}"), &t, json!({"password": "another long password"})).await;
    let tenant = app.core().find_tenant("default").await.unwrap();
    let uid = accountd_core::user::UserId(id.into());
    let pw = |p: &str| accountd_core::secret::Zeroizing::new(p.to_string());
    assert!(app.core().check_password(&tenant.id, &uid, pw("another long password")).await.unwrap());
    assert!(!app.core().check_password(&tenant.id, &uid, pw("correct horse battery")).await.unwrap());

    assert_eq!(app.delete(&format!("/api/v2/users/{id}"), &t).await.status, 204);
    let r = app.get(&format!("/api/v2/users/{id}"), &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str().unwrap()), (404, "inexistent_user"));
    app.stop().await;
}

#[tokio::test]
async fn bad_user_bodies_get_400_or_409_and_change_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    assert_eq!(
        app.post("/api/v2/users", &t, json!({"email": "ada@example.com", "password": "long enough"})).await.status,
        201
    );
    let cases = [
        (json!({"email": "ADA@example.com"}), 409, "The user already exists."),
        (
            json!({"email": "not-an-email"}),
            400,
            "Payload validation error: ''not-an-email' is not a valid email address' on property email.",
        ),
        (
            json!({"email": "c@example.com", "password": "short"}),
            400,
            "Payload validation error: 'must be at least 8 characters' on property password.",
        ),
        (
            json!({"email": "c@example.com", "nickname": 7}),
            400,
            "Payload validation error: 'Expected type string but found type integer' on property nickname.",
        ),
        (
            json!({"email": "c@example.com", "favourite": "x"}),
            400,
            "Payload validation error: 'Additional properties not allowed: favourite'.",
        ),
        (
            json!({"email": "c@example.com", "connection": "google-oauth2"}),
            400,
            "Payload validation error: 'the connection does not exist (use Username-Password-Authentication)' on property connection.",
        ),
        (
            json!({"email": "c@example.com", "user_metadata": [1]}),
            400,
            "Payload validation error: 'must be an object' on property user_metadata.",
        ),
        (
            json!({"name": "nobody"}),
            400,
            "Payload validation error: 'one of email, username or phone_number is required' on property email.",
        ),
    ];
    for (body, status, message) in cases {
        let r = app.post("/api/v2/users", &t, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.body["message"].as_str().unwrap()), (status, message), "{body}");
    }
    assert_eq!(app.get("/api/v2/users", &t).await.body.as_array().unwrap().len(), 1);
    let r = app.get("/api/v2/users?q=name%3Aada", &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str().unwrap()), (400, "invalid_query_string"));
    app.stop().await;
}

#[tokio::test]
async fn every_spelling_of_an_email_is_the_same_user() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let first = app.post("/api/v2/users", &t, json!({"email": "ADA@Exämple.com", "password": "long enough"})).await;
    assert_eq!(first.status, 201, "{}", first.text);
    // Stored as mail servers see it: the domain in its IDNA ASCII form.
    assert_eq!(first.body["email"], "ada@xn--exmple-cua.com");
    let id = first.body["user_id"].as_str().unwrap();
    // The same address in punycode, decomposed (a + U+0308) and in full-width letters.
    for spelling in ["ada@xn--exmple-cua.com", "Ada@exa\u{308}mple.com", "ada@ｅｘämple.com"] {
        let r = app.post("/api/v2/users", &t, json!({"email": spelling})).await;
        assert_eq!(
            (r.status.as_u16(), r.body["message"].as_str()),
            (409, Some("The user already exists.")),
            "{spelling}"
        );
        let q = serde_urlencoded::to_string([("email", spelling)]).unwrap();
        let found = app.get(&format!("/api/v2/users-by-email?{q}"), &t).await;
        assert_eq!(found.body[0]["user_id"], id, "{spelling}: {}", found.text);
    }
    // The local part: precomposed and decomposed ä are one letter.
    assert_eq!(app.post("/api/v2/users", &t, json!({"email": "Äda@example.com"})).await.status, 201);
    let r = app.post("/api/v2/users", &t, json!({"email": "a\u{308}da@example.com"})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    // Moving another user onto a spelling of a taken address is refused too.
    let bob = app.post("/api/v2/users", &t, json!({"email": "bob@example.com"})).await;
    let bob_id = bob.body["user_id"].as_str().unwrap();
    let r = app.patch(&format!("/api/v2/users/{bob_id}"), &t, json!({"email": "ada@EXÄMPLE.com"})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(app.get("/api/v2/users", &t).await.body.as_array().unwrap().len(), 3);
    app.stop().await;
}
