//! The storage conformance suite: one contract per store trait, run unchanged against every
//! backend by `accountd-store/tests/conformance.rs`. Each contract gets a fresh, empty store.
//!
//! Every contract checks a round trip, missing rows, unique conflicts by name, and that a row
//! written under one tenant is invisible and untouchable from another.

#![expect(clippy::unwrap_used, reason = "a failing contract should panic with the location")]

use serde_json::json;

use crate::api_resource::{AccessPolicy, ApiId, ApiResource, ApiScope, PolicyMode, SystemApi};
use crate::application::{AppType, ApplicationFields, new_application};
use crate::audit::{AuditEvent, Context};
use crate::client_grant::{ClientGrant, ClientGrantId, SubjectType};
use crate::error::StoreError;
use crate::role::{Permission, Role, RoleId};
use crate::security_event::SecurityReport;
use crate::session::{AccessToken, AuthorizationCode, RefreshToken, Revocations, Session, TokenFamily};
use crate::signing_key::{KeyStatus, SigningKey};
use crate::store::{ClientGrantQuery, Page, Store, UserEventQuery, UserQuery};
use crate::tenant::{NewTenant, TenantId};
use crate::user::{NewUser, User, UserId};

/// Every contract, by name, for the test file to stamp out per backend.
pub const CONTRACTS: &[&str] = &[
    "tenants",
    "users",
    "applications",
    "apis",
    "client_grants",
    "roles",
    "signing_keys",
    "audit_events",
    "transactions",
    "sessions",
    "grants_and_revocations",
    "access_tokens",
    "throttle",
    "replay",
    "consents",
    "connectors",
    "pending_verifications",
    "method_lists",
    "verification_records",
    "tenant_settings",
    "shown_users",
    "mfa_settings",
    "webauthn_records",
    "upstream_identities",
    "method_cap",
];

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    let id = TenantId::from_stored(format!("ten_{name}"));
    let new = NewTenant {
        id: id.clone(),
        name: name.into(),
        is_default: false,
        canonical_domain: format!("{name}.test"),
        extra_domains: vec![format!("www.{name}.test")],
    };
    store.insert_tenant(&new, 1).await.unwrap();
    id
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, constraint: &str) {
    match r {
        Err(StoreError::Conflict { constraint: c }) => assert_eq!(c, constraint),
        other => panic!("expected conflict {constraint}, got {other:?}"),
    }
}

fn user(id: &str, email: &str, created_at: i64) -> User {
    User {
        email: Some(email.into()),
        name: Some("Ada".into()),
        user_metadata: json!({"theme": "dark"}),
        ..User::new(UserId(id.into()), created_at)
    }
}

fn api(id: &str, identifier: &str, scopes: &[&str]) -> ApiResource {
    ApiResource {
        id: ApiId(id.into()),
        system: None,
        identifier: Some(identifier.into()),
        name: identifier.into(),
        scopes: scopes.iter().map(|s| ApiScope { value: (*s).into(), description: format!("{s} desc") }).collect(),
        signing_alg: "RS256".into(),
        token_lifetime_secs: 3600,
        enforce_policies: true,
        allow_offline_access: false,
        require_dpop: false,
        policy: AccessPolicy { user: PolicyMode::RequireClientGrant, client: PolicyMode::DenyAll },
        created_at: 5,
        updated_at: 5,
    }
}

/// Runs the contract named `name` against `store`.
pub async fn run(name: &str, store: &dyn Store) {
    match name {
        "tenants" => tenants(store).await,
        "users" => users(store).await,
        "applications" => applications(store).await,
        "apis" => apis(store).await,
        "client_grants" => client_grants(store).await,
        "roles" => roles(store).await,
        "signing_keys" => signing_keys(store).await,
        "audit_events" => audit_events(store).await,
        "transactions" => transactions(store).await,
        "sessions" => sessions(store).await,
        "grants_and_revocations" => grants_and_revocations(store).await,
        "access_tokens" => access_tokens(store).await,
        "throttle" => throttle(store).await,
        "replay" => replay(store).await,
        "consents" => consents(store).await,
        "connectors" => connectors(store).await,
        "pending_verifications" => pending_verifications(store).await,
        "method_lists" => method_lists(store).await,
        "verification_records" => verification_records(store).await,
        "tenant_settings" => tenant_settings(store).await,
        "shown_users" => shown_users(store).await,
        "mfa_settings" => mfa_settings(store).await,
        "webauthn_records" => webauthn_records(store).await,
        "upstream_identities" => upstream_identities(store).await,
        "method_cap" => method_cap(store).await,
        other => panic!("unknown contract {other}"),
    }
}

/// Tenants resolve by any of their domains; domains are unique across tenants.
pub async fn tenants(s: &dyn Store) {
    assert!(s.list_tenants().await.unwrap().is_empty());
    let a = tenant(s, "a").await;
    let found = s.find_tenant_by_host("www.a.test").await.unwrap().unwrap();
    assert_eq!(found.id, a);
    assert_eq!(found.name, "a");
    assert!(s.find_tenant_by_host("nowhere.test").await.unwrap().is_none());
    assert_eq!(s.find_tenant(&a).await.unwrap().unwrap().id, a);

    // A tenant whose domain is taken is not created at all.
    let clash = NewTenant {
        id: TenantId::from_stored("ten_b".into()),
        name: "b".into(),
        is_default: false,
        canonical_domain: "b.test".into(),
        extra_domains: vec!["a.test".into()],
    };
    assert_conflict(s.insert_tenant(&clash, 2).await, "domains_host");
    assert!(s.find_tenant(&TenantId::from_stored("ten_b".into())).await.unwrap().is_none());
    assert!(s.find_tenant_by_host("b.test").await.unwrap().is_none(), "half-written tenant");
    let dup = NewTenant { canonical_domain: "c.test".into(), extra_domains: vec![], ..clash.clone() };
    s.insert_tenant(&dup, 2).await.unwrap();
    assert_conflict(s.insert_tenant(&NewTenant { canonical_domain: "d.test".into(), ..dup }, 3).await, "tenants_id");

    s.insert_domain(&a, "login.a.test", false, 4).await.unwrap();
    assert_conflict(s.insert_domain(&a, "c.test", false, 4).await, "domains_host");
    let hosts: Vec<_> = s.list_domains(&a).await.unwrap().into_iter().map(|d| (d.host, d.is_canonical)).collect();
    assert_eq!(hosts, [("a.test".into(), true), ("www.a.test".into(), false), ("login.a.test".into(), false)]);
    // Another tenant cannot remove a's domain; the canonical one cannot be removed.
    let b = TenantId::from_stored("ten_b".into());
    assert!(!s.delete_domain(&b, "login.a.test").await.unwrap());
    assert!(!s.delete_domain(&a, "a.test").await.unwrap());
    assert!(s.delete_domain(&a, "login.a.test").await.unwrap());
    assert_eq!(s.list_tenants().await.unwrap().len(), 2);
}

/// Users: unique email/username/phone per tenant, paging, passwords, isolation.
pub async fn users(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let ada = user("auth0|1", "ada@example.com", 10);
    s.insert_user(&a, &NewUser { user: ada.clone(), password_hash: Some("$argon2id$x".into()) }).await.unwrap();
    assert_eq!(s.find_user(&a, &ada.id).await.unwrap().unwrap(), ada);
    assert!(s.find_user(&a, &UserId("auth0|none".into())).await.unwrap().is_none());
    // The same email in the same tenant conflicts; in another tenant it is a different user.
    assert_conflict(
        s.insert_user(&a, &NewUser { user: user("auth0|2", "ada@example.com", 11), password_hash: None }).await,
        "users_email",
    );
    s.insert_user(&b, &NewUser { user: user("auth0|1", "ada@example.com", 11), password_hash: None }).await.unwrap();
    let mut u3 = user("auth0|3", "bob@example.com", 12);
    u3.username = Some("bob".into());
    s.insert_user(&a, &NewUser { user: u3.clone(), password_hash: None }).await.unwrap();
    let mut u4 = user("auth0|4", "cy@example.com", 13);
    u4.username = Some("bob".into());
    assert_conflict(s.insert_user(&a, &NewUser { user: u4, password_hash: None }).await, "users_username");

    // Listing is ordered, paged and counted; the email filter is exact.
    let (page, total) = s.list_users(&a, &UserQuery::default(), Page::new(0, 1)).await.unwrap();
    assert_eq!((page.len(), total), (1, 2));
    assert_eq!(page[0].id.0, "auth0|1");
    let (page, _) = s.list_users(&a, &UserQuery::default(), Page::new(1, 1)).await.unwrap();
    assert_eq!(page[0].id.0, "auth0|3");
    let (hits, total) =
        s.list_users(&a, &UserQuery { email: Some("bob@example.com".into()) }, Page::new(0, 10)).await.unwrap();
    assert_eq!((hits.len(), total), (1, 1));

    // Passwords are read only through their own method and belong to their tenant.
    assert_eq!(s.load_password_hash(&a, &ada.id).await.unwrap().as_deref(), Some("$argon2id$x"));
    assert!(s.load_password_hash(&b, &ada.id).await.unwrap().is_none());
    s.set_password_hash(&b, &ada.id, "$argon2id$b", 20).await.unwrap();
    s.set_password_hash(&a, &ada.id, "$argon2id$y", 20).await.unwrap();
    assert_eq!(s.load_password_hash(&a, &ada.id).await.unwrap().as_deref(), Some("$argon2id$y"));
    assert_eq!(s.load_password_hash(&b, &ada.id).await.unwrap().as_deref(), Some("$argon2id$b"));

    // Updates replace every field; conflicts are reported by name.
    let mut changed = ada.clone();
    changed.email = Some("ada@new.example".into());
    changed.user_metadata = json!({"k": [1, 2]});
    changed.logins_count = 3;
    assert!(s.update_user(&a, &changed).await.unwrap());
    assert_eq!(s.find_user(&a, &ada.id).await.unwrap().unwrap(), changed);
    changed.email = Some("bob@example.com".into());
    assert_conflict(s.update_user(&a, &changed).await, "users_email");

    // Deleting from another tenant touches nothing; deleting removes the password too.
    assert!(!s.delete_user(&b, &u3.id).await.unwrap());
    assert!(s.find_user(&a, &u3.id).await.unwrap().is_some());
    assert!(s.delete_user(&a, &ada.id).await.unwrap());
    assert!(s.find_user(&a, &ada.id).await.unwrap().is_none());
    assert!(s.load_password_hash(&a, &ada.id).await.unwrap().is_none());
    assert!(s.find_user(&b, &UserId("auth0|1".into())).await.unwrap().is_some());
}

/// Applications round-trip every field and stay in their tenant.
pub async fn applications(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let fields = ApplicationFields {
        name: Some("Web".into()),
        app_type: Some(AppType::Spa),
        callbacks: Some(vec!["https://app.test/cb".into()]),
        web_origins: Some(vec!["https://app.test".into()]),
        cross_origin_authentication: Some(true),
        ..Default::default()
    };
    let (app, _) = new_application(fields, 10).unwrap();
    s.insert_application(&a, &app).await.unwrap();
    assert_eq!(s.find_application(&a, &app.client_id).await.unwrap().unwrap(), app);
    assert!(s.find_application(&b, &app.client_id).await.unwrap().is_none());
    assert_conflict(s.insert_application(&a, &app).await, "applications_client_id");

    let (m2m, _) = new_application(
        ApplicationFields { name: Some("M2M".into()), app_type: Some(AppType::NonInteractive), ..Default::default() },
        11,
    )
    .unwrap();
    s.insert_application(&a, &m2m).await.unwrap();
    let (list, total) = s.list_applications(&a, Page::new(0, 10)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(list.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["Web", "M2M"]);
    assert_eq!(s.list_applications(&b, Page::new(0, 10)).await.unwrap().1, 0);

    let mut changed = app.clone();
    changed.name = "Web 2".into();
    changed.allowed_origins = vec!["https://other.test".into()];
    assert!(!s.update_application(&b, &changed).await.unwrap());
    assert!(s.update_application(&a, &changed).await.unwrap());
    assert_eq!(s.find_application(&a, &app.client_id).await.unwrap().unwrap(), changed);
    assert!(!s.delete_application(&b, &app.client_id).await.unwrap());
    assert!(s.delete_application(&a, &app.client_id).await.unwrap());
    assert!(s.find_application(&a, &app.client_id).await.unwrap().is_none());
}

/// APIs: scopes kept in order, identifiers unique per tenant, built-ins found by kind.
pub async fn apis(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let me = ApiResource::system(SystemApi::MyAccount, 1);
    s.insert_api(&a, &me).await.unwrap();
    let orders = api("api1", "https://orders.test", &["write:orders", "read:orders"]);
    s.insert_api(&a, &orders).await.unwrap();
    assert_eq!(s.find_api(&a, &orders.id).await.unwrap().unwrap(), orders);
    assert_eq!(s.find_api_by_identifier(&a, "https://orders.test").await.unwrap().unwrap(), orders);
    assert!(s.find_api_by_identifier(&b, "https://orders.test").await.unwrap().is_none());
    assert_eq!(s.find_system_api(&a, SystemApi::MyAccount).await.unwrap().unwrap(), me);
    assert!(s.find_system_api(&b, SystemApi::MyAccount).await.unwrap().is_none());
    assert_conflict(s.insert_api(&a, &api("api2", "https://orders.test", &[])).await, "api_resources_identifier");
    s.insert_api(&b, &api("api2", "https://orders.test", &[])).await.unwrap();

    let (list, total) = s.list_apis(&a, Page::new(0, 10)).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(list[0].system, Some(SystemApi::MyAccount), "built-in APIs list first");
    assert_eq!(list[1], orders);

    let mut changed = orders.clone();
    changed.scopes = vec![ApiScope { value: "read:orders".into(), description: "new".into() }];
    changed.policy.user = PolicyMode::AllowAll;
    changed.token_lifetime_secs = 60;
    assert!(!s.update_api(&b, &changed).await.unwrap());
    assert!(s.update_api(&a, &changed).await.unwrap());
    assert_eq!(s.find_api(&a, &orders.id).await.unwrap().unwrap(), changed);
    assert!(!s.delete_api(&b, &orders.id).await.unwrap());
    assert!(s.delete_api(&a, &orders.id).await.unwrap());
    assert!(s.find_api(&a, &orders.id).await.unwrap().is_none());
}

/// Client grants: one per client, API and subject type; they go with their client or API.
pub async fn client_grants(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let (app, _) = new_application(ApplicationFields { name: Some("x".into()), ..Default::default() }, 1).unwrap();
    s.insert_application(&a, &app).await.unwrap();
    let orders = api("api1", "https://orders.test", &["read:orders", "write:orders"]);
    s.insert_api(&a, &orders).await.unwrap();
    let grant = ClientGrant {
        id: ClientGrantId("cgr_1".into()),
        client_id: app.client_id.clone(),
        api_id: orders.id.clone(),
        subject_type: SubjectType::User,
        scopes: vec!["read:orders".into()],
        created_at: 2,
    };
    s.insert_client_grant(&a, &grant).await.unwrap();
    assert_eq!(s.find_client_grant(&a, &grant.id).await.unwrap().unwrap(), grant);
    assert!(s.find_client_grant(&b, &grant.id).await.unwrap().is_none());
    assert_eq!(
        s.find_client_grant_for(&a, &app.client_id, &orders.id, SubjectType::User).await.unwrap().unwrap(),
        grant
    );
    assert!(s.find_client_grant_for(&a, &app.client_id, &orders.id, SubjectType::Client).await.unwrap().is_none());
    let dup = ClientGrant { id: ClientGrantId("cgr_2".into()), ..grant.clone() };
    assert_conflict(s.insert_client_grant(&a, &dup).await, "client_grants_client_id_api_id_subject_type");
    // A grant cannot point at a client of another tenant.
    assert!(s.insert_client_grant(&b, &dup).await.is_err());
    let client = ClientGrant { id: ClientGrantId("cgr_3".into()), subject_type: SubjectType::Client, ..grant.clone() };
    s.insert_client_grant(&a, &client).await.unwrap();

    let q = ClientGrantQuery { client_id: Some(app.client_id.clone()), api_id: None };
    assert_eq!(s.list_client_grants(&a, &q, Page::new(0, 10)).await.unwrap().1, 2);
    let q = ClientGrantQuery { client_id: None, api_id: Some(ApiId("other".into())) };
    assert_eq!(s.list_client_grants(&a, &q, Page::new(0, 10)).await.unwrap().1, 0);
    assert_eq!(s.list_client_grants(&b, &ClientGrantQuery::default(), Page::new(0, 10)).await.unwrap().1, 0);

    let scopes = vec!["read:orders".to_string(), "write:orders".to_string()];
    assert!(!s.update_client_grant_scopes(&b, &grant.id, &scopes).await.unwrap());
    assert!(s.update_client_grant_scopes(&a, &grant.id, &scopes).await.unwrap());
    assert_eq!(s.find_client_grant(&a, &grant.id).await.unwrap().unwrap().scopes, scopes);
    assert!(!s.delete_client_grant(&b, &grant.id).await.unwrap());
    assert!(s.delete_client_grant(&a, &grant.id).await.unwrap());
    // Deleting the client deletes its remaining grants.
    s.delete_application(&a, &app.client_id).await.unwrap();
    assert!(s.find_client_grant(&a, &client.id).await.unwrap().is_none());
}

/// Roles: permissions are scopes of APIs; assignments give users those scopes.
pub async fn roles(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let orders = api("api1", "https://orders.test", &["read:orders", "write:orders"]);
    s.insert_api(&a, &orders).await.unwrap();
    let ada = user("auth0|1", "ada@example.com", 1);
    s.insert_user(&a, &NewUser { user: ada.clone(), password_hash: None }).await.unwrap();
    let role = Role {
        id: RoleId("rol_1".into()),
        name: "admin".into(),
        description: "d".into(),
        created_at: 1,
        updated_at: 1,
    };
    s.insert_role(&a, &role).await.unwrap();
    assert_eq!(s.find_role(&a, &role.id).await.unwrap().unwrap(), role);
    assert!(s.find_role(&b, &role.id).await.unwrap().is_none());
    assert_conflict(s.insert_role(&a, &Role { id: RoleId("rol_2".into()), ..role.clone() }).await, "roles_name");
    s.insert_role(&b, &role).await.unwrap();

    let read = Permission { api_id: orders.id.clone(), permission_name: "read:orders".into() };
    let write = Permission { api_id: orders.id.clone(), permission_name: "write:orders".into() };
    s.add_role_permissions(&a, &role.id, &[read.clone(), write.clone()]).await.unwrap();
    s.add_role_permissions(&a, &role.id, std::slice::from_ref(&read)).await.unwrap(); // idempotent
    assert_eq!(s.list_role_permissions(&a, &role.id).await.unwrap(), [read.clone(), write.clone()]);
    assert!(s.list_role_permissions(&b, &role.id).await.unwrap().is_empty());
    // A permission must be a scope of the API.
    let bogus = Permission { api_id: orders.id.clone(), permission_name: "nope".into() };
    assert!(s.add_role_permissions(&a, &role.id, &[bogus]).await.is_err());
    assert_eq!(s.list_role_permissions(&a, &role.id).await.unwrap().len(), 2);

    s.assign_user_roles(&a, &ada.id, std::slice::from_ref(&role.id)).await.unwrap();
    s.assign_user_roles(&a, &ada.id, std::slice::from_ref(&role.id)).await.unwrap();
    assert_eq!(s.list_user_roles(&a, &ada.id).await.unwrap(), std::slice::from_ref(&role));
    assert_eq!(s.list_role_users(&a, &role.id, Page::new(0, 10)).await.unwrap(), std::slice::from_ref(&ada.id));
    assert_eq!(s.list_user_permissions(&a, &ada.id, &orders.id).await.unwrap(), ["read:orders", "write:orders"]);
    // A user of tenant a cannot be given a role through tenant b.
    assert!(s.assign_user_roles(&b, &ada.id, std::slice::from_ref(&role.id)).await.is_err());

    // Removing a scope from the API removes it from roles.
    let mut narrowed = orders.clone();
    narrowed.scopes.retain(|x| x.value == "read:orders");
    s.update_api(&a, &narrowed).await.unwrap();
    assert_eq!(s.list_user_permissions(&a, &ada.id, &orders.id).await.unwrap(), ["read:orders"]);

    s.remove_role_permissions(&a, &role.id, &[read]).await.unwrap();
    assert!(s.list_user_permissions(&a, &ada.id, &orders.id).await.unwrap().is_empty());
    let renamed = Role { name: "owner".into(), updated_at: 2, ..role.clone() };
    assert!(s.update_role(&a, &renamed).await.unwrap());
    assert_eq!(s.find_role(&a, &role.id).await.unwrap().unwrap(), renamed);
    s.remove_user_roles(&a, &ada.id, std::slice::from_ref(&role.id)).await.unwrap();
    assert!(s.list_user_roles(&a, &ada.id).await.unwrap().is_empty());
    assert!(s.delete_role(&a, &role.id).await.unwrap());
    assert!(s.find_role(&b, &role.id).await.unwrap().is_some());
    let (_, total) = s.list_roles(&a, Page::new(0, 10)).await.unwrap();
    assert_eq!(total, 0);
}

/// Signing keys stay published until `publish_until`.
pub async fn signing_keys(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let key = |kid: &str, at: i64| SigningKey {
        kid: kid.into(),
        alg: "RS256".into(),
        status: KeyStatus::Active,
        private_key_sealed: "v1.sealed".into(),
        public_jwk: "{}".into(),
        created_at: at,
        retired_at: None,
        publish_until: None,
    };
    s.insert_signing_key(&a, &key("k1", 1)).await.unwrap();
    s.insert_signing_key(&a, &key("k2", 2)).await.unwrap();
    assert!(s.list_signing_keys(&b, 0).await.unwrap().is_empty());
    assert!(!s.retire_signing_key(&b, "k1", 3, 100).await.unwrap());
    assert!(s.retire_signing_key(&a, "k1", 3, 100).await.unwrap());
    let keys = s.list_signing_keys(&a, 50).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.kid.as_str(), k.status)).collect::<Vec<_>>(),
        [("k2", KeyStatus::Active), ("k1", KeyStatus::Retired)]
    );
    assert_eq!(keys[1].publish_until, Some(100));
    assert_eq!(s.list_signing_keys(&a, 100).await.unwrap().len(), 1, "expired key still published");
}

/// Audit events list newest first, per tenant.
pub async fn audit_events(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let ctx = Context::cli();
    let e1 = AuditEvent::success(&ctx, "user.create", "user", "auth0|1", json!({}));
    std::thread::sleep(std::time::Duration::from_millis(2));
    let e2 = AuditEvent::success(&ctx, "user.delete", "user", "auth0|1", json!({"changed": ["email"]}));
    s.insert_audit_event(&a, &e1).await.unwrap();
    s.insert_audit_event(&a, &e2).await.unwrap();
    assert_eq!(s.list_audit_events(&a, Page::new(0, 10)).await.unwrap(), [e2.clone(), e1]);
    assert_eq!(s.list_audit_events(&a, Page::new(0, 1)).await.unwrap(), [e2]);
    assert!(s.list_audit_events(&b, Page::new(0, 10)).await.unwrap().is_empty());

    // One user's events, by action, newest first; keyset and offset paging; counted alike.
    let ada = UserId("auth0|ada".into());
    let mut written = Vec::new();
    for (i, (action, target)) in [
        ("user.sign_in", "auth0|ada"),
        ("user.sign_in", "auth0|bob"),
        ("account.password.update", "auth0|ada"),
        ("user.assign_roles", "auth0|ada"),
        ("user.sign_in", "auth0|ada"),
    ]
    .into_iter()
    .enumerate()
    {
        let e = AuditEvent::success(&ctx, action, "user", target, json!({"n": i}));
        s.insert_audit_event(&a, &e).await.unwrap();
        written.push(e);
    }
    s.insert_audit_event(&b, &AuditEvent::success(&ctx, "user.sign_in", "user", "auth0|ada", json!({}))).await.unwrap();
    // An event about one of the user's things, naming the user in its detail, concerns the user.
    let method = AuditEvent::success(
        &ctx,
        "account.password.update",
        "authentication_method",
        "m1",
        json!({"n": 5, "user_id": "auth0|ada"}),
    );
    s.insert_audit_event(&a, &method).await.unwrap();
    written.push(method);
    let actions = ["user.sign_in", "account.password.update"];
    let q = UserEventQuery { user: &ada, actions: &actions, before: None };
    let n = |events: Vec<AuditEvent>| events.iter().map(|e| e.detail["n"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(n(s.list_user_events(&a, q, Page::new(0, 10)).await.unwrap()), [5, 4, 2, 0]);
    assert_eq!(s.count_user_events(&a, q).await.unwrap(), 4);
    assert_eq!(n(s.list_user_events(&a, q, Page { offset: 2, limit: 1 }).await.unwrap()), [2]);
    let older = UserEventQuery { before: Some(&written[4].id), ..q };
    assert_eq!(n(s.list_user_events(&a, older, Page::new(0, 10)).await.unwrap()), [2, 0]);
    assert_eq!(s.count_user_events(&a, older).await.unwrap(), 2);
    let none = UserEventQuery { actions: &[], ..q };
    assert!(s.list_user_events(&a, none, Page::new(0, 10)).await.unwrap().is_empty());
    assert_eq!(s.count_user_events(&b, q).await.unwrap(), 1, "per tenant");
    assert_eq!(s.find_audit_event(&a, &written[2].id).await.unwrap().as_ref(), Some(&written[2]));
    assert!(s.find_audit_event(&b, &written[2].id).await.unwrap().is_none(), "per tenant");

    // Reports: one per event, newest first with their count, gone with their user.
    s.insert_user(&a, &NewUser { user: user("auth0|ada", "ada@example.com", 1), password_hash: None }).await.unwrap();
    let report = |id: &str, event: &str, at: i64| SecurityReport {
        id: id.into(),
        user_id: "auth0|ada".into(),
        event_id: event.into(),
        event_type: "signed_in".into(),
        reported_at: at,
        ip: Some("192.0.2.1".into()),
        user_agent: None,
        sessions_ended: 2,
        grants_revoked: 1,
        password_replaced: true,
    };
    s.insert_security_report(&a, &report("r1", &written[0].id, 10)).await.unwrap();
    s.insert_security_report(&a, &report("r2", &written[4].id, 20)).await.unwrap();
    assert_conflict(s.insert_security_report(&a, &report("r3", &written[0].id, 30)).await, "security_reports_event_id");
    let (listed, total) = s.list_security_reports(&a, Page::new(0, 10)).await.unwrap();
    assert_eq!((listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), total), (vec!["r2", "r1"], 2));
    assert_eq!(listed[1], report("r1", &written[0].id, 10));
    assert_eq!(s.list_security_reports(&b, Page::new(0, 10)).await.unwrap().1, 0, "per tenant");
    // A withdrawn report frees its event.
    assert!(!s.delete_security_report(&b, "r2").await.unwrap(), "per tenant");
    assert!(s.delete_security_report(&a, "r2").await.unwrap());
    s.insert_security_report(&a, &report("r4", &written[4].id, 40)).await.unwrap();
    s.delete_user(&a, &ada).await.unwrap();
    assert_eq!(s.list_security_reports(&a, Page::new(0, 10)).await.unwrap().1, 0, "gone with the user");
}

/// Transactions: commit keeps, drop rolls back, concurrent writers all succeed.
pub async fn transactions(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let tx = s.begin().await.unwrap();
    tx.insert_user(&a, &NewUser { user: user("auth0|1", "one@example.com", 1), password_hash: None }).await.unwrap();
    // Reads inside the transaction see its writes.
    assert!(tx.find_user(&a, &UserId("auth0|1".into())).await.unwrap().is_some());
    drop(tx);
    assert!(s.find_user(&a, &UserId("auth0|1".into())).await.unwrap().is_none(), "dropped tx was kept");

    let tx = s.begin().await.unwrap();
    tx.insert_user(&a, &NewUser { user: user("auth0|2", "two@example.com", 2), password_hash: None }).await.unwrap();
    // A failing multi-row write inside a transaction undoes only itself (savepoint).
    let clash = NewUser { user: user("auth0|2", "three@example.com", 3), password_hash: Some("h".into()) };
    assert!(tx.insert_user(&a, &clash).await.is_err());
    tx.commit().await.unwrap();
    assert!(s.find_user(&a, &UserId("auth0|2".into())).await.unwrap().is_some());

    // Concurrent write transactions wait for each other rather than fail.
    let a = &a;
    let mut tasks = Vec::new();
    for i in 0..8 {
        tasks.push(async move {
            let tx = s.begin().await?;
            let u = user(&format!("auth0|c{i}"), &format!("c{i}@example.com"), 10 + i);
            tx.insert_user(a, &NewUser { user: u, password_hash: None }).await?;
            tx.commit().await
        });
    }
    for r in futures_join_all(tasks).await {
        r.unwrap();
    }
    assert_eq!(s.list_users(a, &UserQuery::default(), Page::new(0, 100)).await.unwrap().1, 9);
}

/// Polls futures concurrently on the current task (no extra dependency for a join).
async fn futures_join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

/// Sessions end with their refresh tokens; codes are single-use under a race; refresh tokens
/// rotate once and a family is revoked together.
pub async fn sessions(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    s.insert_user(&a, &NewUser { user: user("auth0|1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    let session = Session {
        id: "sid1".into(),
        user_id: "auth0|1".into(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: None,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
        created_at: 1_000,
        expires_at: 10_000,
        revoked_at: None,
        last_seen_at: Some(1_000),
    };
    s.insert_session(&a, &session, "hash1").await.unwrap();
    assert_eq!(s.find_session_by_secret(&a, "hash1", 5_000).await.unwrap().unwrap(), session);
    assert!(s.find_session_by_secret(&a, "hash1", 10_000).await.unwrap().is_none(), "expired session found");
    assert!(s.find_session_by_secret(&b, "hash1", 5_000).await.unwrap().is_none(), "session crossed tenants");

    let code = AuthorizationCode {
        code_hash: "c1".into(),
        client_id: "client".into(),
        user_id: "auth0|1".into(),
        session_id: "sid1".into(),
        redirect_uri: "https://app.test/cb".into(),
        scope: "openid profile".into(),
        audience: Some("https://api.test".into()),
        nonce: Some("n".into()),
        code_challenge: "challenge".into(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: 1_000,
        expires_at: 2_000,
        grant_id: Some("g1".into()),
        family_id: Some("fam1".into()),
    };
    s.insert_authorization_code(&a, &code).await.unwrap();
    assert!(s.consume_authorization_code(&b, "c1", 1_500).await.unwrap().is_none());
    // Eight concurrent exchanges of one code: exactly one is first.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(s.consume_authorization_code(&a, "c1", 1_500));
    }
    let results: Vec<_> = futures_join_all(tasks).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    assert_eq!(results.iter().filter(|(_, first)| *first).count(), 1);
    assert!(results.iter().all(|(c, _)| *c == code));
    assert!(s.consume_authorization_code(&a, "missing", 1_500).await.unwrap().is_none());

    let token = |id: &str, family: &str| RefreshToken {
        id: id.into(),
        token_hash: format!("h-{id}"),
        family_id: family.into(),
        client_id: "client".into(),
        user_id: "auth0|1".into(),
        session_id: "sid1".into(),
        scope: "openid offline_access".into(),
        audience: None,
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: 1_000,
        expires_at: 100_000,
        rotated_at: None,
        revoked_at: None,
        dpop_jkt: Some("jkt".into()),
    };
    s.insert_refresh_token(&a, &token("r1", "f1")).await.unwrap();
    s.insert_refresh_token(&a, &token("r2", "f1")).await.unwrap();
    s.insert_refresh_token(&a, &token("r3", "f2")).await.unwrap();
    assert_eq!(s.find_refresh_token(&a, "h-r1").await.unwrap().unwrap(), token("r1", "f1"));
    assert!(s.find_refresh_token(&b, "h-r1").await.unwrap().is_none());
    let r1 = token("r1", "f1");
    assert!(!s.rotate_refresh_token(&b, &r1, 2_000, Some(&token("x1", "f1"))).await.unwrap());
    assert!(s.find_refresh_token(&b, "h-x1").await.unwrap().is_none(), "a refused rotation stored its successor");
    // Eight parallel rotations of one token: exactly one succeeds, and only its successor is stored.
    let successors: Vec<RefreshToken> = (0..8).map(|i| token(&format!("r1-{i}"), "f1")).collect();
    let tasks: Vec<_> = successors.iter().map(|next| s.rotate_refresh_token(&a, &r1, 2_000, Some(next))).collect();
    let won: Vec<bool> = futures_join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    for (next, won) in successors.iter().zip(&won) {
        let stored = s.find_refresh_token(&a, &next.token_hash).await.unwrap();
        assert_eq!(stored.as_ref(), won.then_some(next), "successor {} of a {} rotation", next.id, won);
    }
    assert_eq!(s.find_session(&a, "sid1").await.unwrap().unwrap().last_seen_at, Some(2_000), "session not seen");
    assert!(!s.rotate_refresh_token(&a, &r1, 2_001, None).await.unwrap(), "rotated twice");
    assert_eq!(s.find_refresh_token(&a, "h-r1").await.unwrap().unwrap().rotated_at, Some(2_000));
    let ada = UserId("auth0|1".into());
    assert_eq!(s.revoke_refresh_family(&b, &ada, "f1", 3_000).await.unwrap(), 0);
    assert_eq!(s.revoke_refresh_family(&a, &ada, "f1", 3_000).await.unwrap(), 3, "r1, r2 and r1's successor");
    let r2 = token("r2", "f1");
    assert!(!s.rotate_refresh_token(&a, &r2, 3_001, Some(&token("x2", "f1"))).await.unwrap(), "revoked token rotated");
    assert!(s.find_refresh_token(&a, "h-x2").await.unwrap().is_none());
    assert!(s.find_refresh_token(&a, "h-r3").await.unwrap().unwrap().revoked_at.is_none(), "other family touched");

    // Ending the session revokes the rest of its refresh tokens.
    assert!(!s.revoke_session(&b, &ada, "sid1", 4_000).await.unwrap());
    assert!(s.revoke_session(&a, &ada, "sid1", 4_000).await.unwrap());
    assert!(s.find_session_by_secret(&a, "hash1", 5_000).await.unwrap().is_none());
    assert_eq!(s.find_refresh_token(&a, "h-r3").await.unwrap().unwrap().revoked_at, Some(4_000));
}

/// Grants are one live per (user, application), even under a race; token families end with
/// their session, their grant or on their own, taking their refresh and opaque access tokens with
/// them; the revocation view shows every ending at once (it is cached outside transactions) and
/// stays per user and per tenant.
pub async fn grants_and_revocations(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let ada = UserId("auth0|1".into());
    let bob = UserId("auth0|2".into());
    for t in [&a, &b] {
        s.insert_user(t, &NewUser { user: user("auth0|1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    }
    s.insert_user(&a, &NewUser { user: user("auth0|2", "bob@example.com", 1), password_hash: None }).await.unwrap();
    let session = |id: &str, user: &UserId| Session {
        id: id.into(),
        user_id: user.0.clone(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: None,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
        created_at: 1_000,
        expires_at: 1_000_000,
        revoked_at: None,
        last_seen_at: None,
    };
    for (sid, who) in [("s1", &ada), ("s2", &ada), ("s3", &ada), ("sb", &bob)] {
        s.insert_session(&a, &session(sid, who), &format!("secret-{sid}")).await.unwrap();
    }
    s.insert_session(&b, &session("s1", &ada), "secret-b-s1").await.unwrap();

    // One live grant per (user, application), whoever asks first.
    let g1 = s.upsert_grant(&a, &ada, "app1", "g1", 1_000, 500_000).await.unwrap();
    assert_eq!(g1, "g1");
    assert_eq!(s.upsert_grant(&a, &ada, "app1", "other", 2_000, 600_000).await.unwrap(), "g1");
    let ids: Vec<String> = (0..8).map(|i| format!("race{i}")).collect();
    let racers: Vec<String> =
        futures_join_all(ids.iter().map(|id| s.upsert_grant(&a, &ada, "app2", id, 2_000, 600_000)).collect())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    assert!(racers.iter().all(|g| *g == racers[0]), "parallel first sign-ins made two grants: {racers:?}");
    let g2 = racers[0].clone();
    assert_eq!(s.upsert_grant(&a, &bob, "app1", "gb", 2_000, 600_000).await.unwrap(), "gb", "grants crossed users");
    let grants = s.list_user_grants(&a, &ada, 3_000).await.unwrap();
    assert_eq!(grants.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["g1", g2.as_str()]);
    assert_eq!((grants[0].created_at, grants[0].updated_at, grants[0].expires_at), (1_000, 2_000, 600_000));
    assert!(s.list_user_grants(&a, &ada, 600_000).await.unwrap().is_empty(), "lapsed grants listed");

    let family = |id: &str, sid: &str, grant: &str, client: &str| TokenFamily {
        id: id.into(),
        user_id: ada.0.clone(),
        client_id: client.into(),
        session_id: sid.into(),
        grant_id: grant.into(),
        scope: "openid offline_access".into(),
        created_at: 2_000,
        revoked_at: None,
    };
    s.insert_token_family(&a, &family("f1", "s1", "g1", "app1")).await.unwrap();
    s.insert_token_family(&a, &family("f2", "s2", "g1", "app1")).await.unwrap();
    s.insert_token_family(&a, &family("f3", "s2", &g2, "app2")).await.unwrap();
    s.insert_token_family(&a, &family("f4", "s3", &g2, "app2")).await.unwrap();
    assert_conflict(s.insert_token_family(&a, &family("f1", "s1", "g1", "app1")).await, "token_families_id");
    let refresh = |id: &str, family: &str| RefreshToken {
        id: id.into(),
        token_hash: format!("h-{id}"),
        family_id: family.into(),
        client_id: "app1".into(),
        user_id: ada.0.clone(),
        session_id: "s1".into(),
        scope: "openid offline_access".into(),
        audience: None,
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: None,
        created_at: 2_000,
        expires_at: 1_000_000,
        rotated_at: None,
        revoked_at: None,
        dpop_jkt: None,
    };
    for (r, f) in [("r1", "f1"), ("r2", "f2"), ("r3", "f3"), ("r4", "f4")] {
        s.insert_refresh_token(&a, &refresh(r, f)).await.unwrap();
    }
    let opaque = |hash: &str, sid: &str, family: &str| AccessToken {
        token_hash: hash.into(),
        client_id: "app1".into(),
        user_id: ada.0.clone(),
        session_id: sid.into(),
        scope: "openid".into(),
        auth_time: 100,
        amr: vec![],
        acr: None,
        dpop_jkt: None,
        created_at: 2_000,
        expires_at: 900_000,
        family_id: Some(family.into()),
    };
    s.insert_access_token(&a, &opaque("o1", "s1", "f1")).await.unwrap();
    s.insert_access_token(&a, &opaque("o4", "s3", "f4")).await.unwrap();
    async fn is_live(s: &dyn Store, t: &TenantId, r: &str) -> bool {
        s.find_refresh_token(t, &format!("h-{r}")).await.unwrap().unwrap().revoked_at.is_none()
    }
    async fn view(s: &dyn Store, t: &TenantId, u: &UserId) -> std::sync::Arc<Revocations> {
        s.find_revocations(t, u, 0).await.unwrap()
    }
    let names = |set: &std::collections::HashSet<String>| {
        let mut v: Vec<String> = set.iter().cloned().collect();
        v.sort();
        v
    };
    assert_eq!(*view(s, &a, &ada).await, Revocations::default());
    let mut families: Vec<String> = s.list_user_families(&a, &ada).await.unwrap().into_iter().map(|f| f.id).collect();
    families.sort();
    assert_eq!(families, ["f1", "f2", "f3", "f4"]);

    // A family on its own (reuse detection, RFC 7009): its tokens, nothing else.
    assert_eq!(s.revoke_refresh_family(&b, &ada, "f1", 3_000).await.unwrap(), 0, "revocation crossed tenants");
    assert_eq!(s.revoke_refresh_family(&a, &ada, "f1", 3_000).await.unwrap(), 1);
    assert!(!is_live(s, &a, "r1").await && is_live(s, &a, "r2").await);
    assert!(s.find_access_token(&a, "o1", 3_500).await.unwrap().is_none(), "the family's opaque token outlived it");
    assert_eq!(names(&view(s, &a, &ada).await.families), ["f1"]);
    assert!(
        !view(s, &a, &ada).await.allows(Some("s1"), Some("f1"))
            && view(s, &a, &ada).await.allows(Some("s1"), Some("f2"))
    );

    // A session: its families and their tokens; the view shows it at once.
    assert!(s.find_session(&a, "s2").await.unwrap().unwrap().revoked_at.is_none());
    assert!(s.revoke_session(&a, &ada, "s2", 4_000).await.unwrap());
    assert!(!s.revoke_session(&a, &ada, "s2", 4_001).await.unwrap(), "ended twice");
    assert_eq!(s.find_session(&a, "s2").await.unwrap().unwrap().revoked_at, Some(4_000));
    assert!(!is_live(s, &a, "r2").await && !is_live(s, &a, "r3").await && is_live(s, &a, "r4").await);
    let seen = view(s, &a, &ada).await;
    assert_eq!(names(&seen.sessions), ["s2"]);
    assert_eq!(names(&seen.families), ["f1", "f2", "f3"]);
    let listed: Vec<String> = s.list_user_sessions(&a, &ada, 5_000).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&"s2".to_string()), "an ended session is listed");
    assert!(s.list_user_sessions(&a, &ada, 1_000_000).await.unwrap().is_empty(), "expired sessions listed");
    s.touch_session(&a, "s3", 4_500).await.unwrap();
    assert_eq!(s.find_session(&a, "s3").await.unwrap().unwrap().last_seen_at, Some(4_500));

    // A grant: every family it owns, in any session; the next sign-in starts a new grant.
    assert!(!s.revoke_grant(&a, &bob, &g2, 5_000).await.unwrap(), "another user's grant revoked");
    assert!(s.revoke_grant(&a, &ada, &g2, 5_000).await.unwrap());
    assert!(!s.revoke_grant(&a, &ada, &g2, 5_001).await.unwrap(), "revoked twice");
    assert!(!is_live(s, &a, "r4").await);
    assert!(s.find_access_token(&a, "o4", 5_500).await.unwrap().is_none());
    assert_eq!(names(&view(s, &a, &ada).await.families), ["f1", "f2", "f3", "f4"]);
    assert_eq!(
        s.list_user_grants(&a, &ada, 5_000).await.unwrap().iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["g1"]
    );
    let again = s.upsert_grant(&a, &ada, "app2", "g2-new", 6_000, 700_000).await.unwrap();
    assert_eq!(again, "g2-new");

    // Every session but one (a password change's "sign out everywhere else").
    let mut ended = s.revoke_user_sessions(&a, &ada, Some("s3"), 7_000).await.unwrap();
    ended.sort();
    assert_eq!(ended, ["s1"]);
    assert_eq!(
        s.list_user_sessions(&a, &ada, 7_000).await.unwrap().iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        ["s3"]
    );
    assert_eq!(names(&view(s, &a, &ada).await.sessions), ["s1", "s2"]);
    // Per user and per tenant.
    assert_eq!(*s.find_revocations(&a, &bob, 0).await.unwrap(), Revocations::default());
    assert_eq!(*s.find_revocations(&b, &ada, 0).await.unwrap(), Revocations::default());
    assert!(s.list_user_sessions(&a, &bob, 7_000).await.unwrap().len() == 1, "another user's session ended");
    assert!(s.find_session_by_secret(&b, "secret-b-s1", 7_000).await.unwrap().is_some(), "revocation crossed tenants");
    // In a transaction the view reads the transaction's own writes.
    let tx = s.begin().await.unwrap();
    assert!(tx.revoke_session(&a, &ada, "s3", 8_000).await.unwrap());
    assert_eq!(names(&tx.find_revocations(&a, &ada, 0).await.unwrap().sessions), ["s1", "s2", "s3"]);
    tx.commit().await.unwrap();
    assert_eq!(names(&view(s, &a, &ada).await.sessions), ["s1", "s2", "s3"], "a committed revocation is not seen");
}

/// Opaque access tokens: a round trip by hash, invisible once expired, per tenant, deleted on
/// revocation, with their session, and with their user.
pub async fn access_tokens(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    for t in [&a, &b] {
        s.insert_user(t, &NewUser { user: user("auth0|1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    }
    let token = |hash: &str, sid: &str| AccessToken {
        token_hash: hash.into(),
        client_id: "client".into(),
        user_id: "auth0|1".into(),
        session_id: sid.into(),
        scope: "openid profile urn:logto:scope:sessions".into(),
        auth_time: 100,
        amr: vec!["pwd".into(), "otp".into()],
        acr: Some("mfa".into()),
        dpop_jkt: Some("jkt".into()),
        created_at: 1_000,
        expires_at: 10_000,
        family_id: Some("fam1".into()),
    };
    s.insert_access_token(&a, &token("h1", "sid1")).await.unwrap();
    assert_conflict(s.insert_access_token(&a, &token("h1", "sid1")).await, "access_tokens_token_hash");
    let bare = AccessToken { acr: None, dpop_jkt: None, amr: vec![], ..token("h2", "sid2") };
    s.insert_access_token(&a, &bare).await.unwrap();
    assert_eq!(s.find_access_token(&a, "h1", 5_000).await.unwrap().unwrap(), token("h1", "sid1"));
    assert_eq!(s.find_access_token(&a, "h2", 5_000).await.unwrap().unwrap(), bare);
    assert!(s.find_access_token(&a, "h1", 10_000).await.unwrap().is_none(), "expired token found");
    assert!(s.find_access_token(&a, "missing", 5_000).await.unwrap().is_none());
    // Another tenant neither sees nor deletes it, and may hold the same hash.
    assert!(s.find_access_token(&b, "h1", 5_000).await.unwrap().is_none(), "token crossed tenants");
    assert!(!s.delete_access_token(&b, "h1").await.unwrap());
    s.insert_access_token(&b, &token("h1", "sid1")).await.unwrap();
    assert!(s.delete_access_token(&a, "h1").await.unwrap());
    assert!(!s.delete_access_token(&a, "h1").await.unwrap());
    assert!(s.find_access_token(&a, "h1", 5_000).await.unwrap().is_none());
    assert!(s.find_access_token(&b, "h1", 5_000).await.unwrap().is_some(), "deletion crossed tenants");
    // Ending a session deletes its tokens (and no other session's).
    s.insert_access_token(&a, &token("h3", "sid1")).await.unwrap();
    s.revoke_session(&a, &UserId("auth0|1".into()), "sid1", 2_000).await.unwrap();
    assert!(s.find_access_token(&a, "h3", 5_000).await.unwrap().is_none(), "session's token outlived it");
    assert!(s.find_access_token(&a, "h2", 5_000).await.unwrap().is_some());
    assert!(s.find_access_token(&b, "h1", 5_000).await.unwrap().is_some(), "revocation crossed tenants");
    // An insert now and then drops expired rows; a live token survives it.
    s.insert_access_token(&a, &AccessToken { created_at: 20_000, expires_at: 30_000, ..token("0fresh", "sid4") })
        .await
        .unwrap();
    assert!(s.find_access_token(&a, "0fresh", 25_000).await.unwrap().is_some());
    // Deleting the user deletes them.
    assert!(s.delete_user(&b, &UserId("auth0|1".into())).await.unwrap());
    assert!(s.find_access_token(&b, "h1", 5_000).await.unwrap().is_none(), "token outlived its user");
}

/// Attempts are reserved before they are checked: counted within a window, locked at the limit,
/// refused while locked (the refusal changes nothing), cleared by a success, expired, and kept per
/// tenant; a burst of parallel reservations gets exactly the limit. Steady budgets (GCRA) give
/// their burst, then one attempt per interval, and take refunds.
pub async fn throttle(s: &dyn Store) {
    use crate::store::{Attempt, RateRule, ThrottleRule};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let rule = ThrottleRule { max_failures: 3, window_millis: 1_000, lockout_millis: 5_000 };
    let allowed = |n| Attempt::Allowed { number: n };
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 100, &rule).await.unwrap(), allowed(1));
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 200, &rule).await.unwrap(), allowed(2));
    // The third reaches the limit: it may be checked, and it locks the key meanwhile.
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 300, &rule).await.unwrap(), allowed(3));
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 400, &rule).await.unwrap(), Attempt::Refused { until: 5_300 });
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 900, &rule).await.unwrap(), Attempt::Refused { until: 5_300 });
    assert_eq!(s.reserve_attempt(&b, "acct:ada", 400, &rule).await.unwrap(), allowed(1), "lockout crossed tenants");
    // After the lockout a new window starts.
    assert_eq!(s.reserve_attempt(&a, "acct:ada", 5_300, &rule).await.unwrap(), allowed(1), "lockout outlived its end");
    // Attempts outside the window start a new count.
    assert_eq!(s.reserve_attempt(&a, "acct:bob", 100, &rule).await.unwrap(), allowed(1));
    assert_eq!(s.reserve_attempt(&a, "acct:bob", 2_000, &rule).await.unwrap(), allowed(1));
    // A success clears the count and the lock its own reservation set.
    for t in [2_100, 2_200] {
        assert!(matches!(s.reserve_attempt(&a, "acct:bob", t, &rule).await.unwrap(), Attempt::Allowed { .. }));
    }
    assert!(matches!(s.reserve_attempt(&a, "acct:bob", 2_300, &rule).await.unwrap(), Attempt::Refused { .. }));
    s.clear_failures(&a, "acct:bob").await.unwrap();
    assert_eq!(s.reserve_attempt(&a, "acct:bob", 2_400, &rule).await.unwrap(), allowed(1));
    // A burst of 100 parallel reservations on a key with one attempt used: two more, no more.
    s.reserve_attempt(&a, "acct:eve", 10_000, &rule).await.unwrap();
    let burst: Vec<_> = (0..100).map(|_| s.reserve_attempt(&a, "acct:eve", 10_000, &rule)).collect();
    let mut numbers: Vec<i64> = futures_join_all(burst)
        .await
        .into_iter()
        .filter_map(|r| match r.unwrap() {
            Attempt::Allowed { number } => Some(number),
            Attempt::Refused { .. } => None,
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, [2, 3], "a burst got more attempts than the limit");

    // A steady budget: 3 at once, then one per 100 ms; a refund gives one back.
    let rate = RateRule { burst: 3, interval_millis: 100 };
    for _ in 0..3 {
        assert!(matches!(s.reserve_rate(&a, "ip:1.2.3.4", 1_000, &rate).await.unwrap(), Attempt::Allowed { .. }));
    }
    assert_eq!(s.reserve_rate(&a, "ip:1.2.3.4", 1_000, &rate).await.unwrap(), Attempt::Refused { until: 1_100 });
    assert!(matches!(s.reserve_rate(&b, "ip:1.2.3.4", 1_000, &rate).await.unwrap(), Attempt::Allowed { .. }));
    assert!(matches!(s.reserve_rate(&a, "ip:1.2.3.4", 1_100, &rate).await.unwrap(), Attempt::Allowed { .. }));
    assert!(matches!(s.reserve_rate(&a, "ip:1.2.3.4", 1_150, &rate).await.unwrap(), Attempt::Refused { .. }));
    s.refund_rate(&a, "ip:1.2.3.4", &rate).await.unwrap();
    assert!(matches!(s.reserve_rate(&a, "ip:1.2.3.4", 1_150, &rate).await.unwrap(), Attempt::Allowed { .. }));
    // A burst of 100 on a fresh budget of 3 gets 3.
    let burst: Vec<_> = (0..100).map(|_| s.reserve_rate(&a, "ip:5.6.7.8", 1_000, &rate)).collect();
    let ok = futures_join_all(burst).await.into_iter().filter(|r| matches!(r, Ok(Attempt::Allowed { .. }))).count();
    assert_eq!(ok, 3, "a burst got more than the budget");
}

/// A one-time value is accepted once until it expires, once among concurrent callers, per tenant.
pub async fn replay(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    assert!(s.remember_once(&a, "jkt:jti1", 100, 1_000).await.unwrap());
    assert!(!s.remember_once(&a, "jkt:jti1", 200, 1_000).await.unwrap(), "replay accepted");
    assert!(s.remember_once(&b, "jkt:jti1", 200, 1_000).await.unwrap(), "tenants share replay state");
    assert!(s.remember_once(&a, "jkt:jti1", 1_000, 2_000).await.unwrap(), "expired entry still blocks");
    let tasks: Vec<_> = (0..8).map(|_| s.remember_once(&a, "jkt:race", 100, 1_000)).collect();
    let wins = futures_join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1);
}

/// Consents are per user, client and audience, replaced on upsert, gone with the user; the
/// sign-up switch is per tenant.
pub async fn consents(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    s.insert_user(&a, &NewUser { user: user("auth0|1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    let (app, _) = new_application(ApplicationFields { name: Some("3p".into()), ..Default::default() }, 1).unwrap();
    s.insert_application(&a, &app).await.unwrap();
    let scopes = vec!["openid".to_string(), "read:orders".to_string()];
    assert!(s.find_consent(&a, "auth0|1", &app.client_id, "urn:orders").await.unwrap().is_none());
    s.upsert_consent(&a, "auth0|1", &app.client_id, "urn:orders", &scopes, 5).await.unwrap();
    assert_eq!(s.find_consent(&a, "auth0|1", &app.client_id, "urn:orders").await.unwrap(), Some(scopes));
    assert!(s.find_consent(&b, "auth0|1", &app.client_id, "urn:orders").await.unwrap().is_none());
    assert!(s.find_consent(&a, "auth0|1", &app.client_id, "").await.unwrap().is_none());
    s.upsert_consent(&a, "auth0|1", &app.client_id, "urn:orders", &["openid".into()], 6).await.unwrap();
    assert_eq!(s.find_consent(&a, "auth0|1", &app.client_id, "urn:orders").await.unwrap(), Some(vec!["openid".into()]));
    s.upsert_consent(&a, "auth0|1", &app.client_id, "", &["openid".into(), "profile".into()], 7).await.unwrap();
    let listed = s.list_consents(&a, "auth0|1").await.unwrap();
    assert_eq!(
        listed.iter().map(|c| (c.audience.as_str(), c.scopes.len(), c.updated_at)).collect::<Vec<_>>(),
        [("urn:orders", 1, 6), ("", 2, 7)]
    );
    assert!(listed.iter().all(|c| c.client_id == app.client_id));
    assert!(s.list_consents(&b, "auth0|1").await.unwrap().is_empty(), "per tenant");
    s.delete_user(&a, &UserId("auth0|1".into())).await.unwrap();
    assert!(s.list_consents(&a, "auth0|1").await.unwrap().is_empty());
    assert!(s.find_consent(&a, "auth0|1", &app.client_id, "urn:orders").await.unwrap().is_none());

    assert!(!s.signup_allowed(&a).await.unwrap(), "sign-up is off by default");
    assert!(s.set_signup_allowed(&a, true).await.unwrap());
    assert!(s.signup_allowed(&a).await.unwrap());
    assert!(!s.signup_allowed(&b).await.unwrap());
}

/// A connector per tenant and channel (conflict on a second insert, update and delete report
/// whether they touched it); templates per channel and purpose, replaced on upsert; the outbox
/// lists newest first, filters by recipient and prunes by age and count; nothing crosses tenants.
pub async fn connectors(s: &dyn Store) {
    use crate::connector::{ConnectorKind, OutboxMessage, StoredConnector, Template};
    use crate::message::{Channel, Purpose};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let smtp = StoredConnector {
        channel: Channel::Email,
        kind: ConnectorKind::Smtp,
        enabled: true,
        settings: json!({"host": "smtp.example.com", "port": 587, "username": "u", "from_address": "a@example.com", "tls": "starttls"}),
        secret_sealed: Some("v1.sealed".into()),
        updated_at: 10,
    };
    assert!(s.find_connector(&a, Channel::Email).await.unwrap().is_none());
    assert!(!s.update_connector(&a, &smtp).await.unwrap(), "updated a missing connector");
    s.insert_connector(&a, &smtp).await.unwrap();
    assert_eq!(s.find_connector(&a, Channel::Email).await.unwrap(), Some(smtp.clone()));
    assert_conflict(s.insert_connector(&a, &smtp).await, "connectors_channel");
    assert!(s.find_connector(&a, Channel::Sms).await.unwrap().is_none());
    assert!(s.find_connector(&b, Channel::Email).await.unwrap().is_none(), "connector crossed tenants");
    let http = StoredConnector {
        kind: ConnectorKind::Http,
        enabled: false,
        settings: json!({"endpoint": "https://hooks.example.com/mail"}),
        secret_sealed: None,
        updated_at: 20,
        ..smtp.clone()
    };
    assert!(!s.update_connector(&b, &http).await.unwrap(), "updated another tenant's connector");
    assert!(s.update_connector(&a, &http).await.unwrap());
    assert_eq!(s.find_connector(&a, Channel::Email).await.unwrap(), Some(http.clone()));
    assert!(!s.delete_connector(&b, Channel::Email).await.unwrap());
    assert!(s.delete_connector(&a, Channel::Email).await.unwrap());
    assert!(!s.delete_connector(&a, Channel::Email).await.unwrap());
    assert!(s.find_connector(&a, Channel::Email).await.unwrap().is_none());

    let t1 = Template { subject: "Hi".into(), content: "Code {{code}}".into() };
    let t2 = Template { subject: "Hello".into(), content: "Your code: {{code}}".into() };
    assert!(s.find_message_template(&a, Channel::Email, Purpose::SignIn).await.unwrap().is_none());
    s.upsert_message_template(&a, Channel::Email, Purpose::SignIn, &t1, 1).await.unwrap();
    s.upsert_message_template(&a, Channel::Email, Purpose::SignIn, &t2, 2).await.unwrap();
    s.upsert_message_template(&a, Channel::Email, Purpose::Register, &t1, 2).await.unwrap();
    assert_eq!(s.find_message_template(&a, Channel::Email, Purpose::SignIn).await.unwrap(), Some(t2.clone()));
    assert!(s.find_message_template(&a, Channel::Sms, Purpose::SignIn).await.unwrap().is_none());
    assert!(s.find_message_template(&b, Channel::Email, Purpose::SignIn).await.unwrap().is_none());
    let mut listed = s.list_message_templates(&a, Channel::Email).await.unwrap();
    listed.sort_by_key(|(p, _)| p.as_str());
    assert_eq!(listed, vec![(Purpose::Register, t1), (Purpose::SignIn, t2)]);
    assert!(s.list_message_templates(&b, Channel::Email).await.unwrap().is_empty());
    assert!(!s.delete_message_template(&b, Channel::Email, Purpose::SignIn).await.unwrap());
    assert!(s.delete_message_template(&a, Channel::Email, Purpose::SignIn).await.unwrap());
    assert!(s.find_message_template(&a, Channel::Email, Purpose::SignIn).await.unwrap().is_none());

    let msg = |id: &str, to: &str, at: i64| OutboxMessage {
        id: id.into(),
        channel: Channel::Email,
        recipient: to.into(),
        purpose: Purpose::SignIn,
        subject: "Your code".into(),
        text: "Code 123456".into(),
        code: "123456".into(),
        created_at: at,
    };
    for (i, at) in [100, 200, 300].into_iter().enumerate() {
        let to = if i == 1 { "bob@example.com" } else { "ada@example.com" };
        s.insert_outbox_message(&a, &msg(&format!("m{i}"), to, at), 0, 10).await.unwrap();
    }
    let ids = |v: Vec<OutboxMessage>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let all = s.list_outbox_messages(&a, None, 10).await.unwrap();
    assert_eq!(all[0], msg("m2", "ada@example.com", 300));
    assert_eq!(ids(all), ["m2", "m1", "m0"]);
    assert_eq!(ids(s.list_outbox_messages(&a, Some("ada@example.com"), 10).await.unwrap()), ["m2", "m0"]);
    assert_eq!(ids(s.list_outbox_messages(&a, None, 1).await.unwrap()), ["m2"]);
    assert!(s.list_outbox_messages(&b, None, 10).await.unwrap().is_empty(), "outbox crossed tenants");
    // Older than `keep_since` goes; beyond `keep_count` the oldest go; other tenants are untouched.
    s.insert_outbox_message(&b, &msg("b0", "ada@example.com", 50), 0, 10).await.unwrap();
    s.insert_outbox_message(&a, &msg("m3", "ada@example.com", 400), 150, 10).await.unwrap();
    assert_eq!(ids(s.list_outbox_messages(&a, None, 10).await.unwrap()), ["m3", "m2", "m1"]);
    s.insert_outbox_message(&a, &msg("m4", "ada@example.com", 400), 0, 2).await.unwrap();
    assert_eq!(ids(s.list_outbox_messages(&a, None, 10).await.unwrap()), ["m4", "m3"]);
    assert_eq!(ids(s.list_outbox_messages(&b, None, 10).await.unwrap()), ["b0"]);
}

/// Proofs in progress: found by id until they expire, listed per method oldest first; the status
/// and the state change only while pending (the state only from the expected value), once among
/// concurrent callers; taking one is single-use; nothing crosses tenants.
pub async fn pending_verifications(s: &dyn Store) {
    use crate::authn::method::MethodType;
    use crate::authn::pending::{PendingPurpose, PendingStatus, PendingVerification};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let p = |id: &str, purpose: PendingPurpose, created_at: i64| PendingVerification {
        id: id.into(),
        purpose,
        user_id: Some(UserId("auth0|1".into())),
        method_type: MethodType::PushNotification,
        method_id: "push-notification|dev_1".into(),
        state: format!("sealed-{id}"),
        status: PendingStatus::Pending,
        attempts: 0,
        created_at,
        expires_at: created_at + 1_000,
    };
    let enroll = p("p1", PendingPurpose::Enroll, 100);
    s.insert_pending(&a, &enroll).await.unwrap();
    assert_conflict(s.insert_pending(&a, &enroll).await, "pending_verifications_id");
    assert_eq!(s.find_pending(&a, "p1", 500).await.unwrap(), Some(enroll.clone()));
    assert!(s.find_pending(&a, "p1", 1_100).await.unwrap().is_none(), "expired one found");
    assert!(s.find_pending(&b, "p1", 500).await.unwrap().is_none(), "pending crossed tenants");
    let challenge = p("p2", PendingPurpose::SecondFactor, 200);
    s.insert_pending(&a, &challenge).await.unwrap();
    let mut other = p("p3", PendingPurpose::SecondFactor, 150);
    other.method_id = "push-notification|dev_2".into();
    s.insert_pending(&a, &other).await.unwrap();
    let ids = |v: Vec<PendingVerification>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_pending_for_method(&a, "push-notification|dev_1", 500).await.unwrap()), ["p1", "p2"]);
    assert_eq!(ids(s.list_pending_for_method(&a, "push-notification|dev_1", 1_150).await.unwrap()), ["p2"]);
    assert!(s.list_pending_for_method(&b, "push-notification|dev_1", 500).await.unwrap().is_empty());

    // The state changes only from what the caller read, once among concurrent callers.
    assert!(!s.update_pending_state(&b, "p1", "sealed-p1", "x").await.unwrap(), "updated across tenants");
    assert!(!s.update_pending_state(&a, "p1", "stale", "x").await.unwrap(), "updated from a stale state");
    let tasks: Vec<_> =
        (0..4).map(|i| s.update_pending_state(&a, "p1", "sealed-p1", ["w0", "w1", "w2", "w3"][i])).collect();
    let wins = futures_join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1);
    let state = s.find_pending(&a, "p1", 500).await.unwrap().unwrap().state;
    assert!(state.starts_with('w'), "{state}");

    // The status leaves pending once; then neither it nor the state changes.
    assert!(!s.set_pending_status(&b, "p2", PendingStatus::Approved).await.unwrap(), "set across tenants");
    assert!(s.set_pending_status(&a, "p2", PendingStatus::Approved).await.unwrap());
    assert!(!s.set_pending_status(&a, "p2", PendingStatus::Denied).await.unwrap(), "answered twice");
    assert_eq!(s.find_pending(&a, "p2", 500).await.unwrap().unwrap().status, PendingStatus::Approved);
    assert!(!s.update_pending_state(&a, "p2", "sealed-p2", "x").await.unwrap(), "state changed after the answer");

    assert_eq!(s.reserve_pending_attempt(&a, "p3", 5).await.unwrap(), Some(1));
    assert_eq!(s.reserve_pending_attempt(&a, "p3", 5).await.unwrap(), Some(2));
    assert_eq!(s.reserve_pending_attempt(&b, "p3", 5).await.unwrap(), None, "reserved across tenants");
    // A burst reserves no more than the limit: 3 left of 5, 20 racers.
    let burst: Vec<_> = (0..20).map(|_| s.reserve_pending_attempt(&a, "p3", 5)).collect();
    let mut got: Vec<i64> = futures_join_all(burst).await.into_iter().filter_map(|r| r.unwrap()).collect();
    got.sort();
    assert_eq!(got, [3, 4, 5], "a burst got more attempts than the limit");
    assert!(!s.take_pending(&b, "p3").await.unwrap(), "taken across tenants");
    assert!(s.take_pending(&a, "p3").await.unwrap());
    assert!(!s.take_pending(&a, "p3").await.unwrap(), "taken twice");
    assert_eq!(s.reserve_pending_attempt(&a, "p3", 5).await.unwrap(), None);
}

/// The list shown to the user (`list_methods_for_display`, which a store may cache) is never
/// staler than the store's own writes: every kind of write shows at once, a transaction's at its
/// commit and not before, a rolled-back one never.
pub async fn method_lists(s: &dyn Store) {
    use crate::authn::method::{AuthenticationMethod, MethodDetails, MethodType, NewMethod, password_method_id};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let ada = user("auth0|1", "ada@example.com", 10);
    let uid = ada.id.clone();
    s.insert_user(&a, &NewUser { user: ada, password_hash: Some("$argon2id$v1".into()) }).await.unwrap();
    let shown = |t: TenantId| async move { s.list_methods_for_display(&t, &UserId("auth0|1".into())).await.unwrap() };
    let ids = |v: Vec<AuthenticationMethod>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let password = password_method_id(&uid);
    assert_eq!(ids(shown(a.clone()).await), [password.as_str()]);
    assert_eq!(ids(shown(a.clone()).await), [password.as_str()], "a repeated read differs");
    assert!(shown(b.clone()).await.is_empty(), "methods crossed tenants");

    let totp = AuthenticationMethod {
        id: "totp|dev_1".into(),
        user_id: uid.clone(),
        method_type: MethodType::Totp,
        confirmed: true,
        name: None,
        details: MethodDetails::default(),
        created_at: 20,
        updated_at: 20,
        last_used_at: None,
    };
    let new = |m: &AuthenticationMethod| NewMethod { method: m.clone(), secret: "s0".into(), lookup_key: None };
    s.insert_method(&a, &new(&totp)).await.unwrap();
    assert_eq!(ids(shown(a.clone()).await), [password.clone(), totp.id.clone()], "an insert is not shown");
    let mut renamed = totp.clone();
    renamed.name = Some("phone".into());
    assert!(s.update_method(&a, &renamed).await.unwrap());
    assert_eq!(shown(a.clone()).await[1].name.as_deref(), Some("phone"), "a rename is not shown");
    assert!(s.swap_method_secret(&a, &uid, &totp.id, "s0", "s1", 30).await.unwrap());
    assert_eq!(shown(a.clone()).await[1].last_used_at, Some(30), "a use is not shown");
    s.set_password_hash(&a, &uid, "$argon2id$v2", 40).await.unwrap();
    assert_eq!(shown(a.clone()).await[0].updated_at, 40, "a password change is not shown");

    // A transaction's writes show once it commits, and a rolled-back one's never.
    let tx = s.begin().await.unwrap();
    assert!(tx.delete_method(&a, &uid, &totp.id).await.unwrap());
    drop(tx);
    assert_eq!(shown(a.clone()).await.len(), 2, "a rolled-back delete shows");
    let tx = s.begin().await.unwrap();
    assert!(tx.delete_method(&a, &uid, &totp.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(ids(shown(a.clone()).await), [password.as_str()], "a committed delete is not shown");

    let key = |id: &str| AuthenticationMethod { id: id.into(), method_type: MethodType::RecoveryCode, ..totp.clone() };
    s.insert_method(&a, &new(&key("recovery-code|dev_1"))).await.unwrap();
    assert_eq!(shown(a.clone()).await.len(), 2);
    assert_eq!(s.delete_methods_of_type(&a, &uid, MethodType::RecoveryCode).await.unwrap(), 1);
    assert_eq!(ids(shown(a.clone()).await), [password.as_str()], "a delete by type is not shown");
    assert!(s.delete_method(&a, &uid, &password).await.unwrap());
    assert!(shown(a.clone()).await.is_empty(), "a deleted password shows");
    s.set_password_hash(&a, &uid, "$argon2id$v3", 50).await.unwrap();
    assert_eq!(ids(shown(a.clone()).await), [password.as_str()], "a new password is not shown");
    assert!(s.delete_user(&a, &uid).await.unwrap());
    assert!(shown(a.clone()).await.is_empty(), "a deleted user's methods show");
}

/// A user holds at most `MAX_METHODS_PER_USER` methods, however many enrolments race: a burst of
/// parallel inserts gets exactly the room left, the rest are refused, and a delete makes room.
pub async fn method_cap(s: &dyn Store) {
    use crate::authn::MAX_METHODS_PER_USER;
    use crate::authn::method::{AuthenticationMethod, MethodDetails, MethodType, NewMethod};
    let a = tenant(s, "a").await;
    let ada = user("auth0|1", "ada@example.com", 10);
    let uid = ada.id.clone();
    s.insert_user(&a, &NewUser { user: ada, password_hash: None }).await.unwrap();
    let bob = user("auth0|2", "bob@example.com", 10);
    s.insert_user(&a, &NewUser { user: bob.clone(), password_hash: None }).await.unwrap();
    let method = |user: &UserId, n: usize| NewMethod {
        method: AuthenticationMethod {
            id: format!("passkey|{}_{n}", user.0),
            user_id: user.clone(),
            method_type: MethodType::Passkey,
            confirmed: true,
            name: None,
            details: MethodDetails::default(),
            created_at: 20,
            updated_at: 20,
            last_used_at: None,
        },
        secret: "s".into(),
        lookup_key: None,
    };
    s.insert_method(&a, &method(&uid, 0)).await.unwrap();
    let news: Vec<_> = (1..MAX_METHODS_PER_USER + 10).map(|n| method(&uid, n)).collect();
    let burst: Vec<_> = news.iter().map(|m| s.insert_method(&a, m)).collect();
    let results = futures_join_all(burst).await;
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { constraint }) if constraint == "authentication_methods_per_user"))
        .count();
    assert_eq!(results.len() - refused, MAX_METHODS_PER_USER - 1, "{results:?}");
    let held = s.list_methods_for_display(&a, &uid).await.unwrap().len();
    assert_eq!(held, MAX_METHODS_PER_USER, "a burst of enrolments went past the cap");
    // Another user's room is their own.
    s.insert_method(&a, &method(&bob.id, 0)).await.unwrap();
    assert_conflict(s.insert_method(&a, &method(&uid, 100)).await, "authentication_methods_per_user");
    assert!(s.delete_method(&a, &uid, &method(&uid, 0).method.id).await.unwrap());
    s.insert_method(&a, &method(&uid, 100)).await.unwrap();
}

/// The user shown (`find_user_for_display`, which a store may cache) is never staler than the
/// store's own writes: an update shows at once, a transaction's at its commit, a deletion at once.
pub async fn shown_users(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let ada = user("auth0|1", "ada@example.com", 10);
    let id = ada.id.clone();
    s.insert_user(&a, &NewUser { user: ada.clone(), password_hash: None }).await.unwrap();
    let shown = |t: TenantId| {
        let id = id.clone();
        async move { s.find_user_for_display(&t, &id).await.unwrap() }
    };
    assert_eq!(shown(a.clone()).await.as_ref(), Some(&ada));
    assert_eq!(shown(a.clone()).await.as_ref(), Some(&ada), "a repeated read differs");
    assert!(shown(b.clone()).await.is_none(), "a user crossed tenants");
    let mut renamed = ada.clone();
    renamed.name = Some("Ada King".into());
    assert!(s.update_user(&a, &renamed).await.unwrap());
    assert_eq!(shown(a.clone()).await.unwrap().name.as_deref(), Some("Ada King"), "an update is not shown");
    let tx = s.begin().await.unwrap();
    let mut blocked = renamed.clone();
    blocked.blocked = true;
    assert!(tx.update_user(&a, &blocked).await.unwrap());
    assert!(!shown(a.clone()).await.unwrap().blocked, "an uncommitted write shows");
    tx.commit().await.unwrap();
    assert!(shown(a.clone()).await.unwrap().blocked, "a committed write is not shown");
    assert!(s.delete_user(&a, &id).await.unwrap());
    assert!(shown(a.clone()).await.is_none(), "a deleted user is still shown");
}

/// Verification records: found only live and in their tenant; a code attempt is reserved at most
/// `max` times under a burst; a code is used once; a user's records go with the user.
pub async fn verification_records(s: &dyn Store) {
    use crate::message::Purpose;
    use crate::verification::{RecordKind, VerificationRecord};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    s.insert_user(&a, &NewUser { user: user("u1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    let code = VerificationRecord {
        id: "r1".into(),
        user_id: Some(UserId("u1".into())),
        kind: RecordKind::EmailCode,
        identifier: Some("ada@example.com".into()),
        purpose: Some(Purpose::UserPermissionValidation),
        verified: false,
        code_state: Some("sealed".into()),
        attempts: 0,
        created_at: 100,
        expires_at: 1_000,
    };
    s.insert_verification_record(&a, &code).await.unwrap();
    assert_conflict(s.insert_verification_record(&a, &code).await, "verification_records_id");
    assert_eq!(s.find_verification_record(&a, "r1", 500).await.unwrap(), Some(code.clone()));
    assert!(s.find_verification_record(&a, "r1", 1_000).await.unwrap().is_none(), "expired one found");
    assert!(s.find_verification_record(&b, "r1", 500).await.unwrap().is_none(), "record crossed tenants");
    let new_address = VerificationRecord {
        id: "r2".into(),
        user_id: None,
        purpose: Some(Purpose::BindNewIdentifier),
        identifier: Some("new@example.com".into()),
        ..code.clone()
    };
    s.insert_verification_record(&a, &new_address).await.unwrap();
    assert_eq!(s.find_verification_record(&a, "r2", 500).await.unwrap().unwrap().user_id, None);

    assert_eq!(s.reserve_code_attempt(&b, "r1", 10, 500).await.unwrap(), None, "reserved across tenants");
    assert_eq!(s.reserve_code_attempt(&a, "r1", 10, 1_000).await.unwrap(), None, "reserved after expiry");
    assert_eq!(s.reserve_code_attempt(&a, "r1", 10, 500).await.unwrap(), Some(1));
    let burst: Vec<_> = (0..30).map(|_| s.reserve_code_attempt(&a, "r1", 10, 500)).collect();
    let mut got: Vec<i64> = futures_join_all(burst).await.into_iter().filter_map(|r| r.unwrap()).collect();
    got.sort();
    assert_eq!(got, (2..=10).collect::<Vec<_>>(), "a burst got more attempts than the limit");

    assert!(!s.mark_record_verified(&b, "r2", 500).await.unwrap(), "verified across tenants");
    assert!(!s.mark_record_verified(&a, "r2", 1_000).await.unwrap(), "verified after expiry");
    let racers: Vec<_> = (0..5).map(|_| s.mark_record_verified(&a, "r2", 500)).collect();
    let wins = futures_join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1, "a code was used twice");
    let done = s.find_verification_record(&a, "r2", 500).await.unwrap().unwrap();
    assert!(done.verified && done.code_state.is_none());
    assert_eq!(s.reserve_code_attempt(&a, "r2", 10, 500).await.unwrap(), None, "a used code took attempts");

    assert!(s.delete_user(&a, &UserId("u1".into())).await.unwrap());
    assert!(s.find_verification_record(&a, "r1", 500).await.unwrap().is_none(), "a deleted user's record stayed");
    assert!(s.find_verification_record(&a, "r2", 500).await.unwrap().is_some());
}

/// The tenant's self-service settings: the account policy (`{}` until saved) and the account center
/// (unset until saved), read back as saved, per tenant.
pub async fn tenant_settings(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    assert_eq!(s.load_account_policy(&a).await.unwrap(), "{}");
    s.save_account_policy(&a, r#"{"mfa":"always"}"#).await.unwrap();
    assert_eq!(s.load_account_policy(&a).await.unwrap(), r#"{"mfa":"always"}"#);
    assert_eq!(s.load_account_policy(&b).await.unwrap(), "{}", "the policy crossed tenants");
    assert_eq!(s.load_account_center(&a).await.unwrap(), None);
    s.save_account_center(&a, r#"{"enabled":true}"#).await.unwrap();
    assert_eq!(s.load_account_center(&a).await.unwrap().as_deref(), Some(r#"{"enabled":true}"#));
    assert_eq!(s.load_account_center(&b).await.unwrap(), None, "settings crossed tenants");
    s.save_account_center(&a, r#"{"enabled":false}"#).await.unwrap();
    assert_eq!(s.load_account_center(&a).await.unwrap().as_deref(), Some(r#"{"enabled":false}"#));
}

/// A user's MFA settings: `{}` until set, swapped only from the document last read (of racing
/// swaps from one document exactly one wins), per tenant, and gone with the user.
pub async fn mfa_settings(s: &dyn Store) {
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    let id = UserId("u1".into());
    s.insert_user(&a, &NewUser { user: user("u1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    assert_eq!(s.load_mfa_settings(&a, &id).await.unwrap().as_deref(), Some("{}"));
    assert_eq!(s.load_mfa_settings(&b, &id).await.unwrap(), None, "settings crossed tenants");
    assert!(!s.swap_mfa_settings(&b, &id, "{}", r#"{"skipped":true}"#).await.unwrap(), "swapped across tenants");
    assert!(!s.swap_mfa_settings(&a, &id, r#"{"x":1}"#, r#"{"skipped":true}"#).await.unwrap(), "a stale swap won");
    let docs: Vec<String> = (0..5).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
    let racers: Vec<_> = docs.iter().map(|doc| s.swap_mfa_settings(&a, &id, "{}", doc)).collect();
    let wins = futures_join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1, "two swaps from one document both won");
    assert!(s.load_mfa_settings(&a, &id).await.unwrap().unwrap().starts_with(r#"{"n":"#));
    assert!(s.delete_user(&a, &id).await.unwrap());
    assert_eq!(s.load_mfa_settings(&a, &id).await.unwrap(), None);
}

/// A WebAuthn registration record is completed once: only live, unverified, in its tenant and
/// from the state it holds; of racing completions exactly one wins.
pub async fn webauthn_records(s: &dyn Store) {
    use crate::verification::{RecordKind, VerificationRecord};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    s.insert_user(&a, &NewUser { user: user("u1", "ada@example.com", 1), password_hash: None }).await.unwrap();
    let record = VerificationRecord {
        id: "w1".into(),
        user_id: Some(UserId("u1".into())),
        kind: RecordKind::WebAuthnRegistration,
        identifier: None,
        purpose: None,
        verified: false,
        code_state: Some("ceremony".into()),
        attempts: 0,
        created_at: 100,
        expires_at: 1_000,
    };
    s.insert_verification_record(&a, &record).await.unwrap();
    assert_eq!(s.find_verification_record(&a, "w1", 500).await.unwrap(), Some(record.clone()));
    assert!(!s.complete_record(&b, "w1", "ceremony", "passkey", 500).await.unwrap(), "completed across tenants");
    assert!(!s.complete_record(&a, "w1", "ceremony", "passkey", 1_000).await.unwrap(), "completed after expiry");
    assert!(!s.complete_record(&a, "w1", "other", "passkey", 500).await.unwrap(), "completed from another state");
    let racers: Vec<_> = (0..5).map(|_| s.complete_record(&a, "w1", "ceremony", "passkey", 500)).collect();
    let wins = futures_join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1, "a ceremony finished twice");
    let done = s.find_verification_record(&a, "w1", 500).await.unwrap().unwrap();
    assert!(done.verified && done.code_state.as_deref() == Some("passkey") && done.kind == record.kind);
    assert!(!s.complete_record(&a, "w1", "passkey", "again", 500).await.unwrap(), "a verified record completed");
}

/// Upstream connections (unique names, by id or name, per tenant) and the identities users hold at
/// them: one provider account per user, one identity per user and connection, tokens swapped only
/// from what the caller read (a burst of refreshes keeps one), and record states swapped once.
pub async fn upstream_identities(s: &dyn Store) {
    use crate::upstream::{Endpoints, LinkedIdentity, StoredConnection, Strategy, UpstreamConnection, UpstreamProfile};
    use crate::verification::{RecordKind, VerificationRecord};
    let a = tenant(s, "a").await;
    let b = tenant(s, "b").await;
    for u in ["u1", "u2"] {
        s.insert_user(&a, &NewUser { user: user(u, &format!("{u}@example.com"), 1), password_hash: None })
            .await
            .unwrap();
    }
    let conn = StoredConnection {
        connection: UpstreamConnection {
            id: "con_1".into(),
            name: "upstream".into(),
            display_name: Some("Upstream".into()),
            strategy: Strategy::Oidc,
            endpoints: Endpoints { issuer: Some("http://127.0.0.1:9".into()), ..Default::default() },
            client_id: "client".into(),
            scopes: vec!["email".into()],
            token_vault: true,
            sign_in: true,
            link_by_verified_email: false,
            created_at: 1,
            updated_at: 1,
        },
        sealed_secret: "sealed-secret".into(),
    };
    s.insert_connection(&a, &conn).await.unwrap();
    let other_id = StoredConnection {
        connection: UpstreamConnection { id: "con_2".into(), ..conn.connection.clone() },
        ..conn.clone()
    };
    assert_conflict(s.insert_connection(&a, &other_id).await, "upstream_connections_name");
    s.insert_connection(&b, &conn).await.unwrap();
    assert_eq!(s.find_connection(&a, "con_1").await.unwrap(), Some(conn.clone()));
    assert_eq!(s.find_connection(&a, "upstream").await.unwrap(), Some(conn.clone()));
    assert!(s.find_connection(&a, "nope").await.unwrap().is_none());
    let mut changed = conn.clone();
    changed.connection.token_vault = false;
    changed.connection.updated_at = 2;
    assert!(s.update_connection(&a, &changed).await.unwrap());
    assert!(!s.find_connection(&a, "con_1").await.unwrap().unwrap().connection.token_vault);
    assert!(s.find_connection(&b, "con_1").await.unwrap().unwrap().connection.token_vault, "update crossed tenants");
    assert_eq!(s.list_connections(&a).await.unwrap().len(), 1);

    let identity = LinkedIdentity {
        id: "cac_1".into(),
        user_id: UserId("u1".into()),
        connection_id: "con_1".into(),
        connection_name: "upstream".into(),
        subject: "alice".into(),
        profile: UpstreamProfile { subject: "alice".into(), email: Some("a@up.test".into()), ..Default::default() },
        scopes: vec!["openid".into()],
        sealed_tokens: Some("t1".into()),
        tokens_expire_at: None,
        created_at: 10,
        updated_at: 10,
    };
    s.insert_identity(&a, &identity).await.unwrap();
    let taken = LinkedIdentity { id: "cac_2".into(), user_id: UserId("u2".into()), ..identity.clone() };
    assert_conflict(s.insert_identity(&a, &taken).await, "identities_connection_id_subject");
    let second = LinkedIdentity { id: "cac_3".into(), subject: "bob".into(), ..identity.clone() };
    assert_conflict(s.insert_identity(&a, &second).await, "identities_user_id_connection_id");
    assert_eq!(s.find_identity_by_subject(&a, "con_1", "alice").await.unwrap(), Some(identity.clone()));
    assert!(s.find_identity_by_subject(&b, "con_1", "alice").await.unwrap().is_none(), "identity crossed tenants");
    assert_eq!(s.list_identities(&a, &UserId("u1".into())).await.unwrap(), vec![identity.clone()]);

    let replaced = LinkedIdentity { subject: "carol".into(), sealed_tokens: None, updated_at: 20, ..identity.clone() };
    assert!(s.replace_identity(&a, &replaced).await.unwrap());
    assert!(!s.replace_identity(&b, &replaced).await.unwrap(), "replaced across tenants");
    let read = s.list_identities(&a, &UserId("u1".into())).await.unwrap().remove(0);
    assert_eq!((read.id.as_str(), read.subject.as_str(), read.created_at), ("cac_1", "carol", 10));

    let u1 = UserId("u1".into());
    assert!(!s.swap_identity_tokens(&a, &u1, "cac_1", Some("t1"), Some(("t2", None)), 30).await.unwrap());
    let racers: Vec<_> = (0..6)
        .map(|i| {
            s.swap_identity_tokens(&a, &u1, "cac_1", None, Some((["x", "y", "z", "v", "w", "q"][i], Some(99))), 30)
        })
        .collect();
    let wins = futures_join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1, "two refreshes both replaced the tokens");
    assert!(s.list_identities(&a, &u1).await.unwrap()[0].sealed_tokens.is_some());
    assert!(
        !s.swap_identity_tokens(&b, &u1, "cac_1", None, Some(("t", None)), 30).await.unwrap(),
        "swapped across tenants"
    );

    assert_eq!(s.list_identities_for_display(&a, &u1).await.unwrap().len(), 1);
    assert!(!s.delete_identity(&a, &UserId("u2".into()), "cac_1").await.unwrap(), "deleted another user's identity");
    assert!(s.delete_identity(&a, &u1, "cac_1").await.unwrap());
    assert!(s.list_identities(&a, &u1).await.unwrap().is_empty());
    assert!(s.list_identities_for_display(&a, &u1).await.unwrap().is_empty(), "a deleted identity is still shown");
    s.insert_identity(&a, &identity).await.unwrap();
    assert_eq!(s.list_identities_for_display(&a, &u1).await.unwrap().len(), 1, "a new identity is not shown");
    assert!(s.delete_connection(&a, "con_1").await.unwrap());
    assert!(s.list_identities(&a, &u1).await.unwrap().is_empty(), "a deleted connection's identities stayed");
    assert!(
        s.list_identities_for_display(&a, &u1).await.unwrap().is_empty(),
        "a deleted connection's identity is shown"
    );
    assert!(s.find_connection(&b, "con_1").await.unwrap().is_some());

    let record = VerificationRecord {
        id: "soc".into(),
        user_id: None,
        kind: RecordKind::Social,
        identifier: Some("con_1".into()),
        purpose: None,
        verified: false,
        code_state: Some("s0".into()),
        attempts: 0,
        created_at: 100,
        expires_at: 1_000,
    };
    s.insert_verification_record(&a, &record).await.unwrap();
    assert!(!s.swap_record_state(&a, "soc", "s0", "s1", true, 1_000).await.unwrap(), "swapped after expiry");
    assert!(!s.swap_record_state(&b, "soc", "s0", "s1", true, 500).await.unwrap(), "swapped across tenants");
    let racers: Vec<_> = (0..5).map(|_| s.swap_record_state(&a, "soc", "s0", "s1", true, 500)).collect();
    let wins = futures_join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1, "a one-time state was spent twice");
    let read = s.find_verification_record(&a, "soc", 500).await.unwrap().unwrap();
    assert!(read.verified && read.code_state.as_deref() == Some("s1") && read.kind == RecordKind::Social);
}
