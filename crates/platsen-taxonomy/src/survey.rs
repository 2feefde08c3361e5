//! The salary survey: its vocabularies and one validated response. The
//! store keeps responses; `platsen-salary` reads and summarises them.

use crate::Role;
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal, $sv:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in the order the public sees them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code used in files, the API and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Swedish display name.
            pub fn name_sv(self) -> &'static str {
                match self { $($name::$variant => $sv,)+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The codes, for messages: `a, b, c`.
            pub fn codes() -> String {
                Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

vocabulary! {
    /// The employer's sector.
    Sector {
        Kommun = "kommun", "Kommun";
        Region = "region", "Region";
        Stat = "stat", "Statlig myndighet";
        OffentligtBolag = "offentligt_bolag", "Offentligt ägt bolag";
        Privat = "privat", "Privat företag";
        Konsult = "konsult", "Konsult";
    }
}

vocabulary! {
    /// Gender as answered.
    Gender {
        Kvinna = "kvinna", "Kvinnor";
        Man = "man", "Män";
        Annat = "annat", "Annat";
        UppgiftSaknas = "uppgift_saknas", "Uppgift saknas";
    }
}

vocabulary! {
    /// What the respondent mostly procures.
    Specialisation {
        It = "it", "IT";
        Entreprenad = "entreprenad", "Entreprenad";
        Avtalsforvaltning = "avtalsforvaltning", "Avtalsförvaltning";
        Annan = "annan", "Annan";
    }
}

vocabulary! {
    /// Years of experience in procurement, banded.
    ExperienceBand {
        Under1 = "0-1", "Under 1 år";
        From1 = "1-3", "1–3 år";
        From3 = "3-6", "3–6 år";
        From6 = "6-10", "6–10 år";
        From10 = "10-15", "10–15 år";
        From15 = "15-", "15 år eller mer";
    }
}

vocabulary! {
    /// Age, banded.
    AgeBand {
        Under30 = "-29", "Under 30 år";
        From30 = "30-39", "30–39 år";
        From40 = "40-49", "40–49 år";
        From50 = "50-59", "50–59 år";
        From60 = "60-", "60 år eller äldre";
    }
}

impl ExperienceBand {
    /// The band of `years` in procurement (`[1, 3)` is `1-3`).
    pub fn of(years: u32) -> ExperienceBand {
        match years {
            0 => ExperienceBand::Under1,
            1..3 => ExperienceBand::From1,
            3..6 => ExperienceBand::From3,
            6..10 => ExperienceBand::From6,
            10..15 => ExperienceBand::From10,
            _ => ExperienceBand::From15,
        }
    }
}

impl AgeBand {
    pub fn of(age: u32) -> AgeBand {
        match age {
            0..30 => AgeBand::Under30,
            30..40 => AgeBand::From30,
            40..50 => AgeBand::From40,
            50..60 => AgeBand::From50,
            _ => AgeBand::From60,
        }
    }
}

/// One answer to the salary survey, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub year: i32,
    pub role: Role,
    pub sector: Sector,
    /// SCB county code, two digits.
    pub county_code: &'static str,
    pub gender: Gender,
    pub age: u32,
    /// Whole years in procurement.
    pub experience_years: u32,
    /// Actual monthly pay before tax at the stated extent.
    pub monthly_salary_sek: u32,
    /// 1–100.
    pub extent_percent: u32,
    pub specialisation: Option<Specialisation>,
    pub is_manager: bool,
}

impl Response {
    /// The full-time equivalent monthly salary every statistic uses.
    pub fn full_time_salary(&self) -> f64 {
        f64::from(self.monthly_salary_sek) * 100.0 / f64::from(self.extent_percent)
    }
}
