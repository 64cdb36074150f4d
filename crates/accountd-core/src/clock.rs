//! Time as the domain sees it: milliseconds since the Unix epoch, stored as BIGINT on every backend.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Formats a timestamp the way Auth0's APIs do: RFC 3339 with milliseconds, in UTC (`…T…:…:….123Z`).
pub fn to_rfc3339(ms: Millis) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_auth0() {
        assert_eq!(super::to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::to_rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
