//! Products: what an employer can order on `/platsannonsera`. The
//! operator defines them; one unit gives a number of ad credits, each for an
//! ad that runs at most a number of days (featured or not), valid for a
//! while after the order is approved. A retired product is no longer
//! offered, and nothing that refers to it changes.

use chrono::{DateTime, Utc};

use super::{Db, Store, ts};
use crate::error::{Error, Result};
use crate::input::{ProductInput, ValidProduct};

/// A product in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub name: String,
    /// Plain text.
    pub description: String,
    /// The price of one unit excluding VAT, in öre.
    pub price_ore: i64,
    /// 25, 12 or 6.
    pub vat_percent: i64,
    /// Ad credits one unit gives.
    pub ad_credits: i64,
    /// How long each ad may run, in days.
    pub ad_days: i64,
    /// Whether the ads are featured.
    pub featured: bool,
    /// How long unused credits stay valid after approval, in days.
    pub credit_valid_days: i64,
    /// Set once the product is no longer offered.
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The VAT on one unit, in öre, rounded half away from zero.
    pub fn vat_ore(&self) -> i64 {
        (self.price_ore * self.vat_percent + 50) / 100
    }
}

type ProductRow =
    (i64, String, String, i64, i64, i64, i64, bool, i64, Option<DateTime<Utc>>, DateTime<Utc>, DateTime<Utc>);

fn product(r: ProductRow) -> Product {
    let (
        id,
        name,
        description,
        price_ore,
        vat_percent,
        ad_credits,
        ad_days,
        featured,
        credit_valid_days,
        retired_at,
        created_at,
        updated_at,
    ) = r;
    Product {
        id,
        name,
        description,
        price_ore,
        vat_percent,
        ad_credits,
        ad_days,
        featured,
        credit_valid_days,
        retired_at,
        created_at,
        updated_at,
    }
}

const PRODUCT_COLUMNS: &str = "select id, name, description, price_ore, vat_percent, ad_credits, ad_days, featured, \
     credit_valid_days, retired_at, created_at, updated_at from products ";

impl Store {
    /// Adds a product to the catalogue.
    pub async fn create_product(&self, input: ProductInput, now: DateTime<Utc>) -> Result<Product> {
        let p = input.validate()?;
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            sqlx::query_scalar(
                "insert into products (name, description, price_ore, vat_percent, ad_credits, ad_days, featured,
                                       credit_valid_days, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning id",
            )
            .bind(p.name.as_str())
            .bind(p.description.as_str())
            .bind(p.price_ore)
            .bind(p.vat_percent)
            .bind(p.ad_credits)
            .bind(p.ad_days)
            .bind(p.featured)
            .bind(p.credit_valid_days)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
        });
        tracing::info!(product_id = id, name = %p.name, "product created");
        self.product(id).await
    }

    /// Changes a product. Its orders keep what they were made with (they
    /// copy the price and terms), so a change applies to new orders only.
    /// What `change` leaves out stays as it is.
    pub async fn update_product(&self, id: i64, change: ProductInput, now: DateTime<Utc>) -> Result<Product> {
        let current = self.product(id).await?;
        let p: ValidProduct = change.over(&current).validate()?;
        let now = ts(now);
        let n = write_tx!(self, |tx| {
            sqlx::query(
                "update products set name = $2, description = $3, price_ore = $4, vat_percent = $5, ad_credits = $6,
                        ad_days = $7, featured = $8, credit_valid_days = $9, updated_at = $10
                  where id = $1",
            )
            .bind(id)
            .bind(p.name.as_str())
            .bind(p.description.as_str())
            .bind(p.price_ore)
            .bind(p.vat_percent)
            .bind(p.ad_credits)
            .bind(p.ad_days)
            .bind(p.featured)
            .bind(p.credit_valid_days)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound);
        }
        tracing::info!(product_id = id, "product updated");
        self.product(id).await
    }

    /// Takes a product out of the offer; a second time changes nothing.
    pub async fn retire_product(&self, id: i64, now: DateTime<Utc>) -> Result<Product> {
        let now = ts(now);
        let n = write_tx!(self, |tx| {
            sqlx::query("update products set retired_at = coalesce(retired_at, $2), updated_at = $2 where id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound);
        }
        tracing::info!(product_id = id, "product retired");
        self.product(id).await
    }

    /// One product, retired or not.
    pub async fn product(&self, id: i64) -> Result<Product> {
        let row: Option<ProductRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{PRODUCT_COLUMNS} where id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(product).ok_or(Error::NotFound)
    }

    /// The catalogue: what is offered (cheapest first), or with the
    /// retired ones too.
    pub async fn products(&self, with_retired: bool) -> Result<Vec<Product>> {
        let rows: Vec<ProductRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{PRODUCT_COLUMNS} where $1 or retired_at is null order by price_ore, id"
            )))
            .bind(with_retired)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(product).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_rounded_to_whole_ore() {
        let p = |price_ore, vat_percent| Product {
            id: 1,
            name: "x".into(),
            description: String::new(),
            price_ore,
            vat_percent,
            ad_credits: 1,
            ad_days: 30,
            featured: false,
            credit_valid_days: 365,
            retired_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(p(490_000, 25).vat_ore(), 122_500);
        assert_eq!(p(199, 25).vat_ore(), 50, "49.75 öre rounds up");
        assert_eq!(p(198, 25).vat_ore(), 50, "49.5 öre rounds up");
        assert_eq!(p(197, 25).vat_ore(), 49);
        assert_eq!(p(100, 6).vat_ore(), 6);
    }
}
