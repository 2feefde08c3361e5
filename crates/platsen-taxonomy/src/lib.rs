//! Controlled vocabularies that job ads and salary statistics share.
//!
//! A code in this crate is the stable identifier used in the API, the database
//! and the statistics; the Swedish display name is what the public sees.
//! Everything here is data compiled into the binary: no I/O, no HTTP, no SQL.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

pub mod survey;

/// A procurement role. The same codes are used by job ads and by the salary
/// survey, so an ad can show the market salary for its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Upphandlare,
    Inkopare,
    Upphandlingschef,
    Inkopschef,
    /// Contract controller; also covers *avtalsförvaltare* (contract manager).
    Avtalscontroller,
    Kategoriledare,
    Upphandlingsjurist,
    Inkopsassistent,
    Annan,
}

impl Role {
    /// Every role, in the order the public sees them.
    pub const ALL: [Role; 9] = [
        Role::Upphandlare,
        Role::Inkopare,
        Role::Upphandlingschef,
        Role::Inkopschef,
        Role::Avtalscontroller,
        Role::Kategoriledare,
        Role::Upphandlingsjurist,
        Role::Inkopsassistent,
        Role::Annan,
    ];

    /// The stable code used in the API, the database and the statistics.
    pub fn code(self) -> &'static str {
        match self {
            Role::Upphandlare => "upphandlare",
            Role::Inkopare => "inkopare",
            Role::Upphandlingschef => "upphandlingschef",
            Role::Inkopschef => "inkopschef",
            Role::Avtalscontroller => "avtalscontroller",
            Role::Kategoriledare => "kategoriledare",
            Role::Upphandlingsjurist => "upphandlingsjurist",
            Role::Inkopsassistent => "inkopsassistent",
            Role::Annan => "annan",
        }
    }

    /// The Swedish display name.
    pub fn name_sv(self) -> &'static str {
        match self {
            Role::Upphandlare => "Upphandlare",
            Role::Inkopare => "Inköpare",
            Role::Upphandlingschef => "Upphandlingschef",
            Role::Inkopschef => "Inköpschef",
            Role::Avtalscontroller => "Avtalscontroller/avtalsförvaltare",
            Role::Kategoriledare => "Kategoriledare",
            Role::Upphandlingsjurist => "Upphandlingsjurist",
            Role::Inkopsassistent => "Inköpsassistent",
            Role::Annan => "Annan roll",
        }
    }

    /// Parses a code. `avtalsforvaltare` is accepted as an alias of
    /// `avtalscontroller`, since the two titles name the same work.
    pub fn from_code(code: &str) -> Option<Role> {
        if code == "avtalsforvaltare" {
            return Some(Role::Avtalscontroller);
        }
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A Swedish county (län) with its two-digit SCB code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct County {
    pub code: &'static str,
    pub name: &'static str,
}

/// A Swedish municipality (kommun) with its four-digit SCB code and county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality {
    pub code: &'static str,
    pub name: &'static str,
    pub county: County,
}

struct Geography {
    municipalities: Vec<Municipality>,
    by_code: HashMap<&'static str, usize>,
    counties: Vec<County>,
}

/// SCB's municipality and county codes, shipped inside the binary.
static SOURCE: &str = include_str!("../data/sweden-municipalities.csv");

static GEOGRAPHY: LazyLock<Geography> = LazyLock::new(|| {
    let mut municipalities = Vec::with_capacity(290);
    let mut counties: Vec<County> = Vec::with_capacity(21);
    for line in SOURCE.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split(',');
        let (Some(code), Some(name), Some(county_code), Some(county_name)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            panic!("malformed line in shipped municipality data: {line:?}");
        };
        let county = County { code: county_code, name: county_name };
        if !counties.iter().any(|c| c.code == county.code) {
            counties.push(county);
        }
        municipalities.push(Municipality { code, name, county });
    }
    counties.sort_by_key(|c| c.code);
    municipalities.sort_by_key(|m| m.code);
    let by_code = municipalities.iter().enumerate().map(|(i, m)| (m.code, i)).collect();
    Geography { municipalities, by_code, counties }
});

/// Looks a municipality up by its four-digit SCB code.
pub fn municipality(code: &str) -> Option<&'static Municipality> {
    let geo = &*GEOGRAPHY;
    geo.by_code.get(code).map(|&i| &geo.municipalities[i])
}

/// All 290 municipalities, ordered by code.
pub fn municipalities() -> &'static [Municipality] {
    &GEOGRAPHY.municipalities
}

/// Looks a county up by its two-digit SCB code.
pub fn county(code: &str) -> Option<&'static County> {
    GEOGRAPHY.counties.iter().find(|c| c.code == code)
}

/// All 21 counties, ordered by code.
pub fn counties() -> &'static [County] {
    &GEOGRAPHY.counties
}

/// A key that sorts names as Swedish does under any byte-wise ordering
/// (SQLite's, PostgreSQL's `collate "C"`, Rust's): case folded, å, ä and ö
/// after z in that order, é as e, ü as y, æ as ä and ø as ö.
pub fn swedish_sort_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            // The three code points after `z` in ASCII, in the Swedish order.
            'å' => '{',
            'ä' | 'æ' => '|',
            'ö' | 'ø' => '}',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'á' | 'à' | 'â' => 'a',
            'ü' => 'y',
            c => c,
        })
        .collect()
}

/// Compares names as Swedish sorts them (see [`swedish_sort_key`]); equal
/// keys fall back to the exact text, so the order is total.
pub fn swedish_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    swedish_sort_key(a).cmp(&swedish_sort_key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_names_sort_with_a_ring_a_umlaut_and_o_umlaut_after_z() {
        let mut names =
            vec!["Örebro", "Älvsbyn", "Åre", "Norrköping", "Ronneby", "Zinkgruvan", "ale", "Eda", "Ed", "Uddevalla"];
        names.sort_by(|a, b| swedish_cmp(a, b));
        assert_eq!(
            names,
            ["ale", "Ed", "Eda", "Norrköping", "Ronneby", "Uddevalla", "Zinkgruvan", "Åre", "Älvsbyn", "Örebro"]
        );
        let mut counties: Vec<&str> = counties().iter().map(|c| c.name).collect();
        counties.sort_by(|a, b| swedish_cmp(a, b));
        assert_eq!(counties.last(), Some(&"Östergötlands län"));
        assert!(
            counties.iter().position(|c| *c == "Örebro län")
                > counties.iter().position(|c| *c == "Västra Götalands län")
        );
    }

    #[test]
    fn ships_all_municipalities_and_counties() {
        assert_eq!(municipalities().len(), 290);
        assert_eq!(counties().len(), 21);
    }

    #[test]
    fn looks_up_by_scb_code() {
        let nacka = municipality("0182").expect("Nacka exists");
        assert_eq!(nacka.name, "Nacka");
        assert_eq!(nacka.county.code, "01");
        assert_eq!(nacka.county.name, "Stockholms län");
        assert_eq!(county("25").map(|c| c.name), Some("Norrbottens län"));
        assert!(municipality("9999").is_none());
        assert!(municipality("182").is_none());
        assert!(county("02").is_none(), "02 is not in use since 1971");
    }

    #[test]
    fn every_municipality_code_starts_with_its_county_code() {
        for m in municipalities() {
            assert!(m.code.starts_with(m.county.code), "{m:?}");
            assert_eq!(m.code.len(), 4);
        }
    }

    #[test]
    fn role_codes_round_trip_and_alias() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
            assert!(!role.name_sv().is_empty());
        }
        assert_eq!(Role::from_code("avtalsforvaltare"), Some(Role::Avtalscontroller));
        assert_eq!(Role::from_code("Upphandlare"), None);
        assert_eq!(Role::from_code(""), None);
    }
}
