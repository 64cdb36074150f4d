//! Request limits of the account API, per tenant and per user, with `governor`'s GCRA: a tenant's
//! limits come from its account policy, so each tenant has its own limiters, rebuilt when the
//! policy changes. The answer carries what the `x-ratelimit-*` headers report: the limit that is
//! closest to running out.
//!
//! The counters live in this process. One node (the SQLite default) counts exactly; several nodes
//! set `redis.url` and count in Redis instead ([`super::shared`]).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use accountd_core::authn::policy::RateLimits;
use accountd_core::tenant::TenantId;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

type Direct = DefaultDirectRateLimiter<StateInformationMiddleware>;
type Keyed = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

struct TenantLimiters {
    limits: RateLimits,
    tenant_read: Direct,
    tenant_write: Direct,
    user_read: Keyed,
    user_write: Keyed,
    checks: AtomicU64,
}

fn quota(n: u32, per: Duration) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(per / n.get()).unwrap_or_else(|| Quota::per_second(n)).allow_burst(n)
}

impl TenantLimiters {
    fn new(limits: &RateLimits) -> Self {
        let sec = Duration::from_secs(1);
        let min = Duration::from_secs(60);
        Self {
            limits: limits.clone(),
            tenant_read: governor::RateLimiter::direct(quota(limits.tenant_reads_per_second, sec)).with_middleware(),
            tenant_write: governor::RateLimiter::direct(quota(limits.tenant_writes_per_second, sec)).with_middleware(),
            user_read: governor::RateLimiter::keyed(quota(limits.user_reads_per_minute, min)).with_middleware(),
            user_write: governor::RateLimiter::keyed(quota(limits.user_writes_per_minute, min)).with_middleware(),
            checks: AtomicU64::new(0),
        }
    }
}

/// What one check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateVerdict {
    /// The limit reported (`x-ratelimit-limit`).
    pub limit: u32,
    /// Requests left in it (`x-ratelimit-remaining`).
    pub remaining: u32,
    /// When it is full again, in UNIX seconds (`x-ratelimit-reset`).
    pub reset: u64,
    /// Set when the request is refused: seconds to wait, and whether the tenant-wide limit did it.
    pub refused: Option<(u64, bool)>,
}

impl RateVerdict {
    /// Adds the `x-ratelimit-*` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from(self.limit));
        headers.insert(HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from(self.remaining));
        headers.insert(HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(self.reset));
    }
}

/// Limiters of every tenant seen.
#[derive(Default)]
pub struct AccountRateLimiter {
    tenants: RwLock<HashMap<TenantId, Arc<TenantLimiters>>>,
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// (limit, remaining, seconds until full) of a snapshot.
fn describe(s: &StateSnapshot) -> (u32, u32, f64) {
    let q = s.quota();
    let limit = q.burst_size().get();
    let remaining = s.remaining_burst_capacity();
    let refill = q.replenish_interval().as_secs_f64() * f64::from(limit.saturating_sub(remaining));
    (limit, remaining, refill)
}

impl AccountRateLimiter {
    fn limiters(&self, tenant: &TenantId, limits: &RateLimits) -> Arc<TenantLimiters> {
        if let Ok(map) = self.tenants.read()
            && let Some(l) = map.get(tenant)
            && l.limits == *limits
        {
            return l.clone();
        }
        let fresh = Arc::new(TenantLimiters::new(limits));
        if let Ok(mut map) = self.tenants.write() {
            match map.get(tenant) {
                Some(l) if l.limits == *limits => return l.clone(),
                _ => {
                    map.insert(tenant.clone(), fresh.clone());
                }
            }
        }
        fresh
    }

    /// Counts one request of `user` (if authenticated) against the tenant's limits.
    pub fn check(&self, tenant: &TenantId, limits: &RateLimits, user: Option<&str>, write: bool) -> RateVerdict {
        let l = self.limiters(tenant, limits);
        // Forget idle users now and then, so the per-user map stays small.
        if l.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            l.user_read.retain_recent();
            l.user_write.retain_recent();
        }
        let now = unix_now();
        let clock = DefaultClock::default();
        let (tenant_limiter, user_limiter) =
            if write { (&l.tenant_write, &l.user_write) } else { (&l.tenant_read, &l.user_read) };
        let refused = |not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>, global: bool| {
            let q = not_until.quota();
            let wait = not_until.wait_time_from(clock.now());
            let limit = q.burst_size().get();
            let full = q.replenish_interval().as_secs_f64() * f64::from(limit);
            RateVerdict {
                limit,
                remaining: 0,
                reset: (now + full).ceil() as u64,
                refused: Some((wait.as_secs_f64().ceil() as u64, global)),
            }
        };
        let t = match tenant_limiter.check() {
            Ok(s) => describe(&s),
            Err(n) => return refused(n, true),
        };
        let chosen = match user {
            Some(u) => match user_limiter.check_key(&u.to_string()) {
                Ok(s) => {
                    let u = describe(&s);
                    if u.1 < t.1 { u } else { t }
                }
                Err(n) => return refused(n, false),
            },
            None => t,
        };
        RateVerdict { limit: chosen.0, remaining: chosen.1, reset: (now + chosen.2).ceil() as u64, refused: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::from_stored("t".into())
    }

    #[test]
    fn a_user_gets_their_minute_budget_then_is_refused() {
        let rl = AccountRateLimiter::default();
        let limits = RateLimits { user_reads_per_minute: 3, ..RateLimits::default() };
        let seen: Vec<u32> = (0..3).map(|_| rl.check(&tenant(), &limits, Some("u1"), false).remaining).collect();
        assert_eq!(seen, vec![2, 1, 0]);
        let v = rl.check(&tenant(), &limits, Some("u1"), false);
        let (retry, global) = v.refused.expect("fourth read is refused");
        assert!(!global);
        assert!((1..=20).contains(&retry), "retry after {retry}s");
        // Another user and writes are counted apart.
        assert!(rl.check(&tenant(), &limits, Some("u2"), false).refused.is_none());
        assert!(rl.check(&tenant(), &limits, Some("u1"), true).refused.is_none());
    }

    #[test]
    fn the_tenant_limit_is_global_and_a_policy_change_takes_effect() {
        let rl = AccountRateLimiter::default();
        let limits = RateLimits { tenant_writes_per_second: 2, ..RateLimits::default() };
        assert!(rl.check(&tenant(), &limits, None, true).refused.is_none());
        assert!(rl.check(&tenant(), &limits, None, true).refused.is_none());
        assert_eq!(rl.check(&tenant(), &limits, None, true).refused.map(|r| r.1), Some(true));
        let more = RateLimits { tenant_writes_per_second: 10, ..limits };
        assert!(rl.check(&tenant(), &more, None, true).refused.is_none());
    }
}
