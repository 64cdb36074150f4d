//! `accountd serve`: run until SIGINT/SIGTERM, then let in-flight requests finish and close the
//! database cleanly.

use std::time::Duration;

use accountd_core::service::Bootstrap;

use crate::Config;

/// Prints what the operator needs on first start. Goes to stdout, not the log: the secret is
/// shown exactly this once and is stored only as a hash.
pub fn print_bootstrap(b: &Bootstrap, base_url: &str) {
    println!();
    println!("  Default tenant \"{}\" ({}) created, bound to {}.", b.tenant.name, b.tenant.id, b.domains.join(", "));
    println!("  Management API client — shown once, store the secret now:");
    println!("    client_id:     {}", b.client_id);
    println!("    client_secret: {}", b.client_secret);
    println!("  Get a Management API token:");
    println!(
        "    curl -s {base_url}/oauth/token -H 'content-type: application/json' \\\n      -d '{{\"grant_type\":\"client_credentials\",\"client_id\":\"{}\",\"client_secret\":\"{}\",\"audience\":\"{base_url}/api/v2/\"}}'",
        b.client_id, b.client_secret
    );
    println!();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Runs the server.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let running = crate::start(&cfg).await?;
    let host = if running.addr.ip().is_unspecified() || running.addr.ip().is_loopback() {
        format!("127.0.0.1:{}", running.addr.port())
    } else {
        running.addr.to_string()
    };
    let base_url = format!("http://{host}");
    tracing::info!(
        url = %base_url,
        store = running.state.core.store().backend(),
        startup_ms = started.elapsed().as_millis() as u64,
        "accountd is ready"
    );
    if let Some(b) = &running.bootstrap {
        print_bootstrap(b, &base_url);
    }
    if let Some(m) = running.metrics_addr {
        println!("metrics at http://{m}/metrics");
    }
    // Last, so that "listening" on stdout means ready.
    println!("accountd {} listening on {base_url}", env!("CARGO_PKG_VERSION"));
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    let grace = Duration::from_secs(cfg.server.shutdown_timeout_secs);
    if tokio::time::timeout(grace, running.stop()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {}s; exiting", grace.as_secs());
    } else {
        tracing::info!("stopped cleanly");
    }
    Ok(())
}
