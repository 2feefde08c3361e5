//! Billing: approving orders, the credit ledger, and invoices.
//!
//! Three invariants hold here and nowhere else:
//! - **The ledger is the balance.** Every grant, use, expiry, refund and
//!   take-back is a row of `credit_ledger`; an employer's balance is the sum
//!   over its grants still valid, never a counter. A use is written in the
//!   same transaction as the publication it pays for, with the employer's
//!   row locked on PostgreSQL (SQLite has one writer), so concurrent
//!   publications never take a grant below zero.
//! - **Invoice numbers have no gap and no duplicate.** The number is taken
//!   from `invoice_series` by the transaction that writes the invoice (an
//!   `update … returning` that locks the row until commit), so a transaction
//!   that fails takes no number, and two never take the same.
//! - **Approval is one transaction**: the order is marked approved, the
//!   employer found by organisation number (or created, prepaid), the
//!   credits granted and the invoice written, or none of it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use super::orders::Order;
use super::{Db, Store, ts};
use crate::error::{Error, Result};
use crate::invoice::{Document, Kind, Line, Party, PeppolId, Seller};
use crate::model::BillingMode;
use crate::validate;

code_enum!(
    /// What a ledger row records.
    LedgerKind {
        Grant = "grant" => "Köpta annonser",
        Use = "use" => "Publicerad annons",
        Expiry = "expiry" => "Förfallna",
        Refund = "refund" => "Återförda",
        Revoke = "revoke" => "Krediterade",
        Billable = "billable" => "Publicerad enligt avtal",
    }
);

code_enum!(
    /// An invoice or a credit note.
    InvoiceKind {
        Invoice = "invoice" => "Faktura",
        CreditNote = "credit_note" => "Kreditfaktura",
    }
);

code_enum!(
    /// Where an invoice stands.
    InvoiceStatus {
        Open = "open" => "Obetald",
        Paid = "paid" => "Betald",
        Cancelled = "cancelled" => "Krediterad",
    }
);

/// Days an invoice has before it is due, unless configured otherwise.
pub const DEFAULT_DUE_DAYS: i64 = 30;

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: LedgerKind,
    /// Positive for a grant, negative for what draws on one, zero for an
    /// agreement customer's billable publication.
    pub credits: i64,
    pub grant_id: Option<i64>,
    pub featured: bool,
    pub ad_days: Option<i64>,
    pub valid_until: Option<DateTime<Utc>>,
    pub order_id: Option<i64>,
    pub job_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A grant with what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditGrant {
    pub id: i64,
    pub granted: i64,
    pub remaining: i64,
    pub featured: bool,
    pub ad_days: i64,
    pub valid_until: DateTime<Utc>,
    pub order_id: Option<i64>,
}

/// An employer's credits: how it pays, its usable grants, and its ledger.
#[derive(Debug, Clone)]
pub struct Credits {
    pub billing_mode: BillingMode,
    /// Grants still valid with credits left, the soonest to expire first.
    pub grants: Vec<CreditGrant>,
    /// The newest first.
    pub ledger: Vec<LedgerEntry>,
}

impl Credits {
    /// Credits that can be used now.
    pub fn balance(&self) -> i64 {
        self.grants.iter().map(|g| g.remaining).sum()
    }

    /// Of those, the featured ones.
    pub fn featured(&self) -> i64 {
        self.grants.iter().filter(|g| g.featured).map(|g| g.remaining).sum()
    }
}

/// Who an invoice is to, as it was when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub name: String,
    /// `NNNNNN-NNNN`.
    pub organization_number: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub peppol_scheme: String,
    pub peppol_id: String,
    /// *Er referens* (Peppol R003).
    pub reference: String,
    pub order_number: Option<String>,
    /// Where copies go.
    pub email: String,
}

/// An issued invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: i64,
    /// In the one series shared by invoices and credit notes.
    pub number: i64,
    pub kind: InvoiceKind,
    pub employer_id: i64,
    pub order_id: Option<i64>,
    /// A credit note's invoice: its id, number and issue date.
    pub credits: Option<(i64, i64, NaiveDate)>,
    /// `YYYY-MM` for an agreement customer's monthly invoice.
    pub period: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub buyer: Buyer,
    pub seller: Seller,
    pub lines: Vec<Line>,
    pub net_ore: i64,
    pub vat_ore: i64,
    pub total_ore: i64,
    pub status: InvoiceStatus,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Invoice {
    /// The document to send: Peppol BIS Billing 3.0 through [`Document::to_ubl`].
    pub fn document(&self) -> Document {
        let compact = self.buyer.organization_number.replace('-', "");
        Document {
            number: self.number.to_string(),
            kind: match (self.kind, self.credits) {
                (InvoiceKind::CreditNote, Some((_, number, date))) => {
                    Kind::CreditNote { invoice_number: number.to_string(), invoice_date: date }
                }
                _ => Kind::Invoice { due_date: self.due_date },
            },
            issue_date: self.issue_date,
            buyer_reference: self.buyer.reference.clone(),
            order_reference: self.buyer.order_number.clone(),
            seller: self.seller.clone(),
            buyer: Party {
                name: self.buyer.name.clone(),
                organization_number: compact,
                peppol_id: PeppolId { scheme: self.buyer.peppol_scheme.clone(), id: self.buyer.peppol_id.clone() },
                street: self.buyer.street.clone(),
                postal_code: self.buyer.postal_code.clone(),
                city: self.buyer.city.clone(),
            },
            lines: self.lines.clone(),
        }
    }
}

/// What the seller puts on every invoice it issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTerms {
    pub seller: Seller,
    /// Days from the issue date to the due date.
    pub due_days: i64,
    /// The issue date (today in Sweden).
    pub today: NaiveDate,
}

/// What approving an order did.
#[derive(Debug, Clone)]
pub struct Approval {
    pub order: Order,
    pub employer_id: i64,
    /// Whether the organisation was new to the board.
    pub new_employer: bool,
    pub invoice_id: i64,
}

/// What a publication cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Nothing: a free employer, or a reopening within the paid period.
    None,
    /// One credit of this grant; the ad runs at most `ad_days`.
    Credit { grant_id: i64, featured: bool, ad_days: i64 },
    /// An agreement customer's publication, invoiced at the month's end.
    Billable,
}

/// Refused for want of a credit.
pub(crate) fn no_credit() -> Error {
    Error::NoCredit(
        "Ni har inga annonser kvar att publicera. Beställ fler på /platsannonsera, så publiceras annonsen när \
         beställningen är godkänd."
            .into(),
    )
}

/// An invoice line's name, quantity, unit price and VAT percent.
type LineRow = (String, i64, i64, i64);

const INVOICE_COLUMNS: &str = "select id, number, kind, employer_id, order_id, credited_invoice_id, period, \
     issue_date, due_date, buyer_name, buyer_organization_number, buyer_street, buyer_postal_code, buyer_city, \
     buyer_peppol_scheme, buyer_peppol_id, buyer_reference, order_number, invoice_email, seller, net_ore, vat_ore, \
     total_ore, status, paid_at, cancelled_at, created_at from invoices ";

fn invoice_from_row<R: Row>(r: &R) -> Result<Invoice>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let decode = |what: &str, v: &str| Error::Database(sqlx::Error::Decode(format!("unknown {what} {v:?}").into()));
    let kind: String = r.try_get("kind")?;
    let status: String = r.try_get("status")?;
    let seller: String = r.try_get("seller")?;
    let credited: Option<i64> = r.try_get("credited_invoice_id")?;
    Ok(Invoice {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        kind: InvoiceKind::from_code(&kind).ok_or_else(|| decode("invoice kind", &kind))?,
        employer_id: r.try_get("employer_id")?,
        order_id: r.try_get("order_id")?,
        // Filled in by the caller, which reads the credited invoice.
        credits: credited.map(|id| (id, 0, NaiveDate::MIN)),
        period: r.try_get("period")?,
        issue_date: r.try_get("issue_date")?,
        due_date: r.try_get("due_date")?,
        buyer: Buyer {
            name: r.try_get("buyer_name")?,
            organization_number: r.try_get("buyer_organization_number")?,
            street: r.try_get("buyer_street")?,
            postal_code: r.try_get("buyer_postal_code")?,
            city: r.try_get("buyer_city")?,
            peppol_scheme: r.try_get("buyer_peppol_scheme")?,
            peppol_id: r.try_get("buyer_peppol_id")?,
            reference: r.try_get("buyer_reference")?,
            order_number: r.try_get("order_number")?,
            email: r.try_get("invoice_email")?,
        },
        seller: serde_json::from_str(&seller).map_err(|e| decode("seller", &e.to_string()))?,
        lines: Vec::new(),
        net_ore: r.try_get("net_ore")?,
        vat_ore: r.try_get("vat_ore")?,
        total_ore: r.try_get("total_ore")?,
        status: InvoiceStatus::from_code(&status).ok_or_else(|| decode("invoice status", &status))?,
        paid_at: r.try_get("paid_at")?,
        cancelled_at: r.try_get("cancelled_at")?,
        created_at: r.try_get("created_at")?,
    })
}

type LedgerRow = (
    i64,
    String,
    i64,
    Option<i64>,
    bool,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    DateTime<Utc>,
);

/// Writes an invoice (or credit note) and its lines inside the caller's
/// transaction, taking the next number of the series. Evaluates to its id.
macro_rules! issue {
    ($tx:ident, $kind:expr, $employer_id:expr, $order_id:expr, $credited:expr, $period:expr, $buyer:expr,
     $terms:expr, $seller_json:expr, $lines:expr, $now:expr) => {{
        let number: i64 = sqlx::query_scalar(
            "update invoice_series set next_number = next_number + 1 where name = 'main' returning next_number - 1",
        )
        .fetch_one(&mut *$tx)
        .await?;
        let buyer: &Buyer = $buyer;
        let lines: &[Line] = $lines;
        let doc_totals = Document {
            number: String::new(),
            kind: Kind::Invoice { due_date: $terms.today },
            issue_date: $terms.today,
            buyer_reference: String::new(),
            order_reference: None,
            seller: $terms.seller.clone(),
            buyer: Party {
                name: String::new(),
                organization_number: String::new(),
                peppol_id: PeppolId { scheme: String::new(), id: String::new() },
                street: String::new(),
                postal_code: String::new(),
                city: String::new(),
            },
            lines: lines.to_vec(),
        }
        .totals();
        let id: i64 = sqlx::query_scalar(
            "insert into invoices (number, kind, employer_id, order_id, credited_invoice_id, period, issue_date,
                    due_date, buyer_name, buyer_organization_number, buyer_street, buyer_postal_code, buyer_city,
                    buyer_peppol_scheme, buyer_peppol_id, buyer_reference, order_number, invoice_email, seller,
                    net_ore, vat_ore, total_ore, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                     $22, $23)
             returning id",
        )
        .bind(number)
        .bind($kind.code())
        .bind($employer_id)
        .bind($order_id)
        .bind($credited)
        .bind($period)
        .bind($terms.today)
        .bind($terms.today + Duration::days($terms.due_days))
        .bind(buyer.name.as_str())
        .bind(buyer.organization_number.as_str())
        .bind(buyer.street.as_str())
        .bind(buyer.postal_code.as_str())
        .bind(buyer.city.as_str())
        .bind(buyer.peppol_scheme.as_str())
        .bind(buyer.peppol_id.as_str())
        .bind(buyer.reference.as_str())
        .bind(buyer.order_number.as_deref())
        .bind(buyer.email.as_str())
        .bind($seller_json)
        .bind(doc_totals.net_ore)
        .bind(doc_totals.vat_ore)
        .bind(doc_totals.gross_ore)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        for (position, l) in lines.iter().enumerate() {
            sqlx::query(
                "insert into invoice_lines (invoice_id, position, name, quantity, unit_price_ore, vat_percent)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(position as i64 + 1)
            .bind(l.name.as_str())
            .bind(l.quantity)
            .bind(l.unit_price_ore)
            .bind(l.vat_percent)
            .execute(&mut *$tx)
            .await?;
        }
        (id, number)
    }};
}

/// What is left of each of an employer's grants valid at `$now`, inside
/// the caller's transaction or on a pool: `(id, granted, remaining,
/// featured, ad_days, valid_until, order_id)`, standard before featured,
/// the soonest to expire first.
macro_rules! grants_left {
    ($exec:expr, $employer_id:expr, $now:expr) => {{
        let rows: Vec<(i64, i64, i64, bool, Option<i64>, DateTime<Utc>, Option<i64>)> = sqlx::query_as(
            "select g.id, g.credits,
                    cast(g.credits + coalesce((select sum(u.credits) from credit_ledger u where u.grant_id = g.id), 0)
                         as bigint),
                    g.featured, g.ad_days, g.valid_until, g.order_id
               from credit_ledger g
              where g.employer_id = $1 and g.kind = 'grant' and g.valid_until > $2
              order by g.featured, g.valid_until, g.id",
        )
        .bind($employer_id)
        .bind($now)
        .fetch_all($exec)
        .await?;
        rows.into_iter()
            .filter(|r| r.2 > 0)
            .map(|(id, granted, remaining, featured, ad_days, valid_until, order_id)| {
                $crate::store::billing::CreditGrant {
                    id,
                    granted,
                    remaining,
                    featured,
                    ad_days: ad_days.unwrap_or(30),
                    valid_until,
                    order_id,
                }
            })
            .collect::<Vec<_>>()
    }};
}
pub(crate) use grants_left;

/// Inside the transaction that takes `$ad` live: charges its employer for
/// the publication (`$consume`), or only checks that it could be charged
/// (an ad going to review is charged when it is approved). Free employers
/// and reopenings within the paid period cost nothing; a prepaid employer
/// uses one credit (standard before featured, the soonest to expire
/// first), and the ad runs at most the credit's days, featured if the
/// credit is; an agreement customer's publication is written down to be
/// invoiced. The employer's row is locked first on PostgreSQL, so
/// publications racing for the last credits are serialised there as
/// SQLite's single writer serialises them.
macro_rules! charge_publication {
    ($self:ident, $tx:ident, $ad:expr, $now:expr, $consume:expr) => {{
        let ad: &$crate::model::JobAd = $ad;
        let now: DateTime<Utc> = $now;
        let lock = if $self.is_postgres() {
            "select billing_mode from employers where id = $1 for update"
        } else {
            "select billing_mode from employers where id = $1"
        };
        let mode: String = sqlx::query_scalar(lock).bind(ad.employer_id).fetch_one(&mut *$tx).await?;
        let paid_until: Option<DateTime<Utc>> =
            sqlx::query_scalar("select paid_until from job_ads where id = $1").bind(ad.id).fetch_one(&mut *$tx).await?;
        let charge = match $crate::model::BillingMode::from_code(&mode) {
            _ if paid_until.is_some_and(|p| p > now) => $crate::store::billing::Charge::None,
            Some($crate::model::BillingMode::Prepaid) => {
                let grants = $crate::store::billing::grants_left!(&mut *$tx, ad.employer_id, now);
                let Some(g) = grants.first() else {
                    return Err($crate::store::billing::no_credit());
                };
                $crate::store::billing::Charge::Credit { grant_id: g.id, featured: g.featured, ad_days: g.ad_days }
            }
            Some($crate::model::BillingMode::Agreement) => $crate::store::billing::Charge::Billable,
            Some($crate::model::BillingMode::Free) | None => $crate::store::billing::Charge::None,
        };
        if $consume {
            match charge {
                $crate::store::billing::Charge::Credit { grant_id, featured, ad_days } => {
                    let paid = now + chrono::Duration::days(ad_days);
                    sqlx::query(
                        "insert into credit_ledger (employer_id, kind, credits, grant_id, featured, ad_days, job_id,
                                                    created_at)
                         values ($1, 'use', -1, $2, $3, $4, $5, $6)",
                    )
                    .bind(ad.employer_id)
                    .bind(grant_id)
                    .bind(featured)
                    .bind(ad_days)
                    .bind(ad.id)
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
                    sqlx::query("update job_ads set paid_until = $2, expires_at = $3, featured = $4 where id = $1")
                        .bind(ad.id)
                        .bind(paid)
                        .bind(ad.expires_at.min(paid))
                        .bind(featured)
                        .execute(&mut *$tx)
                        .await?;
                }
                $crate::store::billing::Charge::Billable => {
                    sqlx::query(
                        "insert into credit_ledger (employer_id, kind, credits, job_id, created_at)
                         values ($1, 'billable', 0, $2, $3)",
                    )
                    .bind(ad.employer_id)
                    .bind(ad.id)
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
                    // No paid period: an agreement customer may extend its
                    // ad freely, and the month's invoice has one line per
                    // ad however often it went live that month.
                }
                $crate::store::billing::Charge::None => {}
            }
        }
        charge
    }};
}
pub(crate) use charge_publication;

impl Store {
    /// Approves a pending order in one transaction: the employer with the
    /// order's organisation number gets the credits (a new organisation
    /// becomes a prepaid employer), and the invoice is issued with the next
    /// number of the series.
    pub async fn approve_order(&self, id: i64, terms: &InvoiceTerms, now: DateTime<Utc>) -> Result<Approval> {
        let now = ts(now);
        let seller_json = serde_json::to_string(&terms.seller).expect("a seller serializes");
        let (employer_id, new_employer, invoice_id) = write_tx!(self, |tx| {
            let done = sqlx::query(
                "update orders set status = 'approved', decided_at = $2 where id = $1 and status = 'pending'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                let status: Option<String> = sqlx::query_scalar("select status from orders where id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return match status {
                    None => Err(Error::NotFound),
                    Some(s) => Err(Error::conflict(
                        "order_decided",
                        format!(
                            "Beställningen är redan {}.",
                            super::orders::OrderStatus::from_code(&s).map_or("avgjord", |s| s.name_sv()).to_lowercase()
                        ),
                    )),
                };
            }
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("{} where id = $1", super::orders::ORDER_COLUMNS)))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let o = super::orders::order_from_row(&row)?;
            let existing: Option<i64> = sqlx::query_scalar("select id from employers where organization_number = $1")
                .bind(o.organization_number.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let (employer_id, new_employer) = match existing {
                Some(e) => (e, false),
                None => {
                    let slug = allocate_slug!(
                        tx,
                        "employers",
                        &None::<String>,
                        &o.organization_name,
                        "arbetsgivare",
                        "Adressnamnet används redan."
                    );
                    let e: i64 = sqlx::query_scalar(
                        "insert into employers (slug, name, organization_number, requires_review, is_demo,
                                                created_at, updated_at, name_sort, billing_mode)
                         values ($1, $2, $3, false, false, $4, $4, $5, 'prepaid') returning id",
                    )
                    .bind(slug)
                    .bind(o.organization_name.as_str())
                    .bind(o.organization_number.as_str())
                    .bind(now)
                    .bind(platsen_taxonomy::swedish_sort_key(&o.organization_name))
                    .fetch_one(&mut *tx)
                    .await?;
                    (e, true)
                }
            };
            let buyer = Buyer {
                name: o.organization_name.clone(),
                organization_number: o.organization_number.clone(),
                street: o.street.clone(),
                postal_code: o.postal_code.clone(),
                city: o.city.clone(),
                peppol_scheme: o.peppol_scheme.clone(),
                peppol_id: o.peppol_id.clone(),
                reference: o.buyer_reference.clone(),
                order_number: o.order_number.clone(),
                email: o.invoice_email.clone(),
            };
            let lines = [Line {
                name: o.product_name.clone(),
                quantity: o.quantity,
                unit_price_ore: o.unit_price_ore,
                vat_percent: o.vat_percent,
            }];
            let (invoice_id, number) = issue!(
                tx,
                InvoiceKind::Invoice,
                employer_id,
                Some(o.id),
                None::<i64>,
                None::<String>,
                &buyer,
                terms,
                seller_json.as_str(),
                &lines,
                now
            );
            sqlx::query(
                "insert into credit_ledger (employer_id, kind, credits, featured, ad_days, valid_until, order_id,
                                            invoice_id, created_at)
                 values ($1, 'grant', $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(employer_id)
            .bind(o.ad_credits * o.quantity)
            .bind(o.featured)
            .bind(o.ad_days)
            .bind(now + Duration::days(o.credit_valid_days))
            .bind(o.id)
            .bind(invoice_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("update orders set employer_id = $2, invoice_id = $3 where id = $1")
                .bind(id)
                .bind(employer_id)
                .bind(invoice_id)
                .execute(&mut *tx)
                .await?;
            tracing::info!(order_id = id, employer_id, invoice_number = number, new_employer, "order approved");
            (employer_id, new_employer, invoice_id)
        });
        Ok(Approval { order: self.order(id).await?, employer_id, new_employer, invoice_id })
    }

    /// An employer's billing mode, usable grants and ledger.
    pub async fn credits(&self, employer_id: i64, now: DateTime<Utc>) -> Result<Credits> {
        let now = ts(now);
        let (mode, grants, rows): (Option<String>, Vec<CreditGrant>, Vec<LedgerRow>) = read!(self, |pool| {
            let mode = sqlx::query_scalar("select billing_mode from employers where id = $1")
                .bind(employer_id)
                .fetch_optional(pool)
                .await?;
            let mut grants = grants_left!(pool, employer_id, now);
            grants.sort_by_key(|g| (g.valid_until, g.id));
            let rows = sqlx::query_as(
                "select id, kind, credits, grant_id, featured, ad_days, valid_until, order_id, job_id, invoice_id,
                        created_at
                   from credit_ledger where employer_id = $1 order by id desc limit 500",
            )
            .bind(employer_id)
            .fetch_all(pool)
            .await?;
            (mode, grants, rows)
        });
        let mode = mode.ok_or(Error::NotFound)?;
        let ledger = rows
            .into_iter()
            .map(
                |(
                    id,
                    kind,
                    credits,
                    grant_id,
                    featured,
                    ad_days,
                    valid_until,
                    order_id,
                    job_id,
                    invoice_id,
                    created_at,
                )| {
                    Ok(LedgerEntry {
                        id,
                        kind: LedgerKind::from_code(&kind).ok_or_else(|| {
                            Error::Database(sqlx::Error::Decode(format!("unknown ledger kind {kind:?}").into()))
                        })?,
                        credits,
                        grant_id,
                        featured,
                        ad_days,
                        valid_until,
                        order_id,
                        job_id,
                        invoice_id,
                        created_at,
                    })
                },
            )
            .collect::<Result<Vec<_>>>()?;
        Ok(Credits { billing_mode: BillingMode::from_code(&mode).unwrap_or(BillingMode::Free), grants, ledger })
    }

    /// Writes down grants that ran out unused: one `expiry` row per grant,
    /// taking what was left, a thousand grants per transaction until none
    /// is left. Returns how many grants expired.
    pub async fn expire_credits(&self, now: DateTime<Utc>) -> Result<usize> {
        const BATCH: usize = 1000;
        let now = ts(now);
        let mut total = 0;
        loop {
            let (n, found) = write_tx!(self, |tx| {
                // Only grants with credits left: a used-up grant needs no
                // expiry row, and more than a batch of them must not hide one
                // that does.
                let due: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "select id, employer_id, remaining
                   from (select g.id, g.employer_id,
                                cast(g.credits + coalesce((select sum(u.credits) from credit_ledger u
                                                            where u.grant_id = g.id), 0) as bigint) as remaining
                           from credit_ledger g
                          where g.kind = 'grant' and g.valid_until <= $1
                            and not exists (select 1 from credit_ledger x
                                             where x.grant_id = g.id and x.kind = 'expiry')) due
                  where remaining > 0
                  order by id limit $2",
                )
                .bind(now)
                .bind(BATCH as i64)
                .fetch_all(&mut *tx)
                .await?;
                let (mut n, found) = (0, due.len());
                for (grant_id, employer_id, left) in due {
                    // One expiry per grant (a unique index): a sweep that
                    // raced another writes nothing twice.
                    n += sqlx::query(
                        "insert into credit_ledger (employer_id, kind, credits, grant_id, created_at)
                     values ($1, 'expiry', $2, $3, $4) on conflict do nothing",
                    )
                    .bind(employer_id)
                    .bind(-left)
                    .bind(grant_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as usize;
                }
                (n, found)
            });
            total += n;
            if found < BATCH {
                break;
            }
        }
        if total > 0 {
            tracing::info!(grants = total, "unused credits expired");
        }
        Ok(total)
    }

    /// Invoices and credit notes, the newest first: all of them, or one
    /// employer's; optionally only those issued in `[from, to)`.
    pub async fn invoices(
        &self,
        employer_id: Option<i64>,
        issued: Option<(NaiveDate, NaiveDate)>,
        limit: i64,
    ) -> Result<Vec<Invoice>> {
        let (from, to) = issued.unwrap_or((
            NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date"),
            NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"),
        ));
        let rows = read!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{INVOICE_COLUMNS} where ($1 is null or employer_id = $1) and issue_date >= $2 and issue_date < $3
                 order by number desc limit $4"
            )))
            .bind(employer_id)
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(invoice_from_row)
            .collect::<Result<Vec<_>>>()?
        });
        let mut out = Vec::with_capacity(rows.len());
        for i in rows {
            out.push(self.complete_invoice(i).await?);
        }
        Ok(out)
    }

    /// One invoice; with `employer_id`, only if it is that employer's.
    pub async fn invoice(&self, id: i64, employer_id: Option<i64>) -> Result<Invoice> {
        let i = read!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{INVOICE_COLUMNS} where id = $1 and ($2 is null or employer_id = $2)"
            )))
            .bind(id)
            .bind(employer_id)
            .fetch_optional(pool)
            .await?
            .map(|r| invoice_from_row(&r))
            .transpose()?
        })
        .ok_or(Error::NotFound)?;
        self.complete_invoice(i).await
    }

    /// Reads an invoice's lines and, for a credit note, the credited invoice.
    async fn complete_invoice(&self, mut i: Invoice) -> Result<Invoice> {
        let (lines, credited): (Vec<LineRow>, Option<(i64, NaiveDate)>) = read!(self, |pool| {
            let lines = sqlx::query_as(
                "select name, quantity, unit_price_ore, vat_percent from invoice_lines
                  where invoice_id = $1 order by position",
            )
            .bind(i.id)
            .fetch_all(pool)
            .await?;
            let credited = match i.credits {
                Some((id, ..)) => {
                    sqlx::query_as("select number, issue_date from invoices where id = $1")
                        .bind(id)
                        .fetch_optional(pool)
                        .await?
                }
                None => None,
            };
            (lines, credited)
        });
        i.lines = lines
            .into_iter()
            .map(|(name, quantity, unit_price_ore, vat_percent)| Line { name, quantity, unit_price_ore, vat_percent })
            .collect();
        if let (Some((id, ..)), Some((number, date))) = (i.credits, credited) {
            i.credits = Some((id, number, date));
        }
        Ok(i)
    }

    /// Cancels an invoice: it is marked credited, a credit note for the
    /// whole of it is issued with the next number, and the credits it
    /// granted that are still unused are taken back. Returns the credit note.
    pub async fn cancel_invoice(&self, id: i64, today: NaiveDate, now: DateTime<Utc>) -> Result<Invoice> {
        let now = ts(now);
        let original = self.invoice(id, None).await?;
        if original.kind != InvoiceKind::Invoice {
            return Err(Error::conflict("not_an_invoice", "En kreditfaktura kan inte krediteras."));
        }
        let terms = InvoiceTerms { seller: original.seller.clone(), due_days: 0, today };
        let seller_json = serde_json::to_string(&original.seller).expect("a seller serializes");
        let credit_note_id = write_tx!(self, |tx| {
            let done = sqlx::query(
                "update invoices set status = 'cancelled', cancelled_at = $2
                  where id = $1 and kind = 'invoice' and status <> 'cancelled'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Error::conflict("invoice_cancelled", "Fakturan är redan krediterad."));
            }
            let (credit_note_id, number) = issue!(
                tx,
                InvoiceKind::CreditNote,
                original.employer_id,
                original.order_id,
                Some(original.id),
                None::<String>,
                &original.buyer,
                &terms,
                seller_json.as_str(),
                &original.lines,
                now
            );
            let grants = grants_left!(&mut *tx, original.employer_id, now);
            let granted_here: Vec<i64> =
                sqlx::query_scalar("select id from credit_ledger where kind = 'grant' and invoice_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            for g in grants.iter().filter(|g| granted_here.contains(&g.id)) {
                sqlx::query(
                    "insert into credit_ledger (employer_id, kind, credits, grant_id, invoice_id, created_at)
                     values ($1, 'revoke', $2, $3, $4, $5)",
                )
                .bind(original.employer_id)
                .bind(-g.remaining)
                .bind(g.id)
                .bind(credit_note_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tracing::info!(invoice_id = id, credit_note_number = number, "invoice cancelled");
            credit_note_id
        });
        self.invoice(credit_note_id, None).await
    }

    /// Marks an invoice paid; a second time changes nothing.
    pub async fn mark_invoice_paid(&self, id: i64, now: DateTime<Utc>) -> Result<Invoice> {
        let now = ts(now);
        let invoice = self.invoice(id, None).await?;
        match (invoice.kind, invoice.status) {
            (InvoiceKind::CreditNote, _) => {
                return Err(Error::conflict("not_an_invoice", "En kreditfaktura betalas inte."));
            }
            (_, InvoiceStatus::Cancelled) => {
                return Err(Error::conflict("invoice_cancelled", "Fakturan är krediterad."));
            }
            (_, InvoiceStatus::Paid) => return Ok(invoice),
            (_, InvoiceStatus::Open) => {}
        }
        write_tx!(self, |tx| {
            sqlx::query("update invoices set status = 'paid', paid_at = $2 where id = $1 and status = 'open'")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        });
        tracing::info!(invoice_id = id, "invoice paid");
        self.invoice(id, None).await
    }

    /// Whether agreement customers have ads in `month` not yet invoiced.
    pub async fn has_uninvoiced_agreement_ads(&self, month: NaiveDate) -> Result<bool> {
        let from = crate::validate::start_of_swedish_day(month);
        let next = month.checked_add_months(chrono::Months::new(1)).ok_or_else(|| {
            Error::invalid("month", "invalid_month", "Månaden ligger utanför det som går att fakturera.")
        })?;
        let to = crate::validate::start_of_swedish_day(next);
        let found: Option<i64> = read!(self, |pool| {
            sqlx::query_scalar(
                "select id from credit_ledger
                  where kind = 'billable' and invoice_id is null and created_at >= $1 and created_at < $2 limit 1",
            )
            .bind(from)
            .bind(to)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Invoices every agreement customer for the ads it published in
    /// `month` (its first day, months in Swedish time) and not yet
    /// invoiced: one line per ad published (once however often it went live) at `unit` (name, öre excluding
    /// VAT, VAT percent). The buyer's details are those of the
    /// organisation's latest approved order; an agreement customer without
    /// one is skipped and logged. Running it again for the same month
    /// issues nothing new. Returns the ids of the invoices issued.
    pub async fn invoice_agreements(
        &self,
        month: NaiveDate,
        unit: (&str, i64, i64),
        terms: &InvoiceTerms,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let now = ts(now);
        let from = crate::validate::start_of_swedish_day(month);
        let next = month.checked_add_months(chrono::Months::new(1)).ok_or_else(|| {
            Error::invalid("month", "invalid_month", "Månaden ligger utanför det som går att fakturera.")
        })?;
        let to = crate::validate::start_of_swedish_day(next);
        let period = month.format("%Y-%m").to_string();
        let seller_json = serde_json::to_string(&terms.seller).expect("a seller serializes");
        let due: Vec<(i64, String)> = read!(self, |pool| {
            sqlx::query_as(
                "select distinct e.id, e.organization_number from credit_ledger l join employers e on e.id = l.employer_id
                  where l.kind = 'billable' and l.invoice_id is null and l.created_at >= $1 and l.created_at < $2
                  order by e.id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        });
        let mut issued = Vec::new();
        for (employer_id, organization_number) in due {
            let last_order = read!(self, |pool| {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{} where organization_number = $1 and status = 'approved' order by id desc limit 1",
                    super::orders::ORDER_COLUMNS
                )))
                .bind(organization_number.as_str())
                .fetch_optional(pool)
                .await?
                .map(|r| super::orders::order_from_row(&r))
                .transpose()?
            });
            let Some(o) = last_order else {
                tracing::warn!(
                    employer_id,
                    "agreement customer has no invoice details (no approved order); not invoiced"
                );
                continue;
            };
            let buyer = Buyer {
                name: o.organization_name,
                organization_number: o.organization_number,
                street: o.street,
                postal_code: o.postal_code,
                city: o.city,
                peppol_scheme: o.peppol_scheme,
                peppol_id: o.peppol_id,
                reference: o.buyer_reference,
                order_number: None,
                email: o.invoice_email,
            };
            let id = write_tx!(self, |tx| {
                let rows: Vec<(i64, Option<i64>, String)> = sqlx::query_as(
                    "select l.id, l.job_id, coalesce(j.title, 'Annons') from credit_ledger l
                       left join job_ads j on j.id = l.job_id
                      where l.employer_id = $1 and l.kind = 'billable' and l.invoice_id is null
                        and l.created_at >= $2 and l.created_at < $3
                      order by l.id",
                )
                .bind(employer_id)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    None
                } else {
                    // One line per ad, however often it went live in the month.
                    let mut seen = std::collections::HashSet::new();
                    let lines: Vec<Line> = rows
                        .iter()
                        .filter(|(_, job, _)| job.is_none() || seen.insert(*job))
                        .map(|(_, _, title)| Line {
                            name: format!("{}: {title}", unit.0).chars().take(200).collect(),
                            quantity: 1,
                            unit_price_ore: unit.1,
                            vat_percent: unit.2,
                        })
                        .collect();
                    let (id, number) = issue!(
                        tx,
                        InvoiceKind::Invoice,
                        employer_id,
                        None::<i64>,
                        None::<i64>,
                        Some(period.as_str()),
                        &buyer,
                        terms,
                        seller_json.as_str(),
                        &lines,
                        now
                    );
                    for (ledger_id, ..) in &rows {
                        sqlx::query("update credit_ledger set invoice_id = $2 where id = $1")
                            .bind(ledger_id)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tracing::info!(employer_id, invoice_number = number, ads = rows.len(), %period, "agreement invoiced");
                    Some(id)
                }
            });
            issued.extend(id);
        }
        Ok(issued)
    }
}

/// The start of a calendar month named `YYYY-MM`.
pub fn parse_month(field: &str, raw: &str) -> std::result::Result<NaiveDate, crate::error::FieldError> {
    let raw = raw.trim();
    let shaped =
        raw.len() == 7 && raw.bytes().enumerate().all(|(i, b)| if i == 4 { b == b'-' } else { b.is_ascii_digit() });
    NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| shaped)
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            crate::error::FieldError::new(field, "invalid_month", "Ange en månad som ÅÅÅÅ-MM, t.ex. 2026-11.")
        })
}
