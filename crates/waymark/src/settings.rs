//! Settings: flags beat environment variables (clap reads both), which beat `waymark.toml`,
//! which beats the defaults. The resolved result is a [`ServerConfig`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use waymark_server::http::client_ip::TrustedProxies;
use waymark_server::ServerConfig;

use crate::cli::{Common, ServerFlags};

/// `waymark.toml`, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub geoip: Option<PathBuf>,
    pub memory_limit: Option<String>,
    pub threads: Option<u32>,
    pub api_keys: Option<Vec<String>>,
    /// Drop events from headless browsers as bots (default false).
    pub drop_headless: Option<bool>,
    /// Conversions and funnels as code, per site (`[[sites]]`; see docs/conversions.md).
    #[serde(default)]
    pub sites: Vec<waymark_insight::SiteDefinitions>,
}

/// The data directory used when none is configured.
pub const DEFAULT_DATA_DIR: &str = "waymark-data";

/// Reads the settings file named by `--config`, or `./waymark.toml` when present.
pub fn load_file(common: &Common) -> Result<FileSettings> {
    let path = match &common.config {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from("waymark.toml");
            if !p.exists() {
                return Ok(FileSettings::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read settings file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("settings file {} is invalid", path.display()))
}

/// The data directory from flags, environment, file or default.
pub fn data_dir(common: &Common) -> Result<PathBuf> {
    if let Some(d) = &common.data_dir {
        return Ok(d.clone());
    }
    Ok(load_file(common)?
        .data_dir
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)))
}

/// Resolves the full server configuration.
pub fn server_config(common: &Common, flags: &ServerFlags) -> Result<ServerConfig> {
    let file = load_file(common)?;
    let data_dir = common
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let mut config = ServerConfig::new(data_dir);
    if let Some(listen) = flags.listen.clone().or(file.listen) {
        config.listen = listen.parse().with_context(|| {
            format!("--listen {listen:?} is not an address such as 127.0.0.1:8080")
        })?;
    }
    let proxies = flags
        .trusted_proxies
        .clone()
        .or(file.trusted_proxies.map(|v| v.join(",")));
    if let Some(p) = proxies {
        config.trusted_proxies = TrustedProxies::parse(&p).map_err(anyhow::Error::msg)?;
    }
    config.geoip = flags.geoip.clone().or(file.geoip);
    if let Some(g) = &config.geoip {
        check_file(g, "GeoIP database")?;
    }
    if let Some(m) = flags.memory_limit.clone().or(file.memory_limit) {
        config.memory_limit = m;
    }
    if let Some(t) = flags.threads.or(file.threads) {
        anyhow::ensure!(t >= 1, "--threads must be at least 1");
        config.threads = t;
    }
    let keys = flags
        .api_keys
        .as_ref()
        .map(|k| {
            k.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .or(file.api_keys);
    if let Some(keys) = keys {
        config.api_keys = keys;
    }
    config.drop_headless = flags.drop_headless || file.drop_headless.unwrap_or(false);
    Ok(config)
}

fn check_file(path: &Path, what: &str) -> Result<()> {
    anyhow::ensure!(path.is_file(), "{what} {} does not exist", path.display());
    Ok(())
}
