//! Who is calling: an employer's API key or the operator's token, as a
//! bearer token; and the responses every resource shares.

use platsen_jobs::keys;
use platsen_jobs::model::Actor;
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, SecurityScheme};

use crate::AppState;
use crate::http::problem::ApiError;

/// Who is calling, from the bearer token.
#[derive(Debug, Clone, Copy)]
pub enum Principal {
    Admin,
    Employer { employer_id: i64, key_id: i64 },
}

impl Principal {
    pub(crate) fn actor(self) -> Actor {
        match self {
            Principal::Admin => Actor::Admin,
            Principal::Employer { employer_id, key_id } => Actor::Employer { employer_id, key_id },
        }
    }

    pub(crate) fn require_admin(self) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Employer { .. } => Err(ApiError::forbidden("Det här kräver administratörsbehörighet.")),
        }
    }
}

/// An employer API key (`plk_…`) or the operator's admin token.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct Auth(pub(crate) Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<AppState>().expect("AppState is attached to every request");
    let token = bearer.token.trim();
    if let Some(admin) = &state.admin_token
        && keys::secrets_equal(token, admin)
    {
        return Ok(Principal::Admin);
    }
    match state.app.store.authenticate(token, state.app.clock.now()).await {
        Ok(Some((employer_id, key_id))) => Ok(Principal::Employer { employer_id, key_id }),
        Ok(None) => Err(poem_openapi::error::AuthorizationError.into()),
        Err(e) => Err(poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(e)))),
    }
}

/// A created resource and where it lives.
#[derive(ApiResponse)]
pub enum Created<T: ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>, #[oai(header = "Location")] String),
}

/// Done; nothing to return.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}
