//! `/api/my-account/mfa-settings` and `/logto-configs`: Logto's order of checks, keys merged one
//! by one, and `skipMfaOnSignIn` skipping the hosted page's second factor — unless the tenant's
//! MFA policy requires one.

use reqwest::Method;
use serde_json::json;

use super::{account, account_with, all_fields_edit, assert_error};

const SETTINGS: &str = "/api/my-account/mfa-settings";
const CONFIGS: &str = "/api/my-account/logto-configs";

#[tokio::test]
async fn mfa_settings_and_logto_configs_merge_key_by_key() {
    let a = account().await;
    let r = a.get(SETTINGS).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({"skipMfaOnSignIn": false})), "{}", r.text);
    let r = a.get(CONFIGS).await;
    assert_eq!(
        r.body,
        json!({"mfa": {"skipped": false, "skipMfaOnSignIn": false}, "passkeySignIn": {"skipped": false}}),
        "{}",
        r.text
    );

    let body = json!({"skipMfaOnSignIn": true});
    assert_error(
        &a.call(Method::PATCH, SETTINGS, Some(body.clone()), None).await,
        401,
        "verification_record.permission_denied",
    );
    let record = a.password_record().await;
    assert_error(&a.call(Method::PATCH, SETTINGS, Some(json!({})), Some(&record)).await, 400, "guard.invalid_input");
    assert_error(
        &a.call(Method::PATCH, SETTINGS, Some(json!({"skipMfaOnSignIn": "yes"})), Some(&record)).await,
        400,
        "guard.invalid_input",
    );
    assert_eq!(a.get(SETTINGS).await.body, json!({"skipMfaOnSignIn": false}), "a refusal changed something");
    let r = a.call(Method::PATCH, SETTINGS, Some(body), Some(&record)).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({"skipMfaOnSignIn": true})), "{}", r.text);

    // logto-configs changes only the keys given.
    let r = a
        .call(
            Method::PATCH,
            CONFIGS,
            Some(json!({"passkeySignIn": {"skipped": true}, "mfa": {"skipped": true}})),
            Some(&record),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"mfa": {"skipped": true, "skipMfaOnSignIn": true}, "passkeySignIn": {"skipped": true}}),
        "{}",
        r.text
    );
    let r = a
        .call(
            Method::PATCH,
            CONFIGS,
            Some(json!({"mfa": {"enabled": true, "additionalBindingSuggestionSkipped": true}})),
            Some(&record),
        )
        .await;
    assert_eq!(r.body["mfa"], json!({"enabled": true, "skipped": true, "skipMfaOnSignIn": true}), "{}", r.text);
    assert_eq!(a.get(CONFIGS).await.body, r.body);
    assert_error(
        &a.call(Method::PATCH, CONFIGS, Some(json!({"mfa": {"skipped": 1}})), Some(&record)).await,
        400,
        "guard.invalid_input",
    );
    a.me.app.stop().await;
}

#[tokio::test]
async fn settings_checks_come_in_logtos_order_with_the_passkey_fallback() {
    let mut fields = all_fields_edit();
    fields["mfa"] = json!("Off");
    let mut a = account_with(fields.clone()).await;
    let record = a.password_record().await;
    let narrow = a.token_for("openid profile").await;
    // GET: scope first, then the field.
    assert_error(&a.call_with(&narrow, Method::GET, SETTINGS, None, None).await, 401, "auth.unauthorized");
    assert_error(&a.get(SETTINGS).await, 400, "account_center.field_not_enabled");
    assert_error(&a.call_with(&narrow, Method::GET, CONFIGS, None, None).await, 401, "auth.unauthorized");
    assert_error(&a.get(CONFIGS).await, 400, "account_center.field_not_enabled");
    // PATCH: proof, scope, first party, then the field.
    let body = json!({"skipMfaOnSignIn": true});
    assert_error(
        &a.call(Method::PATCH, SETTINGS, Some(body.clone()), None).await,
        401,
        "verification_record.permission_denied",
    );
    assert_error(
        &a.call_with(&narrow, Method::PATCH, SETTINGS, Some(body.clone()), Some(&record)).await,
        401,
        "auth.unauthorized",
    );
    assert_error(
        &a.call(Method::PATCH, SETTINGS, Some(body.clone()), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );
    assert_error(
        &a.call(Method::PATCH, CONFIGS, Some(json!({})), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );

    // `passkey` unset follows `mfa`; set (even Off), it wins for logto-configs.
    fields["mfa"] = json!("ReadOnly");
    a.set_center(json!({"fields": fields.clone()})).await;
    assert_eq!(a.get(CONFIGS).await.status, 200);
    assert_eq!(a.get(SETTINGS).await.status, 200);
    assert_error(
        &a.call(Method::PATCH, CONFIGS, Some(json!({})), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );
    fields["mfa"] = json!("Edit");
    fields["passkey"] = json!("Off");
    a.set_center(json!({"fields": fields.clone()})).await;
    assert_error(&a.get(CONFIGS).await, 400, "account_center.field_not_enabled");
    assert_error(
        &a.call(Method::PATCH, CONFIGS, Some(json!({})), Some(&record)).await,
        400,
        "account_center.field_not_editable",
    );
    assert_eq!(a.call(Method::PATCH, SETTINGS, Some(body.clone()), Some(&record)).await.status, 200);

    // A third-party app may read, not change.
    let partner = a.partner_app().await;
    let first_party = std::mem::replace(&mut a.me.client_id, partner.clone());
    let third = a.token_for(super::ALL_SCOPES).await;
    a.me.client_id = first_party;
    assert_eq!(a.call_with(&third, Method::GET, SETTINGS, None, None).await.status, 200);
    let r = a.call_with(&third, Method::PATCH, SETTINGS, Some(json!({"skipMfaOnSignIn": false})), Some(&record)).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    assert_eq!(a.get(SETTINGS).await.body, json!({"skipMfaOnSignIn": true}));
    a.me.app.stop().await;
}

#[tokio::test]
async fn skip_mfa_on_sign_in_skips_the_second_factor_unless_the_tenant_requires_it() {
    let a = account().await;
    a.add_totp().await;
    let (_, page) = a.password_step().await;
    assert_eq!(page.status, 200, "the second factor is asked: {}", page.html);
    assert!(page.html.contains("Enter the code"), "{}", page.html);

    let record = a.password_record().await;
    let r = a.call(Method::PATCH, SETTINGS, Some(json!({"skipMfaOnSignIn": true})), Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, done) = a.password_step().await;
    assert_eq!(done.status, 302, "skipMfaOnSignIn did not skip: {}", done.html);
    assert!(done.param("code").is_some());

    // A tenant that requires a second factor asks anyway.
    a.me.set_policy(json!({"mfa": "always"})).await;
    let (_, page) = a.password_step().await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Enter the code"), "{}", page.html);
    a.me.app.stop().await;
}
