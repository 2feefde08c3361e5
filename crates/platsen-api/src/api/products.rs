//! Products: the offer on `/platsannonsera`, read by anyone, defined by the
//! operator.

use chrono::{DateTime, Utc};
use platsen_jobs::input::ProductInput;
use platsen_jobs::store::products::Product;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::Tag;
use crate::AppState;
use crate::http::auth::{Auth, Created};
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;

/// A product in the offer.
#[derive(Debug, Clone, Object)]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The price of one unit excluding VAT, in öre.
    pub price_ore: i64,
    /// 25, 12 or 6.
    pub vat_percent: i64,
    /// The VAT on one unit, in öre.
    pub vat_ore: i64,
    /// Ad credits one unit gives.
    pub ad_credits: i64,
    /// How long each ad may run, in days.
    pub ad_days: i64,
    /// Whether the ads are featured ("Utvalda jobb", first in search).
    pub featured: bool,
    /// How long unused credits stay valid after the order is approved, in days.
    pub credit_valid_days: i64,
    /// Set when the product is no longer offered (the operator's list only).
    #[oai(nullable)]
    pub retired_at: Option<DateTime<Utc>>,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        ProductView {
            id: p.id,
            vat_ore: p.vat_ore(),
            name: p.name,
            description: p.description,
            price_ore: p.price_ore,
            vat_percent: p.vat_percent,
            ad_credits: p.ad_credits,
            ad_days: p.ad_days,
            featured: p.featured,
            credit_valid_days: p.credit_valid_days,
            retired_at: p.retired_at,
        }
    }
}

/// A new product.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// 2–80 characters.
    #[oai(validator(min_length = 2, max_length = 80))]
    pub name: String,
    /// Plain text, at most 1 000 characters.
    #[oai(nullable, validator(max_length = 1000))]
    pub description: Option<String>,
    /// The price of one unit excluding VAT, in öre (0 to 100 000 000).
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    pub price_ore: i64,
    /// 25 (default), 12 or 6.
    #[oai(nullable)]
    pub vat_percent: Option<i64>,
    /// Ad credits one unit gives (1–100).
    #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
    pub ad_credits: i64,
    /// How long each ad may run, in days (1–60).
    #[oai(validator(minimum(value = "1"), maximum(value = "60")))]
    pub ad_days: i64,
    /// Default false.
    #[oai(nullable)]
    pub featured: Option<bool>,
    /// How long unused credits stay valid, in days (1–1095).
    #[oai(validator(minimum(value = "1"), maximum(value = "1095")))]
    pub credit_valid_days: i64,
}

/// A change to a product; what is left out stays.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PatchProduct {
    #[oai(nullable, validator(min_length = 2, max_length = 80))]
    pub name: Option<String>,
    #[oai(nullable, validator(max_length = 1000))]
    pub description: Option<String>,
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100000000")))]
    pub price_ore: Option<i64>,
    #[oai(nullable)]
    pub vat_percent: Option<i64>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "100")))]
    pub ad_credits: Option<i64>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "60")))]
    pub ad_days: Option<i64>,
    #[oai(nullable)]
    pub featured: Option<bool>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "1095")))]
    pub credit_valid_days: Option<i64>,
}

impl From<CreateProduct> for ProductInput {
    fn from(b: CreateProduct) -> Self {
        ProductInput {
            name: Some(b.name),
            description: b.description,
            price_ore: Some(b.price_ore),
            vat_percent: b.vat_percent,
            ad_credits: Some(b.ad_credits),
            ad_days: Some(b.ad_days),
            featured: b.featured,
            credit_valid_days: Some(b.credit_valid_days),
        }
    }
}

impl From<PatchProduct> for ProductInput {
    fn from(b: PatchProduct) -> Self {
        ProductInput {
            name: b.name,
            description: b.description,
            price_ore: b.price_ore,
            vat_percent: b.vat_percent,
            ad_credits: b.ad_credits,
            ad_days: b.ad_days,
            featured: b.featured,
            credit_valid_days: b.credit_valid_days,
        }
    }
}

pub struct ProductsApi {
    pub(super) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Products")]
impl ProductsApi {
    /// The offer
    ///
    /// The products an employer can order, cheapest first, with prices
    /// excluding VAT in öre.
    #[oai(path = "/products", method = "get", operation_id = "listProducts")]
    async fn list(&self) -> Result<Json<Vec<ProductView>>, ApiError> {
        let products = self.state.app.store.products(false).await?;
        Ok(Json(products.into_iter().map(Into::into).collect()))
    }

    /// Every product, retired ones too (admin)
    #[oai(path = "/admin/products", method = "get", operation_id = "adminProducts", tag = "Tag::Admin")]
    async fn all(&self, auth: Auth) -> Result<Json<Vec<ProductView>>, ApiError> {
        auth.0.require_admin()?;
        let products = self.state.app.store.products(true).await?;
        Ok(Json(products.into_iter().map(Into::into).collect()))
    }

    /// Add a product (admin)
    #[oai(path = "/products", method = "post", operation_id = "createProduct", tag = "Tag::Admin")]
    async fn create(&self, auth: Auth, body: JsonBody<CreateProduct>) -> Result<Created<ProductView>, ApiError> {
        auth.0.require_admin()?;
        let p = self.state.app.store.create_product(body.0.into(), self.state.app.clock.now()).await?;
        let location = format!("/api/v1/products/{}", p.id);
        Ok(Created::Created(Json(p.into()), location))
    }

    /// Change a product (admin)
    ///
    /// Applies to orders made from now on.
    #[oai(path = "/products/:id", method = "patch", operation_id = "updateProduct", tag = "Tag::Admin")]
    async fn update(
        &self,
        auth: Auth,
        id: Path<i64>,
        body: JsonBody<PatchProduct>,
    ) -> Result<Json<ProductView>, ApiError> {
        auth.0.require_admin()?;
        let p = self.state.app.store.update_product(id.0, body.0.into(), self.state.app.clock.now()).await?;
        Ok(Json(p.into()))
    }

    /// Retire a product (admin)
    ///
    /// It is no longer offered; orders already made keep it.
    #[oai(path = "/products/:id/retire", method = "post", operation_id = "retireProduct", tag = "Tag::Admin")]
    async fn retire(&self, auth: Auth, id: Path<i64>) -> Result<Json<ProductView>, ApiError> {
        auth.0.require_admin()?;
        let p = self.state.app.store.retire_product(id.0, self.state.app.clock.now()).await?;
        Ok(Json(p.into()))
    }
}
