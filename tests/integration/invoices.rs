//! Every invoice and credit note Platsen writes passes the EN 16931 and
//! Peppol BIS Billing 3.0 rules, run by `../shared/tools/peppol-validate`
//! (Schematron with Saxon-HE): several lines, quantities above one, names
//! with `&`, `<`, quotes and å/ä/ö, a buyer under 0007 and one under 0088,
//! two VAT rates, and a credit note.

use chrono::NaiveDate;
use platsen_jobs::invoice::{Document, Kind, Line, Party, PeppolId, Seller};

fn seller() -> Seller {
    Seller {
        party: Party {
            name: "Platsen Media AB".into(),
            organization_number: "5560360793".into(),
            peppol_id: PeppolId { scheme: "0007".into(), id: "5560360793".into() },
            street: "Sveavägen 1".into(),
            postal_code: "11157".into(),
            city: "Stockholm".into(),
        },
        vat_number: "SE556036079301".into(),
        bankgiro: "56781234".into(),
        f_tax: true,
    }
}

/// A GLN with its GS1 check digit.
fn gln(first12: &str) -> String {
    let sum: u32 =
        first12.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

fn documents() -> Vec<(&'static str, Document)> {
    let nacka = Party {
        name: "Nacka kommun <Inköp & \"upphandling\"> åäö ÅÄÖ".into(),
        organization_number: "2120000167".into(),
        peppol_id: PeppolId { scheme: "0007".into(), id: "2120000167".into() },
        street: "Granitvägen 15 & 17".into(),
        postal_code: "13181".into(),
        city: "Nacka".into(),
    };
    let region = Party {
        name: "Region Östergötland".into(),
        organization_number: "2321000057".into(),
        peppol_id: PeppolId { scheme: "0088".into(), id: gln("735000000000") },
        street: "Box 1024".into(),
        postal_code: "58111".into(),
        city: "Linköping".into(),
    };
    let package = Document {
        number: "2026-000001".into(),
        kind: Kind::Invoice { due_date: day("2026-12-28") },
        issue_date: day("2026-11-28"),
        buyer_reference: "Anna Lind <HR> & \"rekrytering\"".into(),
        order_reference: Some("PO-4711/ä".into()),
        seller: seller(),
        buyer: nacka,
        lines: vec![
            Line {
                name: "Annonspaket 5 <fem> & \"mer\"".into(),
                quantity: 2,
                unit_price_ore: 1_990_000,
                vat_percent: 25,
            },
            Line { name: "Premiumannons".into(), quantity: 3, unit_price_ore: 890_033, vat_percent: 25 },
        ],
    };
    let mixed = Document {
        number: "2026-000002".into(),
        kind: Kind::Invoice { due_date: day("2026-12-28") },
        issue_date: day("2026-11-28"),
        buyer_reference: "1234".into(),
        order_reference: None,
        seller: seller(),
        buyer: region,
        lines: vec![
            Line { name: "Standardannons".into(), quantity: 1, unit_price_ore: 490_000, vat_percent: 25 },
            Line { name: "Lönestatistik, tryckt rapport".into(), quantity: 7, unit_price_ore: 33, vat_percent: 6 },
        ],
    };
    let credit = Document {
        number: "2026-000003".into(),
        kind: Kind::CreditNote { invoice_number: package.number.clone(), invoice_date: package.issue_date },
        issue_date: day("2026-11-30"),
        ..package.clone()
    };
    vec![("invoice-0007", package), ("invoice-0088", mixed), ("credit-note", credit)]
}

#[test]
fn every_invoice_and_credit_note_passes_peppol_validation() {
    let docs: Vec<(String, String)> = documents().into_iter().map(|(n, d)| (n.to_owned(), d.to_ubl())).collect();
    let Some((code, report)) = platsen_tests::peppol_validate(&docs) else { return };
    assert_eq!(code, Some(0), "peppol-validate refused Platsen's documents:\n{report}");
}

#[test]
fn a_document_that_breaks_a_rule_is_refused_by_the_validator() {
    // The check can fail: without a buyer reference (Peppol R003) it does.
    let (_, mut doc) = documents().remove(0);
    doc.buyer_reference = String::new();
    doc.order_reference = None;
    let xml = doc.to_ubl().replace("<cbc:BuyerReference></cbc:BuyerReference>\n", "");
    let Some((code, report)) = platsen_tests::peppol_validate(&[("broken".into(), xml)]) else { return };
    assert_eq!(code, Some(1), "{report}");
}
