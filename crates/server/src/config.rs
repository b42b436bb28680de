//! The resolved server settings (the binary merges flags, environment and `waymark.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::http::client_ip::TrustedProxies;

/// Everything `waymark serve` needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub trusted_proxies: TrustedProxies,
    /// Optional MaxMind-format GeoIP database.
    pub geoip: Option<PathBuf>,
    /// DuckDB `memory_limit`.
    pub memory_limit: String,
    /// DuckDB threads.
    pub threads: u32,
    /// Keys allowed to send server-side events with explicit timestamps and idempotency keys.
    pub api_keys: Vec<String>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Drop events from headless browsers ("HeadlessChrome") as bots.
    pub drop_headless: bool,
}

impl ServerConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            trusted_proxies: TrustedProxies::default(),
            geoip: None,
            memory_limit: "256MB".into(),
            threads: 2,
            api_keys: Vec::new(),
            max_body_bytes: 1_000_000,
            drop_headless: false,
        }
    }
}
