//! Configuration: defaults, then an optional TOML file (`--config`), then `ACCOUNTD_<SECTION>__<KEY>`
//! environment variables. Every key, its default and its variable are listed in
//! `docs/configuration.md`; `accountd config` prints the effective values (secrets redacted).

use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP listener and public URLs.
    pub server: ServerConfig,
    /// Database and data directory.
    pub storage: StorageConfig,
    /// Master key for secrets at rest.
    pub security: SecurityConfig,
    /// Password rules and hashing cost.
    pub passwords: PasswordConfig,
    /// Sign-in throttling.
    pub sign_in: SignInConfig,
    /// Logging.
    pub log: LogConfig,
    /// Redis, for state several nodes share.
    pub redis: RedisConfig,
    /// Prometheus metrics.
    pub metrics: MetricsConfig,
}

/// `[metrics]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the listener that serves `GET /metrics` (Prometheus text format), apart from
    /// the public one; empty (the default) serves no metrics.
    pub listen: String,
}

/// `[redis]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db`; empty (the default) keeps the account API's rate-limit counters in
    /// each process and DPoP proof ids in the database. Set it when several nodes serve one
    /// PostgreSQL database, so limits count across nodes.
    pub url: String,
    /// What every key accountd writes starts with: give deployments that share one Redis
    /// different prefixes.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: String::new(), key_prefix: "accountd".into() }
    }
}

/// `[server]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// `auto` (http for localhost/127.0.0.1, https otherwise), `http` or `https`.
    pub public_scheme: String,
    /// Believe `X-Forwarded-Proto/Host/For` (only behind a proxy that sets them).
    pub trust_forwarded_headers: bool,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Require a server nonce (`DPoP-Nonce`) in every DPoP proof.
    pub dpop_require_nonce: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_scheme: "auto".into(),
            trust_forwarded_headers: false,
            shutdown_timeout_secs: 30,
            max_body_bytes: 1024 * 1024,
            dpop_require_nonce: false,
        }
    }
}

/// `[storage]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory for the SQLite database and the generated master key.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://{data_dir}/accountd.db`.
    pub database_url: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// Apply migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Seconds a user's authentication method list may be served from memory to the account
    /// API's reads (0: never). Writes through accountd clear it at once, on every node; this
    /// bounds only changes made behind accountd's back.
    pub method_cache_secs: u64,
    /// SQLite's `synchronous`: `full` (every commit reaches the disk before it is acknowledged,
    /// so a power loss cannot undo a rotated refresh token or a changed password) or `normal`
    /// (WAL commits reach the disk at checkpoints: faster, a power loss may lose the last ones).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// See [`StorageConfig::sqlite_synchronous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Durable commits.
    Full,
    /// Commits durable at the next checkpoint.
    Normal,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: "./data".into(),
            database_url: String::new(),
            max_connections: 16,
            migrate_on_start: true,
            method_cache_secs: 30,
            // FULL cost 24 % of write throughput in bench/ (refresh grant 899/s against 1,178/s,
            // p99 725 ms against 85 ms): over issue 18's 10 % bar, so NORMAL stays the default.
            sqlite_synchronous: SqliteSynchronous::Normal,
        }
    }
}

impl StorageConfig {
    /// The database URL in effect.
    pub fn url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("accountd.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// `[security]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// The master key, base64 of 32 bytes. Every node of a PostgreSQL deployment needs the same one.
    pub master_key: String,
    /// File holding the master key; empty means `{data_dir}/master.key`, generated on first start.
    pub master_key_file: String,
    /// Refuse an access token as soon as its session, grant or token family is revoked or its user
    /// blocked or deleted (checked per request from memory). Turn off only to measure the check's
    /// cost (bench/): tokens then live until they expire whatever happens.
    pub revocation_check: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self { master_key: String::new(), master_key_file: String::new(), revocation_check: true }
    }
}

/// `[passwords]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    /// Shortest password accepted.
    pub min_length: usize,
    /// Argon2id memory in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id passes.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
    /// Password hashes that run at once (each holds `argon2_memory_kib`); default one per core.
    pub hashing_workers: Option<usize>,
    /// Password hashes that may wait for a worker; past that sign-ins answer 503 with
    /// `Retry-After` instead of queueing without end.
    pub hashing_queue: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        let h = accountd_core::secret::PasswordHashing::default();
        Self {
            min_length: 8,
            argon2_memory_kib: h.memory_kib,
            argon2_iterations: h.iterations,
            argon2_parallelism: h.parallelism,
            hashing_workers: None,
            hashing_queue: 32,
        }
    }
}

/// `[sign_in]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInConfig {
    /// Sign-in attempts for one identifier from one IP, within the window, after which that pair
    /// is locked out (unless the last one succeeds).
    pub max_failures: i64,
    /// Failed sign-ins one IP may make at once across every identifier; after that it gets one
    /// more every `ip_refill_millis` (it is slowed down, nobody is locked out).
    pub max_failures_per_ip: i64,
    /// How long one spent per-IP attempt takes to come back, in milliseconds.
    pub ip_refill_millis: i64,
    /// Counting window in seconds.
    pub window_secs: i64,
    /// Lockout length in seconds.
    pub lockout_secs: i64,
}

impl Default for SignInConfig {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_failures_per_ip: 100,
            ip_refill_millis: 10_000,
            window_secs: 900,
            lockout_secs: 900,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (human-readable) or `json`.
    pub format: String,
    /// A tracing filter: `info`, `warn`, `accountd=debug,info`, …
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

/// The sections environment variables may set; other `ACCOUNTD_*` variables are not configuration.
const SECTIONS: &[&str] = &["server", "storage", "security", "passwords", "sign_in", "log", "redis", "metrics"];

impl Config {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let mut b = config::Config::builder();
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).format(config::FileFormat::Toml).required(true));
        }
        let env: std::collections::HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| {
                k.strip_prefix("ACCOUNTD_")
                    .and_then(|rest| rest.split_once("__"))
                    .is_some_and(|(section, _)| SECTIONS.contains(&section.to_ascii_lowercase().as_str()))
            })
            .collect();
        b = b.add_source(
            config::Environment::with_prefix("ACCOUNTD")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
        );
        let cfg: Config = b
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration (see docs/configuration.md)")?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.server.public_scheme.as_str(), "auto" | "http" | "https"),
            "server.public_scheme must be auto, http or https"
        );
        anyhow::ensure!(matches!(self.log.format.as_str(), "text" | "json"), "log.format must be text or json");
        anyhow::ensure!(self.passwords.min_length >= 1, "passwords.min_length must be at least 1");
        anyhow::ensure!(
            self.sign_in.max_failures >= 1 && self.sign_in.max_failures_per_ip >= 1,
            "sign_in.max_failures and sign_in.max_failures_per_ip must be at least 1"
        );
        Ok(())
    }

    /// The configuration with secrets replaced, for printing.
    pub fn redacted(&self) -> Self {
        let mut c = self.clone();
        if !c.security.master_key.is_empty() {
            c.security.master_key = "<redacted>".into();
        }
        c.storage.database_url = redact_url_password(&c.storage.database_url);
        c.redis.url = redact_url_password(&c.redis.url);
        c
    }
}

/// `scheme://user:<redacted>@host…` for a URL with a password; other URLs unchanged.
pub fn redact_url_password(url: &str) -> String {
    let mut out = url.to_string();
    let start = url.find("://").map_or(0, |i| i + 3);
    if let Some(at) = url[start..].find('@').map(|i| i + start)
        && let Some(colon) = url[start..at].rfind(':').map(|i| i + start)
    {
        out.replace_range(colon + 1..at, "<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("accountd.toml");
        std::fs::write(&f, "[server]\nlisten = \"0.0.0.0:9000\"\n[log]\nformat = \"json\"\n").unwrap();
        let c = Config::load(Some(&f)).unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        assert_eq!(c.log.format, "json");
        assert_eq!(c.storage.url(), "sqlite://./data/accountd.db");
        std::fs::write(&f, "[server]\nlisen = 1\n").unwrap();
        assert!(Config::load(Some(&f)).is_err(), "a typo in the file must not pass silently");
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = Config::default();
        c.security.master_key = "c2VjcmV0".into();
        c.storage.database_url = "postgres://app:hunter2@db/accountd".into();
        let r = c.redacted();
        assert_eq!(r.security.master_key, "<redacted>");
        assert_eq!(r.storage.database_url, "postgres://app:<redacted>@db/accountd");
        c.redis.url = "redis://:s3cret@cache:6379/0".into();
        assert_eq!(c.redacted().redis.url, "redis://:<redacted>@cache:6379/0");
        assert_eq!(redact_url_password("redis://cache:6379/0"), "redis://cache:6379/0");
    }

    #[test]
    fn every_section_can_be_set_from_the_environment() {
        let value = serde_json::to_value(Config::default()).unwrap();
        let mut sections: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        sections.sort_unstable();
        let mut known = SECTIONS.to_vec();
        known.sort_unstable();
        assert_eq!(sections, known, "a section missing from SECTIONS ignores its ACCOUNTD_* variables");
    }
}
