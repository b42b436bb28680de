//! The demo's synthetic world: countries and cities with their own address blocks (private
//! `10.0.0.0/8` and documentation `2001:db8::/32` space), and the GeoIP2-City database mapping them back.
//!
//! City `k` of country `c` owns `10.(8c+k).0.0/16` and `2001:db8:(8c+k)::/48`, so a visitor's
//! address alone tells the real GeoIP lookup where they are.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use ipnet::IpNet;
use mmdb_writer::Writer;
use rand::rngs::StdRng;
use rand::Rng;
use serde::Serialize;

use crate::random::pick_index;
use crate::DemoError;

/// A city: English name, ISO 3166-2 subdivision code (without the country) and name, UTC
/// offset in minutes (standard time; the demo ignores daylight saving), and share of the
/// country's visitors.
pub(crate) struct City {
    pub name: &'static str,
    pub region_code: &'static str,
    pub region_name: &'static str,
    pub utc_offset_min: i32,
    pub weight: f64,
}

/// A country: ISO code, English name, share of all visitors, the Google host its searchers
/// come from, and its cities (at most eight).
pub(crate) struct Country {
    pub iso: &'static str,
    pub name: &'static str,
    pub weight: f64,
    pub google: &'static str,
    pub cities: &'static [City],
}

const fn city(
    name: &'static str,
    region_code: &'static str,
    region_name: &'static str,
    utc_offset_min: i32,
    weight: f64,
) -> City {
    City {
        name,
        region_code,
        region_name,
        utc_offset_min,
        weight,
    }
}

/// The shop is European (Berlin) and ships worldwide; most visitors are from Germany and the US.
pub(crate) const COUNTRIES: &[Country] = &[
    Country {
        iso: "US",
        name: "United States",
        weight: 22.0,
        google: "www.google.com",
        cities: &[
            city("New York", "NY", "New York", -300, 5.0),
            city("Los Angeles", "CA", "California", -480, 4.0),
            city("Chicago", "IL", "Illinois", -360, 3.0),
            city("Austin", "TX", "Texas", -360, 2.0),
            city("Seattle", "WA", "Washington", -480, 2.0),
            city("Denver", "CO", "Colorado", -420, 2.0),
            city("Boston", "MA", "Massachusetts", -300, 1.5),
        ],
    },
    Country {
        iso: "DE",
        name: "Germany",
        weight: 20.0,
        google: "www.google.de",
        cities: &[
            city("Berlin", "BE", "Berlin", 60, 5.0),
            city("Munich", "BY", "Bavaria", 60, 4.0),
            city("Hamburg", "HH", "Hamburg", 60, 3.0),
            city("Cologne", "NW", "North Rhine-Westphalia", 60, 2.5),
            city("Frankfurt am Main", "HE", "Hesse", 60, 2.0),
            city("Stuttgart", "BW", "Baden-Württemberg", 60, 1.5),
        ],
    },
    Country {
        iso: "GB",
        name: "United Kingdom",
        weight: 10.0,
        google: "www.google.co.uk",
        cities: &[
            city("London", "ENG", "England", 0, 6.0),
            city("Manchester", "ENG", "England", 0, 2.0),
            city("Bristol", "ENG", "England", 0, 1.5),
            city("Edinburgh", "SCT", "Scotland", 0, 1.5),
        ],
    },
    Country {
        iso: "FR",
        name: "France",
        weight: 7.0,
        google: "www.google.fr",
        cities: &[
            city("Paris", "IDF", "Île-de-France", 60, 5.0),
            city("Lyon", "ARA", "Auvergne-Rhône-Alpes", 60, 2.0),
            city("Marseille", "PAC", "Provence-Alpes-Côte d'Azur", 60, 1.5),
            city("Toulouse", "OCC", "Occitanie", 60, 1.0),
        ],
    },
    Country {
        iso: "NL",
        name: "Netherlands",
        weight: 6.0,
        google: "www.google.nl",
        cities: &[
            city("Amsterdam", "NH", "North Holland", 60, 4.0),
            city("Rotterdam", "ZH", "South Holland", 60, 2.0),
            city("Utrecht", "UT", "Utrecht", 60, 1.5),
        ],
    },
    Country {
        iso: "CA",
        name: "Canada",
        weight: 4.0,
        google: "www.google.ca",
        cities: &[
            city("Toronto", "ON", "Ontario", -300, 3.0),
            city("Vancouver", "BC", "British Columbia", -480, 2.0),
            city("Montreal", "QC", "Quebec", -300, 1.5),
        ],
    },
    Country {
        iso: "IN",
        name: "India",
        weight: 4.0,
        google: "www.google.co.in",
        cities: &[
            city("Bengaluru", "KA", "Karnataka", 330, 3.0),
            city("Mumbai", "MH", "Maharashtra", 330, 2.5),
            city("Delhi", "DL", "Delhi", 330, 2.0),
        ],
    },
    Country {
        iso: "BR",
        name: "Brazil",
        weight: 3.0,
        google: "www.google.com.br",
        cities: &[
            city("São Paulo", "SP", "São Paulo", -180, 3.0),
            city("Rio de Janeiro", "RJ", "Rio de Janeiro", -180, 2.0),
        ],
    },
    Country {
        iso: "ES",
        name: "Spain",
        weight: 5.0,
        google: "www.google.es",
        cities: &[
            city("Madrid", "MD", "Madrid", 60, 3.0),
            city("Barcelona", "CT", "Catalonia", 60, 2.5),
            city("Valencia", "VC", "Valencian Community", 60, 1.0),
        ],
    },
    Country {
        iso: "SE",
        name: "Sweden",
        weight: 4.0,
        google: "www.google.se",
        cities: &[
            city("Stockholm", "AB", "Stockholm County", 60, 3.0),
            city("Gothenburg", "O", "Västra Götaland", 60, 1.5),
        ],
    },
    Country {
        iso: "AU",
        name: "Australia",
        weight: 3.0,
        google: "www.google.com.au",
        cities: &[
            city("Sydney", "NSW", "New South Wales", 600, 3.0),
            city("Melbourne", "VIC", "Victoria", 600, 2.5),
            city("Perth", "WA", "Western Australia", 480, 1.0),
        ],
    },
    Country {
        iso: "JP",
        name: "Japan",
        weight: 3.0,
        google: "www.google.co.jp",
        cities: &[
            city("Tokyo", "13", "Tokyo", 540, 3.0),
            city("Osaka", "27", "Osaka", 540, 1.5),
        ],
    },
    Country {
        iso: "CH",
        name: "Switzerland",
        weight: 3.0,
        google: "www.google.ch",
        cities: &[
            city("Zurich", "ZH", "Zurich", 60, 2.0),
            city("Geneva", "GE", "Geneva", 60, 1.0),
        ],
    },
    Country {
        iso: "AT",
        name: "Austria",
        weight: 3.0,
        google: "www.google.at",
        cities: &[
            city("Vienna", "9", "Vienna", 60, 3.0),
            city("Graz", "6", "Styria", 60, 1.0),
        ],
    },
    Country {
        iso: "IT",
        name: "Italy",
        weight: 3.0,
        google: "www.google.it",
        cities: &[
            city("Milan", "25", "Lombardy", 60, 2.0),
            city("Rome", "62", "Lazio", 60, 2.0),
        ],
    },
];

/// Where a visitor is: indexes into [`COUNTRIES`] and its cities.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    pub country: usize,
    pub city: usize,
}

impl Place {
    pub fn country(self) -> &'static Country {
        &COUNTRIES[self.country]
    }

    pub fn city(self) -> &'static City {
        &COUNTRIES[self.country].cities[self.city]
    }

    /// The `/16` (IPv4) or `/48` (IPv6) block number of this city.
    fn block(self) -> u8 {
        (self.country * 8 + self.city) as u8
    }

    /// A random host address of this city's block.
    pub fn address(self, v6: bool, rng: &mut StdRng) -> IpAddr {
        if v6 {
            let host: u64 = rng.random();
            let subnet: u16 = rng.random();
            let seg = |i: u32| (host >> (16 * i)) as u16;
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0x0db8,
                u16::from(self.block()),
                subnet,
                seg(3),
                seg(2),
                seg(1),
                seg(0).max(1),
            ))
        } else {
            IpAddr::V4(Ipv4Addr::new(
                10,
                self.block(),
                rng.random(),
                rng.random_range(1..=254),
            ))
        }
    }
}

/// A random visitor location, weighted by country and city.
pub(crate) fn pick_place(rng: &mut StdRng) -> Place {
    let country = pick_index(rng, COUNTRIES, |c| c.weight);
    let city = pick_index(rng, COUNTRIES[country].cities, |c| c.weight);
    Place { country, city }
}

#[derive(Serialize)]
struct Names {
    en: &'static str,
}

#[derive(Serialize)]
struct CountryRecord {
    iso_code: &'static str,
    names: Names,
}

#[derive(Serialize)]
struct Subdivision {
    iso_code: &'static str,
    names: Names,
}

#[derive(Serialize)]
struct CityRecord {
    names: Names,
}

/// One GeoIP2-City record.
#[derive(Serialize)]
struct Record {
    city: CityRecord,
    country: CountryRecord,
    registered_country: CountryRecord,
    subdivisions: Vec<Subdivision>,
}

/// The database as bytes; the build time is fixed, so the file is the same on every run.
pub(crate) fn geo_db_bytes() -> Result<Vec<u8>, DemoError> {
    let mut writer = Writer::builder("Waymark-Demo-City")
        .description(&[(
            "en",
            "Synthetic GeoIP2-City database for the Waymark demo shop's generated visitors",
        )])
        .build_epoch(UNIX_EPOCH + Duration::from_secs(1_735_689_600))
        .build();
    let geo = |e: mmdb_writer::Error| DemoError::Geo(e.to_string());
    for (c, country) in COUNTRIES.iter().enumerate() {
        for (k, city) in country.cities.iter().enumerate() {
            let place = Place {
                country: c,
                city: k,
            };
            let record = Record {
                city: CityRecord {
                    names: Names { en: city.name },
                },
                country: CountryRecord {
                    iso_code: country.iso,
                    names: Names { en: country.name },
                },
                registered_country: CountryRecord {
                    iso_code: country.iso,
                    names: Names { en: country.name },
                },
                subdivisions: vec![Subdivision {
                    iso_code: city.region_code,
                    names: Names {
                        en: city.region_name,
                    },
                }],
            };
            let v4 = IpNet::new(IpAddr::V4(Ipv4Addr::new(10, place.block(), 0, 0)), 16)
                .map_err(|e| DemoError::Geo(e.to_string()))?;
            let v6 = IpNet::new(
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0x0db8,
                    u16::from(place.block()),
                    0,
                    0,
                    0,
                    0,
                    0,
                )),
                48,
            )
            .map_err(|e| DemoError::Geo(e.to_string()))?;
            writer.insert(v4, &record).map_err(geo)?;
            writer.insert(v6, &record).map_err(geo)?;
        }
    }
    writer.to_bytes().map_err(geo)
}

/// Writes the demo's GeoIP2-City database to `path` (the directory must exist).
pub fn write_geo_db(path: &Path) -> Result<(), DemoError> {
    let bytes = geo_db_bytes()?;
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_fit_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (c, country) in COUNTRIES.iter().enumerate() {
            assert!(
                country.cities.len() <= 8,
                "{} has too many cities",
                country.iso
            );
            for k in 0..country.cities.len() {
                assert!(seen.insert(
                    Place {
                        country: c,
                        city: k
                    }
                    .block()
                ));
            }
        }
    }
}
