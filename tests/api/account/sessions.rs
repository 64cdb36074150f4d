//! `/api/my-account/sessions` and `/grants` (spec logto §5.8), the Management API's sessions and
//! "revoked means revoked": once a session, grant or token family ends — through either dialect,
//! an operator, a password change or refresh-token reuse — the tokens issued under it are refused
//! by `/me/v1`, `/api/my-account`, `/userinfo` and introspection at once, on every node.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::revoked::{answers, backend_client};
use super::{ALL_SCOPES, Account, account, account_with, all_fields_edit, assert_error};
use crate::me::{CALLBACK, EMAIL, PASSWORD};
use crate::util::Resp;

/// Every field editable, sessions included.
fn fields_with_session(control: &str) -> Value {
    let mut f = all_fields_edit();
    f["session"] = json!(control);
    f
}

/// A sign-in of the test user in a fresh browser (a new session): the token response.
async fn sign_in(a: &Account, scope: &str) -> Value {
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, scope, None).await;
    a.me.exchange(&code).await
}

fn access(t: &Value) -> String {
    t["access_token"].as_str().unwrap().to_string()
}

async fn list_sessions(a: &Account, token: &str, record: &str) -> Vec<Value> {
    let r = a.call_with(token, Method::GET, "/api/my-account/sessions", None, Some(record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["sessions"].as_array().unwrap().clone()
}

/// The id of the session `token` was issued under.
async fn current_session(a: &Account, token: &str, record: &str) -> String {
    let all = list_sessions(a, token, record).await;
    let current: Vec<_> = all.iter().filter(|s| s["isCurrent"] == json!(true)).collect();
    assert_eq!(current.len(), 1, "not exactly one current session: {all:?}");
    current[0]["payload"]["uid"].as_str().unwrap().to_string()
}

async fn profile_status(a: &Account, token: &str) -> u16 {
    a.call_with(token, Method::GET, "/api/my-account", None, None).await.status.as_u16()
}

async fn me_status(a: &Account, token: &str) -> u16 {
    let r = super::send_to(&a.me.base, token, Method::GET, "/me/v1/authentication-methods", None, &[]).await;
    r.status.as_u16()
}

async fn refresh(a: &Account, refresh_token: &str) -> Resp {
    a.me.app
        .request(
            Method::POST,
            &format!("{}/oauth/token", a.me.base),
            None,
            Some(json!({"grant_type": "refresh_token", "client_id": a.me.client_id, "refresh_token": refresh_token})),
        )
        .await
}

async fn delete(a: &Account, token: &str, path: &str, record: &str) -> Resp {
    a.call_with(token, Method::DELETE, path, None, Some(record)).await
}

#[tokio::test]
async fn sessions_are_listed_with_the_current_one_and_the_apps_signed_in_under_it() {
    let a = account_with(fields_with_session("ReadOnly")).await;
    let record = a.password_record().await;
    let all = list_sessions(&a, &a.token, &record).await;
    // The /me/v1 sign-in and the Logto sign-in: two browsers, two sessions.
    assert_eq!(all.len(), 2, "{all:?}");
    let current = current_session(&a, &a.token, &record).await;
    let item = all.iter().find(|s| s["payload"]["uid"] == json!(current)).unwrap();
    let auths = item["payload"]["authorizations"].as_object().unwrap();
    assert_eq!(auths.keys().collect::<Vec<_>>(), [&a.me.client_id], "{item}");
    assert_eq!(auths[&a.me.client_id]["persistsLogout"], json!(true), "offline_access was granted");
    let now = accountd_core::clock::now_millis();
    assert!(item["expiresAt"].as_i64().unwrap() > now && item["lastSeenAt"].as_i64().unwrap() <= now);
    insta::assert_json_snapshot!("logto_session", item, {
        ".payload.exp" => "[secs]", ".payload.iat" => "[secs]", ".payload.loginTs" => "[secs]",
        ".payload.jti" => "[id]", ".payload.uid" => "[id]", ".payload.accountId" => "[user]",
        ".payload.authorizations" => "[authorizations]", ".lastSubmission.userId" => "[user]",
        ".accountId" => "[user]", ".expiresAt" => "[ms]", ".lastSeenAt" => "[ms]",
        ".lastSubmission.signInContext.userAgent" => "[agent]",
    });
    // Another user's sessions are not the caller's.
    let r = a.me.app.post("/api/v2/users", &a.me.mgmt, json!({"email": "bob@example.com", "password": PASSWORD})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let bob = a.token_as("bob@example.com", PASSWORD, ALL_SCOPES).await;
    assert_eq!(list_sessions(&a, &a.token, &record).await.len(), 2, "another user's session is listed");
    let bob_record = {
        let body = json!({"password": PASSWORD});
        let r = a.call_with(&bob, Method::POST, "/api/verifications/password", Some(body), None).await;
        r.body["verificationRecordId"].as_str().unwrap().to_string()
    };
    assert_eq!(list_sessions(&a, &bob, &bob_record).await.len(), 1);
    // ReadOnly: listed, not ended.
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{current}"), &record).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    assert_eq!(list_sessions(&a, &a.token, &record).await.len(), 2, "a refused delete changed something");
    a.me.app.stop().await;
}

#[tokio::test]
async fn every_check_runs_in_logtos_order_and_a_refusal_ends_nothing() {
    let mut a = account_with(fields_with_session("Edit")).await;
    let record = a.password_record().await;
    let current = current_session(&a, &a.token, &record).await;
    let path = format!("/api/my-account/sessions/{current}");
    let grants = "/api/my-account/grants";
    // 1. The verification record: missing, unknown, another user's.
    for rec in [None, Some("made-up")] {
        for (m, p) in
            [(Method::GET, "/api/my-account/sessions"), (Method::DELETE, path.as_str()), (Method::GET, grants)]
        {
            let r = a.call(m, p, None, rec).await;
            assert_error(&r, 401, "verification_record.permission_denied");
        }
    }
    // 2. The field: Off refuses reads and writes (before the scope is looked at).
    let no_scope = a.token_for("openid profile offline_access").await;
    let mut off = all_fields_edit();
    off["session"] = json!("Off");
    a.set_center(json!({"fields": off})).await;
    let r = a.call_with(&no_scope, Method::GET, "/api/my-account/sessions", None, Some(&record)).await;
    assert_error(&r, 400, "account_center.field_not_enabled");
    let r = a.call_with(&no_scope, Method::GET, grants, None, Some(&record)).await;
    assert_error(&r, 400, "account_center.field_not_enabled");
    let r = delete(&a, &no_scope, &path, &record).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    a.set_center(json!({"fields": fields_with_session("Edit")})).await;
    // 3. The scope (401 on every session and grant route).
    for (m, p) in [(Method::GET, "/api/my-account/sessions"), (Method::DELETE, path.as_str()), (Method::GET, grants)] {
        let r = a.call_with(&no_scope, m, p, None, Some(&record)).await;
        assert_error(&r, 401, "auth.unauthorized");
    }
    // 4. Third-party applications read but do not end.
    let partner = a.partner_app().await;
    let first_party = std::mem::replace(&mut a.me.client_id, partner.clone());
    let third = a.token_for(ALL_SCOPES).await;
    a.me.client_id = first_party;
    assert_eq!(list_sessions(&a, &third, &record).await.len(), 4);
    let r = delete(&a, &third, &path, &record).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    let r = delete(&a, &third, &format!("{grants}/whatever"), &record).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    // 5. Bad query, unknown ids.
    let r = delete(&a, &a.token, &format!("{path}?revokeGrantsTarget=some"), &record).await;
    assert_error(&r, 400, "guard.invalid_input");
    let r = a.call(Method::GET, &format!("{grants}?appType=mine"), None, Some(&record)).await;
    assert_error(&r, 400, "guard.invalid_input");
    let r = delete(&a, &a.token, "/api/my-account/sessions/made-up", &record).await;
    assert_error(&r, 404, "oidc.session_not_found");
    let r = delete(&a, &a.token, &format!("{grants}/made-up"), &record).await;
    assert_error(&r, 404, "oidc.invalid_grant");
    // Nothing ended on the way.
    assert_eq!(list_sessions(&a, &a.token, &record).await.len(), 4);
    assert_eq!(profile_status(&a, &a.token).await, 200);
    assert_eq!(me_status(&a, &a.me.token).await, 200);
    assert_eq!(profile_status(&a, &third).await, 200);
    a.me.app.stop().await;
}

#[tokio::test]
async fn ending_a_session_refuses_its_tokens_at_once_in_both_dialects_and_nothing_else() {
    let a = account_with(fields_with_session("Edit")).await;
    let record = a.password_record().await;
    // A second browser: the session the user will end from the first.
    let other = sign_in(&a, ALL_SCOPES).await;
    let other_token = access(&other);
    let other_id = current_session(&a, &other_token, &record).await;
    assert_eq!(profile_status(&a, &other_token).await, 200);
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{other_id}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // At once: the opaque token, its refresh token.
    assert_eq!(profile_status(&a, &other_token).await, 401);
    let r = a.call_with(&other_token, Method::GET, "/userinfo", None, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = refresh(&a, other["refresh_token"].as_str().unwrap()).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some("invalid_grant")), "{}", r.text);
    // The caller's own session and the /me/v1 session stand.
    assert_eq!(profile_status(&a, &a.token).await, 200);
    assert_eq!(me_status(&a, &a.me.token).await, 200);
    assert!(list_sessions(&a, &a.token, &record).await.iter().all(|s| s["payload"]["uid"] != json!(other_id)));
    // The /me/v1 session ended from the Logto dialect: its JWT is refused by /me/v1 at once.
    let me_session = list_sessions(&a, &a.token, &record)
        .await
        .into_iter()
        .find(|s| s["isCurrent"] == json!(false))
        .map(|s| s["payload"]["uid"].as_str().unwrap().to_string())
        .unwrap();
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{me_session}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(me_status(&a, &a.me.token).await, 401, "/me/v1 still takes a token of an ended session");
    // Ending your own session ends your own token too (Logto keeps it; accountd does not).
    let mine = current_session(&a, &a.token, &record).await;
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{mine}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(profile_status(&a, &a.token).await, 401);
    a.me.app.stop().await;
}

#[tokio::test]
async fn parallel_deletes_of_one_session_end_it_once() {
    let a = account_with(fields_with_session("Edit")).await;
    let record = a.password_record().await;
    let other = access(&sign_in(&a, ALL_SCOPES).await);
    let id = current_session(&a, &other, &record).await;
    let path = format!("/api/my-account/sessions/{id}");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (base, token, path, record) = (a.me.base.clone(), a.token.clone(), path.clone(), record.clone());
            tokio::spawn(async move {
                super::send_to(&base, &token, Method::DELETE, &path, None, &[("logto-verification-id", &record)]).await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap().status.as_u16());
    }
    codes.sort();
    assert_eq!(codes, [204, 404, 404, 404, 404, 404, 404, 404], "one session ended more than once");
    assert_eq!(profile_status(&a, &other).await, 401);
    assert_eq!(profile_status(&a, &a.token).await, 200, "a parallel delete ended another session");
    a.me.app.stop().await;
}

#[tokio::test]
async fn revoking_a_grant_ends_the_apps_tokens_in_every_session_and_a_new_sign_in_starts_a_new_one() {
    let mut a = account_with(fields_with_session("Edit")).await;
    let record = a.password_record().await;
    let partner_id = a.partner_app().await;
    let spa = std::mem::replace(&mut a.me.client_id, partner_id.clone());
    let third = a.token_for(ALL_SCOPES).await;
    a.me.client_id = spa.clone();
    let r = a.call(Method::GET, "/api/my-account/grants", None, Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let grants = r.body["grants"].as_array().unwrap().clone();
    let names: Vec<_> =
        grants.iter().map(|g| (g["application"]["id"].clone(), g["application"]["name"].clone())).collect();
    assert_eq!(names, [(json!(spa), json!("Demo SPA")), (json!(partner_id), json!("Partner"))]);
    assert_eq!(grants[0]["payload"]["kind"], json!("Grant"));
    let only = |q: &str| {
        let (a, record) = (&a, &record);
        let q = q.to_string();
        async move {
            let r = a.call(Method::GET, &format!("/api/my-account/grants?appType={q}"), None, Some(record)).await;
            r.body["grants"].as_array().unwrap().iter().map(|g| g["application"]["id"].clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(only("firstParty").await, [json!(spa)]);
    assert_eq!(only("thirdParty").await, [json!(partner_id)]);
    // The SPA's grant: its Logto token, its /me/v1 JWT (another session) and a refresh token all end.
    let spa_tokens = sign_in(&a, ALL_SCOPES).await;
    let spa_grant = grants[0]["id"].as_str().unwrap();
    let r = delete(&a, &third, &format!("/api/my-account/grants/{spa_grant}"), &record).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    assert_eq!(profile_status(&a, &a.token).await, 200, "a refused revocation ended something");
    let r = delete(&a, &a.token, &format!("/api/my-account/grants/{spa_grant}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(profile_status(&a, &a.token).await, 401);
    assert_eq!(profile_status(&a, &access(&spa_tokens)).await, 401);
    assert_eq!(me_status(&a, &a.me.token).await, 401);
    let r = refresh(&a, spa_tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The partner's grant stands; signing in to the SPA again starts a new grant that works.
    assert_eq!(profile_status(&a, &third).await, 200);
    let again = a.token_for(ALL_SCOPES).await;
    assert_eq!(profile_status(&a, &again).await, 200);
    let r = a.call_with(&again, Method::GET, "/api/my-account/grants", None, Some(&record)).await;
    let ids: Vec<_> = r.body["grants"].as_array().unwrap().iter().map(|g| g["id"].clone()).collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&json!(spa_grant)), "the revoked grant is listed");
    let r = delete(&a, &again, &format!("/api/my-account/grants/{spa_grant}"), &record).await;
    assert_error(&r, 404, "oidc.invalid_grant");
    a.me.app.stop().await;
}

#[tokio::test]
async fn revoke_grants_target_takes_the_sessions_apps_grants_with_it() {
    let mut a = account_with(fields_with_session("Edit")).await;
    let record = a.password_record().await;
    let partner = a.partner_app().await;
    let spa = std::mem::replace(&mut a.me.client_id, partner.clone());
    let third = a.token_for(ALL_SCOPES).await;
    let third_again = a.token_for(ALL_SCOPES).await;
    a.me.client_id = spa;
    // firstParty: the partner's session ends, its grant (and its other session's token) stay.
    let id = current_session(&a, &third, &record).await;
    let r =
        delete(&a, &a.token, &format!("/api/my-account/sessions/{id}?revokeGrantsTarget=firstParty"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(profile_status(&a, &third).await, 401);
    assert_eq!(profile_status(&a, &third_again).await, 200, "firstParty revoked a third-party grant");
    // all: the SPA session ends with the SPA's grant, so the /me/v1 session's token ends too.
    let spa_other = access(&sign_in(&a, ALL_SCOPES).await);
    let id = current_session(&a, &spa_other, &record).await;
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{id}?revokeGrantsTarget=all"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(profile_status(&a, &spa_other).await, 401);
    assert_eq!(me_status(&a, &a.me.token).await, 401, "the app's grant outlived revokeGrantsTarget=all");
    assert_eq!(profile_status(&a, &third_again).await, 200, "another app's grant was revoked");
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_password_change_may_sign_out_the_other_sessions_in_both_dialects() {
    let a = account_with(fields_with_session("Edit")).await;
    let other = access(&sign_in(&a, ALL_SCOPES).await);
    // Logto: without the flag every session stays; with it only the caller's.
    let record = a.password_record().await;
    let body = json!({"password": "another-Secret-42"});
    let r = a.call(Method::POST, "/api/my-account/password", Some(body), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!((profile_status(&a, &other).await, me_status(&a, &a.me.token).await), (200, 200));
    let body = json!({"password": "third-Secret-42", "signOutOtherSessions": true});
    let r = a.call(Method::POST, "/api/my-account/password", Some(body), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(profile_status(&a, &other).await, 401, "another session outlived 'sign out other sessions'");
    assert_eq!(me_status(&a, &a.me.token).await, 401);
    assert_eq!(profile_status(&a, &a.token).await, 200, "the caller's own session was ended");

    // /me/v1: the password's verify with ?sign_out_other_sessions=true.
    let me_token = a.me.sign_in_as(EMAIL, "third-Secret-42", &crate::me::ME_SCOPES.join(" ")).await;
    let logto = a.token_as(EMAIL, "third-Secret-42", ALL_SCOPES).await;
    let call = |m: Method, path: String, body: Value| {
        let (base, t) = (a.me.base.clone(), me_token.clone());
        async move { super::send_to(&base, &t, m, &path, Some(body), &[]).await }
    };
    let r = call(Method::POST, "/me/v1/authentication-methods".into(), json!({"type": "password"})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let (id, session) =
        (r.body["id"].as_str().unwrap().to_string(), r.body["auth_session"].as_str().unwrap().to_string());
    let verify = format!("/me/v1/authentication-methods/{}/verify", urlencoding(&id));
    let r = call(
        Method::POST,
        format!("{verify}?sign_out_other_sessions=maybe"),
        json!({"auth_session": session, "new_password": "fourth-Secret-42"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = call(
        Method::POST,
        format!("{verify}?sign_out_other_sessions=true"),
        json!({"auth_session": session, "new_password": "fourth-Secret-42"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(profile_status(&a, &logto).await, 401);
    assert_eq!(profile_status(&a, &a.token).await, 401);
    assert_eq!(me_status(&a, &me_token).await, 200, "the caller's own session was ended");
    a.me.app.stop().await;
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap().trim_start_matches("x=").to_string()
}

#[tokio::test]
async fn a_reused_or_revoked_refresh_token_ends_the_access_tokens_of_its_family() {
    let mut a = account().await;
    let audience = format!("{}/me/", a.me.base);
    let scope = format!("{} offline_access", crate::me::ME_SCOPES.join(" "));
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, &scope, Some(&audience)).await;
    let first = a.me.exchange(&code).await;
    let rt = first["refresh_token"].as_str().unwrap().to_string();
    let r = refresh(&a, &rt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rotated = access(&r.body);
    assert_eq!((me_status(&a, &access(&first)).await, me_status(&a, &rotated).await), (200, 200));
    // The old refresh token again: someone holds a copy, so the family ends with its JWTs.
    let r = refresh(&a, &rt).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!((me_status(&a, &access(&first)).await, me_status(&a, &rotated).await), (401, 401));
    // Another sign-in's family is untouched.
    assert_eq!(me_status(&a, &a.me.token).await, 200);

    // RFC 7009: a confidential client revokes its refresh token; its access tokens end with it.
    let web =
        a.me.app
            .post(
                "/api/v2/clients",
                &a.me.mgmt,
                json!({"name": "Backend", "app_type": "regular_web", "callbacks": [CALLBACK],
                   "grant_types": ["authorization_code", "refresh_token"]}),
            )
            .await;
    let (id, secret) =
        (web.body["client_id"].as_str().unwrap().to_string(), web.body["client_secret"].as_str().unwrap().to_string());
    let spa = std::mem::replace(&mut a.me.client_id, id.clone());
    let web_code = a.me.authorization_code_with(EMAIL, PASSWORD, ALL_SCOPES, None).await;
    a.me.client_id = spa;
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
    let http = reqwest::Client::new();
    let tokens: Value = http
        .post(format!("{}/oauth/token", a.me.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("code", &web_code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", crate::me::Me::VERIFIER),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let opaque = access(&tokens);
    assert_eq!(profile_status(&a, &opaque).await, 200, "{tokens}");
    let r = http
        .post(format!("{}/oauth/revoke", a.me.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("client_id", &id),
            ("client_secret", &secret),
            ("token", tokens["refresh_token"].as_str().unwrap()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(profile_status(&a, &opaque).await, 401, "an access token outlived its revoked refresh token");
    a.me.app.stop().await;
}

#[tokio::test]
async fn operators_list_and_end_sessions_through_the_management_api() {
    let a = account().await;
    let (id, secret) = backend_client(&a).await;
    let web = (id.as_str(), secret.as_str());
    let (base, host) = (a.me.base.clone(), a.me.base.trim_start_matches("http://").to_string());
    let path = format!("/api/v2/users/{}/sessions", a.me.user_id);
    let r = a.me.app.get(&path, &a.me.mgmt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sessions = r.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{}", r.text);
    let s = &sessions[0];
    assert_eq!(s["user_id"], json!(a.me.user_id));
    assert_eq!(s["clients"], json!([{"client_id": a.me.client_id}]));
    assert_eq!(s["device"]["initial_ip"], json!("127.0.0.1"));
    assert_eq!(s["authentication"]["methods"][0]["name"], json!("pwd"));
    for k in ["created_at", "updated_at", "authenticated_at", "last_interacted_at", "expires_at"] {
        assert!(s[k].as_str().is_some_and(|t| t.ends_with('Z')), "{k}: {s}");
    }
    let one = a.me.app.get(&format!("/api/v2/sessions/{}", s["id"].as_str().unwrap()), &a.me.mgmt).await;
    assert_eq!((one.status.as_u16(), &one.body["id"]), (200, &s["id"]));
    // Scopes and unknown ids.
    let weak = a.me.app.mgmt_token_with(&["read:users"]).await;
    let r = a.me.app.get(&path, &weak).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = a.me.app.delete("/api/v2/sessions/made-up", &a.me.mgmt).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str()), (404, Some("inexistent_session")), "{}", r.text);
    let r = a.me.app.get("/api/v2/users/auth0|nobody/sessions", &a.me.mgmt).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(answers(&a, &base, &host, web).await, (200, 200, 200, true, true), "a refusal ended something");
    // One session: its tokens end, the other session's stand.
    let r = a.me.app.delete(&format!("/api/v2/sessions/{}", sessions[0]["id"].as_str().unwrap()), &a.me.mgmt).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let (me, logto, ..) = answers(&a, &base, &host, web).await;
    assert!(matches!((me, logto), (401, 200) | (200, 401)), "one session's end ended {me}/{logto}");
    assert_eq!(a.me.app.get(&path, &a.me.mgmt).await.body["sessions"].as_array().unwrap().len(), 1);
    // Then all of them.
    let r = a.me.app.delete(&path, &a.me.mgmt).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(answers(&a, &base, &host, web).await, (401, 401, 401, false, false));
    assert!(a.me.app.get(&path, &a.me.mgmt).await.body["sessions"].as_array().unwrap().is_empty());
    a.me.app.stop().await;
}

#[tokio::test]
async fn ending_a_session_on_one_node_is_honoured_on_the_other_within_a_second() {
    if !matches!(accountd_store::testdb::Backend::from_env(), accountd_store::testdb::Backend::Postgres) {
        return; // A SQLite file has one server; nodes share PostgreSQL.
    }
    let a = account_with(fields_with_session("Edit")).await;
    let other_node = a.me.app.another_node().await;
    let host = a.me.base.trim_start_matches("http://").to_string();
    let record = a.password_record().await;
    let victim = access(&sign_in(&a, ALL_SCOPES).await);
    let on_b = |token: String| {
        let (base, host) = (other_node.base.clone(), host.clone());
        async move {
            super::send_to(&base, &token, Method::GET, "/api/my-account", None, &[("host", &host)])
                .await
                .status
                .as_u16()
        }
    };
    // Node B has served (and cached) both tokens before.
    assert_eq!((on_b(victim.clone()).await, on_b(a.token.clone()).await), (200, 200));
    let me_on_b = |token: String| {
        let (base, host) = (other_node.base.clone(), host.clone());
        async move {
            let h = [("host", host.as_str())];
            super::send_to(&base, &token, Method::GET, "/me/v1/authentication-methods", None, &h).await.status.as_u16()
        }
    };
    assert_eq!(me_on_b(a.me.token.clone()).await, 200);
    let id = current_session(&a, &victim, &record).await;
    let r = delete(&a, &a.token, &format!("/api/my-account/sessions/{id}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let start = Instant::now();
    loop {
        if on_b(victim.clone()).await == 401 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "node B still takes a token of a session ended on node A");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(on_b(a.token.clone()).await, 200, "node B refused a session that was not ended");
    // The /me/v1 JWT's session, ended by an operator on node A: node B's /me/v1 refuses it.
    let r = a.me.app.delete(&format!("/api/v2/users/{}/sessions", a.me.user_id), &a.me.mgmt).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let start = Instant::now();
    while me_on_b(a.me.token.clone()).await != 401 {
        assert!(start.elapsed() < Duration::from_secs(1), "node B's /me/v1 still takes a token of an ended session");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    other_node.stop().await;
    a.me.app.stop().await;
}

#[tokio::test]
async fn the_admin_cli_lists_and_ends_a_users_sessions() {
    let a = account().await;
    let cfg = a.me.app.config().clone();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_accountd"))
            .args(["admin", "--json"])
            .args(args)
            .env("ACCOUNTD_STORAGE__DATA_DIR", &cfg.storage.data_dir)
            .env("ACCOUNTD_STORAGE__DATABASE_URL", &cfg.storage.database_url)
            .output()
            .expect("run accountd admin");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON output")
    };
    let listed = run(&["session", "list", "--user", EMAIL]);
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(sessions[0]["clients"], json!([a.me.client_id]));
    let one = sessions[0]["id"].as_str().unwrap().to_string();
    assert_eq!(run(&["session", "revoke", "--id", &one])["revoked"], json!([one]));
    assert_eq!(run(&["session", "list", "--user", EMAIL])["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(run(&["session", "revoke", "--user", EMAIL])["revoked"], json!(1));
    assert!(run(&["session", "list", "--user", EMAIL])["sessions"].as_array().unwrap().is_empty());
    // The running server refuses both tokens: at once on PostgreSQL (NOTIFY), within the cache's
    // TTL on SQLite (another process wrote the file).
    let start = Instant::now();
    let limit = Duration::from_secs(cfg.storage.method_cache_secs + 2);
    while (profile_status(&a, &a.token).await, me_status(&a, &a.me.token).await) != (401, 401) {
        assert!(start.elapsed() < limit, "the server still takes tokens of sessions the CLI ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_code_issued_before_its_session_or_grant_ended_yields_no_tokens() {
    let a = account_with(fields_with_session("Edit")).await;
    let exchange = |code: String| {
        let a = &a;
        async move {
            a.me.app
                .request(
                    Method::POST,
                    &format!("{}/oauth/token", a.me.base),
                    None,
                    Some(json!({"grant_type": "authorization_code", "client_id": a.me.client_id, "code": code,
                                "redirect_uri": CALLBACK, "code_verifier": crate::me::Me::VERIFIER})),
                )
                .await
        }
    };
    // The session ends (an operator) between the code and its exchange.
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, ALL_SCOPES, None).await;
    let r = a.me.app.delete(&format!("/api/v2/users/{}/sessions", a.me.user_id), &a.me.mgmt).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r = exchange(code).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some("invalid_grant")), "{}", r.text);
    // The app's grant is revoked between the code and its exchange.
    let token = a.token_for(ALL_SCOPES).await;
    let record = {
        let body = json!({"password": PASSWORD});
        let r = a.call_with(&token, Method::POST, "/api/verifications/password", Some(body), None).await;
        r.body["verificationRecordId"].as_str().unwrap().to_string()
    };
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, ALL_SCOPES, None).await;
    let grants = a.call_with(&token, Method::GET, "/api/my-account/grants", None, Some(&record)).await;
    let grant = grants.body["grants"][0]["id"].as_str().unwrap().to_string();
    let r = delete(&a, &token, &format!("/api/my-account/grants/{grant}"), &record).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = exchange(code).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (400, Some("invalid_grant")), "{}", r.text);
    // A code issued now works.
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, ALL_SCOPES, None).await;
    assert_eq!(exchange(code).await.status, 200);
    a.me.app.stop().await;
}
