//! The `accountd` binary.

use clap::Parser;

use accountd::cli::{Cli, Command};
use accountd::config::Config;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logging(cfg: &Config, force_json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if force_json || cfg.log.format == "json" {
        builder.json().with_current_span(true).with_span_list(false).init();
    } else {
        builder.init();
    }
}

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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { log_json } => {
                init_logging(&cfg, log_json);
                accountd::cli::serve::run(cfg).await
            }
            Command::Migrate => {
                init_logging(&cfg, false);
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
