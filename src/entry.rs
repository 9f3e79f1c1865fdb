//! The program `hetsync` runs (`main.rs`, and the example `hetsync-bare`
//! the plugin tests build without built-in adapters): parse the command
//! line, set up logging, run, map errors to exit codes.

use crate::cli::{Cli, LogFormat};
use crate::commands;
use crate::setup::exit;
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Runs `hetsync` with the process's arguments; the exit code.
#[tokio::main]
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    // sqlx logs a slow statement with its whole SQL at `warn`, and each
    // PostgreSQL NOTICE at `info`: only when asked for by name.
    let directives = if cli.log.contains("sqlx") {
        cli.log.clone()
    } else {
        format!("{},sqlx::query=error,sqlx::postgres::notice=warn", cli.log)
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("hetsync: bad --log filter '{}': {e}; using 'warn'", cli.log);
        EnvFilter::new("warn")
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        // Colours only on a terminal: logs piped to a file stay plain text.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    match commands::run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("hetsync: error: {e:#}");
            let config_error = e.chain().any(|c| {
                c.is::<hetsync_config::ConfigError>()
                    || matches!(c.downcast_ref(), Some(hetsync_core::Error::Deployment(_)))
            });
            ExitCode::from(if config_error {
                exit::CONFIG
            } else {
                exit::FAILED
            })
        }
    }
}
