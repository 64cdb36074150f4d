//! The `accountd` binary's library half: configuration, wiring of core, store and HTTP, and the
//! CLI. Integration tests start the real server through `start`.

pub mod cli;
pub mod config;
pub mod telemetry;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accountd_core::Core;
use accountd_core::secret::{MasterKey, PasswordHashing};
use accountd_core::service::{Bootstrap, Settings};
use accountd_http::{App, AppState, HttpConfig, PublicScheme};
use anyhow::Context as _;

pub use config::Config;

/// Reads the master key from configuration, or from its file, generating the file (owner-only
/// permissions) on first start; then it also returns the new file's path.
pub fn load_master_key(cfg: &Config) -> anyhow::Result<(MasterKey, Option<std::path::PathBuf>)> {
    if !cfg.security.master_key.is_empty() {
        let key = MasterKey::from_base64(&cfg.security.master_key)
            .context("security.master_key is not 32 bytes of base64")?;
        return Ok((key, None));
    }
    let path: std::path::PathBuf = if cfg.security.master_key_file.is_empty() {
        cfg.storage.data_dir.join("master.key")
    } else {
        cfg.security.master_key_file.clone().into()
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = MasterKey::from_base64(&text)
                .with_context(|| format!("{} is not a valid master key", path.display()))?;
            Ok((key, None))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate_base64();
            write_owner_only(&path, key.as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new master key");
            Ok((MasterKey::from_base64(&key)?, Some(path)))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read master key file {}", path.display())),
    }
}

/// Creates `path` (which must not exist) readable and writable by the owner only.
fn write_owner_only(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(content)?;
    f.sync_all()?;
    Ok(())
}

/// Creates the data directory (owner-only) if missing.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).with_context(|| format!("cannot create data directory {}", dir.display()))
}

/// Opens the store (migrating when asked) and builds the core; creates the default tenant on a
/// fresh database and returns its one-time bootstrap credentials. `serving`: this process will
/// serve requests (not an admin command).
pub async fn build_core(cfg: &Config, migrate: bool, serving: bool) -> anyhow::Result<(Arc<Core>, Option<Bootstrap>)> {
    let url = cfg.storage.url();
    if url.starts_with("sqlite:") {
        create_private_dir(&cfg.storage.data_dir)?;
    }
    let (master_key, generated) = load_master_key(cfg)?;
    let opts = accountd_store::ConnectOptions {
        max_connections: cfg.storage.max_connections,
        method_cache_ttl: std::time::Duration::from_secs(cfg.storage.method_cache_secs),
        serving,
        sqlite_durable_commits: cfg.storage.sqlite_synchronous == config::SqliteSynchronous::Full,
        ..Default::default()
    };
    let store = accountd_store::connect(&url, &opts, migrate).await?;
    if let Some(new_key) = generated
        && !store.list_tenants().await.map_err(|e| anyhow::anyhow!("{e}"))?.is_empty()
    {
        // A database sealed under another key would fail later, token by token; refuse now.
        let _ = std::fs::remove_file(&new_key);
        anyhow::bail!(
            "the database holds data sealed under a master key, but none was found at {}; restore that \
                 file or set security.master_key",
            new_key.display()
        );
    }
    let settings = Settings {
        password_hashing: PasswordHashing {
            memory_kib: cfg.passwords.argon2_memory_kib,
            iterations: cfg.passwords.argon2_iterations,
            parallelism: cfg.passwords.argon2_parallelism,
            pool: accountd_core::secret::HashPool::new(
                cfg.passwords
                    .hashing_workers
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)),
                cfg.passwords.hashing_queue,
            ),
        },
        password_min_length: cfg.passwords.min_length,
        sign_in_per_account: accountd_core::store::ThrottleRule {
            max_failures: cfg.sign_in.max_failures,
            window_millis: cfg.sign_in.window_secs * 1000,
            lockout_millis: cfg.sign_in.lockout_secs * 1000,
        },
        sign_in_per_ip: accountd_core::store::RateRule {
            burst: cfg.sign_in.max_failures_per_ip,
            interval_millis: cfg.sign_in.ip_refill_millis.max(1),
        },
        revocation_check: cfg.security.revocation_check,
    };
    // One-time codes leave through the tenant's connector (SMTP, HTTP) or, by default, the
    // development outbox. The sender opens connector secrets with its own copy of the master key.
    accountd_connectors::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("building the connectors' HTTP client")?;
    let (sender_key, _) = load_master_key(cfg)?;
    let connectors = accountd_connectors::Connectors::new(store.clone(), sender_key, http);
    // Upstream providers get a client that never follows a redirect (the OAuth crates' rule: a
    // token or discovery endpoint must not bounce the request elsewhere).
    let upstream_http = reqwest::Client::builder()
        .timeout(accountd_connectors::upstream::UPSTREAM_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the upstream providers' HTTP client")?;
    let core = Arc::new(
        Core::new(store, master_key, Arc::new(accountd_oauth::JoseKeyMaker), settings)
            .with_message_sender(Arc::new(connectors))
            .with_upstream_client(Arc::new(accountd_connectors::upstream::UpstreamProviders::new(upstream_http))),
    );
    let bootstrap = core.ensure_default_tenant().await.context("creating the default tenant")?;
    Ok((core, bootstrap))
}

/// The HTTP settings from configuration.
pub fn http_config(cfg: &Config) -> HttpConfig {
    HttpConfig {
        public_scheme: match cfg.server.public_scheme.as_str() {
            "http" => PublicScheme::Http,
            "https" => PublicScheme::Https,
            _ => PublicScheme::Auto,
        },
        trust_forwarded_headers: cfg.server.trust_forwarded_headers,
        max_body_bytes: cfg.server.max_body_bytes,
        dpop_require_nonce: cfg.server.dpop_require_nonce,
        ..Default::default()
    }
}

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (core, caches).
    pub state: AppState,
    /// Credentials printed on first start.
    pub bootstrap: Option<Bootstrap>,
    /// Where `/metrics` is served, if `metrics.listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    metrics_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, closes the store.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
        if let Some(m) = self.metrics_task {
            m.abort();
        }
        self.state.core.store().close().await;
    }
}

/// Builds everything and serves on `cfg.server.listen` until `stop` (or the returned future's
/// shutdown signal, for `serve`).
pub async fn start(cfg: &Config) -> anyhow::Result<Running> {
    let (core, bootstrap) = build_core(cfg, cfg.storage.migrate_on_start, true).await?;
    let shared = if cfg.redis.url.is_empty() {
        None
    } else {
        let s = accountd_http::common::shared::SharedState::connect(&cfg.redis.url, &cfg.redis.key_prefix)
            .await
            .with_context(|| format!("cannot connect to Redis at {}", config::redact_url_password(&cfg.redis.url)))?;
        Some(s)
    };
    let state = App::with_shared(core, http_config(cfg), shared);
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    let app = accountd_http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    // Metrics on their own listener only: the public one never serves them.
    let (metrics_addr, metrics_task) = if cfg.metrics.listen.is_empty() {
        (None, None)
    } else {
        let listener = tokio::net::TcpListener::bind(&cfg.metrics.listen)
            .await
            .with_context(|| format!("cannot listen on {} (metrics.listen)", cfg.metrics.listen))?;
        let addr = listener.local_addr()?;
        let app = accountd_http::metrics::router(state.clone());
        (Some(addr), Some(tokio::spawn(async move { axum::serve(listener, app).await })))
    };
    Ok(Running { addr, state, bootstrap, metrics_addr, shutdown: tx, task, metrics_task })
}
