//! Codes from a fixed vocabulary (municipalities, counties, sectors, the
//! survey's bands, chart names…) as the spec states them: a named string
//! schema whose `enum` lists every code, read from the vocabulary itself so
//! the spec and the server cannot disagree.
//!
//! As a parameter, a value outside the vocabulary is a 400 naming the
//! parameter. In a JSON body the string is taken as it is and the domain's
//! own validation answers (422 with the field), so every input keeps one rule.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A fixed list of codes.
pub trait Vocabulary: Send + Sync + 'static {
    /// The schema's name in the spec.
    const NAME: &'static str;
    /// What the codes are, for the spec.
    const DESCRIPTION: &'static str;
    /// Every code.
    fn codes() -> Vec<&'static str>;
}

/// A code from the vocabulary `V`.
pub struct Code<V>(pub String, PhantomData<V>);

impl<V> Code<V> {
    pub fn new(code: impl Into<String>) -> Self {
        Code(code.into(), PhantomData)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<V> Clone for Code<V> {
    fn clone(&self) -> Self {
        Code::new(self.0.clone())
    }
}

impl<V> std::fmt::Debug for Code<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<V> PartialEq for Code<V> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<'de, V> serde::Deserialize<'de> for Code<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Code::new)
    }
}

impl<V: Vocabulary> Type for Code<V> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed(V::NAME)
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(V::NAME.to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(V::NAME.to_owned(), |_| MetaSchema {
            description: Some(V::DESCRIPTION),
            enum_items: V::codes().into_iter().map(Value::from).collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<V: Vocabulary> ParseFromParameter for Code<V> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if V::codes().contains(&value) {
            Ok(Code::new(value))
        } else {
            Err(ParseError::custom(format!("okänd kod; se {} i API-specifikationen", V::NAME)))
        }
    }
}

impl<V: Vocabulary> ParseFromJSON for Code<V> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(Code::new(s)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<V> serde::Serialize for Code<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<V: Vocabulary> ToJSON for Code<V> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $marker:ident, $name:literal, $description:literal, $codes:expr) => {
        $(#[$doc])*
        pub struct $marker;

        impl Vocabulary for $marker {
            const NAME: &'static str = $name;
            const DESCRIPTION: &'static str = $description;
            fn codes() -> Vec<&'static str> {
                $codes
            }
        }
    };
}

vocabulary!(
    /// The 290 municipalities.
    Municipality,
    "MunicipalityCode",
    "A municipality's four-digit SCB code, e.g. `0182` for Nacka.",
    platsen_taxonomy::municipalities().iter().map(|m| m.code).collect()
);

vocabulary!(
    /// The 21 counties.
    County,
    "CountyCode",
    "A county's two-digit SCB code, e.g. `01` for Stockholms län.",
    platsen_taxonomy::counties().iter().map(|c| c.code).collect()
);

vocabulary!(
    /// Employer sectors, as in the salary survey.
    Sector,
    "SectorCode",
    "The employer's sector, as in the salary survey.",
    platsen_taxonomy::survey::Sector::ALL.iter().map(|s| s.code()).collect()
);

vocabulary!(
    /// Gender as answered in the survey.
    Gender,
    "GenderCode",
    "Gender as answered in the salary survey.",
    platsen_taxonomy::survey::Gender::ALL.iter().map(|s| s.code()).collect()
);

vocabulary!(
    /// Years of experience.
    Experience,
    "ExperienceBand",
    "Years of experience in procurement: `0-1`, `1-3`, `3-6`, `6-10`, `10-15`, `15-`.",
    platsen_taxonomy::survey::ExperienceBand::ALL.iter().map(|s| s.code()).collect()
);

vocabulary!(
    /// Age bands.
    Age,
    "AgeBand",
    "Age band: `-29`, `30-39`, `40-49`, `50-59`, `60-`.",
    platsen_taxonomy::survey::AgeBand::ALL.iter().map(|s| s.code()).collect()
);

vocabulary!(
    /// What salary statistics are grouped by.
    Dimension,
    "GroupByDimension",
    "A dimension to group salary statistics by.",
    platsen_salary::Dimension::ALL.iter().map(|d| d.code()).collect()
);

vocabulary!(
    /// How an employer pays.
    BillingMode,
    "BillingModeCode",
    "How an employer pays: `prepaid` (each publication uses a credit bought in advance), \
     `agreement` (invoiced monthly for each ad published) or `free`.",
    platsen_jobs::model::BillingMode::ALL.iter().map(|m| m.code()).collect()
);

vocabulary!(
    /// The salary charts, as files.
    ChartFile,
    "ChartFile",
    "A salary chart and its format.",
    {
        static FILES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
            platsen_salary::charts::Chart::ALL
                .iter()
                .flat_map(|c| ["svg", "png"].map(|ext| &*format!("{}.{ext}", c.name()).leak()))
                .collect()
        });
        FILES.clone()
    }
);

/// `group_by` of the salary statistics: one to three different dimensions,
/// comma-separated (`group_by=role,sector`); none when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupBy(pub Vec<platsen_salary::Dimension>);

impl Type for GroupBy {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("GroupBy")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            items: Some(Box::new(Code::<Dimension>::schema_ref())),
            min_items: Some(1),
            max_items: Some(3),
            unique_items: Some(true),
            ..MetaSchema::new("array")
        }))
    }

    fn register(registry: &mut Registry) {
        Code::<Dimension>::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for GroupBy {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse_from_parameters(value.split(','))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(iter: I) -> ParseResult<Self> {
        let mut dims = Vec::new();
        for part in iter {
            let part = part.as_ref().trim();
            let d = platsen_salary::Dimension::from_code(part).ok_or_else(|| {
                ParseError::custom("gruppera efter role, sector, county, gender, experience, age eller year")
            })?;
            if dims.contains(&d) {
                return Err(ParseError::custom(format!("{part} anges två gånger")));
            }
            dims.push(d);
        }
        if dims.len() > 3 {
            return Err(ParseError::custom("gruppera efter högst tre dimensioner"));
        }
        Ok(GroupBy(dims))
    }
}

impl ToJSON for GroupBy {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Array(self.0.iter().map(|d| Value::from(d.code())).collect()))
    }
}

/// A day (`YYYY-MM-DD`, from the start of that day in Swedish time) or an
/// RFC 3339 instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayOrInstant(pub chrono::DateTime<chrono::Utc>);

impl DayOrInstant {
    fn parse(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
            return Some(t.with_timezone(&chrono::Utc));
        }
        let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
        let day_before = date.pred_opt()?;
        Some(platsen_jobs::validate::end_of_swedish_day(day_before) + chrono::Duration::seconds(1))
    }
}

impl Type for DayOrInstant {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DayOrInstant")
    }

    fn schema_ref() -> MetaSchemaRef {
        let format = |f: &'static str| MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", f)));
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            any_of: vec![format("date"), format("date-time")],
            ..MetaSchema::ANY
        }))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for DayOrInstant {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value.trim())
            .map(DayOrInstant)
            .ok_or_else(|| ParseError::custom("ange ett datum (ÅÅÅÅ-MM-DD) eller en tidpunkt (RFC 3339)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_or_slug_parameter_takes_what_its_pattern_says() {
        let long = "a".repeat(101);
        for ok in ["nacka-1", "42", "-", "a", &long[..100]] {
            assert!(IdOrSlugParam::parse_from_parameter(ok).is_ok(), "{ok:?}");
        }
        for bad in ["Nacka", "å", "a b", "", "a/b", "a%20", &long, "a\0", "a_b", "1.5"] {
            assert!(IdOrSlugParam::parse_from_parameter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_parameter_outside_the_vocabulary_is_refused() {
        assert!(Code::<County>::parse_from_parameter("01").is_ok());
        assert!(Code::<County>::parse_from_parameter("").is_err());
        assert!(Code::<County>::parse_from_parameter("99").is_err());
        assert!(Code::<Municipality>::parse_from_parameter("0182").is_ok());
        assert!(Code::<Municipality>::parse_from_parameter("0182 ").is_err());
        assert_eq!(Municipality::codes().len(), 290);
        assert_eq!(County::codes().len(), 21);
        assert!(ChartFile::codes().contains(&"median-trend.png"));
    }
}

/// An id or a slug as a parameter (`^[a-z0-9-]{1,100}$`, stated in the spec
/// as a pattern). Checked by hand: poem-openapi's `pattern` validator
/// compiles its regex on every check, which cost about 5 % of the CPU of
/// reading ads one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdOrSlugParam(pub String);

impl IdOrSlugParam {
    pub const PATTERN: &'static str = r"^[a-z0-9-]{1,100}$";

    fn valid(s: &str) -> bool {
        (1..=100).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl std::ops::Deref for IdOrSlugParam {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Type for IdOrSlugParam {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("string")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(Self::PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromParameter for IdOrSlugParam {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if Self::valid(value) {
            Ok(IdOrSlugParam(value.to_owned()))
        } else {
            Err(ParseError::custom(format!(
                "ett id eller en slug: 1–100 tecken a–z, 0–9 och bindestreck ({})",
                Self::PATTERN
            )))
        }
    }
}
