//! Invoices and credit notes as Swedish public-sector buyers must be able
//! to receive them (lag 2018:1277): Peppol BIS Billing 3.0, UBL 2.1.
//!
//! Amounts are whole öre throughout; VAT is computed per rate on the sum
//! of the lines at that rate and rounded half up to whole öre, as EN 16931
//! computes it (BT-117 = BT-116 × rate), so the document's totals always
//! add up. A credit note carries positive amounts and refers to the
//! invoice it credits.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::search::escape_html as xml;

/// A Peppol participant: a scheme and an identifier in it (`0007` a
/// Swedish organisation number, `0088` a GLN).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeppolId {
    pub scheme: String,
    pub id: String,
}

/// A party's name, identifiers and address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Party {
    pub name: String,
    /// Ten digits, no dash.
    pub organization_number: String,
    pub peppol_id: PeppolId,
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

/// The seller: a party with a VAT number and where to pay.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seller {
    pub party: Party,
    /// `SE` + the organisation number + `01`.
    pub vat_number: String,
    /// The bankgiro number, digits only.
    pub bankgiro: String,
    /// Registered for F-tax (stated on the invoice as Swedish law asks).
    pub f_tax: bool,
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What is sold, as the buyer reads it.
    pub name: String,
    pub quantity: i64,
    /// Excluding VAT.
    pub unit_price_ore: i64,
    /// 25, 12 or 6.
    pub vat_percent: i64,
}

impl Line {
    pub fn net_ore(&self) -> i64 {
        self.quantity * self.unit_price_ore
    }
}

/// An invoice, or a credit note of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Invoice {
        due_date: NaiveDate,
    },
    /// Credits the invoice with this number, issued that day.
    CreditNote {
        invoice_number: String,
        invoice_date: NaiveDate,
    },
}

/// A document to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub number: String,
    pub kind: Kind,
    pub issue_date: NaiveDate,
    /// The buyer's reference (*Er referens*, BT-10; Peppol rule R003).
    pub buyer_reference: String,
    /// The buyer's order number, if it gave one (BT-13).
    pub order_reference: Option<String>,
    pub seller: Seller,
    pub buyer: Party,
    pub lines: Vec<Line>,
}

/// The VAT of one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatBreakdown {
    pub percent: i64,
    pub taxable_ore: i64,
    pub vat_ore: i64,
}

/// A document's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub net_ore: i64,
    pub vat: Vec<VatBreakdown>,
    pub vat_ore: i64,
    pub gross_ore: i64,
}

/// `part × percent / 100`, rounded half up (amounts are never negative).
fn percent_of(ore: i64, percent: i64) -> i64 {
    (ore * percent + 50).div_euclid(100)
}

impl Document {
    pub fn totals(&self) -> Totals {
        let mut by_rate: BTreeMap<i64, i64> = BTreeMap::new();
        for l in &self.lines {
            *by_rate.entry(l.vat_percent).or_default() += l.net_ore();
        }
        let vat: Vec<VatBreakdown> = by_rate
            .into_iter()
            .rev()
            .map(|(percent, taxable_ore)| VatBreakdown {
                percent,
                taxable_ore,
                vat_ore: percent_of(taxable_ore, percent),
            })
            .collect();
        let net_ore = self.lines.iter().map(Line::net_ore).sum();
        let vat_ore = vat.iter().map(|v| v.vat_ore).sum();
        Totals { net_ore, vat, vat_ore, gross_ore: net_ore + vat_ore }
    }

    /// The document in UBL 2.1, Peppol BIS Billing 3.0.
    pub fn to_ubl(&self) -> String {
        let (root, type_code_tag, type_code, line_tag, quantity_tag) = match self.kind {
            Kind::Invoice { .. } => ("Invoice", "InvoiceTypeCode", "380", "InvoiceLine", "InvoicedQuantity"),
            Kind::CreditNote { .. } => {
                ("CreditNote", "CreditNoteTypeCode", "381", "CreditNoteLine", "CreditedQuantity")
            }
        };
        let totals = self.totals();
        let mut x = String::with_capacity(8 * 1024);
        let _ = writeln!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} \
             xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\n\
             <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>\n\
             <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>\n\
             <cbc:ID>{}</cbc:ID>\n<cbc:IssueDate>{}</cbc:IssueDate>",
            xml(&self.number),
            self.issue_date,
        );
        if let Kind::Invoice { due_date } = self.kind {
            let _ = writeln!(x, "<cbc:DueDate>{due_date}</cbc:DueDate>");
        }
        let _ = writeln!(
            x,
            "<cbc:{type_code_tag}>{type_code}</cbc:{type_code_tag}>\n<cbc:DocumentCurrencyCode>SEK</cbc:DocumentCurrencyCode>\n\
             <cbc:BuyerReference>{}</cbc:BuyerReference>",
            xml(&self.buyer_reference)
        );
        if let Some(order) = &self.order_reference {
            let _ = writeln!(x, "<cac:OrderReference><cbc:ID>{}</cbc:ID></cac:OrderReference>", xml(order));
        }
        if let Kind::CreditNote { invoice_number, invoice_date } = &self.kind {
            let _ = writeln!(
                x,
                "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID>\
                 <cbc:IssueDate>{invoice_date}</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>",
                xml(invoice_number)
            );
        }
        self.write_seller(&mut x);
        self.write_buyer(&mut x);
        let _ = writeln!(
            x,
            "<cac:PaymentMeans><cbc:PaymentMeansCode name=\"Credit transfer\">30</cbc:PaymentMeansCode>\
             <cbc:PaymentID>{}</cbc:PaymentID><cac:PayeeFinancialAccount><cbc:ID>{}</cbc:ID>\
             <cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>\
             </cac:PayeeFinancialAccount></cac:PaymentMeans>",
            xml(&self.number),
            xml(&self.seller.bankgiro)
        );
        if let Kind::Invoice { due_date } = self.kind {
            let days = (due_date - self.issue_date).num_days();
            let _ = writeln!(x, "<cac:PaymentTerms><cbc:Note>{days} dagar netto</cbc:Note></cac:PaymentTerms>");
        }
        let _ = write!(x, "<cac:TaxTotal><cbc:TaxAmount currencyID=\"SEK\">{}</cbc:TaxAmount>", amount(totals.vat_ore));
        for v in &totals.vat {
            let _ = write!(
                x,
                "<cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"SEK\">{}</cbc:TaxableAmount>\
                 <cbc:TaxAmount currencyID=\"SEK\">{}</cbc:TaxAmount>{}</cac:TaxSubtotal>",
                amount(v.taxable_ore),
                amount(v.vat_ore),
                tax_category("TaxCategory", v.percent),
            );
        }
        let _ = writeln!(
            x,
            "</cac:TaxTotal>\n<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID=\"SEK\">{net}</cbc:LineExtensionAmount>\
             <cbc:TaxExclusiveAmount currencyID=\"SEK\">{net}</cbc:TaxExclusiveAmount>\
             <cbc:TaxInclusiveAmount currencyID=\"SEK\">{gross}</cbc:TaxInclusiveAmount>\
             <cbc:PayableAmount currencyID=\"SEK\">{gross}</cbc:PayableAmount></cac:LegalMonetaryTotal>",
            net = amount(totals.net_ore),
            gross = amount(totals.gross_ore),
        );
        for (i, l) in self.lines.iter().enumerate() {
            let _ = writeln!(
                x,
                "<cac:{line_tag}><cbc:ID>{}</cbc:ID><cbc:{quantity_tag} unitCode=\"C62\">{}</cbc:{quantity_tag}>\
                 <cbc:LineExtensionAmount currencyID=\"SEK\">{}</cbc:LineExtensionAmount>\
                 <cac:Item><cbc:Name>{}</cbc:Name>{}</cac:Item>\
                 <cac:Price><cbc:PriceAmount currencyID=\"SEK\">{}</cbc:PriceAmount></cac:Price></cac:{line_tag}>",
                i + 1,
                l.quantity,
                amount(l.net_ore()),
                xml(&l.name),
                tax_category("ClassifiedTaxCategory", l.vat_percent),
                amount(l.unit_price_ore),
            );
        }
        let _ = writeln!(x, "</{root}>");
        x
    }

    fn write_seller(&self, x: &mut String) {
        let s = &self.seller;
        let p = &s.party;
        let _ = write!(
            x,
            "<cac:AccountingSupplierParty><cac:Party>{}<cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName>{}\
             <cac:PartyTaxScheme><cbc:CompanyID>{}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
            endpoint(&p.peppol_id),
            xml(&p.name),
            address(p),
            xml(&s.vat_number),
        );
        if s.f_tax {
            x.push_str(
                "<cac:PartyTaxScheme><cbc:CompanyID>Godkänd för F-skatt</cbc:CompanyID>\
                 <cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
            );
        }
        let _ = writeln!(
            x,
            "<cac:PartyLegalEntity><cbc:RegistrationName>{}</cbc:RegistrationName><cbc:CompanyID>{}</cbc:CompanyID>\
             </cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>",
            xml(&p.name),
            xml(&p.organization_number),
        );
    }

    fn write_buyer(&self, x: &mut String) {
        let p = &self.buyer;
        let _ = writeln!(
            x,
            "<cac:AccountingCustomerParty><cac:Party>{}<cac:PartyName><cbc:Name>{}</cbc:Name></cac:PartyName>{}\
             <cac:PartyLegalEntity><cbc:RegistrationName>{}</cbc:RegistrationName>\
             <cbc:CompanyID schemeID=\"0007\">{}</cbc:CompanyID></cac:PartyLegalEntity>\
             </cac:Party></cac:AccountingCustomerParty>",
            endpoint(&p.peppol_id),
            xml(&p.name),
            address(p),
            xml(&p.name),
            xml(&p.organization_number),
        );
    }
}

/// öre as the decimal kronor UBL wants: `1234.50`.
fn amount(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", ore.abs() / 100, ore.abs() % 100)
}

fn endpoint(id: &PeppolId) -> String {
    format!("<cbc:EndpointID schemeID=\"{}\">{}</cbc:EndpointID>", xml(&id.scheme), xml(&id.id))
}

fn address(p: &Party) -> String {
    format!(
        "<cac:PostalAddress><cbc:StreetName>{}</cbc:StreetName><cbc:CityName>{}</cbc:CityName>\
         <cbc:PostalZone>{}</cbc:PostalZone><cac:Country><cbc:IdentificationCode>SE</cbc:IdentificationCode>\
         </cac:Country></cac:PostalAddress>",
        xml(&p.street),
        xml(&p.city),
        xml(&p.postal_code),
    )
}

/// Standard rated (`S`): Platsen sells at 25, 12 or 6 %.
fn tax_category(tag: &str, percent: i64) -> String {
    format!(
        "<cac:{tag}><cbc:ID>S</cbc:ID><cbc:Percent>{percent}</cbc:Percent>\
         <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_kronor_with_two_decimals() {
        assert_eq!(amount(0), "0.00");
        assert_eq!(amount(5), "0.05");
        assert_eq!(amount(490_000), "4900.00");
        assert_eq!(amount(123_456_789), "1234567.89");
    }

    #[test]
    fn vat_is_per_rate_on_the_sum_and_rounded_half_up() {
        let line =
            |quantity, unit_price_ore, vat_percent| Line { name: "x".into(), quantity, unit_price_ore, vat_percent };
        let d = |lines| Document {
            number: "1".into(),
            kind: Kind::Invoice { due_date: NaiveDate::from_ymd_opt(2026, 12, 28).unwrap() },
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            buyer_reference: "r".into(),
            order_reference: None,
            seller: crate::invoice::tests::seller(),
            buyer: crate::invoice::tests::seller().party,
            lines,
        };
        // 3 × 0.33 kr at 25 %: 0.99 kr, VAT 0.2475 → 0.25 kr (not 3 × 0.08).
        let t = d(vec![line(3, 33, 25)]).totals();
        assert_eq!((t.net_ore, t.vat_ore, t.gross_ore), (99, 25, 124));
        let t = d(vec![line(2, 490_000, 25), line(1, 10_001, 6), line(1, 1_000, 25)]).totals();
        assert_eq!(
            t.vat,
            vec![
                VatBreakdown { percent: 25, taxable_ore: 981_000, vat_ore: 245_250 },
                VatBreakdown { percent: 6, taxable_ore: 10_001, vat_ore: 600 },
            ]
        );
        assert_eq!(t.gross_ore, 991_001 + 245_850);
    }

    pub(super) fn seller() -> Seller {
        Seller {
            party: Party {
                name: "Platsen AB".into(),
                organization_number: "5560360793".into(),
                peppol_id: PeppolId { scheme: "0007".into(), id: "5560360793".into() },
                street: "Storgatan 1".into(),
                postal_code: "11122".into(),
                city: "Stockholm".into(),
            },
            vat_number: "SE556036079301".into(),
            bankgiro: "56781234".into(),
            f_tax: true,
        }
    }

    #[test]
    fn text_is_escaped_and_the_credit_note_refers_to_its_invoice() {
        let mut buyer = seller().party;
        buyer.name = "Kommun <&> \"Å\"".into();
        let doc = Document {
            number: "2026-0001".into(),
            kind: Kind::CreditNote {
                invoice_number: "2026-0000".into(),
                invoice_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            },
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            buyer_reference: "Anna & Co".into(),
            order_reference: Some("<PO-1>".into()),
            seller: seller(),
            buyer,
            lines: vec![Line { name: "Standardannons".into(), quantity: 1, unit_price_ore: 490_000, vat_percent: 25 }],
        };
        let ubl = doc.to_ubl();
        assert!(ubl.contains("<cbc:Name>Kommun &lt;&amp;&gt; &quot;Å&quot;</cbc:Name>"), "{ubl}");
        assert!(ubl.contains("<cbc:BuyerReference>Anna &amp; Co</cbc:BuyerReference>"));
        assert!(ubl.contains("<cac:OrderReference><cbc:ID>&lt;PO-1&gt;</cbc:ID></cac:OrderReference>"));
        assert!(ubl.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
        assert!(ubl.contains("<cac:InvoiceDocumentReference><cbc:ID>2026-0000</cbc:ID>"));
        assert!(!ubl.contains("DueDate"));
    }
}
