//! Throwaway databases for tests, so test runs are parallel-safe and leave nothing behind.
//! SQLite: a file in a temp dir. PostgreSQL: a fresh schema on the server named by
//! `ACCOUNTD_TEST_POSTGRES_URL` (default: the machine's `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the `TestDb` is dropped — even when the test panicked.

use std::str::FromStr;

use sqlx::Connection;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// The multi-node backend.
    Postgres,
}

impl Backend {
    /// The backend `ACCOUNTD_TEST_BACKEND` names (`sqlite` when unset).
    pub fn from_env() -> Self {
        match std::env::var("ACCOUNTD_TEST_BACKEND").as_deref() {
            Ok("postgres") => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("ACCOUNTD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database; its URL is what `accountd_store::connect` takes.
pub struct TestDb {
    /// URL of the fresh database.
    pub url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("accountd.db").display());
                Self { url, schema: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let schema = format!("t_{}", accountd_core::secret::random_hex::<8>());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut conn)
                    .await
                    .expect("create schema");
                let sep = if admin.contains('?') { '&' } else { '?' };
                let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
                Self { url, schema: Some(schema), _dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        // Drop may run inside a runtime (or while unwinding); use a thread with its own.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let opts = sqlx::postgres::PgConnectOptions::from_str(&admin).ok()?;
                let mut conn = sqlx::PgConnection::connect_with(&opts).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}
