use serde_json::json;
use zeroize::Zeroizing;

use super::Core;
use crate::audit::{AuditEvent, Context};
use crate::clock::{Millis, now_millis};
use crate::error::Result;
use crate::signing_key::{KeyStatus, SigningKey, seal_context};
use crate::tenant::TenantId;

/// How long a retired key stays in the JWKS: longer than any access or ID token lives (the
/// longest API token lifetime we accept is 30 days).
pub const RETIRED_KEY_PUBLISH_MILLIS: Millis = 30 * 24 * 3600 * 1000 + 3600 * 1000;

impl Core {
    /// Generates a key and seals its private half for `tenant`.
    pub(crate) fn new_signing_key(&self, tenant: &TenantId, alg: &str, now: Millis) -> Result<SigningKey> {
        let generated = self.key_maker.generate(alg)?;
        let sealed = self.master_key.seal(&seal_context(tenant, &generated.kid), &generated.private_pkcs8)?;
        Ok(SigningKey {
            kid: generated.kid,
            alg: generated.alg,
            status: KeyStatus::Active,
            private_key_sealed: sealed,
            public_jwk: generated.public_jwk,
            created_at: now,
            retired_at: None,
            publish_until: None,
        })
    }

    /// Keys the tenant publishes (active and recently retired), newest first.
    pub async fn signing_keys(&self, tenant: &TenantId) -> Result<Vec<SigningKey>> {
        Ok(self.store.list_signing_keys(tenant, now_millis()).await?)
    }

    /// The private half of a key (PKCS#8 DER).
    pub fn open_signing_key(&self, tenant: &TenantId, key: &SigningKey) -> Result<Zeroizing<Vec<u8>>> {
        self.master_key.open(&seal_context(tenant, &key.kid), &key.private_key_sealed)
    }

    /// Makes a new active key for `alg` and retires the previous ones of that algorithm; they
    /// stay in the JWKS until every token they signed has expired.
    pub async fn rotate_signing_key(&self, ctx: &Context, tenant: &TenantId, alg: &str) -> Result<SigningKey> {
        let now = now_millis();
        let key = self.new_signing_key(tenant, alg, now)?;
        let old = self.store.list_signing_keys(tenant, now).await?;
        let tx = self.store.begin().await?;
        for k in old.iter().filter(|k| k.status == KeyStatus::Active && k.alg == alg) {
            tx.retire_signing_key(tenant, &k.kid, now, now + RETIRED_KEY_PUBLISH_MILLIS).await?;
        }
        tx.insert_signing_key(tenant, &key).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "signing_key.rotate", "signing_key", &key.kid, json!({"alg": alg})),
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }
}
