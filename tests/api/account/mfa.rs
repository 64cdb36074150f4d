//! `/api/my-account/mfa-verifications`: TOTP apps and backup codes added in one step, each of
//! Logto's checks in its order (proof, field, scope, first party, factor, body), every refusal
//! shown to change nothing, the same methods seen through `/me/v1`, and both used on the hosted
//! sign-in page — a backup code once, even under a burst.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Account, account, account_with, all_fields_edit, assert_error};
use crate::me::{CALLBACK, EMAIL, PASSWORD};
use crate::util::browser::{Browser, Page};

const MFA: &str = "/api/my-account/mfa-verifications";
/// RFC 7636's example challenge, for `Me::VERIFIER`.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// An 80-bit secret, the shortest Logto takes.
const SHORT_SECRET: &str = "JBSWY3DPEHPK3PXP";

pub(super) fn code_for(secret: &str) -> String {
    accountd_core::authn::totp::current_code(secret).unwrap()
}

/// A code that is not the current one (nor one step either side).
fn wrong_code(secret: &str) -> String {
    let now = code_for(secret);
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| *c != now).unwrap()
}

impl Account {
    /// `GET mfa-verifications` (200).
    pub(super) async fn mfa_items(&self) -> Value {
        let r = self.get(MFA).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// The `(type, id)` of the user's methods as `/me/v1` lists them.
    pub(super) async fn me_methods(&self) -> Vec<(String, String)> {
        let r = self.me.get("/authentication-methods").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["authentication_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["type"].as_str().unwrap().to_string(), m["id"].as_str().unwrap().to_string()))
            .collect()
    }

    /// Adds a TOTP app (no code: its current code stays usable at sign-in); its secret.
    pub(super) async fn add_totp(&self) -> String {
        let record = self.password_record().await;
        let r =
            self.call(Method::POST, MFA, Some(json!({"type": "Totp", "secret": SHORT_SECRET})), Some(&record)).await;
        assert_eq!(r.status, 204, "{}", r.text);
        SHORT_SECRET.to_string()
    }

    /// Adds 10 generated backup codes; the codes.
    pub(super) async fn add_backup_codes(&self) -> Vec<String> {
        let g = self.call(Method::POST, &format!("{MFA}/backup-codes/generate"), None, None).await;
        assert_eq!(g.status, 200, "{}", g.text);
        let codes: Vec<String> = serde_json::from_value(g.body["codes"].clone()).unwrap();
        let record = self.password_record().await;
        let r = self.call(Method::POST, MFA, Some(json!({"type": "BackupCode", "codes": codes})), Some(&record)).await;
        assert_eq!(r.status, 204, "{}", r.text);
        codes
    }

    /// Opens the hosted sign-in and posts the password; the browser and the page that follows.
    pub(super) async fn password_step(&self) -> (Browser, Page) {
        let mut browser = Browser::new(self.me.app.port);
        let params = [
            ("response_type", "code"),
            ("client_id", self.me.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile identities"),
            ("state", "s"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let url = format!("{}/authorize?{}", self.me.base, serde_urlencoded::to_string(params).unwrap());
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let flow = page.hidden("flow").expect("sign-in form");
        let next = browser
            .post_form(
                &format!("{}/u/login", self.me.base),
                &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)],
            )
            .await;
        (browser, next)
    }
}

/// The `amr` of the ID token a finished sign-in's code is exchanged for.
async fn amr_after(a: &Account, done: &Page) -> Value {
    use base64::Engine;
    assert_eq!(done.status, 302, "{}", done.html);
    let code = done.param("code").unwrap_or_else(|| panic!("no code: {:?}", done.location));
    let t = a.me.exchange(&code).await;
    let part = t["id_token"].as_str().unwrap().split('.').nth(1).unwrap().to_string();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    claims["amr"].clone()
}

#[tokio::test]
async fn totp_is_added_in_one_step_in_logtos_order_and_is_the_method_me_v1_lists() {
    let a = account().await;
    // The secret generator needs nothing but a token, and stores nothing.
    let g = a.call(Method::POST, &format!("{MFA}/totp-secret/generate"), None, None).await;
    assert_eq!(g.status, 200, "{}", g.text);
    let secret = g.body["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "{secret}");
    assert_eq!(a.mfa_items().await, json!([]));

    let body = |secret: &str, code: Option<String>| json!({"type": "Totp", "secret": secret, "code": code});
    // Proof first.
    let r = a.call(Method::POST, MFA, Some(body(&secret, Some(code_for(&secret)))), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let record = a.password_record().await;
    // Then the body rules, in order: the secret, then the code.
    for bad in ["JBSWY3DPEHPK3PX", "JBSWY3DPEHPK3PX1", &"A".repeat(33)] {
        let r = a.call(Method::POST, MFA, Some(body(bad, None)), Some(&record)).await;
        assert_error(&r, 400, "user.totp_secret_invalid");
    }
    let r = a.call(Method::POST, MFA, Some(body(&secret, Some(wrong_code(&secret)))), Some(&record)).await;
    assert_error(&r, 400, "session.mfa.invalid_totp_code");
    let r = a.call(Method::POST, MFA, Some(json!({"type": "Sms"})), Some(&record)).await;
    assert_error(&r, 400, "guard.invalid_input");
    assert_eq!(a.mfa_items().await, json!([]), "a refusal changed something");
    assert!(a.me_methods().await.iter().all(|(t, _)| t != "totp"));

    let r = a.call(Method::POST, MFA, Some(body(&secret, Some(code_for(&secret)))), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let items = a.mfa_items().await;
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["type"], "Totp");
    assert!(items[0]["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(items[0].get("name").is_none() && items[0].get("remainCodes").is_none(), "{items}");
    let id = items[0]["id"].as_str().unwrap().to_string();
    assert!(a.me_methods().await.contains(&("totp".to_string(), id.clone())), "not listed by /me/v1");
    // Adding it turned MFA on.
    let c = a.get("/api/my-account/logto-configs").await;
    assert_eq!(c.body["mfa"]["enabled"], true, "{}", c.text);

    // One TOTP app at most through POST.
    let r = a.call(Method::POST, MFA, Some(body(SHORT_SECRET, None)), Some(&record)).await;
    assert_error(&r, 422, "user.totp_already_in_use");
    assert_eq!(a.mfa_items().await, items);

    // PUT replaces it (the code is required and checked; a refusal keeps the old one).
    let put = |secret: &str, code: String| json!({"secret": secret, "code": code});
    let r = a.call(Method::PUT, &format!("{MFA}/totp"), Some(json!({"secret": SHORT_SECRET})), Some(&record)).await;
    assert_error(&r, 400, "guard.invalid_input");
    let r = a
        .call(Method::PUT, &format!("{MFA}/totp"), Some(put(SHORT_SECRET, wrong_code(SHORT_SECRET))), Some(&record))
        .await;
    assert_error(&r, 400, "session.mfa.invalid_totp_code");
    let r = a.call(Method::PUT, &format!("{MFA}/totp"), Some(put(SHORT_SECRET, code_for(SHORT_SECRET))), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    assert_eq!(a.mfa_items().await, items);
    let r = a
        .call(Method::PUT, &format!("{MFA}/totp"), Some(put(SHORT_SECRET, code_for(SHORT_SECRET))), Some(&record))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let replaced = a.mfa_items().await;
    assert_eq!(replaced.as_array().unwrap().len(), 1);
    assert_ne!(replaced[0]["id"], id, "replaced in place with a new id");

    // Deleted through /me/v1: gone from Logto's list.
    let new_id = replaced[0]["id"].as_str().unwrap();
    let r = a.me.call(Method::DELETE, &format!("/authentication-methods/{new_id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.mfa_items().await, json!([]));
    a.me.app.stop().await;
}

#[tokio::test]
async fn backup_codes_need_another_factor_are_sealed_and_shown_again() {
    let a = account().await;
    let g = a.call(Method::POST, &format!("{MFA}/backup-codes/generate"), None, None).await;
    assert_eq!(g.status, 200, "{}", g.text);
    let codes: Vec<String> = serde_json::from_value(g.body["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 10 && c.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())));
    let record = a.password_record().await;
    let add = |codes: Value| json!({"type": "BackupCode", "codes": codes});

    // None to show yet: 404 (not Logto's usual 400).
    let r = a.call(Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await;
    assert_error(&r, 404, "verification_record.not_found");
    // Not alone (checked before the format).
    let r = a.call(Method::POST, MFA, Some(add(json!(["x"]))), Some(&record)).await;
    assert_error(&r, 422, "session.mfa.backup_code_can_not_be_alone");
    assert_eq!(a.mfa_items().await, json!([]));

    a.add_totp().await;
    for bad in
        [json!(codes[..9]), json!(vec!["ABCDEF1234"; 10]), json!(vec!["abcdef123"; 10]), json!(vec!["abcdefg123"; 10])]
    {
        let r = a.call(Method::POST, MFA, Some(add(bad)), Some(&record)).await;
        assert_error(&r, 422, "user.wrong_backup_code_format");
    }
    assert_eq!(a.mfa_items().await.as_array().unwrap().len(), 1, "a refusal added something");

    let r = a.call(Method::POST, MFA, Some(add(json!(codes))), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let r = a.call(Method::POST, MFA, Some(add(json!(codes))), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let items = a.mfa_items().await;
    let set = items.as_array().unwrap().iter().find(|i| i["type"] == "BackupCode").expect("listed").clone();
    assert_eq!(set["remainCodes"], 10, "{items}");
    let set_id = set["id"].as_str().unwrap().to_string();
    assert!(a.me_methods().await.contains(&("recovery-code".to_string(), set_id.clone())));

    // Active codes refuse another set.
    let r = a.call(Method::POST, MFA, Some(add(json!(codes))), Some(&record)).await;
    assert_error(&r, 422, "user.backup_code_already_in_use");

    // Shown again (with proof), and never stored in plaintext.
    let r = a.call(Method::GET, &format!("{MFA}/backup-codes"), None, None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let r = a.call(Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown: Vec<&str> = r.body["codes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(shown, codes.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(r.body["codes"][0].get("usedAt").is_none());
    for c in &codes {
        let n =
            a.me.app.sql_count(&format!("SELECT COUNT(*) FROM authentication_methods WHERE secret LIKE '%{c}%'")).await;
        assert_eq!(n, 0, "a backup code is stored in plaintext");
    }

    // Deleted through Logto: gone from /me/v1.
    let r = a.call(Method::DELETE, &format!("{MFA}/{set_id}"), None, Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(!a.me_methods().await.iter().any(|(t, _)| t == "recovery-code"));
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_method_enrolled_through_me_v1_is_a_logto_mfa_item() {
    let a = account().await;
    let (r, location) = a.me.enroll(json!({"type": "totp"})).await;
    let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
    let ok =
        a.me.post(
            &format!("{location}/verify"),
            json!({"auth_session": r.body["auth_session"], "otp_code": code_for(&secret)}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let items = a.mfa_items().await;
    assert_eq!(items[0]["type"], "Totp", "{items}");
    // Deleted through Logto: gone from /me/v1.
    let record = a.password_record().await;
    let id = items[0]["id"].as_str().unwrap();
    let r = a.call(Method::DELETE, &format!("{MFA}/{id}"), None, Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(!a.me_methods().await.iter().any(|(t, _)| t == "totp"));
    // A missing item is a 400.
    let r = a.call(Method::DELETE, &format!("{MFA}/{id}"), None, Some(&record)).await;
    assert_error(&r, 400, "verification_record.not_found");

    // An Auth0 recovery code is a backup code of one, kept as a hash: listed, not shown, and
    // it blocks another set while unused.
    a.add_totp().await;
    let (r, location) = a.me.enroll(json!({"type": "recovery-code"})).await;
    let ok = a.me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let items = a.mfa_items().await;
    let set = items.as_array().unwrap().iter().find(|i| i["type"] == "BackupCode").expect("listed").clone();
    assert_eq!(set["remainCodes"], 1, "{items}");
    let r = a.call(Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await;
    assert_error(&r, 404, "verification_record.not_found");
    let codes = vec!["0123456789"; 10];
    let r = a.call(Method::POST, MFA, Some(json!({"type": "BackupCode", "codes": codes})), Some(&record)).await;
    assert_error(&r, 422, "user.backup_code_already_in_use");
    a.me.app.stop().await;
}

#[tokio::test]
async fn field_scope_first_party_and_factor_checks_come_in_logtos_order() {
    let mut fields = all_fields_edit();
    fields["mfa"] = json!("Off");
    let mut a = account_with(fields.clone()).await;
    let record = a.password_record().await;
    let totp = json!({"type": "Totp", "secret": SHORT_SECRET});

    // Field Off: reads are not enabled, writes not editable — after the proof, before the scope.
    assert_error(&a.get(MFA).await, 400, "account_center.field_not_enabled");
    assert_error(
        &a.call(Method::POST, MFA, Some(totp.clone()), None).await,
        401,
        "verification_record.permission_denied",
    );
    assert_error(
        &a.call(Method::POST, MFA, Some(totp.clone()), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );
    let put = json!({"secret": SHORT_SECRET, "code": code_for(SHORT_SECRET)});
    assert_error(
        &a.call(Method::PUT, &format!("{MFA}/totp"), Some(put.clone()), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );
    // The generators and GET backup-codes ignore the fields.
    assert_eq!(a.call(Method::POST, &format!("{MFA}/totp-secret/generate"), None, None).await.status, 200);
    assert_eq!(a.call(Method::POST, &format!("{MFA}/backup-codes/generate"), None, None).await.status, 200);
    assert_error(
        &a.call(Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await,
        404,
        "verification_record.not_found",
    );

    // ReadOnly: listed, not changed.
    fields["mfa"] = json!("ReadOnly");
    a.set_center(json!({"fields": fields})).await;
    assert_eq!(a.mfa_items().await, json!([]));
    assert_error(
        &a.call(Method::POST, MFA, Some(totp.clone()), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );

    // Edit, but the token lacks `identities`: 401 after the field.
    a.set_center(json!({"fields": all_fields_edit()})).await;
    let narrow = a.token_for("openid profile").await;
    let r = a.call_with(&narrow, Method::GET, MFA, None, None).await;
    assert_error(&r, 401, "auth.unauthorized");
    let r = a.call_with(&narrow, Method::POST, MFA, Some(totp.clone()), Some(&record)).await;
    assert_error(&r, 401, "auth.unauthorized");
    let r = a.call_with(&narrow, Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await;
    assert_error(&r, 401, "auth.unauthorized");
    // The generators need no scope.
    assert_eq!(
        a.call_with(&narrow, Method::POST, &format!("{MFA}/totp-secret/generate"), None, None).await.status,
        200
    );

    // A third-party app: 403 after the scope, even with the user's own record.
    let partner = a.partner_app().await;
    let first_party = std::mem::replace(&mut a.me.client_id, partner.clone());
    let third = a.token_for(super::ALL_SCOPES).await;
    a.me.client_id = first_party;
    let r = a.call_with(&third, Method::POST, MFA, Some(totp.clone()), Some(&record)).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    let r = a.call_with(&third, Method::PUT, &format!("{MFA}/totp"), Some(put.clone()), Some(&record)).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    assert_eq!(a.call_with(&third, Method::GET, MFA, None, None).await.status, 200, "reads are allowed");

    // The tenant does not offer TOTP: 400 after the first-party check, before the secret.
    a.me.set_policy(json!({"factors": ["password", "passkey", "email", "recovery-code"]})).await;
    let r = a.call(Method::POST, MFA, Some(json!({"type": "Totp", "secret": "bad"})), Some(&record)).await;
    assert_error(&r, 400, "session.mfa.mfa_factor_not_enabled");
    let r = a.call(Method::PUT, &format!("{MFA}/totp"), Some(put), Some(&record)).await;
    assert_error(&r, 400, "session.mfa.mfa_factor_not_enabled");
    a.me.set_policy(json!({"factors": ["password", "passkey", "totp"]})).await;
    a.add_totp().await;
    let r = a.call(Method::POST, MFA, Some(json!({"type": "BackupCode", "codes": []})), Some(&record)).await;
    assert_error(&r, 400, "session.mfa.mfa_factor_not_enabled");
    assert_eq!(a.mfa_items().await.as_array().unwrap().len(), 1, "a refusal changed something");

    // DELETE: proof → scope → first party → the item → its field.
    let id = a.mfa_items().await[0]["id"].as_str().unwrap().to_string();
    let path = format!("{MFA}/{id}");
    assert_error(&a.call(Method::DELETE, &path, None, None).await, 401, "verification_record.permission_denied");
    assert_error(&a.call_with(&narrow, Method::DELETE, &path, None, Some(&record)).await, 401, "auth.unauthorized");
    assert_error(
        &a.call_with(&third, Method::DELETE, &path, None, Some(&record)).await,
        403,
        "auth.third_party_application_forbidden",
    );
    assert_error(
        &a.call(Method::DELETE, &format!("{MFA}/totp|nope"), None, Some(&record)).await,
        400,
        "verification_record.not_found",
    );
    let mut f = all_fields_edit();
    f["mfa"] = json!("ReadOnly");
    f["passkey"] = json!("Edit");
    a.set_center(json!({"fields": f})).await;
    assert_error(&a.call(Method::DELETE, &path, None, Some(&record)).await, 400, "account_center.field_not_editable");
    assert_eq!(a.mfa_items().await.as_array().unwrap().len(), 1, "a refused delete removed it");
    a.me.app.stop().await;
}

/// Signs in with the password and chooses the backup codes: the browser on the answer page.
async fn answer_page(a: &Account, mfa: &str, set_id: &str) -> (Browser, Page) {
    let (mut browser, page) = a.password_step().await;
    assert!(page.html.contains(set_id), "the choice lists the backup codes: {}", page.html);
    let flow = page.hidden("flow").unwrap();
    let page = browser.post_form(mfa, &[("flow", &flow), ("choose", set_id)]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    (browser, page)
}

#[tokio::test]
async fn a_logto_totp_and_a_backup_code_are_second_factors_on_the_hosted_page() {
    let a = account().await;
    let secret = a.add_totp().await;
    let (mut browser, page) = a.password_step().await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Enter the code"), "{}", page.html);
    let flow = page.hidden("flow").unwrap();
    let mfa = format!("{}/u/mfa", a.me.base);
    let done = browser.post_form(&mfa, &[("flow", &flow), ("code", &code_for(&secret))]).await;
    assert_eq!(amr_after(&a, &done).await, json!(["pwd", "otp", "mfa"]));

    // With backup codes too, the page lets the user choose; a code signs in once.
    let codes = a.add_backup_codes().await;
    let set_id = a.mfa_items().await.as_array().unwrap().iter().find(|i| i["type"] == "BackupCode").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Two parallel uses of one code: exactly one wins.
    let (browser, page) = answer_page(&a, &mfa, &set_id).await;
    let flow = page.hidden("flow").unwrap();
    let browser = Arc::new(browser);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (browser, mfa, flow, code) = (browser.clone(), mfa.clone(), flow.clone(), codes[0].clone());
            tokio::spawn(
                async move { browser.post_form_from(&mfa, &[("flow", &flow), ("code", &code)], "127.0.0.1").await },
            )
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        let p = t.await.unwrap();
        if p.status == 302 {
            wins += 1;
            assert_eq!(amr_after(&a, &p).await, json!(["pwd", "kba", "mfa"]));
        }
    }
    assert_eq!(wins, 1, "one backup code signed in more than once");

    // Used once: refused in a new sign-in; another code works (typed in capitals).
    let (mut browser, page) = answer_page(&a, &mfa, &set_id).await;
    let flow = page.hidden("flow").unwrap();
    let r = browser.post_form(&mfa, &[("flow", &flow), ("code", &codes[0])]).await;
    assert_ne!(r.status, 302, "a used backup code signed in again");
    let flow = r.hidden("flow").unwrap_or(flow);
    let done = browser.post_form(&mfa, &[("flow", &flow), ("code", &codes[1].to_uppercase())]).await;
    assert_eq!(amr_after(&a, &done).await, json!(["pwd", "kba", "mfa"]));

    let record = a.password_record().await;
    let r = a.call(Method::GET, &format!("{MFA}/backup-codes"), None, Some(&record)).await;
    let used: Vec<bool> = r.body["codes"].as_array().unwrap().iter().map(|c| c["usedAt"].is_string()).collect();
    assert_eq!(used.iter().filter(|u| **u).count(), 2, "{}", r.text);
    assert!(used[0] && used[1]);
    let items = a.mfa_items().await;
    let set = items.as_array().unwrap().iter().find(|i| i["type"] == "BackupCode").unwrap();
    assert_eq!(set["remainCodes"], 8);
    drop(browser);
    a.me.app.stop().await;
}

#[tokio::test]
async fn an_expired_or_foreign_record_proves_nothing_and_changes_nothing() {
    let a = account().await;
    let u = a
        .me
        .app
        .post("/api/v2/users", &a.me.mgmt, json!({"email": "grace@example.com", "password": PASSWORD, "name": "Grace"}))
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    let grace = a.token_as("grace@example.com", PASSWORD, super::ALL_SCOPES).await;
    let r = a
        .call_with(&grace, Method::POST, "/api/verifications/password", Some(json!({"password": PASSWORD})), None)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let foreign = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let expired = a.password_record().await;
    a.me.app.sql(&format!("UPDATE verification_records SET expires_at = 1 WHERE id = '{expired}'")).await;
    let totp = json!({"type": "Totp", "secret": SHORT_SECRET});
    let put = json!({"secret": SHORT_SECRET, "code": code_for(SHORT_SECRET)});
    for record in [&foreign, &expired] {
        for (method, path, body) in [
            (Method::POST, MFA.to_string(), Some(totp.clone())),
            (Method::PUT, format!("{MFA}/totp"), Some(put.clone())),
            (Method::GET, format!("{MFA}/backup-codes"), None),
            (Method::PATCH, format!("{MFA}/x/name"), Some(json!({"name": "n"}))),
            (Method::DELETE, format!("{MFA}/x"), None),
            (Method::PATCH, "/api/my-account/mfa-settings".to_string(), Some(json!({"skipMfaOnSignIn": true}))),
            (Method::PATCH, "/api/my-account/logto-configs".to_string(), Some(json!({}))),
        ] {
            let r = a.call(method.clone(), &path, body, Some(record)).await;
            assert_error(&r, 401, "verification_record.permission_denied");
        }
    }
    assert_eq!(a.mfa_items().await, json!([]));
    assert_eq!(a.get("/api/my-account/mfa-settings").await.body, json!({"skipMfaOnSignIn": false}));
    a.me.app.stop().await;
}

/// `n` copies of `POST mfa-verifications` with `body` and a proof, all in flight at once; their
/// statuses, sorted.
async fn add_in_parallel(a: &Account, n: usize, body: Value, record: &str) -> Vec<u16> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (base, token, body, record) = (a.me.base.clone(), a.token.clone(), body.clone(), record.to_string());
            tokio::spawn(async move {
                super::send_to(&base, &token, Method::POST, MFA, Some(body), &[("logto-verification-id", &record)])
                    .await
                    .status
                    .as_u16()
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out.sort();
    out
}

#[tokio::test]
async fn parallel_additions_add_one_totp_and_one_backup_code_set() {
    let a = account().await;
    let record = a.password_record().await;
    let statuses = add_in_parallel(&a, 6, json!({"type": "Totp", "secret": SHORT_SECRET}), &record).await;
    assert_eq!(statuses, [204, 422, 422, 422, 422, 422], "parallel additions made more than one TOTP");
    let g = a.call(Method::POST, &format!("{MFA}/backup-codes/generate"), None, None).await;
    let statuses = add_in_parallel(&a, 6, json!({"type": "BackupCode", "codes": g.body["codes"]}), &record).await;
    assert_eq!(statuses, [204, 422, 422, 422, 422, 422], "parallel additions made more than one backup-code set");
    let items = a.mfa_items().await;
    let kinds: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "Totp").count(), 1, "{items}");
    assert_eq!(kinds.iter().filter(|k| **k == "BackupCode").count(), 1, "{items}");
    a.me.app.stop().await;
}
