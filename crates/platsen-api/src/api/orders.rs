//! Orders: anyone orders ads (an integrator, or the buyer's own system);
//! the operator lists and rejects them.

use chrono::{DateTime, Utc};
use platsen_app::orders::OrderRefusal;
use platsen_jobs::input::OrderInput;
use platsen_jobs::store::orders::Order;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::Tag;
use crate::AppState;
use crate::http::auth::{Auth, Created};
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;

/// Where to send the invoice.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct InvoiceAddress {
    pub street: String,
    /// Five digits, e.g. `131 81`.
    pub postal_code: String,
    pub city: String,
}

/// Who to ask about the order.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct OrderContact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// An order.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub organization_name: String,
    /// `NNNNNN-NNNN`; the check digit is verified.
    pub organization_number: String,
    pub invoice_address: InvoiceAddress,
    /// Where the e-invoice goes: `0007:` and the organisation number, or
    /// `0088:` and a GLN. The organisation number under 0007 when left out.
    #[oai(nullable)]
    pub peppol_id: Option<String>,
    /// *Er referens*: who receives the invoice (required in Peppol invoices).
    pub buyer_reference: String,
    /// Your own order number, if you have one.
    #[oai(nullable)]
    pub order_number: Option<String>,
    /// Where copies of invoices are mailed.
    pub invoice_email: String,
    pub contact: OrderContact,
    pub product_id: i64,
    /// 1–100.
    #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
    pub quantity: i64,
    /// Must be true.
    pub accept_terms: bool,
}

impl From<CreateOrder> for OrderInput {
    fn from(b: CreateOrder) -> Self {
        OrderInput {
            organization_name: Some(b.organization_name),
            organization_number: Some(b.organization_number),
            street: Some(b.invoice_address.street),
            postal_code: Some(b.invoice_address.postal_code),
            city: Some(b.invoice_address.city),
            peppol_id: b.peppol_id,
            buyer_reference: Some(b.buyer_reference),
            order_number: b.order_number,
            invoice_email: Some(b.invoice_email),
            contact_name: Some(b.contact.name),
            contact_email: Some(b.contact.email),
            contact_phone: Some(b.contact.phone),
            product_id: Some(b.product_id),
            quantity: Some(b.quantity),
            accept_terms: Some(b.accept_terms),
        }
    }
}

/// An order as the buyer sees it once placed.
#[derive(Debug, Clone, Object)]
pub struct OrderReceipt {
    pub id: i64,
    /// The number to quote: `B-000042`.
    pub number: String,
    /// `pending`: the operator approves it next.
    pub status: String,
}

/// An order as the operator sees it.
#[derive(Debug, Clone, Object)]
pub struct OrderView {
    pub id: i64,
    pub number: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub organization_name: String,
    pub organization_number: String,
    pub invoice_address: OrderAddressView,
    /// `scheme:id`.
    pub peppol_id: String,
    pub buyer_reference: String,
    #[oai(nullable)]
    pub order_number: Option<String>,
    pub invoice_email: String,
    pub contact: OrderContactView,
    pub product_id: i64,
    pub product_name: String,
    pub quantity: i64,
    /// The price of one unit excluding VAT, in öre, as ordered.
    pub unit_price_ore: i64,
    pub vat_percent: i64,
    /// Quantity × unit price, excluding VAT, in öre.
    pub net_ore: i64,
    #[oai(nullable)]
    pub rejection_reason: Option<String>,
    #[oai(nullable)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct OrderAddressView {
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

#[derive(Debug, Clone, Object)]
pub struct OrderContactView {
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl From<Order> for OrderView {
    fn from(o: Order) -> Self {
        OrderView {
            id: o.id,
            number: o.number(),
            net_ore: o.net_ore(),
            status: o.status.code().into(),
            organization_name: o.organization_name,
            organization_number: o.organization_number,
            invoice_address: OrderAddressView { street: o.street, postal_code: o.postal_code, city: o.city },
            peppol_id: format!("{}:{}", o.peppol_scheme, o.peppol_id),
            buyer_reference: o.buyer_reference,
            order_number: o.order_number,
            invoice_email: o.invoice_email,
            contact: OrderContactView { name: o.contact_name, email: o.contact_email, phone: o.contact_phone },
            product_id: o.product_id,
            product_name: o.product_name,
            quantity: o.quantity,
            unit_price_ore: o.unit_price_ore,
            vat_percent: o.vat_percent,
            rejection_reason: o.rejection_reason,
            decided_at: o.decided_at,
            created_at: o.created_at,
        }
    }
}

/// What approving an order did.
#[derive(Debug, Clone, Object)]
pub struct ApprovalView {
    pub order: OrderView,
    /// The employer the credits went to.
    pub employer_id: i64,
    /// Whether the organisation became an employer now (its contact
    /// person was invited to choose a password).
    pub new_employer: bool,
    pub invoice_id: i64,
}

/// Why an order is rejected; the contact person is told.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RejectOrder {
    pub reason: String,
}

pub struct OrdersApi {
    pub(super) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Products")]
impl OrdersApi {
    /// Order ads
    ///
    /// Needs no account. The order waits for the operator's approval; its
    /// number and a confirmation go to the contact person by mail. Every
    /// field error is named; a refused order stores nothing. A client may
    /// place five orders, then one every ten minutes (429).
    #[oai(path = "/orders", method = "post", operation_id = "createOrder")]
    async fn create(
        &self,
        req: &poem::Request,
        body: JsonBody<CreateOrder>,
    ) -> Result<Created<OrderReceipt>, ApiError> {
        let client = crate::http::client::client_ip(req);
        let order = self.state.app.place_order(client, body.0.into()).await.map_err(|r| match r {
            OrderRefusal::Store(e) => ApiError::from(e),
            OrderRefusal::TooMany => ApiError::too_many_requests(),
        })?;
        let location = format!("/api/v1/orders/{}", order.id);
        Ok(Created::Created(
            Json(OrderReceipt { id: order.id, number: order.number(), status: order.status.code().into() }),
            location,
        ))
    }

    /// Orders, pending first (admin)
    #[oai(path = "/orders", method = "get", operation_id = "listOrders", tag = "Tag::Admin")]
    async fn list(&self, auth: Auth) -> Result<Json<Vec<OrderView>>, ApiError> {
        auth.0.require_admin()?;
        let orders = self.state.app.store.orders(500).await?;
        Ok(Json(orders.into_iter().map(Into::into).collect()))
    }

    /// An order (admin)
    #[oai(path = "/orders/:id", method = "get", operation_id = "getOrder", tag = "Tag::Admin")]
    async fn get(&self, auth: Auth, id: Path<i64>) -> Result<Json<OrderView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.store.order(id.0).await?.into()))
    }

    /// Approve an order (admin)
    ///
    /// In one transaction: the employer with the order's organisation
    /// number gets the credits (a new organisation becomes a prepaid
    /// employer, and its contact person is invited), and the invoice is
    /// issued with the next number. 409 if the order is already decided.
    #[oai(path = "/orders/:id/approve", method = "post", operation_id = "approveOrder", tag = "Tag::Admin")]
    async fn approve(&self, auth: Auth, id: Path<i64>) -> Result<Json<ApprovalView>, ApiError> {
        auth.0.require_admin()?;
        let a = self.state.app.approve_order(id.0).await?;
        Ok(Json(ApprovalView {
            order: a.order.into(),
            employer_id: a.employer_id,
            new_employer: a.new_employer,
            invoice_id: a.invoice_id,
        }))
    }

    /// Reject an order (admin)
    ///
    /// The reason is mailed to the contact person. Only a pending order can
    /// be rejected (409 otherwise).
    #[oai(path = "/orders/:id/reject", method = "post", operation_id = "rejectOrder", tag = "Tag::Admin")]
    async fn reject(
        &self,
        auth: Auth,
        id: Path<i64>,
        body: JsonBody<RejectOrder>,
    ) -> Result<Json<OrderView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.reject_order(id.0, &body.0.reason).await?.into()))
    }
}
