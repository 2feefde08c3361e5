//! Billing: an employer's credits and invoices (its own only; the operator
//! sees every employer's), the UBL of each invoice, the operator's
//! cancelling (a credit note) and marking paid, a month's archive, and
//! the monthly run for agreement customers.

use chrono::{DateTime, NaiveDate, Utc};
use platsen_jobs::store::billing::{Credits, Invoice, parse_month};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::AppState;
use crate::http::auth::{Auth, Principal};
use crate::http::problem::ApiError;

/// One grant of credits with what is left of it.
#[derive(Debug, Clone, Object)]
pub struct CreditGrantView {
    pub id: i64,
    pub granted: i64,
    pub remaining: i64,
    /// Ads published with these are featured.
    pub featured: bool,
    /// How long each ad may run.
    pub ad_days: i64,
    pub valid_until: DateTime<Utc>,
    #[oai(nullable)]
    pub order_id: Option<i64>,
}

/// One row of the ledger.
#[derive(Debug, Clone, Object)]
pub struct LedgerEntryView {
    pub id: i64,
    /// `grant`, `use`, `expiry`, `refund`, `revoke` or `billable`.
    pub kind: String,
    /// What the row did, in Swedish.
    pub kind_name: String,
    /// Positive for a grant, negative for what draws on one.
    pub credits: i64,
    #[oai(nullable)]
    pub grant_id: Option<i64>,
    pub featured: bool,
    #[oai(nullable)]
    pub valid_until: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub order_id: Option<i64>,
    #[oai(nullable)]
    pub job_id: Option<i64>,
    #[oai(nullable)]
    pub invoice_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// An employer's credits.
#[derive(Debug, Clone, Object)]
pub struct CreditsView {
    pub employer_id: i64,
    /// `prepaid`, `agreement` or `free`.
    pub billing_mode: String,
    /// Credits that can be used now.
    pub balance: i64,
    /// Of those, the featured ones.
    pub featured: i64,
    /// Grants still valid with credits left, the soonest to expire first.
    pub grants: Vec<CreditGrantView>,
    /// Every grant, use, expiry and take-back, the newest first (at most 500).
    pub ledger: Vec<LedgerEntryView>,
}

impl CreditsView {
    fn new(employer_id: i64, c: Credits) -> Self {
        CreditsView {
            employer_id,
            billing_mode: c.billing_mode.code().into(),
            balance: c.balance(),
            featured: c.featured(),
            grants: c
                .grants
                .into_iter()
                .map(|g| CreditGrantView {
                    id: g.id,
                    granted: g.granted,
                    remaining: g.remaining,
                    featured: g.featured,
                    ad_days: g.ad_days,
                    valid_until: g.valid_until,
                    order_id: g.order_id,
                })
                .collect(),
            ledger: c
                .ledger
                .into_iter()
                .map(|l| LedgerEntryView {
                    id: l.id,
                    kind: l.kind.code().into(),
                    kind_name: l.kind.name_sv().into(),
                    credits: l.credits,
                    grant_id: l.grant_id,
                    featured: l.featured,
                    valid_until: l.valid_until,
                    order_id: l.order_id,
                    job_id: l.job_id,
                    invoice_id: l.invoice_id,
                    created_at: l.created_at,
                })
                .collect(),
        }
    }
}

/// One invoice line.
#[derive(Debug, Clone, Object)]
pub struct InvoiceLineView {
    pub name: String,
    pub quantity: i64,
    /// Excluding VAT, in öre.
    pub unit_price_ore: i64,
    pub vat_percent: i64,
    /// Quantity × unit price, in öre.
    pub net_ore: i64,
}

/// An invoice or credit note.
#[derive(Debug, Clone, Object)]
pub struct InvoiceView {
    pub id: i64,
    /// In one series shared by invoices and credit notes, without gaps.
    pub number: i64,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// `open`, `paid` or `cancelled` (an invoice a credit note cancelled).
    pub status: String,
    pub employer_id: i64,
    #[oai(nullable)]
    pub order_id: Option<i64>,
    /// A credit note's invoice.
    #[oai(nullable)]
    pub credited_invoice_id: Option<i64>,
    /// `YYYY-MM` for an agreement customer's monthly invoice.
    #[oai(nullable)]
    pub period: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub buyer_name: String,
    pub buyer_organization_number: String,
    /// `scheme:id`.
    pub buyer_peppol_id: String,
    pub buyer_reference: String,
    #[oai(nullable)]
    pub order_number: Option<String>,
    pub lines: Vec<InvoiceLineView>,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub total_ore: i64,
    #[oai(nullable)]
    pub paid_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The Peppol BIS Billing 3.0 document.
    pub xml_url: String,
    /// A printable page.
    pub html_url: String,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        InvoiceView {
            xml_url: format!("/api/v1/invoices/{}.xml", i.id),
            html_url: format!("/konto/fakturor/{}", i.id),
            id: i.id,
            number: i.number,
            kind: i.kind.code().into(),
            status: i.status.code().into(),
            employer_id: i.employer_id,
            order_id: i.order_id,
            credited_invoice_id: i.credits.map(|c| c.0),
            period: i.period,
            issue_date: i.issue_date,
            due_date: i.due_date,
            buyer_name: i.buyer.name,
            buyer_organization_number: i.buyer.organization_number,
            buyer_peppol_id: format!("{}:{}", i.buyer.peppol_scheme, i.buyer.peppol_id),
            buyer_reference: i.buyer.reference,
            order_number: i.buyer.order_number,
            lines: i
                .lines
                .into_iter()
                .map(|l| InvoiceLineView {
                    net_ore: l.net_ore(),
                    name: l.name,
                    quantity: l.quantity,
                    unit_price_ore: l.unit_price_ore,
                    vat_percent: l.vat_percent,
                })
                .collect(),
            net_ore: i.net_ore,
            vat_ore: i.vat_ore,
            total_ore: i.total_ore,
            paid_at: i.paid_at,
            cancelled_at: i.cancelled_at,
        }
    }
}

/// An invoice as JSON, or (`/invoices/{id}.xml`) as its UBL document.
#[derive(Debug)]
pub enum InvoiceAnswer {
    Json(Box<InvoiceView>),
    Xml(String),
}

impl poem::IntoResponse for InvoiceAnswer {
    fn into_response(self) -> poem::Response {
        match self {
            InvoiceAnswer::Json(v) => Json(*v).into_response(),
            InvoiceAnswer::Xml(xml) => {
                poem::Response::builder().content_type("application/xml; charset=utf-8").body(xml)
            }
        }
    }
}

impl poem_openapi::ApiResponse for InvoiceAnswer {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The invoice: JSON, or with `.xml` after the id its Peppol BIS Billing 3.0 document \
                              (UBL 2.1 `Invoice` or `CreditNote`).",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: <InvoiceView as poem_openapi::types::Type>::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: "application/xml",
                        schema: <poem_openapi::types::Binary<Vec<u8>> as poem_openapi::types::Type>::schema_ref(),
                    },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <InvoiceView as poem_openapi::types::Type>::register(registry);
    }
}

/// What the monthly run issued.
#[derive(Debug, Clone, Object)]
pub struct MonthlyRun {
    /// `YYYY-MM`.
    pub month: String,
    pub invoices: Vec<InvoiceView>,
}

pub struct BillingApi {
    pub(super) state: AppState,
}

/// The employer a caller may read: its own, or (the operator) any.
fn scope(principal: Principal) -> Option<i64> {
    match principal {
        Principal::Admin => None,
        Principal::Employer { employer_id, .. } => Some(employer_id),
    }
}

fn month_arg(raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    raw.map(|m| parse_month("month", m)).transpose().map_err(ApiError::bad_field)
}

fn month_range(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    (month, month + chrono::Months::new(1))
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Products")]
impl BillingApi {
    /// Your credits (employer key; the operator names the employer)
    ///
    /// The balance is the sum of the ledger over grants still valid.
    #[oai(path = "/account/credits", method = "get", operation_id = "credits")]
    async fn credits(
        &self,
        auth: Auth,
        /// The operator's choice of employer; an employer key reads its own.
        employer_id: Query<Option<i64>>,
    ) -> Result<Json<CreditsView>, ApiError> {
        let employer_id = match (auth.0, employer_id.0) {
            (Principal::Employer { employer_id, .. }, _) => employer_id,
            (Principal::Admin, Some(id)) => id,
            (Principal::Admin, None) => {
                return Err(platsen_jobs::Error::invalid("employer_id", "required", "Ange arbetsgivarens id.").into());
            }
        };
        let c = self.state.app.store.credits(employer_id, self.state.app.clock.now()).await?;
        Ok(Json(CreditsView::new(employer_id, c)))
    }

    /// Invoices and credit notes, the newest first (employer key: its own)
    #[oai(path = "/invoices", method = "get", operation_id = "listInvoices")]
    async fn list(
        &self,
        auth: Auth,
        /// Only those issued in this month, `YYYY-MM`.
        #[oai(validator(pattern = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"))]
        month: Query<Option<String>>,
    ) -> Result<Json<Vec<InvoiceView>>, ApiError> {
        let month = month_arg(month.0.as_deref())?;
        let invoices = self.state.app.store.invoices(scope(auth.0), month.map(month_range), 1000).await?;
        Ok(Json(invoices.into_iter().map(Into::into).collect()))
    }

    /// An invoice or credit note (employer key: its own)
    ///
    /// `/invoices/42` answers JSON; `/invoices/42.xml` the Peppol BIS
    /// Billing 3.0 UBL document to send or archive.
    #[oai(path = "/invoices/:id", method = "get", operation_id = "getInvoice")]
    async fn get(
        &self,
        auth: Auth,
        /// The invoice's id, with `.xml` for its UBL.
        #[oai(validator(pattern = r"^[0-9]{1,18}(\.xml)?$"))]
        id: Path<String>,
    ) -> Result<InvoiceAnswer, ApiError> {
        let (digits, xml) = match id.0.strip_suffix(".xml") {
            Some(d) => (d, true),
            None => (id.0.as_str(), false),
        };
        let id: i64 = digits.parse().map_err(|_| ApiError::bad_request("id", "invalid_id", "Ange fakturans id."))?;
        let invoice = self.state.app.store.invoice(id, scope(auth.0)).await?;
        Ok(if xml {
            InvoiceAnswer::Xml(invoice.document().to_ubl())
        } else {
            InvoiceAnswer::Json(Box::new(invoice.into()))
        })
    }

    /// A month's invoices and credit notes as UBL files in one zip (admin)
    #[oai(path = "/invoices/archive", method = "get", operation_id = "invoiceArchive", tag = "Tag::Admin")]
    async fn archive(
        &self,
        auth: Auth,
        /// `YYYY-MM`.
        #[oai(validator(pattern = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"))]
        month: Query<String>,
    ) -> Result<Attachment<Vec<u8>>, ApiError> {
        auth.0.require_admin()?;
        let month = parse_month("month", &month.0).map_err(ApiError::bad_field)?;
        let zip =
            self.state.app.invoice_archive(month).await.map_err(|e| match e.downcast::<platsen_jobs::Error>() {
                Ok(e) => ApiError::from(e),
                Err(e) => {
                    tracing::error!(error = %e, "writing the invoice archive failed");
                    ApiError::internal()
                }
            })?;
        Ok(Attachment::new(zip)
            .attachment_type(AttachmentType::Attachment)
            .filename(format!("platsen-fakturor-{}.zip", month.format("%Y-%m"))))
    }

    /// Cancel an invoice with a credit note (admin)
    ///
    /// The credit note takes the next number and credits the whole invoice;
    /// the invoice's unused credits are taken back. Answers with the credit
    /// note; 409 if the invoice is already cancelled.
    #[oai(path = "/invoices/:id/cancel", method = "post", operation_id = "cancelInvoice", tag = "Tag::Admin")]
    async fn cancel(&self, auth: Auth, id: Path<i64>) -> Result<Json<InvoiceView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.cancel_invoice(id.0).await?.into()))
    }

    /// Mark an invoice paid (admin)
    #[oai(path = "/invoices/:id/paid", method = "post", operation_id = "markInvoicePaid", tag = "Tag::Admin")]
    async fn paid(&self, auth: Auth, id: Path<i64>) -> Result<Json<InvoiceView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.store.mark_invoice_paid(id.0, self.state.app.clock.now()).await?.into()))
    }

    /// Invoice agreement customers for a month (admin)
    ///
    /// What the server does by itself each month; running it again issues
    /// nothing new.
    #[oai(path = "/invoices/monthly", method = "post", operation_id = "runMonthlyInvoices", tag = "Tag::Admin")]
    async fn monthly(
        &self,
        auth: Auth,
        /// `YYYY-MM`.
        #[oai(validator(pattern = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"))]
        month: Query<String>,
    ) -> Result<Json<MonthlyRun>, ApiError> {
        auth.0.require_admin()?;
        let month = parse_month("month", &month.0).map_err(ApiError::bad_field)?;
        let invoices = self.state.app.invoice_agreements(month).await?;
        Ok(Json(MonthlyRun {
            month: month.format("%Y-%m").to_string(),
            invoices: invoices.into_iter().map(Into::into).collect(),
        }))
    }
}
