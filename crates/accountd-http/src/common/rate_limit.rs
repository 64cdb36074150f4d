//! Request limits of the account API, per tenant and per user, with `governor`'s GCRA: a tenant's
//! limits come from its account policy, so each tenant has its own limiters, rebuilt when the
//! policy changes. The answer carries what the `x-ratelimit-*` headers report: the limit that is
//! closest to running out.
//!
//! Only authenticated requests spend the tenant's and the user's budgets. A request without a
//! valid token counts against its client IP's own limit instead ([`AccountRateLimiter::check_anonymous`]),
//! so nobody can exhaust a tenant's budget, and lock its users out, without a token.
//!
//! The counters live in this process. One node (the SQLite default) counts exactly; several nodes
//! set `redis.url` and count in Redis instead ([`super::shared`]).

use std::collections::HashMap;
use std::net::IpAddr;
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
    /// Requests without a valid token, per client IP.
    anonymous: Keyed,
    checks: AtomicU64,
}

fn quota(n: u32, per: Duration) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(per / n.get()).unwrap_or_else(|| Quota::per_second(n)).allow_burst(n)
}

/// `anonymous_ip_per_second` refilled, `anonymous_ip_burst` at once.
fn anonymous_quota(limits: &RateLimits) -> Quota {
    let per_second = NonZeroU32::new(limits.anonymous_ip_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limits.anonymous_ip_burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

/// What the anonymous limit counts a client by: its IPv4 address, or the /64 network of its IPv6
/// address (one subscriber's usual allocation, so hopping addresses inside it gains nothing).
/// Anything that is not an IP address shares one counter.
pub fn ip_key(ip: Option<&str>) -> String {
    match ip.and_then(|s| s.parse::<IpAddr>().ok()).map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
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
            anonymous: governor::RateLimiter::keyed(anonymous_quota(limits)).with_middleware(),
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

    /// The tenant's limiters, forgetting idle keys now and then so the keyed maps stay small.
    fn counted(&self, tenant: &TenantId, limits: &RateLimits) -> Arc<TenantLimiters> {
        let l = self.limiters(tenant, limits);
        if l.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            l.user_read.retain_recent();
            l.user_write.retain_recent();
            l.anonymous.retain_recent();
        }
        l
    }

    /// Counts one request of the authenticated `user` against the tenant's and the user's limits.
    pub fn check(&self, tenant: &TenantId, limits: &RateLimits, user: &str, write: bool) -> RateVerdict {
        let l = self.counted(tenant, limits);
        let now = unix_now();
        let (tenant_limiter, user_limiter) =
            if write { (&l.tenant_write, &l.user_write) } else { (&l.tenant_read, &l.user_read) };
        let t = match tenant_limiter.check() {
            Ok(s) => describe(&s),
            Err(n) => return refused(&n, now, true),
        };
        let chosen = match user_limiter.check_key(&user.to_string()) {
            Ok(s) => {
                let u = describe(&s);
                if u.1 < t.1 { u } else { t }
            }
            Err(n) => return refused(&n, now, false),
        };
        verdict(chosen, now)
    }

    /// Counts one request without a valid token from the client `ip` (an [`ip_key`]) against that
    /// IP's own limit; the tenant's and users' budgets are left alone.
    pub fn check_anonymous(&self, tenant: &TenantId, limits: &RateLimits, ip: &str) -> RateVerdict {
        let l = self.counted(tenant, limits);
        let now = unix_now();
        match l.anonymous.check_key(&ip.to_string()) {
            Ok(s) => verdict(describe(&s), now),
            Err(n) => refused(&n, now, false),
        }
    }
}

/// The headers of an allowed request, from (limit, remaining, seconds until full).
fn verdict((limit, remaining, refill): (u32, u32, f64), now: f64) -> RateVerdict {
    RateVerdict { limit, remaining, reset: (now + refill).ceil() as u64, refused: None }
}

/// A refusal by a limiter; `global` when it is the tenant-wide one.
fn refused(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>, now: f64, global: bool) -> RateVerdict {
    let q = not_until.quota();
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let limit = q.burst_size().get();
    let full = q.replenish_interval().as_secs_f64() * f64::from(limit);
    RateVerdict {
        limit,
        remaining: 0,
        reset: (now + full).ceil() as u64,
        refused: Some((wait.as_secs_f64().ceil() as u64, global)),
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
        let seen: Vec<u32> = (0..3).map(|_| rl.check(&tenant(), &limits, "u1", false).remaining).collect();
        assert_eq!(seen, vec![2, 1, 0]);
        let v = rl.check(&tenant(), &limits, "u1", false);
        let (retry, global) = v.refused.expect("fourth read is refused");
        assert!(!global);
        assert!((1..=20).contains(&retry), "retry after {retry}s");
        // Another user and writes are counted apart.
        assert!(rl.check(&tenant(), &limits, "u2", false).refused.is_none());
        assert!(rl.check(&tenant(), &limits, "u1", true).refused.is_none());
    }

    #[test]
    fn the_tenant_limit_is_global_and_a_policy_change_takes_effect() {
        let rl = AccountRateLimiter::default();
        let limits = RateLimits { tenant_writes_per_second: 2, ..RateLimits::default() };
        assert!(rl.check(&tenant(), &limits, "u1", true).refused.is_none());
        assert!(rl.check(&tenant(), &limits, "u2", true).refused.is_none());
        assert_eq!(rl.check(&tenant(), &limits, "u3", true).refused.map(|r| r.1), Some(true));
        let more = RateLimits { tenant_writes_per_second: 10, ..limits };
        assert!(rl.check(&tenant(), &more, "u3", true).refused.is_none());
    }

    #[test]
    fn requests_without_a_token_spend_their_ips_budget_not_the_tenants() {
        let rl = AccountRateLimiter::default();
        let limits = RateLimits {
            tenant_reads_per_second: 2,
            anonymous_ip_burst: 3,
            anonymous_ip_per_second: 1,
            ..RateLimits::default()
        };
        let seen: Vec<u32> = (0..3).map(|_| rl.check_anonymous(&tenant(), &limits, "192.0.2.1").remaining).collect();
        assert_eq!(seen, vec![2, 1, 0]);
        let v = rl.check_anonymous(&tenant(), &limits, "192.0.2.1");
        assert_eq!(v.limit, 3);
        assert_eq!(v.refused.map(|r| r.1), Some(false), "refused, and not as the tenant-wide limit");
        // Another IP has its own budget, and the tenant's is untouched.
        assert!(rl.check_anonymous(&tenant(), &limits, "192.0.2.2").refused.is_none());
        let user = rl.check(&tenant(), &limits, "u1", false);
        assert_eq!((user.limit, user.remaining, user.refused), (2, 1, None));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_network() {
        assert_eq!(ip_key(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(ip_key(Some("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
        assert_eq!(ip_key(Some("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(ip_key(Some("192.0.2.7")), "192.0.2.7");
        assert_eq!(ip_key(Some("not an ip")), "unknown");
        assert_eq!(ip_key(None), "unknown");
    }
}
