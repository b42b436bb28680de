//! The `waymark` binary: parses the command line, loads settings, and runs one command.
//! Errors surface here once, as a message and a non-zero exit; a closed pipe (`waymark sql … |
//! head`) is success, as in ripgrep: the reader has all it wanted.

mod cli;
mod cmd;
mod settings;
mod table;

use clap::Parser;

/// mimalloc instead of glibc's allocator: the ingest path allocates and frees small strings on
/// one thread and drops them on another (HTTP worker → log writer → batcher), where glibc's
/// arenas spent ~10 % of the server's CPU in malloc/free and consolidation (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logs(&cli);
    match cmd::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether the error is standard output's reader having gone away.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logs(cli: &cli::Cli) {
    let default = if matches!(cli.command, cli::Command::Serve(_) | cli::Command::Demo(_)) {
        "info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WAYMARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
