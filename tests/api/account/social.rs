//! Social identities through Logto's Verification and Account APIs (spec logto §4.4, §4.5, §5.4,
//! §5.5), against a real upstream OpenID provider (node `oidc-provider`): the client sends the
//! user to the upstream itself and hands the callback's query back as `connectorData`.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Account, account, assert_error};
use crate::util::upstream::{Upstream, as_account, follow, query};

/// The client's own callback (the upstream accepts any loopback URL for accountd's client).
const CLIENT_CALLBACK: &str = "http://127.0.0.1:9/social-callback";

/// An account whose tenant has connection `upstream` (tokens kept) at a fresh upstream.
pub(super) async fn with_upstream(ttl: u64) -> (Account, Upstream) {
    let a = account().await;
    let up = Upstream::start(ttl).await;
    let r = a.me.app.post("/api/v2/connections", &a.me.mgmt, up.connection("upstream", true)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (a, up)
}

/// A verified social record for upstream account `who`, made with `token`.
async fn social_record_with(a: &Account, token: &str, who: &str) -> String {
    let r = a
        .call_with(
            token,
            Method::POST,
            "/api/verifications/social",
            Some(json!({"connectorId": "upstream", "state": "st-1", "redirectUri": CLIENT_CALLBACK})),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let back = follow(&as_account(r.body["authorizationUri"].as_str().unwrap(), who), CLIENT_CALLBACK).await;
    let q = query(&back);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"), "the upstream echoes the client's state");
    let r = a
        .call_with(
            token,
            Method::POST,
            "/api/verifications/social/verify",
            Some(json!({"verificationRecordId": id, "connectorData": {"code": q["code"], "state": q["state"]}})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["verificationRecordId"], json!(id));
    id
}

pub(super) async fn social_record(a: &Account, who: &str) -> String {
    social_record_with(a, &a.token, who).await
}

pub(super) async fn link(a: &Account, record: &str) -> crate::util::Resp {
    let proof = a.password_record().await;
    a.call(
        Method::POST,
        "/api/my-account/identities",
        Some(json!({"newIdentifierVerificationRecordId": record})),
        Some(&proof),
    )
    .await
}

async fn put(a: &Account, target: &str, record: &str) -> crate::util::Resp {
    let path = format!("/api/my-account/identities/{target}/access-token");
    a.call(Method::PUT, &path, Some(json!({"verificationRecordId": record})), None).await
}

pub(super) async fn access_token(a: &Account) -> crate::util::Resp {
    a.get("/api/my-account/identities/upstream/access-token").await
}

#[tokio::test]
async fn a_user_links_an_upstream_identity_and_reads_the_token_kept_for_it() {
    let (a, up) = with_upstream(60).await;
    let record = social_record(&a, "bob").await;
    let r = link(&a, &record).await;
    assert_eq!(r.status, 204, "{}", r.text);

    let profile = a.profile().await;
    let bob = &profile["identities"]["upstream"];
    assert_eq!(bob["userId"], json!("bob"), "{profile}");
    assert_eq!(bob["details"]["id"], json!("bob"));
    assert_eq!(bob["details"]["email"], json!("bob@upstream.test"));
    assert_eq!(bob["details"]["name"], json!("Upstream bob"));
    assert_eq!(bob["details"]["rawData"]["sub"], json!("bob"));

    let r = access_token(&a).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert!(r.body["expires_in"].as_i64().is_some_and(|s| (50..=60).contains(&s)), "{}", r.text);
    assert_eq!(r.body["token_type"], json!("Bearer"));
    assert!(r.body["scope"].as_str().unwrap().contains("offline_access"), "{}", r.text);
    assert_eq!(up.call_api(&token).await, (200, Some("bob".into())), "the kept token is a live upstream token");

    // Kept sealed: the upstream's token is nowhere in the database, though the user's email is.
    assert!(a.me.app.database_holds(crate::me::EMAIL).await, "the scan reads the database");
    assert!(!a.me.app.database_holds(&token).await, "the upstream access token is stored readable");

    // Every link and read is in the audit log.
    let logs = a.me.app.get("/api/v2/logs?per_page=100", &a.me.mgmt).await;
    for action in ["account.verification.social", "account.identity.link", "account.identity.token_read"] {
        assert!(logs.text.contains(action), "no {action} event: {}", logs.text);
    }

    // Unlinking forgets the identity and its tokens.
    let proof = a.password_record().await;
    let r = a.call(Method::DELETE, "/api/my-account/identities/upstream", None, Some(&proof)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["identities"], json!({}));
    assert_error(&access_token(&a).await, 404, "secrets.third_party_token_set.token_not_found");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_at_the_upstream_once_for_a_burst_of_reads() {
    // Tokens live 8 s; accountd refreshes one with less than 5 s left.
    let (a, up) = with_upstream(8).await;
    let record = social_record(&a, "carol").await;
    assert_eq!(link(&a, &record).await.status, 204);
    let r = access_token(&a).await;
    let first = r.body["access_token"].as_str().unwrap().to_string();
    // Wait until the token is within the margin, however long the setup took on this machine.
    let left = r.body["expires_in"].as_i64().unwrap();
    if left >= 5 {
        tokio::time::sleep(std::time::Duration::from_secs((left - 3) as u64)).await;
    }
    let refreshes = || async {
        let logs = a.me.app.get("/api/v2/logs?per_page=100", &a.me.mgmt).await;
        logs.text.matches("account.identity.token_refreshed").count()
    };
    let before = refreshes().await;

    let reads = a.burst(6, Method::GET, "/api/my-account/identities/upstream/access-token", Value::Null).await;
    let mut tokens: Vec<String> = reads
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["access_token"].as_str().unwrap().to_string()
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "a burst refreshed more than once: {tokens:?}");
    assert_ne!(tokens[0], first, "an expiring token was handed out instead of a fresh one");
    assert_eq!(up.call_api(&tokens[0]).await, (200, Some("carol".into())));
    assert_eq!(refreshes().await - before, 1, "one burst, one refresh at the upstream");
}

#[tokio::test]
async fn each_refusal_is_logtos_and_changes_nothing() {
    let (a, _up) = with_upstream(60).await;
    let social = |body: Value| a.call(Method::POST, "/api/verifications/social", Some(body), None);
    assert_error(
        &social(json!({"connectorId": "nope", "state": "s", "redirectUri": CLIENT_CALLBACK})).await,
        422,
        "session.invalid_connector_id",
    );
    assert_error(
        &social(json!({"connectorId": "upstream", "state": "", "redirectUri": CLIENT_CALLBACK})).await,
        400,
        "session.insufficient_info",
    );
    assert_error(&social(json!({"connectorId": "upstream"})).await, 400, "guard.invalid_input");

    // Verify: an unknown record, the wrong state, a second answer.
    let verify = |id: &str, data: Value| {
        a.call(
            Method::POST,
            "/api/verifications/social/verify",
            Some(json!({"verificationRecordId": id, "connectorData": data})),
            None,
        )
    };
    assert_error(&verify("nope", json!({"code": "x"})).await, 400, "verification_record.not_found");
    let r = social(json!({"connectorId": "upstream", "state": "good", "redirectUri": CLIENT_CALLBACK})).await;
    let id = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let q = query(&follow(r.body["authorizationUri"].as_str().unwrap(), CLIENT_CALLBACK).await);
    assert_error(
        &verify(&id, json!({"code": q["code"], "state": "forged"})).await,
        400,
        "verification_record.not_found",
    );
    assert_error(
        &verify(&id, json!({"code": "not-the-code", "state": "good"})).await,
        401,
        "connector.social_auth_code_invalid",
    );
    assert_error(&verify(&id, json!({"code": 5})).await, 400, "guard.invalid_input");
    // The refusals above left the record waiting: the right code still verifies it, once.
    let r = social(json!({"connectorId": "upstream", "state": "good", "redirectUri": CLIENT_CALLBACK})).await;
    let id = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let q = query(&follow(r.body["authorizationUri"].as_str().unwrap(), CLIENT_CALLBACK).await);
    assert_error(
        &verify(&id, json!({"code": q["code"], "state": "forged"})).await,
        400,
        "verification_record.not_found",
    );
    assert_eq!(verify(&id, json!({"code": q["code"], "state": "good"})).await.status, 200);
    assert_error(
        &verify(&id, json!({"code": q["code"], "state": "good"})).await,
        400,
        "session.connector_validation_session_not_found",
    );

    // Linking, in Logto's order: field, scope (401), proof, record.
    let body = json!({"newIdentifierVerificationRecordId": id});
    let no_scope = a.token_for("openid profile").await;
    let proof = a.password_record().await;
    let r = a.call_with(&no_scope, Method::POST, "/api/my-account/identities", Some(body.clone()), Some(&proof)).await;
    assert_error(&r, 401, "auth.unauthorized");
    let r = a.call(Method::POST, "/api/my-account/identities", Some(body.clone()), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let unverified = social(json!({"connectorId": "upstream", "state": "s", "redirectUri": CLIENT_CALLBACK})).await;
    let unverified = unverified.body["verificationRecordId"].as_str().unwrap();
    let r = link(&a, unverified).await;
    assert_error(&r, 400, "verification_record.not_found");
    assert_eq!(a.profile().await["identities"], json!({}), "a refusal linked something");

    // Linked once; the same target again is 400, PUT replaces it.
    assert_eq!(link(&a, &id).await.status, 204);
    let again = social_record(&a, "dave").await;
    assert_error(&link(&a, &again).await, 400, "user.identity_already_in_use");
    assert_eq!(a.profile().await["identities"]["upstream"]["userId"], json!("alice"));
    let proof = a.password_record().await;
    let r = a
        .call(
            Method::PUT,
            "/api/my-account/identities",
            Some(json!({"newIdentifierVerificationRecordId": again})),
            Some(&proof),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["identities"]["upstream"]["userId"], json!("dave"));

    // Another user cannot take dave's upstream account (422), and gets nothing.
    let r =
        a.me.app
            .post("/api/v2/users", &a.me.mgmt, json!({"email": "eve@example.com", "password": "eve's long password"}))
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let eve = a.token_as("eve@example.com", "eve's long password", super::ALL_SCOPES).await;
    let taken = social_record_with(&a, &eve, "dave").await;
    let r = a
        .call_with(
            &eve,
            Method::POST,
            "/api/verifications/password",
            Some(json!({"password": "eve's long password"})),
            None,
        )
        .await;
    let eve_proof = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let r = a
        .call_with(
            &eve,
            Method::POST,
            "/api/my-account/identities",
            Some(json!({"newIdentifierVerificationRecordId": taken})),
            Some(&eve_proof),
        )
        .await;
    assert_error(&r, 422, "user.identity_already_in_use");
    assert_eq!(a.call_with(&eve, Method::GET, "/api/my-account", None, None).await.body["identities"], json!({}));

    // Unlinking: scope (400), unknown target (404).
    let r = a.call_with(&no_scope, Method::DELETE, "/api/my-account/identities/upstream", None, Some(&proof)).await;
    assert_error(&r, 400, "auth.unauthorized");
    let r = a.call(Method::DELETE, "/api/my-account/identities/other", None, Some(&proof)).await;
    assert_error(&r, 404, "user.identity_not_exist");

    // The kept-token routes: scope (403 auth.forbidden), unknown target, the PUT's checks.
    let r = a.call_with(&no_scope, Method::GET, "/api/my-account/identities/upstream/access-token", None, None).await;
    assert_error(&r, 403, "auth.forbidden");
    assert_error(
        &a.get("/api/my-account/identities/other/access-token").await,
        404,
        "secrets.third_party_token_set.token_not_found",
    );
    assert_error(&put(&a, "upstream", "nope").await, 400, "verification_record.not_found");
    let fresh = social_record(&a, "dave").await;
    assert_error(&put(&a, "other", &fresh).await, 422, "verification_record.social_verification.invalid_target");
    let stranger = social_record(&a, "frank").await;
    assert_error(&put(&a, "upstream", &stranger).await, 422, "user.identity_not_exists_in_current_user");
    let before = access_token(&a).await.body["access_token"].clone();
    let r = put(&a, "upstream", &fresh).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_ne!(r.body["access_token"], before, "the new record's tokens were not kept");
    assert_eq!(access_token(&a).await.body["access_token"], r.body["access_token"]);
}

#[tokio::test]
async fn third_party_apps_and_a_closed_field_cannot_link() {
    let (a, _up) = with_upstream(60).await;
    let record = social_record(&a, "bob").await;
    let partner = a.partner_app().await;
    let code =
        a.me.authorization_code_of(&partner, crate::me::EMAIL, crate::me::PASSWORD, super::ALL_SCOPES, None).await;
    let t =
        a.me.app
            .request(
                Method::POST,
                &format!("{}/oauth/token", a.me.base),
                None,
                Some(json!({"grant_type": "authorization_code", "client_id": partner, "code": code,
                        "redirect_uri": crate::me::CALLBACK, "code_verifier": crate::me::Me::VERIFIER})),
            )
            .await;
    let third = t.body["access_token"].as_str().unwrap().to_string();
    let proof = a.password_record().await;
    let body = json!({"newIdentifierVerificationRecordId": record});
    let r = a.call_with(&third, Method::POST, "/api/my-account/identities", Some(body.clone()), Some(&proof)).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");

    let mut fields = super::all_fields_edit();
    fields["social"] = json!("ReadOnly");
    a.set_center(json!({"fields": fields})).await;
    let r = a.call(Method::POST, "/api/my-account/identities", Some(body), Some(&proof)).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    assert_eq!(a.profile().await["identities"], json!({}), "read-only still shows identities");

    fields["social"] = json!("Off");
    a.set_center(json!({"fields": fields})).await;
    assert!(a.profile().await.get("identities").is_none(), "an Off field was shown");
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked() {
    let (a, _up) = with_upstream(60).await;
    let record = social_record(&a, "bob").await;
    assert_eq!(link(&a, &record).await.status, 204);
    // With the identity linked, the email is no longer the last identifier.
    let proof = a.password_record().await;
    let r = a.call(Method::DELETE, "/api/my-account/primary-email", None, Some(&proof)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = a.call(Method::DELETE, "/api/my-account/identities/upstream", None, Some(&proof)).await;
    assert_error(&r, 400, "user.last_sign_in_method_required");
    assert_eq!(a.profile().await["identities"]["upstream"]["userId"], json!("bob"), "the refusal unlinked it");
}

#[tokio::test]
async fn a_link_on_one_node_shows_on_the_other_at_once() {
    if !matches!(accountd_store::testdb::Backend::from_env(), accountd_store::testdb::Backend::Postgres) {
        return; // A SQLite file has one server; nodes share PostgreSQL.
    }
    let (a, _up) = with_upstream(60).await;
    let other = a.me.app.another_node().await;
    // The other node caches the account's (empty) identities first.
    assert_eq!(super::send_to_base(&other.base, &a.token, "/api/my-account").await["identities"], json!({}));
    let record = social_record(&a, "bob").await;
    assert_eq!(link(&a, &record).await.status, 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let seen = super::send_to_base(&other.base, &a.token, "/api/my-account").await;
        if seen["identities"]["upstream"]["userId"] == json!("bob") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other node still shows {seen}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_plain_oauth2_connection_links_through_its_user_endpoint() {
    let a = account().await;
    let up = Upstream::start(60).await;
    let body = json!({"name": "upstream", "strategy": "oauth2",
        "options": {"client_id": crate::util::upstream::CLIENT_ID, "client_secret": crate::util::upstream::CLIENT_SECRET,
                    "authorizationURL": format!("{}/auth", up.issuer), "tokenURL": format!("{}/token", up.issuer),
                    "userinfo_endpoint": format!("{}/me", up.issuer), "scope": "openid email profile"},
        "connected_accounts": {"active": true}});
    let r = a.me.app.post("/api/v2/connections", &a.me.mgmt, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = social_record(&a, "bob").await;
    assert_eq!(link(&a, &record).await.status, 204);
    let bob = &a.profile().await["identities"]["upstream"];
    assert_eq!((bob["userId"].clone(), bob["details"]["email"].clone()), (json!("bob"), json!("bob@upstream.test")));
    let r = access_token(&a).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(up.call_api(r.body["access_token"].as_str().unwrap()).await, (200, Some("bob".into())));
}
