//! The command line as the user types it (clap). Every flag with a setting behind it has an
//! environment variable twin (`--data-dir` / `WAYMARK_DATA_DIR`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "waymark", version, about = "Privacy-first web analytics built around micro conversions")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives, and the optional settings file.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Data directory (store, ingest log, salts).
    #[arg(long, env = "WAYMARK_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Settings file (default: ./waymark.toml when present).
    #[arg(long, env = "WAYMARK_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Generate a demo shop with ~90 days of realistic traffic, then serve it.
    Demo(DemoArgs),
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Print top-line stats and top breakdowns for a site.
    Stats(StatsArgs),
    /// Run SQL on the embedded store (the events table is `events`).
    Sql(SqlArgs),
    /// Benchmarks: HTTP ingest and bulk load.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub server: ServerFlags,
}

/// Server settings shared by `serve` and `demo`.
#[derive(Args, Debug, Clone, Default)]
pub struct ServerFlags {
    /// Address to listen on.
    #[arg(long, env = "WAYMARK_LISTEN")]
    pub listen: Option<String>,
    /// Reverse proxies whose forwarding headers are trusted (comma-separated IPs or CIDRs).
    #[arg(long, env = "WAYMARK_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// MaxMind-format GeoIP database (GeoLite2/DB-IP City or Country).
    #[arg(long, env = "WAYMARK_GEOIP")]
    pub geoip: Option<PathBuf>,
    /// DuckDB memory limit, e.g. 256MB.
    #[arg(long, env = "WAYMARK_MEMORY_LIMIT")]
    pub memory_limit: Option<String>,
    /// DuckDB worker threads.
    #[arg(long, env = "WAYMARK_THREADS")]
    pub threads: Option<u32>,
    /// API keys for server-side events (comma-separated).
    #[arg(long, env = "WAYMARK_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub server: ServerFlags,
    /// Only generate; do not serve afterwards.
    #[arg(long)]
    pub no_serve: bool,
    /// Approximate number of events to generate.
    #[arg(long, default_value_t = 500_000)]
    pub events: u64,
    /// Days of history.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Random seed (the same seed gives the same data).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Add a site (or change its time zone).
    Add {
        /// Domain as the tracker sends it, e.g. shop.example.
        domain: String,
        /// IANA time zone the site's days are counted in.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        #[command(flatten)]
        common: Common,
    },
    /// List sites.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Remove a site and delete all its events.
    Remove {
        domain: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Site domain.
    #[arg(long)]
    pub site: String,
    /// day, 7d, 30d, 6mo, 12mo, month, year, all, or YYYY-MM-DD,YYYY-MM-DD.
    #[arg(long, default_value = "30d")]
    pub range: String,
    /// Rows per breakdown.
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
}

#[derive(Args, Debug)]
pub struct SqlArgs {
    #[command(flatten)]
    pub common: Common,
    /// The statement, e.g. "select count(*) from events".
    pub query: String,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Drive a Waymark server over HTTP and report durable events/s and ack latency.
    Ingest(BenchIngestArgs),
    /// Bulk-load generated events into an embedded store and report rows/s.
    Load(BenchLoadArgs),
}

#[derive(Args, Debug)]
pub struct BenchIngestArgs {
    /// Server to drive; without it a server is started on a temporary data directory.
    #[arg(long)]
    pub url: Option<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 256)]
    pub connections: usize,
    /// Seconds to run (after a 2 s warm-up).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

#[derive(Args, Debug)]
pub struct BenchLoadArgs {
    /// Events to generate and load.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: u64,
}
