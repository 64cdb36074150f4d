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
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        );
    }
    // Written digit by digit: this runs for every timestamp of every account API answer, and
    // `format!` with padding cost more than the rest of rendering a method.
    let mut out = String::with_capacity(24);
    let mut digits = |n: u32, width: u32, then: Option<char>| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + ((n / 10u32.pow(i)) % 10) as u8));
        }
        if let Some(c) = then {
            out.push(c);
        }
    };
    digits(year as u32, 4, Some('-'));
    digits(u32::from(u8::from(t.month())), 2, Some('-'));
    digits(u32::from(t.day()), 2, Some('T'));
    digits(u32::from(t.hour()), 2, Some(':'));
    digits(u32::from(t.minute()), 2, Some(':'));
    digits(u32::from(t.second()), 2, Some('.'));
    digits(u32::from(t.millisecond()), 3, Some('Z'));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_auth0() {
        assert_eq!(super::to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::to_rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(super::to_rfc3339(1_000_000_000_007), "2001-09-09T01:46:40.007Z");
        assert_eq!(super::to_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
