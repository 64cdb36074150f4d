//! The in-memory method lists (`method_cache`) seen from outside: they are really served from
//! memory (a row written behind the store's back stays unseen), a write through another node's
//! store reaches this node at once on PostgreSQL (LISTEN/NOTIFY), and the TTL bounds what no
//! notification reaches.

#![expect(clippy::unwrap_used, reason = "a failing test should panic where it failed")]

use std::time::{Duration, Instant};

use accountd_core::authn::method::{AuthenticationMethod, MethodDetails, MethodType, NewMethod};
use accountd_core::store::Store;
use accountd_core::tenant::TenantId;
use accountd_core::user::{NewUser, User, UserId};
use accountd_store::testdb::{Backend, TestDb};
use accountd_store::{ConnectOptions, connect};

mod common;

fn uid() -> UserId {
    UserId("auth0|1".into())
}

async fn setup(store: &dyn Store) -> TenantId {
    let t = common::tenant_a(store).await;
    let user = User { email: Some("ada@example.com".into()), ..User::new(uid(), 1) };
    store.insert_user(&t, &NewUser { user, password_hash: Some("$argon2id$x".into()) }).await.unwrap();
    t
}

fn totp(id: &str) -> NewMethod {
    NewMethod {
        method: AuthenticationMethod {
            id: id.into(),
            user_id: uid(),
            method_type: MethodType::Totp,
            confirmed: true,
            name: None,
            details: MethodDetails::default(),
            created_at: 2,
            updated_at: 2,
            last_used_at: None,
        },
        secret: "s".into(),
        lookup_key: None,
    }
}

/// Inserts a method with plain SQL on a connection of its own: no store hears of it.
async fn write_behind_the_back(db: &TestDb, id: &str) {
    let sql = "INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, \
               updated_at, confirmed, details) VALUES ('ten_a', $1, 'auth0|1', 'totp', 's', 3, 3, TRUE, '{}')";
    common::behind_the_back(db, sql, id).await;
}

async fn shown(store: &dyn Store, t: &TenantId) -> Vec<String> {
    store.list_methods_for_display(t, &uid()).await.unwrap().into_iter().map(|m| m.id).collect()
}

/// Waits until `store` serves its list from memory (on PostgreSQL, once its listener runs): a
/// row written behind its back then stays unseen. Returns that row's id.
async fn until_cached(db: &TestDb, store: &dyn Store, t: &TenantId) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = shown(store, t).await;
        let id = format!("totp|behind_{}", accountd_core::secret::random_alnum(8));
        write_behind_the_back(db, &id).await;
        let after = shown(store, t).await;
        if after == before {
            return id;
        }
        assert!(Instant::now() < deadline, "the list was never served from memory");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn opts(ttl: Duration) -> ConnectOptions {
    ConnectOptions { method_cache_ttl: ttl, ..Default::default() }
}

#[tokio::test]
async fn sqlite_lists_are_served_from_memory_for_at_most_the_ttl() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = connect(&db.url, &opts(Duration::from_secs(1)), true).await.unwrap();
    let t = setup(&*store).await;
    let hidden = until_cached(&db, &*store, &t).await;
    // A write through the store shows at once (and refreshes the list, behind-the-back row too).
    store.insert_method(&t, &totp("totp|through_store")).await.unwrap();
    let now = shown(&*store, &t).await;
    assert!(now.contains(&"totp|through_store".to_string()) && now.contains(&hidden), "{now:?}");
    // A write no store hears of shows once the TTL has passed.
    let late = until_cached(&db, &*store, &t).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(shown(&*store, &t).await.contains(&late), "the TTL did not bound the cache");
    store.close().await;
}

#[tokio::test]
async fn postgres_nodes_hear_each_others_writes() {
    let db = TestDb::new(Backend::Postgres).await;
    let node_a = connect(&db.url, &opts(Duration::from_secs(600)), true).await.unwrap();
    let node_b = connect(&db.url, &opts(Duration::from_secs(600)), false).await.unwrap();
    let t = setup(&*node_a).await;
    until_cached(&db, &*node_a, &t).await;
    until_cached(&db, &*node_b, &t).await;

    // A write on node B (a pool write): node A's list follows, without waiting for the TTL.
    node_b.insert_method(&t, &totp("totp|on_b")).await.unwrap();
    let heard = |store: std::sync::Arc<dyn Store>, id: &'static str| {
        let t = t.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !shown(&*store, &t).await.contains(&id.to_string()) {
                assert!(Instant::now() < deadline, "{id} never reached the other node");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    heard(node_a.clone(), "totp|on_b").await;

    // A delete in a transaction on node A reaches node B when it commits.
    let tx = node_a.begin().await.unwrap();
    assert!(tx.delete_method(&t, &uid(), "totp|on_b").await.unwrap());
    tx.commit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while shown(&*node_b, &t).await.contains(&"totp|on_b".to_string()) {
        assert!(Instant::now() < deadline, "the delete never reached node B");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node_a.close().await;
    node_b.close().await;
}
