//! The operations the HTTP adapters and the admin CLI call. Each public method is one core
//! operation: it checks its invariants, and writes in one transaction together with its audit event.

mod access_tokens;
mod account_center;
mod apis;
mod applications;
mod attempts;
mod authentication_methods;
mod connectors;
mod export;
mod grants;
mod identifiers;
mod identities;
mod keys;
mod mfa;
mod passkey_grant;
mod pending;
mod profile;
mod push;
mod roles;
mod second_factor;
mod security_events;
mod sessions;
mod signin;
mod tenants;
mod upstream;
mod users;
mod verification;

use std::sync::Arc;

use zeroize::Zeroizing;

pub use crate::caller::AccountCaller;
pub use authentication_methods::EnrollmentStarted;
pub use connectors::TemplateView;
pub use export::AccountExport;
pub use grants::ClientGrantView;
pub use identifiers::{AccountPatch, ClaimsPatch, Patch};
pub use identities::{ConnectRequest, ConnectStarted, ConnectedAccountsPage, UpstreamCallback};
pub use mfa::MfaItem;
pub use passkey_grant::WEBAUTHN_GRANT;
pub use profile::{
    FieldAccess, FieldPolicy, FieldSource, PROFILE_POLICY, ProfileChanges, ReadOnlyReason, USER_METADATA_MAX_BYTES,
    field_policy, is_picture_url,
};
pub use push::{MAX_BINDING_MESSAGE_CHARS, PushChallenge};
pub use roles::PermissionView;
pub use second_factor::{SecondFactorAnswer, SecondFactorChallenge, SecondFactorPrompt};
pub use security_events::MAX_SECURITY_EVENTS_PAGE;
pub use sessions::{GrantView, GrantsTarget, SessionApp, SessionView};
pub use signin::{CodeExchange, ExchangeError, GrantError, RefreshExchange, SESSION_TTL_MILLIS};
pub use tenants::Bootstrap;
pub use upstream::ConnectionSpec;
pub use verification::Address;

use crate::error::Result;
use crate::message::{MessageSender, SendError};
use crate::secret::{MasterKey, PasswordHashing};
use crate::store::Store;

/// Settings core reads from configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Argon2id cost.
    pub password_hashing: PasswordHashing,
    /// Shortest password accepted.
    pub password_min_length: usize,
    /// Sign-in attempts per identifier and client IP before that pair is locked out; also the
    /// limit for a user's second-factor answers.
    pub sign_in_per_account: crate::store::ThrottleRule,
    /// The steady budget of failed sign-ins per client IP across every identifier (slows a spray
    /// down; locks nobody out).
    pub sign_in_per_ip: crate::store::RateRule,
    /// Refuse a token once its session or token family is revoked, or its user blocked or
    /// deleted. Off only to measure what the check costs (bench/).
    pub revocation_check: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let minutes = |m: i64| m * 60 * 1000;
        Self {
            password_hashing: PasswordHashing::default(),
            password_min_length: 8,
            sign_in_per_account: crate::store::ThrottleRule {
                max_failures: 5,
                window_millis: minutes(15),
                lockout_millis: minutes(15),
            },
            sign_in_per_ip: crate::store::RateRule { burst: 100, interval_millis: 10_000 },
            revocation_check: true,
        }
    }
}

/// A freshly generated signing key pair.
pub struct GeneratedKey {
    /// Key id (RFC 7638 thumbprint).
    pub kid: String,
    /// JWS algorithm.
    pub alg: String,
    /// Private key, PKCS#8 DER.
    pub private_pkcs8: Zeroizing<Vec<u8>>,
    /// Public key as a JWK JSON object (with `kid`, `alg`, `use`).
    pub public_jwk: String,
}

/// Makes signing keys; implemented by `accountd-oauth`, which owns the JOSE details.
pub trait KeyMaker: Send + Sync {
    /// A new key pair for `alg` (`RS256`, `ES256`, `EdDSA`).
    fn generate(&self, alg: &str) -> Result<GeneratedKey>;
}

/// The domain core: store, master key and settings.
pub struct Core {
    store: Arc<dyn Store>,
    master_key: MasterKey,
    key_maker: Arc<dyn KeyMaker>,
    settings: Settings,
    messages: Arc<dyn MessageSender>,
    policies: SettingsCache<crate::authn::policy::AccountPolicy>,
    account_centers: SettingsCache<crate::account_center::AccountCenter>,
    upstream: Arc<dyn crate::upstream::UpstreamClient>,
    /// One refresh at a time per identity on this node: a provider that rotates refresh tokens
    /// would take a second, parallel use of the old one for theft and revoke the grant.
    upstream_refreshes: KeyedLocks,
}

/// Async locks by key, forgotten when nobody holds or waits for them.
#[derive(Default)]
pub(crate) struct KeyedLocks(std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl KeyedLocks {
    /// Waits for the lock of `key`.
    pub(crate) async fn lock(&self, key: &str) -> KeyedGuard<'_> {
        let lock = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        KeyedGuard { locks: self, key: key.to_string(), guard: Some(guard), lock }
    }
}

/// A held [`KeyedLocks`] lock.
pub(crate) struct KeyedGuard<'a> {
    locks: &'a KeyedLocks,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for KeyedGuard<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.locks.0.lock().unwrap_or_else(|e| e.into_inner());
        // Two references: the map's and ours; nobody else holds or waits for it.
        if Arc::strong_count(&self.lock) <= 2 {
            map.remove(&self.key);
        }
    }
}

impl Core {
    /// Builds the core over a store.
    pub fn new(store: Arc<dyn Store>, master_key: MasterKey, key_maker: Arc<dyn KeyMaker>, settings: Settings) -> Self {
        Self {
            store,
            master_key,
            key_maker,
            settings,
            messages: Arc::new(NoConnector),
            policies: Default::default(),
            account_centers: Default::default(),
            upstream: Arc::new(crate::upstream::NoUpstreamClient),
            upstream_refreshes: KeyedLocks::default(),
        }
    }

    /// Sends one-time codes through `sender` (the tenant's connectors).
    pub fn with_message_sender(mut self, sender: Arc<dyn MessageSender>) -> Self {
        self.messages = sender;
        self
    }

    /// Password hashes running now and waiting for a worker (metrics).
    pub fn hashing_load(&self) -> (usize, usize) {
        self.settings.password_hashing.pool.load()
    }

    /// The store (for readiness checks and shutdown).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The master key.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }
}

/// The sender of a core built without connectors (unit tests): every send fails.
struct NoConnector;

#[async_trait::async_trait]
impl MessageSender for NoConnector {
    async fn send(&self, _: &crate::tenant::TenantId, m: &crate::message::OutgoingMessage) -> Result<(), SendError> {
        Err(SendError::NotConfigured(m.channel.as_str()))
    }
}

/// A tenant's settings kept in memory for a couple of seconds: every self-service request reads
/// them, and a change reaches every node within the TTL (the node that made it at once).
pub(crate) struct SettingsCache<T>(
    std::sync::Mutex<std::collections::HashMap<crate::tenant::TenantId, (std::time::Instant, Arc<T>)>>,
);

/// How long settings are served from memory before they are read again.
const SETTINGS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

impl<T> Default for SettingsCache<T> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<T> SettingsCache<T> {
    /// The tenant's settings if read within the TTL.
    fn get(&self, tenant: &crate::tenant::TenantId) -> Option<Arc<T>> {
        let cache = self.0.lock().ok()?;
        let (at, v) = cache.get(tenant)?;
        (at.elapsed() < SETTINGS_TTL).then(|| v.clone())
    }

    /// Remembers settings just read.
    fn put(&self, tenant: &crate::tenant::TenantId, v: Arc<T>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(tenant.clone(), (std::time::Instant::now(), v));
        }
    }

    /// Forgets the tenant's settings (after this node changed them).
    fn forget(&self, tenant: &crate::tenant::TenantId) {
        if let Ok(mut cache) = self.0.lock() {
            cache.remove(tenant);
        }
    }
}

/// `{"changed": [names of given fields]}` for audit details; never values.
fn changed(fields: &[(&str, bool)]) -> serde_json::Value {
    serde_json::json!({ "changed": fields.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect::<Vec<_>>() })
}
