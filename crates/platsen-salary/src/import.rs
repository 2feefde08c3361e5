//! Reading a survey file: CSV with a fixed header, every row validated, the
//! whole file refused with a line-by-line report if any row is wrong.

use platsen_taxonomy::Role;
use serde::Serialize;

use platsen_taxonomy::survey::{Gender, Response, Sector, Specialisation};

/// The columns a survey file must have (in any order; others are ignored).
pub const COLUMNS: [&str; 11] = [
    "year",
    "role",
    "sector",
    "county_code",
    "gender",
    "age",
    "experience_years",
    "monthly_salary_sek",
    "extent_percent",
    "specialisation",
    "is_manager",
];

/// Bounds on the full-time monthly salary (SEK). A response outside them is
/// a typing error (a yearly salary, a missing zero), not a statistic.
pub const FULL_TIME_BOUNDS: (f64, f64) = (15_000.0, 250_000.0);

/// At most this many problems are listed; `problems` counts them all.
const REPORT_LIMIT: usize = 200;

/// One thing wrong with a file: where, which field, and why (in Swedish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line in the file, 1 being the header.
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The first problems, in file order.
    pub errors: Vec<RowError>,
    /// How many problems there were in all.
    pub problems: usize,
}

/// Parses and validates a whole file. `latest_year` is the newest survey
/// year accepted (the current year).
pub fn parse(bytes: &[u8], latest_year: i32) -> Result<Vec<Response>, Rejected> {
    let mut report = Rejected { errors: Vec::new(), problems: 0 };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        report.push(1, "file", "Filen är inte UTF-8. Spara den som CSV UTF-8.".into());
        return Err(report);
    };
    let first_line = text.lines().next().unwrap_or("");
    // Swedish spreadsheets save CSV with semicolons.
    let delimiter = if first_line.contains(';') && !first_line.contains(',') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => {
            report.push(1, "file", format!("Rubrikraden kan inte läsas: {e}."));
            return Err(report);
        }
    };
    let mut index = [0usize; COLUMNS.len()];
    for (i, name) in COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h == name) {
            Some(at) => index[i] = at,
            None => report.push(1, name, format!("Kolumnen {name} saknas i rubrikraden.")),
        }
    }
    if report.problems > 0 {
        return Err(report);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.push(line, "file", format!("Raden kan inte läsas: {e}."));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(index[i]).unwrap_or("").trim();
        let mut bad = |field: &str, reason: String| report.push(line, field, reason);
        let year = whole(cell(0)).filter(|y| (2000..=i64::from(latest_year)).contains(y));
        if year.is_none() {
            bad("year", format!("Ange ett årtal 2000–{latest_year}."));
        }
        let role = Role::from_code(cell(1));
        if role.is_none() {
            let codes: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
            bad("role", format!("Okänd roll. Tillåtna: {}.", codes.join(", ")));
        }
        let sector = Sector::from_code(cell(2));
        if sector.is_none() {
            bad("sector", format!("Okänd sektor. Tillåtna: {}.", Sector::codes()));
        }
        let county = platsen_taxonomy::county(cell(3));
        if county.is_none() {
            bad("county_code", "Ange ett länsnummer enligt SCB, två siffror (t.ex. 01).".into());
        }
        let gender = Gender::from_code(cell(4));
        if gender.is_none() {
            bad("gender", format!("Okänt kön. Tillåtna: {}.", Gender::codes()));
        }
        let age = whole(cell(5)).filter(|a| (16..=80).contains(a));
        if age.is_none() {
            bad("age", "Ange en ålder i hela år, 16–80.".into());
        }
        let experience = whole(cell(6)).filter(|e| (0..=64).contains(e));
        if experience.is_none() {
            bad("experience_years", "Ange erfarenhet i hela år, 0–64.".into());
        } else if let (Some(a), Some(e)) = (age, experience)
            && e > a - 14
        {
            bad("experience_years", "Erfarenheten är längre än åldern medger.".into());
        }
        let salary = whole(cell(7)).filter(|s| (1..=1_000_000).contains(s));
        if salary.is_none() {
            bad("monthly_salary_sek", "Ange månadslönen i hela kronor, 1–1 000 000.".into());
        }
        let extent = whole(cell(8)).filter(|e| (1..=100).contains(e));
        if extent.is_none() {
            bad("extent_percent", "Ange sysselsättningsgraden i procent, 1–100.".into());
        }
        let specialisation = match cell(9) {
            "" => Some(None),
            s => Specialisation::from_code(s).map(Some),
        };
        if specialisation.is_none() {
            bad("specialisation", format!("Okänd inriktning. Tillåtna: {} (eller tomt).", Specialisation::codes()));
        }
        let is_manager = match cell(10).to_lowercase().as_str() {
            "true" | "ja" | "1" => Some(true),
            "false" | "nej" | "0" => Some(false),
            _ => None,
        };
        if is_manager.is_none() {
            bad("is_manager", "Ange true eller false (ja/nej, 1/0).".into());
        }
        if let (Some(s), Some(e)) = (salary, extent) {
            let full_time = s as f64 * 100.0 / e as f64;
            if !(FULL_TIME_BOUNDS.0..=FULL_TIME_BOUNDS.1).contains(&full_time) {
                // What the number most likely is instead, by which side it falls on.
                let guess = if full_time > FULL_TIME_BOUNDS.1 {
                    "Är det en årslön?"
                } else {
                    "Är det en timlön, eller stämmer inte omfattningen i procent?"
                };
                bad(
                    "monthly_salary_sek",
                    format!(
                        "Lönen omräknad till heltid, {} kr, ligger utanför 15 000–250 000 kr. {guess}",
                        crate::format::kronor(full_time)
                    ),
                );
                continue;
            }
        }
        if let (
            Some(year),
            Some(role),
            Some(sector),
            Some(county),
            Some(gender),
            Some(age),
            Some(experience),
            Some(salary),
            Some(extent),
            Some(specialisation),
            Some(is_manager),
        ) = (year, role, sector, county, gender, age, experience, salary, extent, specialisation, is_manager)
        {
            rows.push(Response {
                year: year as i32,
                role,
                sector,
                county_code: county.code,
                gender,
                age: age as u32,
                experience_years: experience as u32,
                monthly_salary_sek: salary as u32,
                extent_percent: extent as u32,
                specialisation,
                is_manager,
            });
        }
    }
    if report.problems == 0 && rows.is_empty() {
        report.push(2, "file", "Filen innehåller inga svar.".into());
    }
    if report.problems > 0 { Err(report) } else { Ok(rows) }
}

impl Rejected {
    fn push(&mut self, line: u64, field: &str, reason: String) {
        self.problems += 1;
        if self.errors.len() < REPORT_LIMIT {
            self.errors.push(RowError { line, field: field.to_owned(), reason });
        }
    }
}

/// A whole number: digits (spaces as thousands separators allowed).
fn whole(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != ' ' && *c != '\u{a0}').collect();
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "year,role,sector,county_code,gender,age,experience_years,monthly_salary_sek,extent_percent,specialisation,is_manager,comment\n";

    #[test]
    fn a_valid_file_parses_and_extra_columns_are_ignored() {
        let file = format!(
            "{HEADER}2025,upphandlare,kommun,01,kvinna,41,7,45300,100,it,false,hej\n2025,inkopschef,stat,12,man,55,20,30000,50,,ja,\n"
        );
        let rows = parse(file.as_bytes(), 2026).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].county_code, "01");
        assert_eq!(rows[0].specialisation, Some(Specialisation::It));
        assert_eq!(rows[1].full_time_salary(), 60_000.0);
        assert!(rows[1].is_manager);
    }

    #[test]
    fn semicolons_and_a_byte_order_mark_are_accepted() {
        let file = format!("\u{feff}{}2025;annan;region;03;annat;30;0;40000;100;;0\n", HEADER.replace(',', ";"));
        assert_eq!(parse(file.as_bytes(), 2026).unwrap()[0].sector, Sector::Region);
    }

    #[test]
    fn every_bad_field_is_reported_with_its_line_and_nothing_is_returned() {
        let file = format!(
            "{HEADER}2025,upphandlare,kommun,01,kvinna,41,7,45300,100,,false,\n\
             1999,chef,moon,99,x,12,-1,abc,0,rymd,kanske,\n\
             2025,upphandlare,kommun,01,kvinna,30,25,45000,100,,false,\n\
             2025,upphandlare,kommun,01,kvinna,41,7,540000,100,,false,\n"
        );
        let rejected = parse(file.as_bytes(), 2026).unwrap_err();
        let at =
            |line: u64| rejected.errors.iter().filter(|e| e.line == line).map(|e| e.field.as_str()).collect::<Vec<_>>();
        assert!(at(2).is_empty());
        assert_eq!(
            at(3),
            [
                "year",
                "role",
                "sector",
                "county_code",
                "gender",
                "age",
                "experience_years",
                "monthly_salary_sek",
                "extent_percent",
                "specialisation",
                "is_manager"
            ]
        );
        assert_eq!(at(4), ["experience_years"]);
        assert_eq!(at(5), ["monthly_salary_sek"]);
        assert!(rejected.errors.iter().find(|e| e.line == 5).unwrap().reason.contains("540 000 kr"));
        assert_eq!(rejected.problems, 13);
    }

    #[test]
    fn a_missing_column_an_empty_file_and_garbage_are_refused() {
        let missing = parse(b"year,role\n2025,upphandlare\n", 2026).unwrap_err();
        assert_eq!(missing.errors[0].line, 1);
        assert_eq!(missing.errors[0].field, "sector");
        assert_eq!(parse(HEADER.as_bytes(), 2026).unwrap_err().errors[0].reason, "Filen innehåller inga svar.");
        assert_eq!(parse(&[0xff, 0xfe, 0x00, 0x41], 2026).unwrap_err().errors[0].field, "file");
        assert!(parse(b"", 2026).is_err());
        let future = format!("{HEADER}2031,upphandlare,kommun,01,kvinna,41,7,45300,100,,false,\n");
        assert_eq!(parse(future.as_bytes(), 2026).unwrap_err().errors[0].field, "year");
    }

    #[test]
    fn an_implausible_salary_gets_the_likely_mistake_named() {
        let file = format!(
            "{HEADER}2025,upphandlare,kommun,01,kvinna,41,7,540000,100,,false,\n2025,upphandlare,kommun,01,kvinna,41,7,320,100,,false,\n"
        );
        let e = parse(file.as_bytes(), 2026).unwrap_err();
        assert!(e.errors[0].reason.ends_with("Är det en årslön?"), "{:?}", e.errors);
        assert!(e.errors[1].reason.contains("timlön"), "{:?}", e.errors);
        assert!(!e.errors[1].reason.contains("årslön"), "too low is never a yearly salary: {:?}", e.errors);
    }

    #[test]
    fn the_report_is_bounded_but_counts_everything() {
        let mut file = HEADER.to_owned();
        for _ in 0..500 {
            file.push_str("x,x,x,x,x,x,x,x,x,x,x,\n");
        }
        let rejected = parse(file.as_bytes(), 2026).unwrap_err();
        assert_eq!(rejected.errors.len(), REPORT_LIMIT);
        assert!(rejected.problems > 500);
    }
}
