//! Orders: what a buyer ordered on `/platsannonsera` or through the API,
//! waiting for the operator. An order copies its product as it was offered,
//! so changing or retiring the product later changes no order. A refused
//! order stores nothing.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, Store, ts};
use crate::error::{Error, FieldError, Result};
use crate::input::OrderInput;
use crate::validate;

code_enum!(
    /// Where an order stands.
    OrderStatus {
        Pending = "pending" => "Väntar",
        Approved = "approved" => "Godkänd",
        Rejected = "rejected" => "Avslagen",
    }
);

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub status: OrderStatus,
    pub organization_name: String,
    /// `NNNNNN-NNNN`.
    pub organization_number: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub peppol_scheme: String,
    pub peppol_id: String,
    pub buyer_reference: String,
    pub order_number: Option<String>,
    pub invoice_email: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub product_id: i64,
    pub quantity: i64,
    /// The product as ordered.
    pub product_name: String,
    pub unit_price_ore: i64,
    pub vat_percent: i64,
    pub ad_credits: i64,
    pub ad_days: i64,
    pub featured: bool,
    pub credit_valid_days: i64,
    pub rejection_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Once approved: the employer it went to and its invoice.
    pub employer_id: Option<i64>,
    pub invoice_id: Option<i64>,
}

impl Order {
    /// The number the buyer quotes: `B-000042`.
    pub fn number(&self) -> String {
        format!("B-{:06}", self.id)
    }

    /// Excluding VAT, in öre.
    pub fn net_ore(&self) -> i64 {
        self.unit_price_ore * self.quantity
    }
}

/// A product's name, price, VAT, credits, days per ad, featured, validity
/// and when it was retired.
type ProductTerms = (String, i64, i64, i64, i64, bool, i64, Option<DateTime<Utc>>);

pub(super) const ORDER_COLUMNS: &str = "select id, status, organization_name, organization_number, street, postal_code, city, \
     peppol_scheme, peppol_id, buyer_reference, order_number, invoice_email, contact_name, contact_email, \
     contact_phone, product_id, quantity, product_name, unit_price_ore, vat_percent, ad_credits, ad_days, featured, \
     credit_valid_days, rejection_reason, decided_at, created_at, employer_id, invoice_id from orders ";

pub(super) fn order_from_row<R: Row>(r: &R) -> Result<Order>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    Ok(Order {
        id: r.try_get("id")?,
        status: OrderStatus::from_code(&status)
            .ok_or_else(|| Error::Database(sqlx::Error::Decode(format!("unknown order status {status:?}").into())))?,
        organization_name: r.try_get("organization_name")?,
        organization_number: r.try_get("organization_number")?,
        street: r.try_get("street")?,
        postal_code: r.try_get("postal_code")?,
        city: r.try_get("city")?,
        peppol_scheme: r.try_get("peppol_scheme")?,
        peppol_id: r.try_get("peppol_id")?,
        buyer_reference: r.try_get("buyer_reference")?,
        order_number: r.try_get("order_number")?,
        invoice_email: r.try_get("invoice_email")?,
        contact_name: r.try_get("contact_name")?,
        contact_email: r.try_get("contact_email")?,
        contact_phone: r.try_get("contact_phone")?,
        product_id: r.try_get("product_id")?,
        quantity: r.try_get("quantity")?,
        product_name: r.try_get("product_name")?,
        unit_price_ore: r.try_get("unit_price_ore")?,
        vat_percent: r.try_get("vat_percent")?,
        ad_credits: r.try_get("ad_credits")?,
        ad_days: r.try_get("ad_days")?,
        featured: r.try_get("featured")?,
        credit_valid_days: r.try_get("credit_valid_days")?,
        rejection_reason: r.try_get("rejection_reason")?,
        decided_at: r.try_get("decided_at")?,
        created_at: r.try_get("created_at")?,
        employer_id: r.try_get("employer_id")?,
        invoice_id: r.try_get("invoice_id")?,
    })
}

impl Store {
    /// Takes an order for a product on offer. Every rule is checked first;
    /// a refused order stores nothing.
    pub async fn create_order(&self, input: OrderInput, now: DateTime<Utc>) -> Result<Order> {
        let o = input.validate()?;
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            let product: Option<ProductTerms> = sqlx::query_as(
                "select name, price_ore, vat_percent, ad_credits, ad_days, featured, credit_valid_days, retired_at
                   from products where id = $1",
            )
            .bind(o.product_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((name, price_ore, vat_percent, ad_credits, ad_days, featured, credit_valid_days, retired_at)) =
                product
            else {
                return Err(Error::Invalid(vec![FieldError::new(
                    "product_id",
                    "unknown_product",
                    "Välj en produkt i erbjudandet.",
                )]));
            };
            if retired_at.is_some() {
                return Err(Error::Invalid(vec![FieldError::new(
                    "product_id",
                    "retired_product",
                    "Produkten erbjuds inte längre; välj en annan.",
                )]));
            }
            sqlx::query_scalar(
                "insert into orders (organization_name, organization_number, street, postal_code, city,
                        peppol_scheme, peppol_id, buyer_reference, order_number, invoice_email, contact_name,
                        contact_email, contact_phone, product_id, quantity, product_name, unit_price_ore,
                        vat_percent, ad_credits, ad_days, featured, credit_valid_days, created_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                         $21, $22, $23)
                 returning id",
            )
            .bind(o.organization_name.as_str())
            .bind(o.organization_number.as_str())
            .bind(o.street.as_str())
            .bind(o.postal_code.as_str())
            .bind(o.city.as_str())
            .bind(o.peppol_scheme.as_str())
            .bind(o.peppol_id.as_str())
            .bind(o.buyer_reference.as_str())
            .bind(o.order_number.as_deref())
            .bind(o.invoice_email.as_str())
            .bind(o.contact_name.as_str())
            .bind(o.contact_email.as_str())
            .bind(o.contact_phone.as_str())
            .bind(o.product_id)
            .bind(o.quantity)
            .bind(name.as_str())
            .bind(price_ore)
            .bind(vat_percent)
            .bind(ad_credits)
            .bind(ad_days)
            .bind(featured)
            .bind(credit_valid_days)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
        });
        tracing::info!(order_id = id, product_id = o.product_id, quantity = o.quantity, "order received");
        self.order(id).await
    }

    /// One order.
    pub async fn order(&self, id: i64) -> Result<Order> {
        read!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!("{ORDER_COLUMNS} where id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| order_from_row(&r))
                .transpose()?
        })
        .ok_or(Error::NotFound)
    }

    /// Orders for the operator: pending first, then the newest.
    pub async fn orders(&self, limit: i64) -> Result<Vec<Order>> {
        Ok(read!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{ORDER_COLUMNS} order by case when status = 'pending' then 0 else 1 end, created_at desc, id desc
                 limit $1"
            )))
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(order_from_row)
            .collect::<Result<Vec<_>>>()?
        }))
    }

    /// An organisation's orders, the newest first.
    pub async fn orders_of(&self, organization_number: &str, limit: i64) -> Result<Vec<Order>> {
        Ok(read!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{ORDER_COLUMNS} where organization_number = $1 order by created_at desc, id desc limit $2"
            )))
            .bind(organization_number)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(order_from_row)
            .collect::<Result<Vec<_>>>()?
        }))
    }

    /// Rejects a pending order with a reason the buyer is told.
    pub async fn reject_order(&self, id: i64, reason: &str, now: DateTime<Utc>) -> Result<Order> {
        let reason = validate::multiline("reason", reason, 3, 2000).map_err(|e| Error::Invalid(vec![e]))?;
        let now = ts(now);
        let n = write_tx!(self, |tx| {
            sqlx::query(
                "update orders set status = 'rejected', rejection_reason = $2, decided_at = $3
                  where id = $1 and status = 'pending'",
            )
            .bind(id)
            .bind(reason.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        });
        if n == 0 {
            let o = self.order(id).await?;
            return Err(Error::conflict(
                "order_decided",
                format!("Beställningen är redan {}.", o.status.name_sv().to_lowercase()),
            ));
        }
        tracing::info!(order_id = id, "order rejected");
        self.order(id).await
    }
}
