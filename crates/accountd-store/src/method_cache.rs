//! Users' authentication method lists (without secrets), user records and recent revocations
//! (the sessions and token families whose tokens are refused) kept in memory, so that
//! the self-service reads (`GET /me/v1/authentication-methods[/{id}]`, `GET /me/v1/profile`,
//! `GET /api/my-account`, `/userinfo`) skip the database on a repeat.
//!
//! Only the views are cached: every check of a proof (sign-in, verification, the "last way to sign
//! in" rule) and every write still reads the database. Every write to a user or its methods
//! through this store clears the user's entry once the write is committed; on PostgreSQL the write also sends a
//! `NOTIFY accountd_methods` in the same transaction, so every node clears it (see
//! [`crate::listen_for_method_changes`]). A node whose listener is down serves no cached
//! lists, and clears everything when it is back, since notifications sent meanwhile are lost.
//! A TTL bounds what no notification reaches (a second process writing the same SQLite file, such
//! as `accountd admin user set-password` while the server runs).
//!
//! A read that misses notes the cache's epoch before it queries, and stores its result only if no
//! clear happened since: a list read while a write committed is never stored after that write's
//! clear.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use accountd_core::authn::method::AuthenticationMethod;
use accountd_core::session::Revocations;
use accountd_core::tenant::TenantId;
use accountd_core::upstream::LinkedIdentity;
use accountd_core::user::{User, UserId};

/// The PostgreSQL channel writes are announced on.
pub const CHANNEL: &str = "accountd_methods";

type Key = (String, String);

/// What is cached of one user: each part on its own clock, both cleared together.
#[derive(Default)]
struct Slot {
    methods: Option<(Instant, Arc<Vec<AuthenticationMethod>>)>,
    user: Option<(Instant, Arc<User>)>,
    /// The sessions and token families revoked lately: what the per-request liveness check reads.
    revocations: Option<(Instant, Arc<Revocations>)>,
    /// The identities at upstream connections (what `GET /api/my-account` shows).
    identities: Option<(Instant, Arc<Vec<LinkedIdentity>>)>,
}

struct Entries {
    epoch: u64,
    map: HashMap<Key, Slot>,
}

/// The cache of one store (shared by its transactions).
pub struct MethodCache {
    ttl: Duration,
    capacity: usize,
    live: AtomicBool,
    entries: RwLock<Entries>,
}

/// What a missed read remembers until it can store its result.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl MethodCache {
    /// A cache keeping lists `ttl` and at most `capacity` users; `live` says whether it may serve
    /// at once (false until a PostgreSQL listener runs). A zero `ttl` turns it off.
    pub fn new(ttl: Duration, capacity: usize, live: bool) -> Self {
        Self {
            ttl,
            capacity,
            live: AtomicBool::new(live && !ttl.is_zero()),
            entries: RwLock::new(Entries { epoch: 0, map: HashMap::new() }),
        }
    }

    /// The user's cached list, if fresh.
    pub fn get(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<Vec<AuthenticationMethod>>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (at, methods) = entries.map.get(&(tenant.as_str().to_owned(), user.0.clone()))?.methods.as_ref()?;
        (at.elapsed() < self.ttl).then(|| methods.clone())
    }

    /// The user's cached record, if fresh.
    pub fn get_user(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<User>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (at, u) = entries.map.get(&(tenant.as_str().to_owned(), user.0.clone()))?.user.as_ref()?;
        (at.elapsed() < self.ttl).then(|| u.clone())
    }

    /// The user's cached revocations, if fresh.
    pub fn get_revocations(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<Revocations>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (at, r) = entries.map.get(&(tenant.as_str().to_owned(), user.0.clone()))?.revocations.as_ref()?;
        (at.elapsed() < self.ttl).then(|| r.clone())
    }

    /// The user's cached identities, if fresh.
    pub fn get_identities(&self, tenant: &TenantId, user: &UserId) -> Option<Arc<Vec<LinkedIdentity>>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (at, i) = entries.map.get(&(tenant.as_str().to_owned(), user.0.clone()))?.identities.as_ref()?;
        (at.elapsed() < self.ttl).then(|| i.clone())
    }

    /// Stores identities read with `ticket`, unless a write cleared anything since.
    pub fn put_identities(&self, ticket: Ticket, tenant: &TenantId, user: &UserId, found: &[LinkedIdentity]) {
        self.store(ticket, tenant, user, |slot| slot.identities = Some((Instant::now(), Arc::new(found.to_vec()))));
    }

    /// Stores revocations read with `ticket`, unless a write cleared anything since.
    pub fn put_revocations(&self, ticket: Ticket, tenant: &TenantId, user: &UserId, found: Arc<Revocations>) {
        self.store(ticket, tenant, user, |slot| slot.revocations = Some((Instant::now(), found)));
    }

    /// Stores a user record read with `ticket`, unless a write cleared anything since.
    pub fn put_user(&self, ticket: Ticket, tenant: &TenantId, user: &User) {
        self.store(ticket, tenant, &user.id, |slot| slot.user = Some((Instant::now(), Arc::new(user.clone()))));
    }

    /// Taken before a missed read queries the database.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.entries.read().map(|e| e.epoch).unwrap_or(u64::MAX))
    }

    /// Stores a list read with `ticket`, unless a write cleared anything since.
    pub fn put(&self, ticket: Ticket, tenant: &TenantId, user: &UserId, methods: &[AuthenticationMethod]) {
        self.store(ticket, tenant, user, |slot| slot.methods = Some((Instant::now(), Arc::new(methods.to_vec()))));
    }

    fn store(&self, ticket: Ticket, tenant: &TenantId, user: &UserId, fill: impl FnOnce(&mut Slot)) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else { return };
        if entries.epoch != ticket.0 {
            return;
        }
        let key = (tenant.as_str().to_owned(), user.0.clone());
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            // Cheaper than tracking recency, and a full cache refills from the next reads.
            entries.map.clear();
        }
        fill(entries.map.entry(key).or_default());
    }

    /// Forgets one user's list (after a committed write to it).
    pub fn invalidate(&self, tenant: &str, user: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.epoch += 1;
            entries.map.remove(&(tenant.to_owned(), user.to_owned()));
        }
    }

    /// Forgets everything, and serves (`live`) or not from now on.
    pub fn reset(&self, live: bool) {
        if let Ok(mut entries) = self.entries.write() {
            entries.epoch += 1;
            entries.map.clear();
            self.live.store(live && !self.ttl.is_zero(), Ordering::Release);
        }
    }

    /// The NOTIFY payload naming a user.
    pub fn payload(tenant: &TenantId, user: &UserId) -> String {
        serde_json::json!([tenant.as_str(), user.0]).to_string()
    }

    /// Forgets the user a NOTIFY payload names (everything, if it cannot be read).
    pub fn invalidate_payload(&self, payload: &str) {
        match serde_json::from_str::<(String, String)>(payload) {
            Ok((tenant, user)) => self.invalidate(&tenant, &user),
            Err(_) => self.reset(self.live.load(Ordering::Acquire)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use accountd_core::authn::method::{MethodDetails, MethodType};

    fn method(id: &str) -> AuthenticationMethod {
        AuthenticationMethod {
            id: id.into(),
            user_id: UserId("u".into()),
            method_type: MethodType::Totp,
            confirmed: true,
            name: None,
            details: MethodDetails::default(),
            created_at: 0,
            updated_at: 0,
            last_used_at: None,
        }
    }

    fn key() -> (TenantId, UserId) {
        (TenantId::from_stored("t".into()), UserId("u".into()))
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_stored() {
        let c = MethodCache::new(Duration::from_secs(30), 10, true);
        let (t, u) = key();
        let ticket = c.ticket();
        c.invalidate("t", "u"); // a write commits while the read runs
        c.put(ticket, &t, &u, &[method("totp|old")]);
        assert!(c.get(&t, &u).is_none(), "the stale list was stored");
        let ticket = c.ticket();
        c.put(ticket, &t, &u, &[method("totp|new")]);
        assert_eq!(c.get(&t, &u).unwrap()[0].id, "totp|new");
        c.invalidate_payload(&MethodCache::payload(&t, &u));
        assert!(c.get(&t, &u).is_none(), "a notification clears the user");
    }

    #[test]
    fn a_user_record_is_cleared_with_its_methods() {
        let c = MethodCache::new(Duration::from_secs(30), 10, true);
        let (t, u) = key();
        let user = test_user();
        let ticket = c.ticket();
        c.put_user(ticket, &t, &user);
        c.put(ticket, &t, &u, &[method("totp|a")]);
        assert!(c.get_user(&t, &u).is_some() && c.get(&t, &u).is_some());
        c.invalidate("t", "u");
        assert!(c.get_user(&t, &u).is_none() && c.get(&t, &u).is_none(), "a write left part of the user cached");
        let stale = c.ticket();
        c.invalidate("t", "u");
        c.put_user(stale, &t, &user);
        assert!(c.get_user(&t, &u).is_none(), "a record read across a write was stored");
    }

    fn test_user() -> User {
        User::new(UserId("u".into()), 0)
    }

    #[test]
    fn not_live_serves_nothing_and_reset_clears() {
        let c = MethodCache::new(Duration::from_secs(30), 10, false);
        let (t, u) = key();
        c.put(c.ticket(), &t, &u, &[method("totp|a")]);
        assert!(c.get(&t, &u).is_none());
        c.reset(true);
        c.put(c.ticket(), &t, &u, &[method("totp|a")]);
        assert!(c.get(&t, &u).is_some());
        c.reset(false);
        assert!(c.get(&t, &u).is_none());
        let off = MethodCache::new(Duration::ZERO, 10, true);
        off.put(off.ticket(), &t, &u, &[method("totp|a")]);
        assert!(off.get(&t, &u).is_none(), "a zero TTL turns the cache off");
    }
}
