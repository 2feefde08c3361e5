//! A JSON response written straight from the value with serde.
//!
//! poem-openapi's [`Json`](poem_openapi::payload::Json) first turns the value
//! into a `serde_json::Value` tree (a map and a copied string per field) and
//! then writes the tree: for an ad's page, read thousands of times a second,
//! that tree is a measurable share of the request. [`FastJson`] documents the
//! same schema in the spec and writes the same JSON, without the tree. The
//! types it carries derive `Serialize` beside `Object`; the tests below hold
//! the two writings to the same JSON for every shape of an ad.

use chrono::{DateTime, Utc};
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};

/// A JSON payload written with serde (see the module's documentation).
#[derive(Debug, Clone)]
pub struct FastJson<T>(pub T);

impl<T: Type> Payload for FastJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        <poem_openapi::payload::Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: serde::Serialize + Send> IntoResponse for FastJson<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

impl<T: ToJSON + serde::Serialize + Send> ApiResponse for FastJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: Self::CONTENT_TYPE, schema: Self::schema_ref() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A time as poem-openapi writes it (`to_rfc3339`: `+00:00`, not `Z`).
pub fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.to_rfc3339())
}

/// An optional time as poem-openapi writes it (`null` when absent).
pub fn rfc3339_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::salary::{MarketSalaryView, OfferedView};
    use crate::api::wire::{JobList, JobView};
    use platsen_jobs::model::{self, JobAd};

    fn ad(full: bool) -> JobAd {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:15:30.123456Z").unwrap().to_utc();
        let mut ad = JobAd {
            id: 7,
            slug: "upphandlare-till-nacka-kommun".into(),
            employer_id: 3,
            employer_slug: "nacka-kommun".into(),
            employer_name: "Nacka kommun".into(),
            employer_sector: Some(platsen_taxonomy::survey::Sector::Kommun),
            employer_requires_review: false,
            status: model::JobStatus::Published,
            title: "Upphandlare till \"Nacka\" kommun".into(),
            description: "<p>Vi söker en upphandlare.</p>\n<ul><li>LOU</li></ul>".into(),
            stored_source: None,
            description_format: platsen_jobs::sanitize::DescriptionFormat::Markdown,
            role: platsen_taxonomy::Role::Upphandlare,
            municipality: platsen_taxonomy::municipality("0182").expect("Nacka"),
            more_places: vec![],
            remote: model::RemoteMode::Hybrid,
            employment_type: model::EmploymentType::Tillsvidare,
            extent_percent: 100,
            salary: None,
            vacancies: 2,
            application_deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            start_text: Some("Enligt överenskommelse".into()),
            apply_url: Some("https://nacka.se/jobb?id=1&x=ä".into()),
            apply_email: Some("jobb@nacka.se".into()),
            contacts: vec![],
            featured: true,
            published_at: None,
            expires_at: now + chrono::Duration::days(30),
            paid_until: None,
            closed_at: None,
            rejection_reason: None,
            is_demo: false,
            version: 4,
            created_at: now - chrono::Duration::days(2),
            updated_at: now,
            publish_at: None,
        };
        if full {
            ad.salary = Some(model::Salary { min: Some(42_000), max: None, period: model::SalaryPeriod::Month });
            ad.more_places = vec![platsen_taxonomy::municipality("0120").expect("Värmdö")];
            ad.published_at = Some(now);
            ad.closed_at = Some(now + chrono::Duration::days(3));
            ad.rejection_reason = Some("Ange lön \"per månad\" <b>tack</b>".into());
            ad.contacts = vec![model::Contact {
                name: "Åsa Öberg".into(),
                title: Some("Upphandlingschef".into()),
                email: None,
                phone: Some("08-123 45 67".into()),
            }];
        } else {
            ad.salary = None;
            ad.published_at = None;
            ad.closed_at = None;
            ad.contacts = vec![];
            ad.apply_url = None;
            ad.apply_email = None;
            ad.start_text = None;
        }
        ad
    }

    fn market() -> MarketSalaryView {
        MarketSalaryView {
            role: "upphandlare".into(),
            county_code: Some("01".into()),
            sector: None,
            label: "Upphandlare i Stockholms län".into(),
            year: 2025,
            p10: Some(38_100),
            p25: None,
            median: Some(45_000),
            p75: Some(51_200),
            p90: None,
            offered: Some(OfferedView { min_percentile: Some(40), max_percentile: None, text: "Mellan".into() }),
            source: "Källa: Platsen lönestatistik 2025".into(),
        }
    }

    fn same<T: ToJSON + serde::Serialize>(v: &T) {
        let tree = v.to_json().expect("a value");
        let direct: serde_json::Value = serde_json::from_slice(&serde_json::to_vec(v).unwrap()).unwrap();
        assert_eq!(direct, tree, "serde and poem-openapi write different JSON");
    }

    #[test]
    fn an_ad_is_written_as_poem_openapi_writes_it() {
        for full in [false, true] {
            same(&JobView::public(ad(full)));
            same(&JobView::owner(ad(full)));
            let mut v = JobView::public(ad(full));
            v.market_salary = Some(market());
            same(&v);
            if let Some(m) = v.market_salary.as_mut() {
                m.offered = None;
            }
            same(&v);
        }
        let list = JobList {
            items: vec![JobView::public(ad(true)), JobView::public(ad(false))],
            total: 2,
            page: 1,
            per_page: 20,
            total_pages: 1,
        };
        same(&list);
    }

    #[tokio::test]
    async fn the_response_has_json_s_content_type_and_body() {
        let v = JobView::public(ad(true));
        let resp = FastJson(v.clone()).into_response();
        assert_eq!(resp.headers()["content-type"], "application/json; charset=utf-8");
        let body: serde_json::Value = serde_json::from_slice(&resp.into_body().into_bytes().await.unwrap()).unwrap();
        assert_eq!(body["published_at"], "2026-11-28T09:15:30.123456+00:00");
        assert_eq!(body, v.to_json().unwrap());
    }
}
