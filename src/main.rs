//! The `accountd` binary.

use clap::Parser;

use accountd::cli::{Cli, Command};
use accountd::config::Config;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("accountd: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("accountd: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Flushes exported traces when dropped, after the runtime has stopped serving.
    let _telemetry = match cli.command {
        Command::Serve { log_json } => Some(accountd::telemetry::init(&cfg, log_json)),
        Command::Migrate => Some(accountd::telemetry::init(&cfg, false)),
        _ => None,
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { .. } => accountd::cli::serve::run(cfg).await,
            Command::Migrate => {
                let url = cfg.storage.url();
                if url.starts_with("sqlite:") {
                    accountd::create_private_dir(&cfg.storage.data_dir)?;
                }
                let store = accountd_store::connect(&url, &Default::default(), true).await?;
                store.close().await;
                println!("database at {} is up to date", cfg.redacted().storage.url());
                Ok(())
            }
            Command::Config => {
                println!("{}", toml_like(&cfg.redacted()));
                Ok(())
            }
            Command::Admin(args) => accountd::cli::admin::run(cfg, args).await,
            Command::Device(args) => accountd::cli::device::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("accountd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Renders the configuration as `[section]` / `key = value` lines.
fn toml_like(cfg: &Config) -> String {
    let v = serde_json::to_value(cfg).unwrap_or_default();
    let mut out = String::new();
    if let Some(sections) = v.as_object() {
        for (name, section) in sections {
            out.push_str(&format!("[{name}]\n"));
            if let Some(keys) = section.as_object() {
                for (k, val) in keys {
                    out.push_str(&format!("{k} = {val}\n"));
                }
            }
            out.push('\n');
        }
    }
    out
}
