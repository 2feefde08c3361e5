//! Errors as RFC 9457 `application/problem+json`, in one place.
//!
//! Handlers return [`ApiError`]; the domain's errors convert into it with `?`.
//! Errors raised by poem and poem-openapi before a handler runs (a bad query
//! parameter, a wrong content type, a missing key, an unknown route) are turned
//! into the same shape by [`problem_from_poem_error`]. A 5xx never carries
//! internal details; they are logged instead.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field.
#[derive(Debug, Clone, Object, Serialize)]
pub struct FieldProblem {
    /// The field, as a JSON path (`title`, `contacts[0].email`) or a parameter name.
    pub field: String,
    /// A stable machine-readable reason, e.g. `required`, `too_long`, `invalid_checksum`.
    pub code: String,
    /// A human explanation in Swedish, fit to show next to the field.
    pub message: String,
    /// For an uploaded file: the line (1 is the header).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// A problem detail (RFC 9457).
#[derive(Debug, Clone, Object, Serialize)]
pub struct Problem {
    /// A stable URI naming the kind of problem, e.g. `urn:platsen:problem:validation`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in Swedish.
    pub detail: String,
    /// Every invalid field (empty unless the problem is about input).
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:platsen:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_field(mut self, field: &str, code: &str, message: impl Into<String>) -> Self {
        self.errors.push(FieldProblem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
            line: None,
        });
        self
    }

    pub fn into_poem_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("a problem serializes");
        Response::builder().status(status).content_type(PROBLEM_JSON).body(body)
    }
}

/// Every error an operation can answer with; each status is documented in
/// the OpenAPI spec with a problem+json body.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed: invalid JSON, a value of the wrong type, an
    /// unknown field, or a bad query parameter. `errors[]` names the field.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// No valid API key or admin token was presented.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>, #[oai(header = "WWW-Authenticate")] String),
    /// Publishing needs an ad credit and the employer has none left; order
    /// more at `/platsannonsera` (the problem's `type` ends in `no-credit`).
    #[oai(status = 402, content_type = "application/problem+json")]
    PaymentRequired(Json<Problem>),
    /// The caller is known but may not do this (for example, another employer's published ad).
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// No such resource, or one the caller may not know exists.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The change conflicts with the current state: a unique value is taken,
    /// the lifecycle step is not allowed from the current status, or someone
    /// else changed the resource at the same time.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// `If-Match` named a version that is no longer current.
    #[oai(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Json<Problem>),
    /// The body is larger than the limit.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The body is not `application/json`.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The input is well-formed but breaks a rule; `errors[]` lists every
    /// broken rule with the field, a code and a message. Nothing was stored.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many requests from this address; retry after the given seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] String),
    /// Something failed on our side. Details are logged, never sent.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// The database is not reachable, or (for a write) its disk is full;
    /// nothing was stored. Retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

impl ApiError {
    /// A parameter that is wrong, as 400 naming it.
    pub fn bad_field(e: platsen_jobs::FieldError) -> Self {
        ApiError::bad_request(&e.field, e.code, e.message)
    }

    pub fn bad_request(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest(Json(
            Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Felaktig begäran", format!("{field}: {message}"))
                .with_field(field, code, message),
        ))
    }

    pub fn unauthorized() -> Self {
        ApiError::Unauthorized(
            Json(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Inloggning krävs",
                "Ange en giltig nyckel i huvudet Authorization: Bearer <nyckel>.",
            )),
            "Bearer realm=\"platsen\"".into(),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::Forbidden(Json(Problem::new(StatusCode::FORBIDDEN, "forbidden", "Åtkomst nekad", detail)))
    }

    pub fn not_found() -> Self {
        ApiError::NotFound(Json(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Hittades inte",
            "Det finns ingen sådan resurs, eller så har du inte tillgång till den.",
        )))
    }

    /// Too many requests of this kind from the client just now.
    pub fn too_many_requests() -> Self {
        ApiError::TooManyRequests(
            Json(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "För många förfrågningar",
                "För många förfrågningar av det här slaget just nu; vänta en stund och försök igen.",
            )),
            "600".into(),
        )
    }

    pub fn internal() -> Self {
        ApiError::Internal(Json(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internt fel",
            "Något gick fel hos oss. Försök igen om en stund.",
        )))
    }

    pub fn problem(&self) -> &Problem {
        match self {
            ApiError::BadRequest(p)
            | ApiError::Unauthorized(p, _)
            | ApiError::PaymentRequired(p)
            | ApiError::Forbidden(p)
            | ApiError::NotFound(p)
            | ApiError::Conflict(p)
            | ApiError::PreconditionFailed(p)
            | ApiError::PayloadTooLarge(p)
            | ApiError::UnsupportedMediaType(p)
            | ApiError::Unprocessable(p)
            | ApiError::TooManyRequests(p, _)
            | ApiError::Internal(p)
            | ApiError::Unavailable(p) => &p.0,
        }
    }
}

impl From<platsen_jobs::Error> for ApiError {
    fn from(err: platsen_jobs::Error) -> Self {
        use platsen_jobs::Error as E;
        match err {
            E::Invalid(fields) => {
                let detail = match fields.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fält är ogiltiga.", many.len()),
                };
                let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Ogiltiga uppgifter", detail);
                for f in fields {
                    p = p.with_field(&f.field, f.code, f.message);
                }
                ApiError::Unprocessable(Json(p))
            }
            E::NotFound => ApiError::not_found(),
            E::NoCredit(message) => ApiError::PaymentRequired(Json(Problem::new(
                StatusCode::PAYMENT_REQUIRED,
                "no-credit",
                "Inga annonser kvar",
                message,
            ))),
            E::Forbidden(why) => {
                tracing::info!(reason = why, "forbidden");
                ApiError::forbidden("Du har inte behörighet att göra detta med den här resursen.")
            }
            E::Conflict { code: "version_mismatch", message, .. } => ApiError::PreconditionFailed(Json(Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "Resursen har ändrats",
                message,
            ))),
            E::Conflict { code, field, message } => {
                let mut p = Problem::new(StatusCode::CONFLICT, &code.replace('_', "-"), "Konflikt", message.clone());
                if let Some(field) = field {
                    p = p.with_field(field, code, message);
                }
                ApiError::Conflict(Json(p))
            }
            e @ E::Database(_) => {
                tracing::error!(error = %e, "database error");
                if e.is_storage_full() {
                    ApiError::Unavailable(Json(Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "storage-full",
                        "Lagringsutrymmet är fullt",
                        "Ändringar kan inte sparas just nu; inget av detta anrop sparades. Läsning fungerar. Försök igen senare.",
                    )))
                } else if e.is_unavailable() {
                    ApiError::Unavailable(Json(Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "Tillfälligt otillgänglig",
                        "Databasen svarar inte just nu. Försök igen om en stund.",
                    )))
                } else {
                    ApiError::internal()
                }
            }
            E::Migrate(e) => {
                tracing::error!(error = %e, "migration error");
                ApiError::internal()
            }
        }
    }
}

/// Turns any error poem or poem-openapi raised into problem+json.
pub fn problem_from_poem_error(err: poem::Error) -> Response {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };

    // Our own errors (ApiError, and the body extractor's) already carry their response.
    if err.is_from_response() {
        return err.into_response();
    }

    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return ApiError::bad_request(e.name, "invalid_parameter", format!("Ogiltigt värde: {}", e.reason))
            .into_response();
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        // poem-openapi names path parameters by position (`param0`); every
        // path parameter that can fail to parse is an integer called `id`.
        // The chart's file is the one that is not; its type says so.
        let name = match e.name {
            _ if e.reason.contains("ChartFile") => "file",
            n if n.starts_with("param") => "id",
            n => n,
        };
        return ApiError::bad_request(name, "invalid_parameter", format!("Ogiltigt värde: {}", e.reason))
            .into_response();
    }
    if err.is::<AuthorizationError>() {
        return ApiError::unauthorized().into_response();
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Fel innehållstyp",
            format!("Innehållstypen tas inte emot här; se API-dokumentationen för vilken adressen tar ({e})."),
        )
        .into_poem_response();
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Felaktig begäran", e.reason.clone())
            .into_poem_response();
    }
    if let Some(e) = err.downcast_ref::<crate::http::allow::MethodNotAllowed>() {
        let mut resp = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Metoden stöds inte",
            format!("Adressen tar emot {}.", e.allow),
        )
        .into_poem_response();
        if let Ok(v) = poem::http::HeaderValue::from_str(&e.allow) {
            resp.headers_mut().insert(poem::http::header::ALLOW, v);
        }
        return resp;
    }
    let status = err.status();
    let (kind, title, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Hittades inte", "Den adressen finns inte."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method-not-allowed", "Metoden stöds inte", "Adressen finns men tar inte emot den metoden.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload-too-large", "För stor begäran", "Begärans innehåll är större än tillåtet.")
        }
        StatusCode::LENGTH_REQUIRED => ("length-required", "Längd saknas", "Ange Content-Length."),
        s if s.is_client_error() => ("bad-request", "Felaktig begäran", "Begäran kunde inte tolkas."),
        _ => {
            tracing::error!(error = %err, status = status.as_u16(), "unhandled error");
            ("internal", "Internt fel", "Något gick fel hos oss. Försök igen om en stund.")
        }
    };
    let status =
        if status.is_client_error() || status.is_server_error() { status } else { StatusCode::INTERNAL_SERVER_ERROR };
    Problem::new(status, kind, title, detail).into_poem_response()
}
