//! Dates and amounts as the public reads them, in Swedish.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

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

/// When an ad was published, as lists and ad pages say it, by the
/// calendar in Sweden: "Publicerad i dag", "Publicerad i går",
/// "Publicerad för 3 dagar sedan", and from the 31st day on the date itself
/// ("Publicerad 28 oktober 2026"), which reads better than a large count.
pub fn published_ago(published: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (then, days) = days_since(published, now);
    match days {
        ..=0 => "Publicerad i dag".to_owned(),
        1 => "Publicerad i går".to_owned(),
        n @ 2..=30 => format!("Publicerad för {n} dagar sedan"),
        _ => format!("Publicerad {}", swedish_date(then)),
    }
}

/// The same in English, for the career-page widget's English variant:
/// "Published today", "Published 3 days ago", "Published 28 October 2026".
pub fn published_ago_en(published: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (then, days) = days_since(published, now);
    match days {
        ..=0 => "Published today".to_owned(),
        1 => "Published yesterday".to_owned(),
        n @ 2..=30 => format!("Published {n} days ago"),
        _ => format!("Published {}", then.format("%-d %B %Y")),
    }
}

/// The Swedish calendar day of `published` and how many days before
/// today's (in Sweden) it was.
fn days_since(published: DateTime<Utc>, now: DateTime<Utc>) -> (NaiveDate, i64) {
    let day = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Stockholm).date_naive();
    let then = day(published);
    (then, (day(now) - then).num_days())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_read_in_swedish() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(super::swedish_date(d), "1 mars 2026");
    }

    #[test]
    fn the_publish_date_reads_as_days_ago_by_the_swedish_calendar() {
        use super::published_ago;
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let now = t("2026-11-28T10:00:00Z");
        assert_eq!(published_ago(t("2026-11-28T08:00:00Z"), now), "Publicerad i dag");
        // 23:30 UTC on the 27th is already the 28th in Stockholm.
        assert_eq!(published_ago(t("2026-11-27T23:30:00Z"), now), "Publicerad i dag");
        assert_eq!(published_ago(t("2026-11-27T12:00:00Z"), now), "Publicerad i går");
        assert_eq!(published_ago(t("2026-11-25T12:00:00Z"), now), "Publicerad för 3 dagar sedan");
        assert_eq!(published_ago(t("2026-10-29T12:00:00Z"), now), "Publicerad för 30 dagar sedan");
        assert_eq!(published_ago(t("2026-10-28T12:00:00Z"), now), "Publicerad 28 oktober 2026");
        // A clock that runs behind never says "in the future".
        assert_eq!(published_ago(t("2026-11-29T12:00:00Z"), now), "Publicerad i dag");
    }

    #[test]
    fn the_publish_date_reads_in_english_for_the_english_widget() {
        use super::published_ago_en;
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let now = t("2026-11-28T10:00:00Z");
        assert_eq!(published_ago_en(t("2026-11-27T23:30:00Z"), now), "Published today");
        assert_eq!(published_ago_en(t("2026-11-27T12:00:00Z"), now), "Published yesterday");
        assert_eq!(published_ago_en(t("2026-11-25T12:00:00Z"), now), "Published 3 days ago");
        assert_eq!(published_ago_en(t("2026-10-28T12:00:00Z"), now), "Published 28 October 2026");
    }
}
