//! The command line as the user types it (clap). Every flag with a setting behind it has an
//! environment variable twin (`--data-dir` / `WAYMARK_DATA_DIR`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "waymark",
    version,
    about = "Privacy-first web analytics built around micro conversions"
)]
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
    /// Conversions (micro and macro): define, list, report, apply templates or waymark.toml.
    #[command(subcommand)]
    Conversions(ConversionsCommand),
    /// A funnel's steps, drop-off, weakest step and opportunities; `funnel list|add|remove`.
    Funnel(FunnelArgs),
    /// Dashboard users: add (or reset a password), list, remove, grant and revoke sites.
    #[command(subcommand)]
    User(UserCommand),
    /// Personal API keys: add (the key is printed once), list, remove.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key for a user; it is printed once and stored only as a digest.
    Add {
        /// The owner's email; the key acts with the owner's rights.
        email: String,
        /// A label, e.g. "CI export".
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: stats:read, definitions:write, sites:admin.
        #[arg(long, default_value = "stats:read")]
        scopes: String,
        #[command(flatten)]
        common: Common,
    },
    /// List API keys (prefix, owner, scopes, last use), optionally of one user.
    List {
        /// Only this user's keys.
        email: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Delete an API key by id.
    Remove {
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user, or set an existing user's password and role. The password comes from
    /// --password-stdin or the WAYMARK_PASSWORD environment variable; it is never echoed.
    Add {
        /// Email address (the login name).
        email: String,
        /// Administrator (may manage sites and users).
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List users.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Remove a user and end their sessions.
    Remove {
        email: String,
        #[command(flatten)]
        common: Common,
    },
    /// Let a viewer read a site's dashboard and APIs (admins read every site).
    Grant {
        email: String,
        /// Site domain.
        site: String,
        #[command(flatten)]
        common: Common,
    },
    /// Take a site away from a viewer.
    Revoke {
        email: String,
        /// Site domain.
        site: String,
        #[command(flatten)]
        common: Common,
    },
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
    /// Drop events from headless browsers ("HeadlessChrome") as bots.
    #[arg(long, env = "WAYMARK_DROP_HEADLESS")]
    pub drop_headless: bool,
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
    /// While serving, do not send live demo visits (they keep the Realtime view moving).
    #[arg(long)]
    pub no_live: bool,
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

/// The site a definition command works on.
#[derive(Args, Debug, Clone)]
pub struct SiteArg {
    /// Site domain, e.g. shop.example.
    #[arg(long)]
    pub site: String,
}

#[derive(Subcommand, Debug)]
pub enum ConversionsCommand {
    /// List a site's conversions.
    List {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        site: SiteArg,
    },
    /// Create a conversion, or update the one with the same name.
    Add(ConversionAddArgs),
    /// Delete a conversion (refused while a funnel uses it).
    Remove {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        site: SiteArg,
        /// The conversion's name.
        #[arg(long)]
        name: String,
    },
    /// Unique converters, conversions, rate and revenue per conversion.
    Report(ConversionReportArgs),
    /// The business templates (e-commerce, SaaS, content/media, B2B services).
    Templates,
    /// Create a template's conversions and default funnel on a site.
    Template {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        site: SiteArg,
        /// ecommerce, saas, content or b2b.
        template: String,
    },
    /// Check a trigger and print its canonical form.
    Check {
        /// e.g. "pageview /products/* where engaged >= 5s".
        trigger: String,
    },
    /// Apply the [[sites]] definitions of waymark.toml now (the server also does at start).
    Apply {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args, Debug)]
pub struct ConversionAddArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub site: SiteArg,
    #[arg(long)]
    pub name: String,
    /// micro or macro.
    #[arg(long, default_value = "micro")]
    pub kind: String,
    /// e.g. 'event Search where results >= 1' (see docs/conversions.md).
    #[arg(long)]
    pub trigger: String,
    /// revenue, or a fixed amount such as "25 EUR".
    #[arg(long)]
    pub value: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
}

#[derive(Args, Debug)]
pub struct ConversionReportArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub site: SiteArg,
    /// day, 7d, 30d, 6mo, 12mo, month, year, all, or YYYY-MM-DD,YYYY-MM-DD.
    #[arg(long, default_value = "30d")]
    pub range: String,
    /// Compare with `previous_period` (or `previous`), `year_over_year`, or YYYY-MM-DD,YYYY-MM-DD.
    #[arg(long)]
    pub compare: Option<String>,
    /// Keep visits whose dimension matches: channel=Email, device!=Mobile, utm_campaign~spring,
    /// prop:variant=b, page=/pricing, goal=Signup (repeatable).
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FunnelArgs {
    #[command(subcommand)]
    pub command: Option<FunnelCommand>,
    #[command(flatten)]
    pub show: FunnelShowArgs,
}

#[derive(Args, Debug)]
pub struct FunnelShowArgs {
    #[command(flatten)]
    pub common: Common,
    /// Site domain.
    #[arg(long)]
    pub site: Option<String>,
    /// The funnel's name.
    #[arg(long)]
    pub name: Option<String>,
    /// day, 7d, 30d, 6mo, 12mo, month, year, all, or YYYY-MM-DD,YYYY-MM-DD.
    #[arg(long, default_value = "30d")]
    pub range: String,
    /// Break down by source, channel, utm_*, device, browser, os, country, region, city,
    /// entry_page or prop:NAME.
    #[arg(long)]
    pub by: Option<String>,
    /// Compare with `previous` (the period before) or YYYY-MM-DD,YYYY-MM-DD.
    #[arg(long)]
    pub compare: Option<String>,
    /// Keep visits whose dimension matches, e.g. channel=Email (repeatable).
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// Segments shown in a breakdown.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Funnel management; `--data-dir`/`--config` are read from the parent (they are global).
#[derive(Subcommand, Debug)]
pub enum FunnelCommand {
    /// List a site's funnels.
    List {
        #[command(flatten)]
        site: SiteArg,
    },
    /// Create a funnel, or update the one with the same name.
    Add(FunnelAddArgs),
    /// Delete a funnel.
    Remove {
        #[command(flatten)]
        site: SiteArg,
        #[arg(long)]
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct FunnelAddArgs {
    #[command(flatten)]
    pub site: SiteArg,
    #[arg(long)]
    pub name: String,
    /// A step, in order (2 to 20): a conversion name, or an inline trigger optionally
    /// labelled, e.g. --step 'Visit: pageview' --step 'Product View' --step Purchase.
    #[arg(long = "step", required = true)]
    pub steps: Vec<String>,
    /// session, or a duration such as 30m, 2h, 24h (longer needs consented identity mode).
    #[arg(long, default_value = "24h")]
    pub window: String,
    /// strict, sequence or any.
    #[arg(long, default_value = "strict")]
    pub order: String,
}
