//! Invoicing: approving an order (credits, invoice, invitation), sending
//! invoices and credit notes through a Peppol access point, cancelling,
//! and the monthly invoices of agreement customers.
//!
//! **The Peppol seam.** Sending an e-invoice needs a contract with a Peppol
//! access point (Pagero, InExchange, Svefaktura's operators…), so Platsen
//! hands each document to an [`AccessPoint`]. The one implementation here,
//! [`FileAccessPoint`], writes the UBL files to a folder that an access
//! point's client (most offer an SFTP or folder pickup) sends on; without
//! one configured, documents stay in Platsen, downloadable by the operator.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use platsen_jobs::invoice::{Party, PeppolId, Seller};
use platsen_jobs::store::billing::{Approval, DEFAULT_DUE_DAYS, Invoice, InvoiceTerms};
use platsen_jobs::validate::today_in_sweden;

use crate::App;

/// Where invoices go once issued.
pub trait AccessPoint: Send + Sync + std::fmt::Debug {
    /// Hands over one document (`ubl` is its Peppol BIS Billing 3.0 XML).
    fn deliver<'a>(
        &'a self,
        invoice: &'a Invoice,
        ubl: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Writes each document to `<dir>/<number>.xml` (written to a temporary
/// name first and renamed, so a pickup never reads half a file).
#[derive(Debug, Clone)]
pub struct FileAccessPoint {
    pub dir: PathBuf,
}

impl AccessPoint for FileAccessPoint {
    fn deliver<'a>(
        &'a self,
        invoice: &'a Invoice,
        ubl: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            tokio::fs::create_dir_all(&self.dir).await.map_err(|e| e.to_string())?;
            let name = format!("{}.xml", invoice.number);
            let tmp = self.dir.join(format!(".{name}.tmp"));
            tokio::fs::write(&tmp, ubl).await.map_err(|e| e.to_string())?;
            tokio::fs::rename(&tmp, self.dir.join(&name)).await.map_err(|e| e.to_string())?;
            tracing::info!(invoice_number = invoice.number, dir = %self.dir.display(), "invoice written for the access point");
            Ok(())
        })
    }
}

/// The seller and how invoices are sent.
#[derive(Debug, Clone)]
pub struct Invoicing {
    pub seller: Seller,
    pub due_days: i64,
    /// `None`: documents stay in Platsen (downloaded by the operator).
    pub access_point: Option<Arc<dyn AccessPoint>>,
}

impl Default for Invoicing {
    /// The demo seller, 30 days, no access point.
    fn default() -> Self {
        Invoicing { seller: demo_seller(), due_days: DEFAULT_DUE_DAYS, access_point: None }
    }
}

/// The seller the demo board invoices as (its organisation number passes
/// the checksum; configure the real one with `PLATSEN_SELLER_*`).
pub fn demo_seller() -> Seller {
    seller("Platsen Media AB", "5560360793", "Sveavägen 1", "111 57", "Stockholm", "56781234")
}

/// A seller from its parts: the Peppol id is `0007:` and the organisation
/// number, the VAT number `SE` + the number + `01`, registered for F-tax.
pub fn seller(
    name: &str,
    organization_number: &str,
    street: &str,
    postal_code: &str,
    city: &str,
    bankgiro: &str,
) -> Seller {
    let number: String = organization_number.chars().filter(char::is_ascii_digit).collect();
    Seller {
        party: Party {
            name: name.to_owned(),
            organization_number: number.clone(),
            peppol_id: PeppolId { scheme: "0007".into(), id: number.clone() },
            street: street.to_owned(),
            postal_code: postal_code.to_owned(),
            city: city.to_owned(),
        },
        vat_number: format!("SE{number}01"),
        bankgiro: bankgiro.chars().filter(char::is_ascii_digit).collect(),
        f_tax: true,
    }
}

impl App {
    /// What goes on an invoice issued now.
    pub fn invoice_terms(&self) -> InvoiceTerms {
        InvoiceTerms {
            seller: self.invoicing.seller.clone(),
            due_days: self.invoicing.due_days,
            today: today_in_sweden(self.clock.now()),
        }
    }

    /// Approves an order: the credits and the invoice in one transaction,
    /// then the invitation (a new organisation's contact person chooses a
    /// password), the invoice to the access point, and a mail to the contact.
    pub async fn approve_order(&self, id: i64) -> platsen_jobs::Result<Approval> {
        let approval = self.store.approve_order(id, &self.invoice_terms(), self.clock.now()).await?;
        let o = &approval.order;
        if approval.new_employer {
            match self.invite(approval.employer_id, &o.contact_email).await {
                Ok(_) => {}
                // The address has an account already (another employer's):
                // the operator adds a user by hand.
                Err(e) => tracing::warn!(order_id = id, error = %e, "approved order: the contact was not invited"),
            }
        }
        let invoice = self.store.invoice(approval.invoice_id, None).await?;
        self.send_invoice(&invoice).await;
        let credits = o.ad_credits * o.quantity;
        let body = format!(
            "Hej {}!\n\nBeställning {} är godkänd: {} × {} ger {} {} att publicera{}, giltiga i {} dagar.\n\n{}\
             Fakturan (nummer {}) skickas som e-faktura till {}:{}, med en kopia till {}.\n\n/Platsen\n",
            o.contact_name,
            o.number(),
            o.quantity,
            o.product_name,
            credits,
            if credits == 1 { "annons" } else { "annonser" },
            if o.featured { " som utvalda" } else { "" },
            o.credit_valid_days,
            if approval.new_employer {
                "Ni får ett separat mejl med en länk där du väljer lösenord till ert konto.\n\n".to_owned()
            } else {
                format!("Annonserna finns på ert konto: {}\n\n", self.link("/konto"))
            },
            invoice.number,
            o.peppol_scheme,
            o.peppol_id,
            o.invoice_email,
        );
        let _ = self.mailer.send(&o.contact_email, &format!("Beställning {} är godkänd", o.number()), body).await;
        Ok(approval)
    }

    /// Hands an invoice or credit note to the access point, if there is one;
    /// a failure is logged and the document stays downloadable.
    pub async fn send_invoice(&self, invoice: &Invoice) {
        let Some(ap) = &self.invoicing.access_point else {
            tracing::info!(
                invoice_number = invoice.number,
                "no Peppol access point configured; invoice kept in Platsen"
            );
            return;
        };
        let ubl = invoice.document().to_ubl();
        if let Err(e) = ap.deliver(invoice, &ubl).await {
            tracing::error!(invoice_number = invoice.number, error = %e, "the access point did not take the invoice");
        }
    }

    /// Cancels an invoice with a credit note (sent like the invoice) and
    /// takes back its unused credits. Returns the credit note.
    pub async fn cancel_invoice(&self, id: i64) -> platsen_jobs::Result<Invoice> {
        let now = self.clock.now();
        let credit_note = self.store.cancel_invoice(id, today_in_sweden(now), now).await?;
        self.send_invoice(&credit_note).await;
        Ok(credit_note)
    }

    /// A month's invoices and credit notes (`month` its first day) as UBL
    /// files named by number and kind, in one zip, stored uncompressed.
    pub async fn invoice_archive(&self, month: NaiveDate) -> anyhow::Result<Vec<u8>> {
        use std::io::Write as _;
        let range = (month, month + chrono::Months::new(1));
        let invoices = self.store.invoices(None, Some(range), 100_000).await?;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for i in invoices.iter().rev() {
            w.start_file(format!("{}-{}.xml", i.number, i.kind.code()), options)?;
            w.write_all(i.document().to_ubl().as_bytes())?;
        }
        Ok(w.finish()?.into_inner())
    }

    /// Invoices agreement customers for the ads they published in `month`
    /// (its first day), each ad at the price of the cheapest standard
    /// single-ad product on offer. Running it again issues nothing new.
    pub async fn invoice_agreements(&self, month: NaiveDate) -> platsen_jobs::Result<Vec<Invoice>> {
        let products = self.store.products(false).await?;
        let Some(unit) = products.iter().find(|p| !p.featured && p.ad_credits == 1) else {
            // Nothing to price: not a problem (a board without agreement
            // customers has no products to speak of).
            if !self.store.has_uninvoiced_agreement_ads(month).await? {
                return Ok(Vec::new());
            }
            return Err(platsen_jobs::Error::conflict(
                "no_agreement_price",
                "Inget erbjudande med en standardannons finns att prissätta avtalskundernas annonser med.",
            ));
        };
        let ids = self
            .store
            .invoice_agreements(
                month,
                (unit.name.as_str(), unit.price_ore, unit.vat_percent),
                &self.invoice_terms(),
                self.clock.now(),
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let invoice = self.store.invoice(id, None).await?;
            self.send_invoice(&invoice).await;
            out.push(invoice);
        }
        Ok(out)
    }
}
