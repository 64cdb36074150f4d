//! The tenant's account-center settings (see `crate::account_center`): read through a short cache,
//! as every self-service request reads them, and replaced by operators.

use std::sync::Arc;

use serde_json::json;

use super::Core;
use crate::account_center::{AccountCenter, AccountCenterChange};
use crate::audit::{AuditEvent, Context};
use crate::error::Result;
use crate::tenant::TenantId;

impl Core {
    /// The tenant's account center (cached for a couple of seconds).
    pub async fn account_center(&self, tenant: &TenantId) -> Result<Arc<AccountCenter>> {
        if let Some(c) = self.account_centers.get(tenant) {
            return Ok(c);
        }
        let c = Arc::new(AccountCenter::from_stored(self.store.load_account_center(tenant).await?.as_deref()));
        self.account_centers.put(tenant, c.clone());
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
        self.account_centers.forget(tenant);
        Ok(center)
    }
}
