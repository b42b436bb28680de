//! One file per command; this one dispatches.

mod bench;
mod conversions;
mod demo;
mod funnel;
mod key;
mod serve;
mod site;
mod sql;
mod stats;
mod user;

use anyhow::Result;

use crate::cli::{BenchCommand, Cli, Command};

/// Runs the chosen command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Site(c) => site::run(c),
        Command::Stats(a) => stats::run(a),
        Command::Sql(a) => sql::run(a),
        Command::Bench(BenchCommand::Ingest(a)) => bench::ingest(a),
        Command::Bench(BenchCommand::Load(a)) => bench::load(a),
        Command::Conversions(c) => conversions::run(c),
        Command::Funnel(a) => funnel::run(a),
        Command::User(c) => user::run(c),
        Command::Key(c) => key::run(c),
    }
}

/// Opens the store of a data directory for a CLI command (the backend is chosen by
/// [`waymark_store::open`], as for the server).
pub fn open_store(common: &crate::cli::Common) -> Result<std::sync::Arc<dyn waymark_store::Store>> {
    let dir = crate::settings::data_dir(common)?;
    Ok(waymark_store::open(&waymark_store::StoreConfig::embedded(
        dir,
    ))?)
}

/// A tokio runtime for commands that serve.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
