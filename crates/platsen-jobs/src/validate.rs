//! Parse, don't validate: each function turns raw input into a value that is
//! known to be good, or a [`FieldError`] that names the field and the reason.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;

use crate::error::FieldError;

/// Platsen's calendar is Swedish: deadlines are dates in Europe/Stockholm.
pub fn today_in_sweden(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Stockholm).date_naive()
}

/// Midnight at the start of `date` in Europe/Stockholm, as UTC.
pub fn start_of_swedish_day(date: NaiveDate) -> DateTime<Utc> {
    end_of_swedish_day(date.pred_opt().unwrap_or(date)) + chrono::Duration::seconds(1)
}

/// The last second of `date` in Europe/Stockholm, as UTC: an ad whose
/// deadline is that date is open for applications until then.
pub fn end_of_swedish_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date).and_hms_opt(0, 0, 0).expect("midnight exists");
    // Midnight always exists in Stockholm (DST changes happen at 02:00/03:00).
    let start_of_next = Stockholm
        .from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next));
    start_of_next - chrono::Duration::seconds(1)
}

/// Rejects characters that have no business in a single line of public text:
/// control characters (NUL included, which PostgreSQL cannot store) and the
/// bidirectional overrides used to disguise text.
pub(crate) fn bad_char(c: char, allow_newlines: bool) -> bool {
    if allow_newlines && matches!(c, '\n' | '\r' | '\t') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A trimmed single line of text between `min` and `max` characters.
pub fn line(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    text(field, raw, min, max, false)
}

/// Trimmed text that may hold line breaks, between `min` and `max` characters.
pub fn multiline(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    text(field, raw, min, max, true)
}

fn text(field: &str, raw: &str, min: usize, max: usize, allow_newlines: bool) -> Result<String, FieldError> {
    let value = raw.trim();
    // Count lazily so a 10 MB value is rejected without walking all of it twice.
    let len = value.chars().take(max + 1).count();
    if len < min {
        return Err(if len == 0 {
            FieldError::new(field, "required", "Fältet får inte vara tomt.")
        } else {
            FieldError::new(field, "too_short", format!("Minst {min} tecken."))
        });
    }
    if len > max {
        return Err(FieldError::new(field, "too_long", format!("Högst {max} tecken.")));
    }
    if value.chars().any(|c| bad_char(c, allow_newlines)) {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "Texten innehåller otillåtna tecken (styrtecken eller riktningsmarkeringar).",
        ));
    }
    Ok(value.to_owned())
}

/// A Swedish organisation number (organisationsnummer): ten digits whose last
/// is a Luhn check digit. Accepts `NNNNNN-NNNN`, ten digits, or the twelve-digit
/// form with the `16` prefix; normalises to `NNNNNN-NNNN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationNumber(String);

impl OrganisationNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new(field, "invalid_format", "Organisationsnumret ska ha formen NNNNNN-NNNN (tio siffror).");
        let raw = raw.trim();
        if raw.len() > 20 {
            return Err(invalid());
        }
        let compact: String = raw.chars().filter(|c| *c != '-').collect();
        if !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        // A hyphen, if any, sits before the last four digits.
        if let Some(pos) = raw.find('-')
            && (raw.matches('-').count() > 1 || pos + 5 != raw.len())
        {
            return Err(invalid());
        }
        let digits = match compact.len() {
            10 => compact,
            12 if compact.starts_with("16") => compact[2..].to_owned(),
            _ => return Err(invalid()),
        };
        if !luhn_valid(&digits) {
            return Err(FieldError::new(
                field,
                "invalid_checksum",
                "Organisationsnumrets kontrollsiffra stämmer inte.",
            ));
        }
        Ok(Self(format!("{}-{}", &digits[..6], &digits[6..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as people write it: digits with spaces, `+`, `-` and
/// parentheses, at least five digits, at most 30 characters.
pub fn phone(field: &str, raw: &str) -> Result<String, FieldError> {
    let p = raw.trim();
    let ok = (5..=30).contains(&p.len())
        && p.chars().all(|ch| ch.is_ascii_digit() || " +-()".contains(ch))
        && p.chars().filter(char::is_ascii_digit).count() >= 5;
    if ok {
        Ok(p.to_owned())
    } else {
        Err(FieldError::new(field, "invalid_phone", "Ange ett telefonnummer med siffror, t.ex. 08-718 80 00."))
    }
}

/// A Swedish postal code: five digits, written `NNN NN`.
pub fn postal_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("{} {}", &digits[..3], &digits[3..]))
    } else {
        Err(FieldError::new(field, "invalid_postal_code", "Ange ett postnummer med fem siffror, t.ex. 131 81."))
    }
}

/// A Peppol participant id as Swedish public buyers have them:
/// `0007:` and an organisation number (ten digits, Luhn), or `0088:` and a
/// GLN (thirteen digits, GS1 check digit). Returns the scheme and the id.
pub fn peppol_id(field: &str, raw: &str) -> Result<(String, String), FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            "invalid_peppol_id",
            "Ange 0007: och organisationsnumret (tio siffror) eller 0088: och ett GLN (tretton siffror).",
        )
    };
    let (scheme, id) = raw.trim().split_once(':').ok_or_else(invalid)?;
    let id: String = id.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect();
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match scheme.trim() {
        "0007" if id.len() == 10 && luhn_valid(&id) => Ok(("0007".into(), id)),
        "0088" if id.len() == 13 && gln_valid(&id) => Ok(("0088".into(), id)),
        "0007" | "0088" => Err(FieldError::new(field, "invalid_checksum", "Kontrollsiffran stämmer inte.")),
        _ => Err(invalid()),
    }
}

/// GS1's check digit: weights 3 and 1 from the right, before the check digit.
fn gln_valid(digits: &str) -> bool {
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 =
        body.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    (10 - sum % 10) % 10 == u32::from(check.as_bytes()[0] - b'0')
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An absolute `http` or `https` URL with a host, at most 2 000 characters.
pub fn web_url(field: &str, raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    let bad = || {
        FieldError::new(field, "invalid_url", "Ange en fullständig webbadress som börjar med https:// eller http://.")
    };
    if raw.len() > 2000 {
        return Err(FieldError::new(field, "too_long", "Högst 2000 tecken."));
    }
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            field,
            "invalid_url",
            "Webbadressen får inte innehålla användarnamn eller lösenord.",
        ));
    }
    Ok(url.to_string())
}

/// An e-mail address as used for applications.
/// The most origins an employer may list.
pub const MAX_ORIGINS: usize = 20;

/// Web origins as typed, one per entry (blank entries are skipped): each
/// `http(s)://host[:port]`, a trailing slash allowed, nothing else. Returns
/// them in their serialized form, lower-cased, without duplicates.
pub fn origins(field: &str, raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for entry in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let bad = |why: &str| {
            let shown: String = entry.chars().take(60).collect();
            FieldError::new(field, "invalid_origin", format!("{shown}: {why}"))
        };
        if entry.len() > 200 {
            return Err(bad("för lång."));
        }
        let url = url::Url::parse(entry).map_err(|_| bad("ange en webbadress som https://www.example.se."))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("bara http och https."));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("ange en värd."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("utan användarnamn eller lösenord."));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("bara adressens början, utan sökväg (som https://www.example.se)."));
        }
        let origin = url.origin().ascii_serialization();
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    if out.len() > MAX_ORIGINS {
        return Err(FieldError::new(field, "too_many", format!("högst {MAX_ORIGINS} webbplatser.")));
    }
    Ok(out)
}

pub fn email(field: &str, raw: &str) -> Result<String, FieldError> {
    use email_address::{EmailAddress, Options};
    let raw = raw.trim();
    // A bare address only: no "Name <address>" form, no domain literals, and
    // a top-level domain, since these are addresses people will write to.
    let options = Options::default().without_display_text().without_domain_literal().with_required_tld();
    let ok = raw.len() <= 254
        && !raw.chars().any(|c| bad_char(c, false) || c.is_whitespace())
        && EmailAddress::parse_with_options(raw, options).is_ok();
    if !ok {
        return Err(FieldError::new(field, "invalid_email", "Ange en giltig e-postadress."));
    }
    Ok(raw.to_owned())
}

/// A slug: lowercase ASCII letters, digits and single hyphens, 3–100
/// characters, with at least one letter (so it can never be mistaken for an id).
pub fn slug(field: &str, raw: &str) -> Result<String, FieldError> {
    let ok = (3..=100).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && raw.bytes().any(|b| b.is_ascii_lowercase())
        && !raw.starts_with('-')
        && !raw.ends_with('-')
        && !raw.contains("--")
        // Words the API uses next to slugs in paths (`/jobs/search`).
        && !matches!(raw, "search" | "suggest" | "stream" | "snapshot");
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(field, "invalid_slug", "Använd 3–100 små bokstäver a–z, siffror och enstaka bindestreck."))
    }
}

/// Turns free text into a slug candidate (`Inköpschef till Nacka` →
/// `inkopschef-till-nacka`), at most 80 characters, never empty.
pub fn slugify(text: &str, fallback: &str) -> String {
    let mut s = slug::slugify(text);
    if s.len() > 80 {
        s.truncate(80);
        while s.ends_with('-') {
            s.pop();
        }
    }
    if s.len() < 3 || !s.bytes().any(|b| b.is_ascii_lowercase()) || slug("slug", &s).is_err() {
        s = if s.is_empty() { fallback.to_owned() } else { format!("{fallback}-{s}") };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_origins() {
        let ok = |v: &[&str]| origins("o", &v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            ok(&["https://www.Nacka.se/", " http://localhost:8080 ", "", "https://www.nacka.se"]).unwrap(),
            ["https://www.nacka.se", "http://localhost:8080"]
        );
        assert_eq!(ok(&["https://karriar.nacka.se:443"]).unwrap(), ["https://karriar.nacka.se"]);
        for bad in [
            "nacka.se",
            "javascript:alert(1)",
            "ftp://nacka.se",
            "https://nacka.se/jobb",
            "https://nacka.se/?a=1",
            "https://u:p@nacka.se",
            "https://nacka.se/#x",
            "data:text/html,<script>",
            "*",
        ] {
            assert!(ok(&[bad]).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..21).map(|i| format!("https://s{i}.example.se")).collect();
        assert!(origins("o", &many).is_err());
    }

    #[test]
    fn organisation_numbers() {
        // Nacka kommun, Skatteverket and a company number, in every accepted form.
        for (raw, norm) in [
            ("212000-0167", "212000-0167"),
            ("2120000167", "212000-0167"),
            ("162021005448", "202100-5448"),
            (" 556016-0680 ", "556016-0680"),
        ] {
            assert_eq!(OrganisationNumber::parse("f", raw).map(|o| o.0), Ok(norm.to_owned()), "{raw}");
        }
        for (raw, code) in [
            ("212000-0168", "invalid_checksum"),
            ("21200-00167", "invalid_format"),
            ("212000-016", "invalid_format"),
            ("abcdef-ghij", "invalid_format"),
            ("212000--0167", "invalid_format"),
            ("", "invalid_format"),
            ("1'; drop table employers; --", "invalid_format"),
            ("２１２０００-０１６７", "invalid_format"),
        ] {
            assert_eq!(OrganisationNumber::parse("f", raw).unwrap_err().code, code, "{raw}");
        }
    }

    #[test]
    fn text_rules() {
        assert_eq!(line("t", "  Inköpare  ", 3, 10).unwrap(), "Inköpare");
        assert_eq!(line("t", "", 3, 10).unwrap_err().code, "required");
        assert_eq!(line("t", "ab", 3, 10).unwrap_err().code, "too_short");
        assert_eq!(line("t", &"x".repeat(10_000_000), 3, 10).unwrap_err().code, "too_long");
        assert_eq!(line("t", "a\u{0}bc", 3, 10).unwrap_err().code, "invalid_characters");
        assert_eq!(line("t", "abc\u{202E}def", 3, 10).unwrap_err().code, "invalid_characters");
        assert_eq!(line("t", "ab\ncd", 3, 10).unwrap_err().code, "invalid_characters");
        assert_eq!(multiline("t", "ab\ncd", 3, 10).unwrap(), "ab\ncd");
        assert_eq!(line("t", "Åsa 🙂 Öst", 3, 20).unwrap(), "Åsa 🙂 Öst");
    }

    #[test]
    fn urls_and_emails() {
        assert!(web_url("u", "https://nacka.se/jobb?id=1").is_ok());
        for bad in ["javascript:alert(1)", "nacka.se", "ftp://x.se", "https://", "https://u:p@x.se", "data:text/html,x"]
        {
            assert_eq!(web_url("u", bad).unwrap_err().code, "invalid_url", "{bad}");
        }
        assert!(email("e", "rekrytering@nacka.se").is_ok());
        for bad in [
            "nope",
            "a@b",
            "<script>@x.se",
            "",
            "\u{0} <a@nacka.se>",
            "Anna <anna@nacka.se>",
            "a b@x.se",
            "a@[127.0.0.1]",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Inköpschef till Nacka kommun", "annons"), "inkopschef-till-nacka-kommun");
        assert_eq!(slugify("!!!", "annons"), "annons");
        assert_eq!(slugify("42", "annons"), "annons-42");
        assert_eq!(slugify("Search", "annons"), "annons-search");
        assert!(slug("s", "nacka-kommun").is_ok());
        for bad in ["12345", "Nacka", "a", "-abc", "abc-", "a--b", "åäö-x", "search", "suggest"] {
            assert!(slug("s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn swedish_days() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        // Summer time: 23:59:59 CEST is 21:59:59 UTC.
        assert_eq!(end_of_swedish_day(d).to_rfc3339(), "2026-07-01T21:59:59+00:00");
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(end_of_swedish_day(d).to_rfc3339(), "2026-12-01T22:59:59+00:00");
        let late_utc = Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap();
        assert_eq!(today_in_sweden(late_utc), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
    }
}
