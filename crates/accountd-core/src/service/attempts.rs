//! Attempt limits for everything an attacker could guess (passwords, second-factor codes) or
//! repeat (code sends). Each attempt is reserved in the shared store **before** the slow check
//! runs, so a burst of parallel requests, on one node or many, gets no more checks than the
//! limit; a refused attempt is never checked.

use super::Core;
use crate::clock::now_millis;
use crate::error::{Error, Result};
use crate::store::{Attempt, RateRule, ThrottleRule};
use crate::tenant::TenantId;

impl Core {
    /// Reserves one attempt on `key`; returns its number in the window (the one numbered
    /// `rule.max_failures` has locked the key already, until a success clears it), or the lockout.
    pub(crate) async fn reserve_attempt(&self, tenant: &TenantId, key: &str, rule: &ThrottleRule) -> Result<i64> {
        match self.store.reserve_attempt(tenant, key, now_millis(), rule).await? {
            Attempt::Allowed { number } => Ok(number),
            Attempt::Refused { until } => Err(Error::LockedOut { until }),
        }
    }

    /// Takes one attempt from `key`'s steady budget, or says when the next fits.
    pub(crate) async fn reserve_rate(&self, tenant: &TenantId, key: &str, rule: &RateRule) -> Result<()> {
        match self.store.reserve_rate(tenant, key, now_millis(), rule).await? {
            Attempt::Allowed { .. } => Ok(()),
            Attempt::Refused { until } => Err(Error::LockedOut { until }),
        }
    }
}
