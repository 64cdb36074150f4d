//! The command line: `serve`, `migrate`, `config`, `admin …` and `device …`.

pub mod admin;
pub mod device;
pub mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// accountd: a self-hostable identity server whose heart is the end-user account API.
#[derive(Debug, Parser)]
#[command(name = "accountd", version, about)]
pub struct Cli {
    /// TOML configuration file (optional; every key has a default).
    #[arg(long, short, global = true, env = "ACCOUNTD_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first unless storage.migrate_on_start is false).
    Serve {
        /// Log as JSON lines instead of text.
        #[arg(long)]
        log_json: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration (secrets redacted).
    Config,
    /// Administer tenants, clients, users, grants and roles directly on the database.
    Admin(admin::AdminArgs),
    /// Act as a push-approval device: redeem an enrollment QR code, then approve or deny sign-ins.
    Device(device::DeviceArgs),
}
