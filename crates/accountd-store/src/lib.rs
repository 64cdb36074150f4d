//! accountd's storage: the core store traits implemented once, in `src/sql/`, and compiled for
//! each backend. SQLite is the embedded default (WAL, foreign keys, busy timeout); PostgreSQL serves
//! multi-node deployments. The SQL in `src/sql/` is portable (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`), so both backends run the same statements; the schema lives in
//! `migrations/{sqlite,postgres}/` with identical file names.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use accountd_core::store::{Store, StoreError};
use anyhow::Context as _;

pub mod method_cache;
pub mod proof_batches;
pub mod seen_keys;

/// How a store checks one-time values (DPoP proof ids) outside transactions.
pub enum OneTimeValues {
    /// In memory, saved behind the requests: one SQLite file has one server ([`seen_keys`]).
    InMemory(Arc<seen_keys::SeenKeys>),
    /// In the shared table, a batch per statement: PostgreSQL's nodes ([`proof_batches`]).
    Batched(Arc<proof_batches::ProofBatches>),
}
use method_cache::MethodCache;

/// Connection settings that do not fit in the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Pool size.
    pub max_connections: u32,
    /// How long a query waits for a connection or a lock.
    pub acquire_timeout: Duration,
    /// How long a user's method list may be served from memory (zero: never); see
    /// [`method_cache`].
    pub method_cache_ttl: Duration,
    /// This process serves requests (it checks proof ids); an admin command does not.
    pub serving: bool,
    /// SQLite `synchronous=FULL` (each commit on disk before it is acknowledged) rather than
    /// `NORMAL`; see docs/configuration.md for what it costs.
    pub sqlite_durable_commits: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            method_cache_ttl: Duration::from_secs(30),
            serving: false,
            sqlite_durable_commits: false,
        }
    }
}

/// Records that a server runs on this SQLite file; says whether the last one stopped without
/// saving its proof ids (then proofs made before now are distrusted: `Some(now)`). Unknown (the
/// table cannot be read) counts as unclean.
async fn register_server_run(pool: &sqlx::SqlitePool) -> (Option<i64>, i64) {
    let now = accountd_core::clock::now_millis();
    let left: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM server_runs").fetch_one(pool).await;
    // Two servers on one SQLite file are unsupported, so any row is a previous server's.
    let _ = sqlx::query("DELETE FROM server_runs").execute(pool).await;
    let _ = sqlx::query("INSERT INTO server_runs (started_at) VALUES ($1)").bind(now).execute(pool).await;
    let unclean = !matches!(left, Ok(0));
    if unclean {
        tracing::warn!("the last server did not stop cleanly: DPoP proofs made before now need a fresh nonce");
    }
    (unclean.then_some(now), now)
}

/// How many users' method lists a store keeps in memory at most.
const METHOD_CACHE_USERS: usize = 100_000;

/// Opens the database a URL names (`sqlite://path` or `postgres://…`) and, when `migrate` is
/// set, brings its schema up to date.
pub async fn connect(url: &str, opts: &ConnectOptions, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid SQLite URL {url}"))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(if opts.sqlite_durable_commits {
                sqlx::sqlite::SqliteSynchronous::Full
            } else {
                sqlx::sqlite::SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            // Each connection keeps its own page cache (2 MiB by default, so 32 MiB over the
            // pool) that fills as the file grows: a 30-minute soak saw memory climb 24 % past
            // minute 5. The hot pages of a request fit in 512 KiB; the rest come from the
            // kernel's page cache, which every connection shares and which is not ours to hold.
            .pragma("cache_size", "-512")
            .busy_timeout(opts.acquire_timeout);
        let pool = sqlx::pool::PoolOptions::<sqlx::Sqlite>::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open SQLite database {url}"))?;
        if migrate {
            sqlx::migrate!("migrations/sqlite").run(&pool).await.context("migrating the SQLite database")?;
        }
        let methods = Arc::new(MethodCache::new(opts.method_cache_ttl, METHOD_CACHE_USERS, true));
        let seen = if opts.serving {
            let (unsaved_before, run) = register_server_run(&pool).await;
            seen_keys::SeenKeys::new(unsaved_before, Some(run))
        } else {
            seen_keys::SeenKeys::default()
        };
        let seen = OneTimeValues::InMemory(Arc::new(seen));
        Ok(Arc::new(sqlite::Handle::pool(pool, methods, seen)))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = sqlx::postgres::PgConnectOptions::from_str(url).context("invalid PostgreSQL URL")?;
        let pool = sqlx::pool::PoolOptions::<sqlx::Postgres>::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(options.clone())
            .await
            .context("cannot connect to PostgreSQL")?;
        if migrate {
            // sqlx takes an advisory lock, so several nodes starting at once migrate once.
            sqlx::migrate!("migrations/postgres").run(&pool).await.context("migrating the PostgreSQL database")?;
        }
        // Served from only once this node hears other nodes' changes.
        let methods = Arc::new(MethodCache::new(opts.method_cache_ttl, METHOD_CACHE_USERS, false));
        if !opts.method_cache_ttl.is_zero() {
            tokio::spawn(listen_for_method_changes(options, methods.clone(), pool.clone()));
        }
        let batches = OneTimeValues::Batched(proof_batches::ProofBatches::start(pool.clone()));
        Ok(Arc::new(postgres::Handle::pool(pool, methods, batches)))
    } else {
        anyhow::bail!("unsupported database URL (use sqlite://… or postgres://…)")
    }
}

/// Keeps a PostgreSQL store's method cache in step with every node's writes: LISTEN on
/// [`method_cache::CHANNEL`] over a connection of its own, clear each user a notification names,
/// clear everything after a reconnection (notifications sent meanwhile are lost), and serve nothing
/// while it cannot listen. Ends when the store's pool closes.
async fn listen_for_method_changes(
    options: sqlx::postgres::PgConnectOptions,
    cache: Arc<MethodCache>,
    store_pool: sqlx::Pool<sqlx::Postgres>,
) {
    let own = sqlx::pool::PoolOptions::<sqlx::Postgres>::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    let closed = store_pool.close_event();
    tokio::pin!(closed);
    loop {
        let listen = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
            listener.listen(method_cache::CHANNEL).await?;
            cache.reset(true);
            loop {
                match listener.try_recv().await? {
                    Some(n) => cache.invalidate_payload(n.payload()),
                    // Lost and already reconnected (and listening again).
                    None => cache.reset(true),
                }
            }
        };
        tokio::select! {
            _ = &mut closed => break,
            r = listen => {
                let e: sqlx::Error = match r { Ok(()) => unreachable!(), Err(e) => e };
                cache.reset(false);
                tracing::warn!(error = %e, "not hearing other nodes' method changes; cached lists are off until it reconnects");
            }
        }
        tokio::select! {
            _ = &mut closed => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    own.close().await;
}

/// Maps a driver error to the store's error, naming violated unique constraints the same way on
/// both backends (`<table>_<columns without tenant_id>`).
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { constraint: constraint_name(db.constraint(), db.message()) }
        }
        // The database is away (or going away), not a fault of the request: 503, and the caller
        // may retry. A connection cut mid-reply shows as a protocol error; PostgreSQL says 08xxx
        // for connection failures and 57P01-57P03 while shutting down or starting.
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.code().is_some_and(|c| database_away(&c)) => {
            StoreError::Unavailable(db.to_string())
        }
        e => StoreError::Other(anyhow::Error::new(e)),
    }
}

fn database_away(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}

/// PostgreSQL names the constraint; SQLite says `UNIQUE constraint failed: users.tenant_id, users.email`.
fn constraint_name(pg: Option<&str>, message: &str) -> String {
    if let Some(name) = pg {
        return name.to_string();
    }
    let cols = message.rsplit(": ").next().unwrap_or(message);
    let mut table = "";
    let mut names = Vec::new();
    for col in cols.split(", ") {
        if let Some((t, c)) = col.split_once('.') {
            table = t;
            if c != "tenant_id" {
                names.push(c);
            }
        }
    }
    format!("{table}_{}", names.join("_"))
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn from_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

/// Stamps out the store for one backend: the files under `src/sql/` are compiled once per backend
/// with `Db` naming its sqlx database type, so the SQL and row mapping are written once.
macro_rules! backend {
    ($name:ident, $db:ty, $begin:literal, $notify:expr) => {
        /// The store on this backend.
        pub mod $name {
            #![allow(unused_imports)]
            use super::*;
            type Db = $db;
            /// How write transactions start (SQLite takes the write lock up front so that
            /// concurrent writers wait on the busy timeout instead of failing).
            const BEGIN: &str = $begin;
            /// The backend's name.
            const BACKEND: &str = stringify!($name);
            /// How a change to a user's methods is announced to other nodes (bind: the payload).
            const NOTIFY: Option<&str> = $notify;
            include!("sql/handle.rs");
            include!("sql/tenant.rs");
            include!("sql/user.rs");
            include!("sql/application.rs");
            include!("sql/api_resource.rs");
            include!("sql/client_grant.rs");
            include!("sql/role.rs");
            include!("sql/session.rs");
            include!("sql/access_token.rs");
            include!("sql/throttle.rs");
            include!("sql/replay.rs");
            include!("sql/consent.rs");
            include!("sql/connector.rs");
            include!("sql/signing_key.rs");
            include!("sql/audit.rs");
            include!("sql/authentication_method.rs");
            include!("sql/pending_verification.rs");
            include!("sql/tenant_settings.rs");
            include!("sql/verification.rs");
            include!("sql/upstream.rs");
        }
    };
}

// One SQLite file has one server: its cache needs no announcements.
backend!(sqlite, sqlx::Sqlite, "BEGIN IMMEDIATE", None);
backend!(postgres, sqlx::Postgres, "BEGIN", Some("SELECT pg_notify('accountd_methods', $1)"));

#[cfg(test)]
mod tests {
    #[test]
    fn constraint_names_match_across_backends() {
        assert_eq!(
            super::constraint_name(None, "UNIQUE constraint failed: users.tenant_id, users.email"),
            "users_email"
        );
        assert_eq!(
            super::constraint_name(
                None,
                "UNIQUE constraint failed: client_grants.tenant_id, client_grants.client_id, client_grants.api_id, client_grants.subject_type"
            ),
            "client_grants_client_id_api_id_subject_type"
        );
        assert_eq!(super::constraint_name(Some("users_email"), "duplicate key"), "users_email");
    }

    #[test]
    fn a_database_going_away_is_unavailable_not_a_fault() {
        for e in [sqlx::Error::Protocol("unexpected end of stream".into()), sqlx::Error::WorkerCrashed] {
            assert!(matches!(super::map_err(e), accountd_core::store::StoreError::Unavailable(_)));
        }
        for code in ["08006", "08001", "57P01", "57P03"] {
            assert!(super::database_away(code), "{code}");
        }
        for code in ["23505", "40001", "42P01"] {
            assert!(!super::database_away(code), "{code}");
        }
    }
}

#[cfg(feature = "testdb")]
pub mod testdb;
