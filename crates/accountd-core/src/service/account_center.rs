//! The tenant's account-center settings (see `crate::account_center`): read through a short cache,
//! as every self-service request reads them, and replaced by operators.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Core;
use crate::account_center::{AccountCenter, AccountCenterChange};
use crate::audit::{AuditEvent, Context};
use crate::error::Result;
use crate::tenant::TenantId;

/// How long settings are served from memory before they are read again (every node sees a
/// change within this).
const TTL: Duration = Duration::from_secs(2);

/// The in-memory cache of account centers.
#[derive(Default)]
pub(crate) struct AccountCenterCache(
    std::sync::Mutex<std::collections::HashMap<TenantId, (Instant, Arc<AccountCenter>)>>,
);

impl Core {
    /// The tenant's account center (cached for a couple of seconds).
    pub async fn account_center(&self, tenant: &TenantId) -> Result<Arc<AccountCenter>> {
        if let Ok(cache) = self.account_centers.0.lock()
            && let Some((at, c)) = cache.get(tenant)
            && at.elapsed() < TTL
        {
            return Ok(c.clone());
        }
        let c = Arc::new(AccountCenter::from_stored(self.store.load_account_center(tenant).await?.as_deref()));
        if let Ok(mut cache) = self.account_centers.0.lock() {
            cache.insert(tenant.clone(), (Instant::now(), c.clone()));
        }
        Ok(c)
    }

    /// Changes the tenant's account center (a given `fields` replaces every field).
    pub async fn update_account_center(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        change: AccountCenterChange,
    ) -> Result<AccountCenter> {
        let tx = self.store.begin().await?;
        let mut center = AccountCenter::from_stored(tx.load_account_center(tenant).await?.as_deref());
        center.apply(change)?;
        let stored = serde_json::to_string(&center).map_err(anyhow::Error::from)?;
        tx.save_account_center(tenant, &stored).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "tenant.account_center.update", "tenant", tenant.as_str(), json!({})),
        )
        .await?;
        tx.commit().await?;
        if let Ok(mut cache) = self.account_centers.0.lock() {
            cache.remove(tenant);
        }
        Ok(center)
    }
}
