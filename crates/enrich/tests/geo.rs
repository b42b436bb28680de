//! GeoIP lookups against tiny databases built in the test with `mmdb-writer`, on documentation
//! address ranges (RFC 5737 / RFC 3849), in the three shapes Waymark reads.

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use mmdb_writer::Writer;
use serde_json::json;
use waymark_enrich::{Geo, GeoDb, GeoError};

fn net(s: &str) -> IpNet {
    s.parse().expect("test network parses")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address parses")
}

fn geo(country: &str, region: &str, city: &str) -> Geo {
    Geo {
        country: country.into(),
        region: region.into(),
        city: city.into(),
    }
}

/// A file in the temp dir that is removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("waymark-enrich-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("temp file written");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// GeoIP2/GeoLite2 City shape (DB-IP Lite City uses the same).
fn city_db() -> Vec<u8> {
    let mut w = Writer::new("GeoLite2-City");
    w.insert(
        net("192.0.2.0/24"),
        &json!({
            "city": {"names": {"en": "Berlin", "de": "Berlin"}},
            "country": {"iso_code": "DE", "names": {"en": "Germany"}},
            "subdivisions": [{"iso_code": "BE", "names": {"en": "Land Berlin"}}],
        }),
    )
    .expect("insert v4");
    w.insert(
        net("2001:db8::/32"),
        &json!({
            "city": {"names": {"en": "Paris"}},
            "country": {"iso_code": "FR"},
            "subdivisions": [{"iso_code": "IDF"}, {"iso_code": "75"}],
        }),
    )
    .expect("insert v6");
    // An anycast-style range: no location country, only the registered one.
    w.insert(
        net("198.51.100.0/24"),
        &json!({"registered_country": {"iso_code": "US"}}),
    )
    .expect("insert registered-only");
    w.to_bytes().expect("db serialises")
}

#[test]
fn city_database_v4_v6_and_unknown() {
    let db = GeoDb::from_bytes(city_db()).expect("db opens");
    assert_eq!(db.database_type(), "GeoLite2-City");
    assert_eq!(db.lookup(ip("192.0.2.1")), geo("DE", "DE-BE", "Berlin"));
    assert_eq!(db.lookup(ip("192.0.2.254")), geo("DE", "DE-BE", "Berlin"));
    assert_eq!(db.lookup(ip("2001:db8::1")), geo("FR", "FR-IDF", "Paris"));
    assert_eq!(
        db.lookup(ip("2001:db8:ffff::42")),
        geo("FR", "FR-IDF", "Paris")
    );
    // Dual-stack sockets report IPv4 clients as IPv4-mapped IPv6.
    assert_eq!(
        db.lookup(ip("::ffff:192.0.2.7")),
        geo("DE", "DE-BE", "Berlin")
    );
    assert_eq!(db.lookup(ip("198.51.100.9")), geo("US", "", ""));
    // Unknown addresses.
    assert_eq!(db.lookup(ip("203.0.113.5")), Geo::default());
    assert_eq!(db.lookup(ip("2001:db9::1")), Geo::default());
    assert_eq!(db.lookup(ip("10.0.0.1")), Geo::default());
    assert_eq!(db.lookup(ip("::")), Geo::default());
}

#[test]
fn country_database() {
    let mut w = Writer::new("GeoLite2-Country");
    w.insert(
        net("192.0.2.0/24"),
        &json!({"country": {"iso_code": "NL"}, "continent": {"code": "EU"}}),
    )
    .expect("insert");
    let db = GeoDb::from_bytes(w.to_bytes().expect("db serialises")).expect("db opens");
    assert_eq!(db.lookup(ip("192.0.2.3")), geo("NL", "", ""));
    assert_eq!(db.lookup(ip("2001:db8::1")), Geo::default());
}

#[test]
fn flat_ip_location_db_shapes() {
    let mut w = Writer::new("geo-whois-asn-country");
    w.insert(net("192.0.2.0/24"), &json!({"country_code": "jp"}))
        .expect("insert v4");
    w.insert(net("2001:db8::/32"), &json!({"country_code": "CA"}))
        .expect("insert v6");
    // ip-location-db's city databases: flat strings.
    w.insert(
        net("203.0.113.0/24"),
        &json!({"country_code": "US", "state1": "California", "city": "San Francisco"}),
    )
    .expect("insert city");
    let db = GeoDb::from_bytes(w.to_bytes().expect("db serialises")).expect("db opens");
    assert_eq!(db.lookup(ip("192.0.2.3")), geo("JP", "", ""));
    assert_eq!(db.lookup(ip("2001:db8::abcd")), geo("CA", "", ""));
    assert_eq!(
        db.lookup(ip("203.0.113.77")),
        geo("US", "California", "San Francisco")
    );
    assert_eq!(db.lookup(ip("198.51.100.1")), Geo::default());
}

#[test]
fn open_reads_a_file() {
    let file = TempFile::new("city.mmdb", &city_db());
    let db = GeoDb::open(&file.0).expect("file opens");
    assert_eq!(db.lookup(ip("192.0.2.1")).country, "DE");
}

#[test]
fn ipv4_only_database_answers_v6_with_default() {
    let mut w = Writer::builder("v4-only")
        .ip_version(mmdb_writer::IpVersion::V4)
        .build();
    w.insert(net("192.0.2.0/24"), &json!({"country_code": "SE"}))
        .expect("insert");
    let db = GeoDb::from_bytes(w.to_bytes().expect("db serialises")).expect("db opens");
    assert_eq!(db.lookup(ip("192.0.2.1")).country, "SE");
    assert_eq!(db.lookup(ip("2001:db8::1")), Geo::default());
}

#[test]
fn bad_values_are_dropped() {
    let mut w = Writer::new("odd");
    w.insert(
        net("192.0.2.0/25"),
        &json!({"country": {"iso_code": "not-a-code"}}),
    )
    .expect("insert");
    w.insert(
        net("192.0.2.128/25"),
        &json!({"country": "DE", "city": 42u32}),
    )
    .expect("insert");
    let db = GeoDb::from_bytes(w.to_bytes().expect("db serialises")).expect("db opens");
    assert_eq!(db.lookup(ip("192.0.2.1")), Geo::default());
    assert_eq!(db.lookup(ip("192.0.2.200")), Geo::default());
}

#[test]
fn open_errors_name_the_path_and_problem() {
    let missing = std::env::temp_dir().join("waymark-enrich-does-not-exist.mmdb");
    let err = GeoDb::open(&missing).expect_err("missing file fails");
    assert!(matches!(err, GeoError::Read { .. }));
    let msg = err.to_string();
    assert!(msg.contains("waymark-enrich-does-not-exist.mmdb"), "{msg}");

    let junk = TempFile::new("junk.mmdb", b"this is not a maxmind database");
    let err = GeoDb::open(&junk.0).expect_err("junk fails");
    assert!(matches!(err, GeoError::Invalid { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("junk.mmdb") && msg.contains("not a valid MaxMind DB"),
        "{msg}"
    );

    assert!(GeoDb::from_bytes(Vec::new()).is_err());
}

#[test]
fn geodb_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GeoDb>();
}
