//! Dates and amounts as the public reads them, in Swedish.

use chrono::{Datelike, NaiveDate};

/// "28 november 2026".
pub fn swedish_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ];
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_read_in_swedish() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(super::swedish_date(d), "1 mars 2026");
    }
}
