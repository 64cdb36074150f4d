//! `GET` and `PATCH /me/v1/profile` (Auth0's beta, spec §1.6): the profile with its field policy,
//! field selection, all-or-nothing changes, and the `read_only_field` error.

use reqwest::Method;
use serde_json::{Value, json};

use super::{EMAIL, Me, error_type, signed_in};
use crate::util::{Resp, redact};

impl Me {
    async fn patch_profile(&self, body: Value) -> Resp {
        self.call(Method::PATCH, "/profile", Some(body)).await
    }

    async fn profile(&self) -> Value {
        let r = self.get("/profile").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn the_profile_has_every_field_and_its_policy() {
    let me = signed_in("127.0.0.1").await;
    let p = me.profile().await;
    assert_eq!(p["user_id"], me.user_id.as_str());
    assert_eq!(p["email"], EMAIL);
    insta::assert_json_snapshot!("profile", redact(p.clone()));
    // Fields without a value are left out, not null.
    assert!(p.get("given_name").is_none() && p.get("phone_number").is_none() && p.get("phone_verified").is_none());
    me.app.stop().await;
}

#[tokio::test]
async fn fields_select_or_exclude() {
    let me = signed_in("127.0.0.1").await;
    let r = me.get("/profile?fields=email,name&include_fields=true").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"email": EMAIL, "name": "Ada Lovelace"}));
    // include_fields defaults to true.
    let r = me.get("/profile?fields=user_id,profile_policy").await;
    assert_eq!(keys(&r.body), ["profile_policy", "user_id"]);
    // All but these.
    let r = me.get("/profile?fields=profile_policy,user_metadata,created_at&include_fields=false").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["email", "email_verified", "name", "updated_at", "user_id"]);
    // An unknown field name, a bad flag, an unknown parameter.
    let r = me.get("/profile?fields=email,password").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-400-0003");
    assert_eq!(r.body["validation_errors"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/fields");
    assert!(r.body["validation_errors"][0]["detail"].as_str().unwrap().contains("'password'"), "{}", r.text);
    let r = me.get("/profile?fields=email&include_fields=maybe").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/include_fields");
    let r = me.get("/profile?field=email").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/field");
    me.app.stop().await;
}

#[tokio::test]
async fn patch_changes_names_and_merges_metadata() {
    let me = signed_in("127.0.0.1").await;
    let before = me.profile().await;
    let r = me
        .patch_profile(json!({
            "given_name": "Ada", "family_name": "Lovelace", "name": "Augusta Ada King", "nickname": "ada",
            "picture": "https://example.com/ada.png", "user_metadata": {"theme": "dark", "lang": "en", "n": 1}
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_json_snapshot!("profile_patched", redact(r.body.clone()));
    assert_eq!(r.body["created_at"], before["created_at"]);
    assert!(r.body["updated_at"].as_str() >= before["updated_at"].as_str());
    // A null removes a key; other keys stay; objects are replaced, not merged deeper.
    let r = me.patch_profile(json!({"user_metadata": {"theme": null, "n": {"a": 1}, "tz": "UTC"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user_metadata"], json!({"lang": "en", "n": {"a": 1}, "tz": "UTC"}));
    assert_eq!(r.body["given_name"], "Ada", "untouched fields keep their value");
    // The answer is what is stored, also through the management API.
    let stored = me.profile().await;
    assert_eq!(stored, r.body);
    let u = me.app.get(&format!("/api/v2/users/{}", me.user_id), &me.mgmt).await;
    assert_eq!(u.body["nickname"], "ada");
    assert_eq!(u.body["user_metadata"], json!({"lang": "en", "n": {"a": 1}, "tz": "UTC"}));
    me.app.stop().await;
}

#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let me = signed_in("127.0.0.1").await;
    let before = me.profile().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = me.patch_profile(json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, before, "same profile, same updated_at");
    assert_eq!(me.profile().await, before);
    me.app.stop().await;
}

#[tokio::test]
async fn read_only_fields_are_refused_and_nothing_changes() {
    let me = signed_in("127.0.0.1").await;
    let before = me.profile().await;
    let r = me.patch_profile(json!({"email": "eve@example.com", "given_name": "Eve"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "type": "https://auth0.com/api-errors/A0E-400-0008",
            "status": 400,
            "title": "read_only_field",
            "detail": "The field '/email' is read-only.",
            "validation_errors": [{
                "detail": "Field is managed through verified identifier flows, not the profile.",
                "pointer": "/email",
                "source": "managed_via_me_identifiers"
            }]
        })
    );
    // Every read-only field is named, with its reason.
    let r = me
        .patch_profile(json!({"username": "eve", "user_id": "auth0|x", "created_at": "2020-01-01T00:00:00.000Z"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-400-0008");
    assert_eq!(r.body["detail"], "The field '/user_id' is read-only.", "the first in the profile's order");
    let errors: Vec<(&str, &str)> = r.body["validation_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [("/user_id", "system_field"), ("/username", "managed_via_me_identifiers"), ("/created_at", "system_field")]
    );
    for field in ["phone_number", "email_verified", "phone_verified", "updated_at"] {
        let r = me.patch_profile(json!({ field: "x" })).await;
        assert_eq!(r.status, 400, "{field}: {}", r.text);
        assert_eq!(r.body["title"], "read_only_field", "{field}");
    }
    assert_eq!(me.profile().await, before);
    me.app.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_refused_whole() {
    let me = signed_in("127.0.0.1").await;
    let before = me.profile().await;
    let cases = [
        (json!({"favorite_color": "blue"}), "/favorite_color", "data must NOT have additional properties"),
        (json!({"profile_policy": {}}), "/profile_policy", "data must NOT have additional properties"),
        (json!({"nickname": "ok", "given_name": 5}), "/given_name", "data/given_name must be string"),
        (json!({"given_name": null}), "/given_name", "data/given_name must be string"),
        (json!({"family_name": "x".repeat(151)}), "/family_name", "must NOT have more than 150 characters"),
        (json!({"name": "x".repeat(301)}), "/name", "must NOT have more than 300 characters"),
        (json!({"nickname": ""}), "/nickname", "must NOT have fewer than 1 characters"),
        (json!({"picture": "not a url"}), "/picture", "data/picture must match format \"uri\""),
        (json!({"user_metadata": ["a"]}), "/user_metadata", "data/user_metadata must be object"),
        (json!({"user_metadata": {"blob": "x".repeat(17 * 1024)}}), "/user_metadata", "16384 bytes"),
    ];
    for (body, pointer, detail) in cases {
        let r = me.patch_profile(body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(error_type(&r), "A0E-400-0003", "{}", r.text);
        assert_eq!(r.body["title"], "Validation Error");
        let e = &r.body["validation_errors"][0];
        assert_eq!(e["pointer"], pointer, "{body}: {}", r.text);
        assert!(e["detail"].as_str().unwrap().contains(detail), "{body}: {}", r.text);
    }
    // Not an object.
    let r = me.call(Method::PATCH, "/profile", Some(json!(["given_name"]))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(me.profile().await, before, "nothing changed");
    me.app.stop().await;
}

#[tokio::test]
async fn each_direction_needs_its_scope() {
    let me = signed_in("127.0.0.1").await;
    let reader = me.sign_in("read:me:profile").await;
    let other = me.sign_in("read:me:factors").await;
    let call = |token: &str, method: Method, body: Option<Value>| {
        let url = me.url("/profile");
        let token = token.to_string();
        let app = &me.app;
        async move { app.request(method, &url, Some(&token), body).await }
    };
    let r = call(&other, Method::GET, None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-403-0002");
    assert_eq!(r.body["title"], "insufficient_scope");
    assert!(r.header("www-authenticate").unwrap().contains("scope=\"read:me:profile\""));
    assert_eq!(call(&reader, Method::GET, None).await.status, 200);
    // The scope is checked before the body.
    let r = call(&reader, Method::PATCH, Some(json!({"email": "eve@example.com"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.header("www-authenticate").unwrap().contains("scope=\"update:me:profile\""));
    let r = call(&reader, Method::PATCH, Some(json!({"nickname": "eve"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(me.profile().await.get("nickname").is_none());
    // No token at all.
    let r = me.app.request(Method::GET, &me.url("/profile"), None, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    me.app.stop().await;
}

#[tokio::test]
async fn changes_are_in_the_audit_log() {
    let me = signed_in("127.0.0.1").await;
    me.patch_profile(json!({})).await;
    me.patch_profile(json!({"email": "eve@example.com"})).await;
    let r = me.patch_profile(json!({"given_name": "Ada", "user_metadata": {"secret_hint": "do not log me"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let logs = me.app.get("/api/v2/logs?per_page=100", &me.mgmt).await;
    let events: Vec<&Value> =
        logs.body.as_array().unwrap().iter().filter(|e| e["description"] == "me.profile.update").collect();
    assert_eq!(events.len(), 1, "only the change is recorded: {}", logs.text);
    let e = events[0];
    assert_eq!(e["type"], "sapi");
    assert_eq!(e["user_id"], me.user_id.as_str(), "the user acted");
    assert_eq!(e["details"]["target_type"], "user");
    assert_eq!(e["details"]["target_id"], me.user_id.as_str());
    assert_eq!(e["details"]["detail"], json!({"changed": ["given_name", "user_metadata"]}));
    assert!(!logs.text.contains("do not log me"), "names only, never values");
    me.app.stop().await;
}

/// A client that hangs up mid-request must not leave the request's transaction open: the server
/// drops the request's work with it, and a transaction abandoned between statements would keep
/// its connection `idle in transaction` on PostgreSQL, holding the user's row lock, so that every
/// later write of that user waits on it (sqlx rolls it back when the connection goes back to the
/// pool). A burst of PATCHes, each dropped by its client after a few milliseconds, then a PATCH
/// that must be answered at once, and no connection left holding a lock in the test's tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_mid_flight_leaves_no_transaction_open() {
    let me = signed_in("127.0.0.1").await;
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 10000, "tenant_writes_per_second": 10000,
                                         "user_reads_per_minute": 100000, "user_writes_per_minute": 100000}}))
        .await;
    let events_before = me.app.sql_count("SELECT count(*) FROM audit_events").await;
    let client = reqwest::Client::new();
    let url = me.url("/profile");
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..240u64 {
        let (client, url, token) = (client.clone(), url.clone(), me.token.clone());
        // Hang-ups spread from 0.5 ms to 12 ms after sending, to land between the statements.
        let patience = std::time::Duration::from_micros(500 + (i * 7919) % 11_500);
        burst.spawn(async move {
            let send = client.patch(&url).bearer_auth(token).json(&json!({"nickname": format!("n{i}")})).send();
            let _ = tokio::time::timeout(patience, send).await;
        });
    }
    while burst.join_next().await.is_some() {}
    // Else nothing here was abandoned mid-flight and the test proves nothing.
    let applied = me.app.sql_count("SELECT count(*) FROM audit_events").await - events_before;
    assert!(applied < 200, "{applied} of the 240 hung-up PATCHes ran to the end");

    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        me.patch_profile(json!({"nickname": "after the hang-ups"})),
    )
    .await
    .expect("a write after the hang-ups is answered within 5 s");
    assert_eq!(answered.status, 200, "{}", answered.text);
    if !me.app.config().storage.database_url.starts_with("sqlite:") {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let stuck = me
            .app
            .sql_count(
                "SELECT count(DISTINCT a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid \
                 JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE a.state LIKE 'idle in transaction%' AND n.nspname = current_schema()",
            )
            .await;
        assert_eq!(stuck, 0, "connections left idle in a transaction, holding locks on the test's tables");
    }
    me.app.stop().await;
}
