//! A JSON request body that fails like a person expects: every missing
//! required field at once, a wrong type or an unknown field with its path,
//! a too-large body as 413, all as problem+json.
//!
//! poem-openapi's own `Json<T>` reports parse failures without the field, so
//! request types derive `Object` (for the spec) *and* `Deserialize` (for
//! parsing with `serde_path_to_error`), and handlers take `JsonBody<T>`.

use poem::http::StatusCode;
use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;
use tokio::io::AsyncReadExt;

use crate::http::problem::{ApiError, Problem};

/// The largest JSON body accepted: ample for a 50 000-character description.
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// How much of an oversized body is read and dropped before answering 413.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// A parsed JSON request body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application" && m.subtype() == "json")
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let too_large = |field: Option<String>| {
            let detail = format!("Innehållet får vara högst {} kB.", MAX_JSON_BODY / 1024);
            let mut p =
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "För stor begäran", detail.clone());
            p = p.with_field(field.as_deref().unwrap_or("body"), "too_large", detail);
            poem::Error::from_response(p.into_poem_response())
        };
        // Read at most the limit, and one byte more to tell that it was exceeded;
        // a declared Content-Length is not trusted either way.
        let mut bytes = Vec::with_capacity(
            request.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0).min(MAX_JSON_BODY + 1),
        );
        let mut reader = body.take()?.into_async_read();
        (&mut reader)
            .take(MAX_JSON_BODY as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| poem::Error::from_string(e.to_string(), StatusCode::BAD_REQUEST))?;
        if bytes.len() > MAX_JSON_BODY {
            let field = open_field(&bytes);
            // Read (and drop) what the client is still sending, up to a cap,
            // so that it gets to read the answer instead of a reset.
            let _ = tokio::io::copy(&mut reader.take(DRAIN_LIMIT), &mut tokio::io::sink()).await;
            return Err(too_large(field));
        }
        parse::<T>(&bytes).map(JsonBody).map_err(|e| poem::Error::from_response(e.into_response()))
    }
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned);

/// An image file as a request body, at most
/// [`platsen_app::logos::MAX_UPLOAD_BYTES`]; larger is a 413 naming `logo`.
/// The spec says `application/octet-stream` (what generated clients send
/// bytes as); `image/…` is taken too. The bytes tell the format, not the
/// declared type.
#[derive(Debug)]
pub struct ImageBody(pub Vec<u8>);

impl Payload for ImageBody {
    const CONTENT_TYPE: &'static str = "application/octet-stream";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(),
            Ok(m) if m.type_() == "image" || (m.type_() == "application" && m.subtype() == "octet-stream"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
    }

    fn register(_registry: &mut Registry) {}
}

impl ParsePayload for ImageBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let max = platsen_app::logos::MAX_UPLOAD_BYTES;
        match read_capped(body.take()?.into_async_read(), max).await {
            Ok(Capped::Fits(bytes)) => Ok(ImageBody(bytes)),
            Ok(Capped::TooLarge) => {
                let detail = platsen_app::logos::too_large_message();
                let p =
                    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "För stor fil", detail.clone())
                        .with_field("logo", "too_large", detail);
                Err(poem::Error::from_response(p.into_poem_response()))
            }
            Err(e) => Err(poem::Error::from_string(e.to_string(), StatusCode::BAD_REQUEST)),
        }
    }
}

poem_openapi::impl_apirequest_for_payload!(ImageBody,);

/// A body read up to a limit.
pub enum Capped {
    Fits(Vec<u8>),
    /// Over the limit: the rest was read and dropped (up to
    /// [`UPLOAD_DRAIN_LIMIT`]) so that the client reads the answer.
    TooLarge,
}

/// How much of an oversized upload is read and dropped before answering:
/// a browser that is cut off while still sending shows a reset connection
/// instead of the page that says what was wrong.
pub const UPLOAD_DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads at most `max` bytes of `reader`.
pub async fn read_capped(reader: impl tokio::io::AsyncRead + Unpin, max: usize) -> std::io::Result<Capped> {
    let mut reader = reader;
    let mut bytes = Vec::new();
    (&mut reader).take(max as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > max {
        let _ = tokio::io::copy(&mut reader.take(UPLOAD_DRAIN_LIMIT), &mut tokio::io::sink()).await;
        return Ok(Capped::TooLarge);
    }
    Ok(Capped::Fits(bytes))
}

/// The top-level field whose value was still being read when a body hit the
/// limit (`{"title": "xxxx…` → `title`), so a 413 can name the culprit.
fn open_field(prefix: &[u8]) -> Option<String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut start, mut last_string, mut key) = (0usize, None::<(usize, usize)>, None::<(usize, usize)>);
    for (i, &b) in prefix.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = false;
                    last_string = Some((start, i));
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                start = i + 1;
            }
            b':' if depth == 1 => key = last_string,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let (a, b) = key?;
    String::from_utf8(prefix[a..b].to_vec()).ok().filter(|k| k.len() <= 64)
}

/// Properties a body (named by its schema) needs one of, which the spec
/// therefore cannot mark required: the first is reported missing when
/// neither is given (a new ad's one place, or its several).
const ONE_OF: &[(&str, &str, &str)] = &[("CreateJob", "municipality_code", "municipality_codes")];

/// The required properties of `T`'s schema, read from what poem-openapi
/// documents, so the spec and the check cannot disagree; and `T`'s pairs
/// in [`ONE_OF`].
fn required_fields<T: Type>() -> (Vec<&'static str>, Vec<(&'static str, &'static str)>) {
    let mut registry = Registry::new();
    T::register(&mut registry);
    let schema = match T::schema_ref() {
        MetaSchemaRef::Reference(name) => registry.schemas.get(&name).cloned(),
        MetaSchemaRef::Inline(schema) => Some(*schema),
    };
    let Some(schema) = schema else { return (Vec::new(), Vec::new()) };
    let name = T::name();
    let pairs = ONE_OF.iter().filter(|(body, _, _)| *body == name).map(|(_, a, b)| (*a, *b)).collect();
    (schema.required.clone(), pairs)
}

fn bad(field: &str, code: &str, message: String) -> ApiError {
    ApiError::bad_request(field, code, message)
}

/// Parses `bytes` as `T`, naming the field of the first problem (or every
/// missing required field).
pub fn parse<T: Type + DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("body", "empty_body", "Begäran saknar innehåll; skicka ett JSON-objekt.".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        bad("body", "invalid_json", format!("Ogiltig JSON på rad {}, kolumn {}: {e}", e.line(), e.column()))
    })?;
    let Some(object) = value.as_object() else {
        return Err(bad("body", "invalid_type", "Begäran ska vara ett JSON-objekt.".into()));
    };
    let absent = |f: &str| object.get(f).is_none_or(serde_json::Value::is_null);
    let (required, one_of) = required_fields::<T>();
    let mut missing: Vec<&str> = required.into_iter().filter(|f| absent(f)).collect();
    missing.extend(one_of.into_iter().filter(|(a, b)| absent(a) && absent(b)).map(|(a, _)| a));
    if !missing.is_empty() {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Ogiltiga uppgifter",
            format!("Obligatoriska fält saknas: {}.", missing.join(", ")),
        );
        for f in missing {
            p = p.with_field(f, "required", "Fältet är obligatoriskt.");
        }
        return Err(ApiError::Unprocessable(poem_openapi::payload::Json(p)));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, code, message) = if let Some(rest) = inner.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            // The path already ends at the unknown field in serde_path_to_error.
            let field = if path == "." || path.is_empty() {
                name.to_owned()
            } else if path == name || path.ends_with(&format!(".{name}")) {
                path.clone()
            } else {
                format!("{path}.{name}")
            };
            (field, "unknown_field", "Okänt fält; kontrollera stavningen mot API-dokumentationen.".to_owned())
        } else if inner.starts_with("unknown variant") {
            (path, "invalid_value", format!("Ogiltigt värde ({inner})."))
        } else {
            (path, "invalid_type", format!("Fel typ eller format ({inner})."))
        };
        bad(&field, code, message)
    })
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Object, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        title: String,
        count: i64,
        note: Option<String>,
    }

    fn field_of(r: Result<Probe, ApiError>) -> (u16, Vec<String>) {
        let err = r.unwrap_err();
        let p = err.problem();
        (p.status, p.errors.iter().map(|e| format!("{}:{}", e.field, e.code)).collect())
    }

    #[test]
    fn finds_the_field_that_overflowed() {
        let mut body = br#"{"count": 1, "nested": {"a": "b"}, "title": "xxxxxxxx"#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 1000));
        assert_eq!(open_field(&body).as_deref(), Some("title"));
        assert_eq!(open_field(b"[1,2,3").as_deref(), None);
    }

    #[test]
    fn parses_good_json() {
        let p: Probe = parse(br#"{"title":"x","count":2}"#).unwrap();
        assert_eq!((p.title.as_str(), p.count, p.note), ("x", 2, None));
    }

    #[test]
    fn names_the_field() {
        assert_eq!(field_of(parse(br#"{"title":"x","count":"two"}"#)), (400, vec!["count:invalid_type".into()]));
        assert_eq!(field_of(parse(br#"{"title":"x","count":1,"cnt":1}"#)), (400, vec!["cnt:unknown_field".into()]));
        assert_eq!(field_of(parse(br#"{"note":"x"}"#)), (422, vec!["title:required".into(), "count:required".into()]));
        assert_eq!(field_of(parse(br#"{"title":"x","#)), (400, vec!["body:invalid_json".into()]));
        assert_eq!(field_of(parse(b"[1,2]")), (400, vec!["body:invalid_type".into()]));
        assert_eq!(field_of(parse(b"  ")), (400, vec!["body:empty_body".into()]));
    }
}
