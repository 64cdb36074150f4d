// Compiled once per backend (see `backend!` in lib.rs): `Db` is the sqlx database type.

use std::ops::{Deref, DerefMut};

// Every file included in this module shares these imports (a name may be imported only once).
use accountd_core::api_resource::{AccessPolicy, ApiId, ApiResource, ApiScope, PolicyMode, SystemApi};
use accountd_core::application::{AppType, Application, TokenEndpointAuthMethod};
use accountd_core::audit::{Actor, AuditEvent};
use accountd_core::authn::method::{AuthenticationMethod, MethodDetails, MethodType, NewMethod, password_method_id};
use accountd_core::authn::pending::{PendingPurpose, PendingStatus, PendingVerification};
use accountd_core::client_grant::{ClientGrant, ClientGrantId, SubjectType};
use accountd_core::connector::{ConnectorKind, OutboxMessage, StoredConnector, Template};
use accountd_core::message::{Channel, Purpose};
use accountd_core::role::{Permission, Role, RoleId};
use accountd_core::session::{AccessToken, AuthorizationCode, Grant, RefreshToken, Revocations, Session, TokenFamily};
use accountd_core::store::{Attempt, RateRule, ThrottleRule};
use accountd_core::store::ConnectorStore;
use accountd_core::store::{TenantSettingsStore, VerificationRecordStore};
use accountd_core::verification::{RecordKind, VerificationRecord};
use accountd_core::signing_key::{KeyStatus, SigningKey};
use accountd_core::store::{
    AccessTokenStore, ApiStore, ApplicationStore, AuditStore, AuthenticationMethodStore, PendingVerificationStore, ConsentStore, ClientGrantQuery, ClientGrantStore, Page, RoleStore, SessionStore, SigningKeyStore,
    ReplayStore, Store as CoreStore, StoreResult, TenantStore, ThrottleStore, Tx as CoreTx, UserQuery, UserStore,
};
use accountd_core::store::UpstreamStore;
use accountd_core::security_event::SecurityReport;
use accountd_core::store::{Consent, UserEventQuery};
use accountd_core::tenant::{Domain, NewTenant, Tenant, TenantId};
use accountd_core::upstream::{LinkedIdentity, StoredConnection, UpstreamConnection};
use accountd_core::user::{NewUser, User, UserId};
use sqlx::Row as _;

type Row = <Db as sqlx::Database>::Row;

/// The store: a pool, or one open transaction on it.
pub struct Handle {
    pool: sqlx::Pool<Db>,
    tx: Option<tokio::sync::Mutex<sqlx::Transaction<'static, Db>>>,
    methods: Arc<crate::method_cache::MethodCache>,
    /// Users whose methods this transaction changed: cleared from the cache once it commits.
    touched: std::sync::Mutex<Vec<(TenantId, UserId)>>,
    /// How one-time values are checked; `None` in a transaction (it checks the table itself).
    one_time: Option<crate::OneTimeValues>,
}

/// A connection to run one query on: pooled, or the handle's transaction.
enum Conn<'a> {
    Pooled(sqlx::pool::PoolConnection<Db>),
    Tx(tokio::sync::MutexGuard<'a, sqlx::Transaction<'static, Db>>),
}

impl Deref for Conn<'_> {
    type Target = <Db as sqlx::Database>::Connection;
    fn deref(&self) -> &Self::Target {
        match self {
            Conn::Pooled(c) => c,
            Conn::Tx(t) => t,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Conn::Pooled(c) => c,
            Conn::Tx(t) => t,
        }
    }
}

impl Handle {
    /// The store over a pool, with the cache of method lists it keeps current.
    pub fn pool(
        pool: sqlx::Pool<Db>,
        methods: Arc<crate::method_cache::MethodCache>,
        one_time: crate::OneTimeValues,
    ) -> Self {
        if let crate::OneTimeValues::InMemory(seen) = &one_time {
            tokio::spawn(save_seen_keys_until_closed(pool.clone(), seen.clone()));
        }
        Self { pool, tx: None, methods, touched: std::sync::Mutex::new(Vec::new()), one_time: Some(one_time) }
    }

    /// The cached method list of a user, outside transactions (which read their own writes).
    fn cached_methods(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<Vec<AuthenticationMethod>>> {
        if self.tx.is_some() { None } else { self.methods.get(tenant, user) }
    }

    /// After a write to a user's methods: on the pool it is committed, so the user's cached list
    /// goes now (and other nodes are told); in a transaction, at commit.
    async fn methods_changed(&self, c: &mut Conn<'_>, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        if matches!(c, Conn::Tx(_)) {
            if let Ok(mut t) = self.touched.lock() {
                t.push((tenant.clone(), user.clone()));
            }
            return Ok(());
        }
        self.methods.invalidate(tenant.as_str(), &user.0);
        if let Some(notify) = NOTIFY {
            sqlx::query(notify)
                .bind(crate::method_cache::MethodCache::payload(tenant, user))
                .execute(&mut **c)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn conn(&self) -> StoreResult<Conn<'_>> {
        match &self.tx {
            Some(tx) => Ok(Conn::Tx(tx.lock().await)),
            None => Ok(Conn::Pooled(self.pool.acquire().await.map_err(map_err)?)),
        }
    }
}

/// Starts an atomic unit on `conn`: a transaction on a pooled connection, a savepoint inside an
/// open one, so multi-statement methods are all-or-nothing either way.
async fn atomic<'c>(conn: &'c mut Conn<'_>) -> StoreResult<sqlx::Transaction<'c, Db>> {
    match conn {
        Conn::Pooled(c) => sqlx::Connection::begin_with(&mut **c, BEGIN).await.map_err(map_err),
        Conn::Tx(t) => sqlx::Connection::begin(&mut ***t).await.map_err(map_err),
    }
}

#[async_trait::async_trait]
impl CoreStore for Handle {
    async fn begin(&self) -> StoreResult<Box<dyn CoreTx>> {
        if self.tx.is_some() {
            return Err(StoreError::Other(anyhow::anyhow!("nested Store::begin")));
        }
        let tx = self.pool.begin_with(BEGIN).await.map_err(map_err)?;
        Ok(Box::new(Handle {
            pool: self.pool.clone(),
            tx: Some(tokio::sync::Mutex::new(tx)),
            methods: self.methods.clone(),
            touched: std::sync::Mutex::new(Vec::new()),
            one_time: None,
        }))
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("SELECT 1").execute(&mut *c).await.map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) {
        if let Some(crate::OneTimeValues::InMemory(seen)) = &self.one_time {
            let rows = seen.take_unsaved();
            if !rows.is_empty()
                && let Err(e) = save_seen_keys(&self.pool, &rows, accountd_core::clock::now_millis(), false).await
            {
                tracing::warn!(error = %e, "could not save the last DPoP proof ids");
            } else if let Some(run) = seen.run() {
                // Every id is saved: the next start need not distrust earlier proofs.
                let _ = sqlx::query("DELETE FROM server_runs WHERE started_at = $1").bind(run).execute(&self.pool).await;
            }
        }
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn pool_state(&self) -> Option<(u32, usize)> {
        Some((self.pool.size(), self.pool.num_idle()))
    }
}

#[async_trait::async_trait]
impl CoreTx for Handle {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let touched = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()));
        let Some(tx) = self.tx else { return Ok(()) };
        let mut tx = tx.into_inner();
        if let Some(notify) = NOTIFY {
            // Delivered to the other nodes when (and only if) the transaction commits.
            for (tenant, user) in &touched {
                sqlx::query(notify)
                    .bind(crate::method_cache::MethodCache::payload(tenant, user))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        let done = tx.commit().await.map_err(map_err);
        // Cleared even if the commit failed: its outcome may be unknown, and a miss is harmless.
        for (tenant, user) in &touched {
            self.methods.invalidate(tenant.as_str(), &user.0);
        }
        done
    }
}

/// Total count from a `COUNT(*)` row.
fn count(row: &Row) -> StoreResult<u64> {
    row.try_get::<i64, _>(0).map(|n| n as u64).map_err(map_err)
}
