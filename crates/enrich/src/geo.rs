//! GeoIP: country, region and city of a visitor's IP address from a MaxMind DB (`.mmdb`) file
//! that the operator supplies. Reads GeoIP2/GeoLite2 City and Country (and DB-IP Lite, which
//! uses the same shape) and ip-location-db's flat `country_code` databases.
//!
//! The IP itself is never stored by Waymark; only these three strings are.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{PathElement, Reader};

/// Where an IP address is, as far as the database knows. Empty strings mean unknown.
#[derive(Default, Clone, Debug, PartialEq)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 country code, e.g. "DE".
    pub country: String,
    /// ISO 3166-2 subdivision code ("DE-BE") when the database has one, else its English name.
    pub region: String,
    /// English city name.
    pub city: String,
}

/// Why a GeoIP database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read.
    #[error("cannot read GeoIP database {path}: {source}")]
    Read {
        /// The path given to [`GeoDb::open`].
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid MaxMind DB.
    #[error("{path} is not a valid MaxMind DB (.mmdb) file: {source}")]
    Invalid {
        /// The path given to [`GeoDb::open`], or `<memory>`.
        path: PathBuf,
        /// What the reader found wrong.
        source: maxminddb::MaxMindDbError,
    },
}

/// An open GeoIP database, held in memory. `Send + Sync`; lookups take `&self`.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("database_type", &self.database_type())
            .finish()
    }
}

/// Longest string taken from the database, so that a hostile file cannot bloat events.
const MAX_FIELD_LEN: usize = 128;

impl GeoDb {
    /// Reads the whole database at `path` into memory and checks its header.
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let bytes = std::fs::read(path).map_err(|source| GeoError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes_at(bytes, path)
    }

    /// Opens a database already in memory (tests, or a file fetched by other means).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GeoError> {
        Self::from_bytes_at(bytes, Path::new("<memory>"))
    }

    fn from_bytes_at(bytes: Vec<u8>, path: &Path) -> Result<Self, GeoError> {
        let reader = Reader::from_source(bytes).map_err(|source| GeoError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        Ok(GeoDb { reader })
    }

    /// The database's own type name, e.g. "GeoLite2-City".
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Looks `ip` up. Unknown addresses, addresses of the wrong family and damaged records all
    /// give `Geo::default()`. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`), which dual-stack
    /// sockets report, are looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Geo {
        let ip = ip.to_canonical();
        let Ok(found) = self.reader.lookup(ip) else {
            return Geo::default();
        };
        if !found.has_data() {
            return Geo::default();
        }
        // Each path is tried in turn; a path that does not exist or has another type (the flat
        // shape's `city` is a string, GeoIP2's a map) decodes as an error or None and is skipped.
        let get = |path: &[PathElement<'_>]| -> Option<String> {
            found
                .decode_path::<String>(path)
                .ok()
                .flatten()
                .map(|s| crate::truncate_str(s.trim(), MAX_FIELD_LEN).to_owned())
                .filter(|s| !s.is_empty())
        };

        let country = get(&maxminddb::path!["country", "iso_code"])
            .or_else(|| get(&maxminddb::path!["country_code"]))
            // Anycast and satellite ranges have no location country, only a registered one.
            .or_else(|| get(&maxminddb::path!["registered_country", "iso_code"]))
            .map(|c| c.to_ascii_uppercase())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .unwrap_or_default();

        let region = match get(&maxminddb::path!["subdivisions", 0, "iso_code"]) {
            Some(code) if code.contains('-') || country.is_empty() => code,
            Some(code) => format!("{country}-{code}"),
            None => get(&maxminddb::path!["subdivisions", 0, "names", "en"])
                // ip-location-db city databases use state1 / state2 names.
                .or_else(|| get(&maxminddb::path!["state1"]))
                .unwrap_or_default(),
        };

        let city = get(&maxminddb::path!["city", "names", "en"])
            .or_else(|| get(&maxminddb::path!["city"]))
            .unwrap_or_default();

        Geo {
            country,
            region,
            city,
        }
    }
}
