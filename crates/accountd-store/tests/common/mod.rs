//! What the store's integration tests share.

#![expect(clippy::unwrap_used, reason = "a failing test should panic where it failed")]

use accountd_core::store::Store;
use accountd_core::tenant::{NewTenant, TenantId};
use accountd_store::testdb::TestDb;
use sqlx::Connection as _;

/// Adds the tenant `ten_a` (`a.test`) and returns its id.
pub async fn tenant_a(store: &dyn Store) -> TenantId {
    let t = TenantId::from_stored("ten_a".into());
    let tenant = NewTenant {
        id: t.clone(),
        name: "a".into(),
        is_default: false,
        canonical_domain: "a.test".into(),
        extra_domains: vec![],
    };
    store.insert_tenant(&tenant, 1).await.unwrap();
    t
}

/// Runs `sql` (binding `value` as `$1`) on a connection of its own: no store hears of it.
pub async fn behind_the_back(db: &TestDb, sql: &str, value: &str) {
    if db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).execute(&mut c).await.unwrap();
    }
}
