//! State every node must share when accountd runs on several nodes, kept in Redis when
//! `redis.url` is set: the account API's request limits (one GCRA script over the tenant's and
//! the user's counters, or over the client IP's counter for requests without a valid token;
//! atomic, on Redis' clock) and one-time values (DPoP and device proof ids,
//! `SET NX` with their expiry). Without Redis the limits are counted per process
//! ([`super::rate_limit`]) and one-time values go to the database.
//!
//! When Redis does not answer, limits let the request through (logged): an outage of the counter
//! store must not take the account API down. One-time values refuse it: a proof that cannot be
//! checked is not accepted.

use accountd_core::authn::policy::RateLimits;
use accountd_core::tenant::TenantId;
use redis::aio::ConnectionManager;

use super::rate_limit::RateVerdict;

/// GCRA over several keys at once: a request passes only if every key allows it, and then
/// counts against all of them (a refused request counts against none).
/// KEYS: the counters. ARGV: per key, its emission interval and burst, in microseconds (so
/// limits above 1,000 a second keep their precision) and requests. Returns per key: allowed
/// (1/0), remaining, microseconds until allowed, microseconds until full.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local ok = true
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if now < allow_at then
    ok = false
    out[i] = {0, 0, allow_at - now, tat - now}
  else
    out[i] = {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
  end
  tats[i] = new_tat
end
if ok then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, tats[i], 'PX', math.max(1, math.ceil((tats[i] - now) / 1000)))
  end
end
return out
";

/// The Redis connection and the scripts run on it.
#[derive(Clone)]
pub struct SharedState {
    conn: ConnectionManager,
    gcra: redis::Script,
    /// Starts every key, so deployments (and tests) sharing one Redis stay apart.
    prefix: String,
}

impl SharedState {
    /// Connects to `url` (`redis://…`); the manager reconnects by itself later. Keys start with
    /// `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self { conn, gcra: redis::Script::new(GCRA), prefix: prefix.to_string() })
    }

    /// Records `key` of `tenant` until `expires_at` (ms); false if it is already recorded.
    pub async fn remember_once(&self, tenant: &TenantId, key: &str, expires_at: i64) -> redis::RedisResult<bool> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}:once:{}:{key}", self.prefix, tenant.as_str()))
            .arg(1)
            .arg("NX")
            .arg("PXAT")
            .arg(expires_at)
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Counts one request of the authenticated `user` against the tenant's and the user's limits,
    /// on every node's counters.
    pub async fn check(&self, tenant: &TenantId, limits: &RateLimits, user: &str, write: bool) -> RateVerdict {
        let (kind, per_tenant, per_user) = if write {
            ("w", limits.tenant_writes_per_second, limits.user_writes_per_minute)
        } else {
            ("r", limits.tenant_reads_per_second, limits.user_reads_per_minute)
        };
        let (p, t) = (&self.prefix, tenant.as_str());
        let (per_tenant, per_user) = (per_tenant.max(1), per_user.max(1));
        self.run(
            &[
                Counter {
                    key: format!("{p}:rl:{t}:tenant:{kind}"),
                    interval_us: 1_000_000 / u64::from(per_tenant),
                    burst: per_tenant,
                },
                Counter {
                    key: format!("{p}:rl:{t}:user:{kind}:{user}"),
                    interval_us: 60_000_000 / u64::from(per_user),
                    burst: per_user,
                },
            ],
            true,
        )
        .await
    }

    /// Counts one request without a valid token from the client `ip` (a
    /// [`super::rate_limit::ip_key`]) against that IP's own limit, on every node's counters.
    pub async fn check_anonymous(&self, tenant: &TenantId, limits: &RateLimits, ip: &str) -> RateVerdict {
        let per_second = limits.anonymous_ip_per_second.max(1);
        let key = format!("{}:rl:{}:anon:{ip}", self.prefix, tenant.as_str());
        self.run(
            &[Counter { key, interval_us: 1_000_000 / u64::from(per_second), burst: limits.anonymous_ip_burst.max(1) }],
            false,
        )
        .await
    }

    /// Runs the GCRA script over `counters`; with `first_is_global`, a refusal by the first one is
    /// reported as the tenant-wide limit.
    async fn run(&self, counters: &[Counter], first_is_global: bool) -> RateVerdict {
        let mut inv = self.gcra.prepare_invoke();
        for c in counters {
            inv.key(&c.key).arg(c.interval_us.max(1)).arg(c.burst);
        }
        let first = counters.first().map_or(1, |c| c.burst);
        let mut conn = self.conn.clone();
        let answers: Vec<(i64, i64, i64, i64)> = match inv.invoke_async(&mut conn).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "rate-limit counters unavailable; request let through");
                return RateVerdict { limit: first, remaining: first, reset: 0, refused: None };
            }
        };
        let now_us = accountd_core::clock::now_millis() * 1000;
        let secs = |us: i64| (us.max(0) as u64).div_ceil(1_000_000);
        let at = |us: i64| ((now_us + us.max(0)) as u64).div_ceil(1_000_000);
        // A refusal names the first counter that refused.
        if let Some((i, a)) = answers.iter().enumerate().find(|(_, a)| a.0 == 0) {
            let limit = counters[i].burst;
            let global = i == 0 && first_is_global;
            return RateVerdict { limit, remaining: 0, reset: at(a.3), refused: Some((secs(a.2).max(1), global)) };
        }
        // Otherwise the headers report the counter closest to running out.
        let closest = answers.iter().enumerate().min_by_key(|(_, a)| a.1).map(|(i, a)| (i, *a));
        let (i, a) = closest.unwrap_or((0, (1, i64::from(first), 0, 0)));
        RateVerdict {
            limit: counters.get(i).map_or(first, |c| c.burst),
            remaining: a.1.max(0) as u32,
            reset: at(a.3),
            refused: None,
        }
    }
}

/// One GCRA counter: its key, emission interval (microseconds) and burst (requests).
struct Counter {
    key: String,
    interval_us: u64,
    burst: u32,
}
