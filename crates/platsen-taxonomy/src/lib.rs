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

    /// The role's occupation in SSYK 2012, Statistics Sweden's standard
    /// classification of occupations, which Arbetsförmedlingen, Platsbanken
    /// and Google read as `occupationalCategory`. `None` for "Annan roll",
    /// which names no occupation. Heads of procurement and purchasing are
    /// managers of other staff (level 2 of 132); contract controllers and
    /// category managers do buyers' work (3323); procurement lawyers mostly
    /// work in public administration (2615).
    pub fn ssyk(self) -> Option<Ssyk> {
        let (code, name) = match self {
            Role::Upphandlare | Role::Inkopare | Role::Avtalscontroller | Role::Kategoriledare => {
                ("3323", "Inköpare och upphandlare")
            }
            Role::Upphandlingschef | Role::Inkopschef => ("1322", "Inköps-, logistik- och transportchefer, nivå 2"),
            Role::Upphandlingsjurist => ("2615", "Förvaltnings- och organisationsjurister"),
            Role::Inkopsassistent => ("4115", "Inköps- och orderassistenter"),
            Role::Annan => return None,
        };
        Some(Ssyk { code, name })
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

/// An occupation unit group in SSYK 2012: its four-digit code and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssyk {
    pub code: &'static str,
    pub name: &'static str,
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

/// The counties that share a land border with `code` (Gotland: the two
/// its ferries reach), for "nearby" in similar jobs. Empty for an unknown
/// code.
pub fn neighbouring_counties(code: &str) -> &'static [&'static str] {
    match code {
        "01" => &["03", "04", "09"],
        "03" => &["01", "19", "20", "21"],
        "04" => &["01", "05", "18", "19"],
        "05" => &["04", "06", "08", "14", "18"],
        "06" => &["05", "07", "08", "13", "14"],
        "07" => &["06", "08", "10", "12", "13"],
        "08" => &["05", "06", "07", "09", "10"],
        "09" => &["01", "08"],
        "10" => &["07", "08", "12"],
        "12" => &["07", "10", "13"],
        "13" => &["06", "07", "12", "14"],
        "14" => &["05", "06", "13", "17", "18"],
        "17" => &["14", "18", "20"],
        "18" => &["04", "05", "14", "17", "19", "20"],
        "19" => &["03", "04", "18", "20"],
        "20" => &["03", "17", "18", "19", "21", "23"],
        "21" => &["03", "20", "22", "23"],
        "22" => &["21", "23", "24"],
        "23" => &["20", "21", "22", "24"],
        "24" => &["22", "23", "25"],
        "25" => &["24"],
        _ => &[],
    }
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
    fn every_county_has_neighbours_and_being_neighbours_goes_both_ways() {
        for county in counties() {
            let near = neighbouring_counties(county.code);
            assert!(!near.is_empty(), "{}", county.name);
            for other in near {
                assert!(counties().iter().any(|c| c.code == *other), "{other} is a county");
                assert!(neighbouring_counties(other).contains(&county.code), "{} and {other}", county.code);
            }
        }
        assert!(neighbouring_counties("99").is_empty());
    }

    #[test]
    fn every_named_role_has_a_four_digit_ssyk_2012_code() {
        for role in Role::ALL {
            match (role, role.ssyk()) {
                (Role::Annan, got) => assert_eq!(got, None),
                (_, Some(s)) => {
                    assert!(s.code.len() == 4 && s.code.bytes().all(|b| b.is_ascii_digit()), "{role}: {s:?}");
                    assert!(!s.name.is_empty());
                }
                (_, None) => panic!("{role} has no SSYK code"),
            }
        }
        assert_eq!(Role::Upphandlare.ssyk().unwrap().code, "3323");
        assert!(Role::Inkopschef.ssyk().unwrap().code.starts_with("132"));
    }

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
