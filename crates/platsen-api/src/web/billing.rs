//! Orders and invoices in `/konto`: the operator's `/konto/ordrar` (new
//! orders first; approve, or reject with a reason mailed to the contact
//! person; invoices with their documents, marked paid or cancelled with a
//! credit note; a month's UBL files in one archive), and each invoice as a
//! printable page and as UBL for the operator and the invoiced employer;
//! and the products of the offer (`/konto/produkter`: add one, retire one).

use askama::Template;
use platsen_app::orders::kronor;
use platsen_jobs::store::billing::{Invoice, InvoiceKind, InvoiceStatus};
use platsen_jobs::store::orders::{Order, OrderStatus};
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, Route, handler};

use crate::http::allow::{get, post};
use serde::Deserialize;

use super::admin::{AdminHead, admin_post, admin_session, head, not_found, when};
use crate::AppState;
use crate::http::page::{html, unavailable};
use crate::http::session::{layout, private, read_form, see_other, session};

pub(super) fn mount(route: Route) -> Route {
    route
        .at("/konto/ordrar", get(orders_page))
        .at("/konto/ordrar/:id", post(decide))
        .at("/konto/fakturor/arkiv", get(archive))
        .at("/konto/fakturor/:id", get(invoice_page).post(invoice_action))
        .at("/konto/fakturor/:id/xml", get(invoice_xml))
        .at("/konto/produkter", get(products_page).post(create_product))
        .at("/konto/produkter/:id/utga", post(retire_product))
}

struct OrderRow {
    id: i64,
    number: String,
    pending: bool,
    status: String,
    organization: String,
    product: String,
    net: String,
    contact: String,
    peppol: String,
    reference: String,
    created: String,
    reason: Option<String>,
    invoice_id: Option<i64>,
}

impl From<Order> for OrderRow {
    fn from(o: Order) -> Self {
        OrderRow {
            id: o.id,
            number: o.number(),
            pending: o.status == OrderStatus::Pending,
            status: o.status.name_sv().to_owned(),
            organization: format!("{} ({})", o.organization_name, o.organization_number),
            product: format!("{} × {}", o.quantity, o.product_name),
            net: kronor(o.net_ore()),
            contact: format!("{}, {}, {}", o.contact_name, o.contact_email, o.contact_phone),
            peppol: format!("{}:{}", o.peppol_scheme, o.peppol_id),
            reference: o.buyer_reference.clone(),
            created: when(o.created_at),
            reason: o.rejection_reason,
            invoice_id: o.invoice_id,
        }
    }
}

/// An invoice in a list.
pub(super) struct InvoiceRow {
    pub(super) id: i64,
    pub(super) number: i64,
    pub(super) kind: String,
    pub(super) status: String,
    pub(super) open: bool,
    pub(super) is_invoice: bool,
    pub(super) buyer: String,
    pub(super) issued: String,
    pub(super) due: String,
    pub(super) total: String,
}

impl From<&Invoice> for InvoiceRow {
    fn from(i: &Invoice) -> Self {
        InvoiceRow {
            id: i.id,
            number: i.number,
            kind: i.kind.name_sv().to_owned(),
            status: match i.kind {
                InvoiceKind::CreditNote => "Kreditfaktura".to_owned(),
                InvoiceKind::Invoice => i.status.name_sv().to_owned(),
            },
            open: i.kind == InvoiceKind::Invoice && i.status == InvoiceStatus::Open,
            is_invoice: i.kind == InvoiceKind::Invoice && i.status != InvoiceStatus::Cancelled,
            buyer: i.buyer.name.clone(),
            issued: i.issue_date.to_string(),
            due: i.due_date.to_string(),
            total: kronor(i.total_ore),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_orders.html")]
struct OrdersPage {
    layout: crate::http::page::Layout,
    head: AdminHead,
    orders: Vec<OrderRow>,
    invoices: Vec<InvoiceRow>,
    month: String,
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    klart: Option<String>,
}

fn notice_of(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "godkand" => "Beställningen är godkänd: annonserna är tilldelade och fakturan är skapad.",
            "avslagen" => "Beställningen är avslagen, och kontaktpersonen har fått förklaringen.",
            "betald" => "Fakturan är markerad som betald.",
            "krediterad" => "Fakturan är krediterad, och oanvända annonser är återtagna.",
            "redan" => "Det gick inte: beställningen eller fakturan är redan avgjord.",
            "orsak" => "Skriv en förklaring (minst tre tecken) till avslaget.",
            _ => return None,
        }
        .to_owned(),
    )
}

#[handler]
async fn orders_page(state: Data<&AppState>, req: &Request, params: Query<Notice>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let (orders, invoices) =
        match tokio::try_join!(state.app.store.orders(200), state.app.store.invoices(None, None, 200)) {
            Ok(x) => x,
            Err(e) => return unavailable(e),
        };
    let today = platsen_jobs::validate::today_in_sweden(state.app.clock.now());
    let page = OrdersPage {
        layout: layout("Beställningar och fakturor"),
        head: head(&s, "ordrar", notice_of(params.klart.as_deref())),
        orders: orders.into_iter().map(Into::into).collect(),
        invoices: invoices.iter().map(Into::into).collect(),
        month: today.format("%Y-%m").to_string(),
    };
    private(html(StatusCode::OK, &page), None)
}

#[derive(Debug, Default, Deserialize)]
struct DecideForm {
    csrf: Option<String>,
    action: Option<String>,
    reason: Option<String>,
}

/// Approves or rejects an order.
#[handler]
async fn decide(state: Data<&AppState>, req: &Request, id: Path<i64>, body: Body) -> Response {
    let form: DecideForm = try_page!(read_form(body).await);
    try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let result = match form.action.as_deref() {
        Some("godkann") => state.app.approve_order(id.0).await.map(|_| "godkand"),
        Some("avsla") => {
            state.app.reject_order(id.0, form.reason.as_deref().unwrap_or_default()).await.map(|_| "avslagen")
        }
        _ => return not_found(),
    };
    match result {
        Ok(done) => see_other(&format!("/konto/ordrar?klart={done}")),
        Err(platsen_jobs::Error::Conflict { .. }) => see_other("/konto/ordrar?klart=redan"),
        Err(platsen_jobs::Error::Invalid(_)) => see_other("/konto/ordrar?klart=orsak"),
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// The invoice a signed-in user may see: the operator any, an employer's
/// user its own; anyone else is told it does not exist.
async fn readable_invoice(state: &AppState, req: &Request, id: i64) -> Result<(Invoice, bool), Response> {
    let Some(s) = session(state, req).await? else {
        return Err(see_other("/konto"));
    };
    let scope = if s.user.is_admin { None } else { Some(s.user.employer_id.ok_or_else(not_found)?) };
    match state.app.store.invoice(id, scope).await {
        Ok(i) => Ok((i, s.user.is_admin)),
        Err(platsen_jobs::Error::NotFound) => Err(not_found()),
        Err(e) => Err(unavailable(e)),
    }
}

struct LineRow {
    name: String,
    quantity: i64,
    unit: String,
    vat: i64,
    net: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    layout: crate::http::page::Layout,
    csrf: String,
    is_admin: bool,
    id: i64,
    heading: String,
    credits: Option<String>,
    number: i64,
    status: String,
    open: bool,
    is_invoice: bool,
    issued: String,
    due: String,
    seller_name: String,
    seller_address: String,
    seller_numbers: String,
    bankgiro: String,
    buyer_name: String,
    buyer_address: String,
    buyer_numbers: String,
    reference: String,
    order_number: Option<String>,
    lines: Vec<LineRow>,
    net: String,
    vat: Vec<(i64, String)>,
    total: String,
}

/// The printable invoice.
#[handler]
async fn invoice_page(state: Data<&AppState>, req: &Request, id: Path<i64>) -> Response {
    let (i, is_admin) = try_page!(readable_invoice(&state, req, id.0).await);
    let csrf = match session(&state, req).await {
        Ok(Some(s)) => s.csrf,
        _ => String::new(),
    };
    let doc = i.document();
    let totals = doc.totals();
    let seller = &i.seller;
    let page = InvoicePage {
        layout: layout(&format!("{} {}", i.kind.name_sv(), i.number)),
        csrf,
        is_admin,
        id: i.id,
        heading: i.kind.name_sv().to_owned(),
        credits: i.credits.map(|(_, number, date)| format!("Krediterar faktura {number} av {date}.")),
        number: i.number,
        status: i.status.name_sv().to_owned(),
        open: i.kind == InvoiceKind::Invoice && i.status == InvoiceStatus::Open,
        is_invoice: i.kind == InvoiceKind::Invoice && i.status != InvoiceStatus::Cancelled,
        issued: i.issue_date.to_string(),
        due: i.due_date.to_string(),
        seller_name: seller.party.name.clone(),
        seller_address: format!("{}, {} {}", seller.party.street, seller.party.postal_code, seller.party.city),
        seller_numbers: format!(
            "Org.nr {} · Momsreg.nr {}{}",
            seller.party.organization_number,
            seller.vat_number,
            if seller.f_tax { " · Godkänd för F-skatt" } else { "" }
        ),
        bankgiro: seller.bankgiro.clone(),
        buyer_name: i.buyer.name.clone(),
        buyer_address: format!("{}, {} {}", i.buyer.street, i.buyer.postal_code, i.buyer.city),
        buyer_numbers: format!(
            "Org.nr {} · Peppol {}:{}",
            i.buyer.organization_number, i.buyer.peppol_scheme, i.buyer.peppol_id
        ),
        reference: i.buyer.reference.clone(),
        order_number: i.buyer.order_number.clone(),
        lines: i
            .lines
            .iter()
            .map(|l| LineRow {
                name: l.name.clone(),
                quantity: l.quantity,
                unit: kronor(l.unit_price_ore),
                vat: l.vat_percent,
                net: kronor(l.net_ore()),
            })
            .collect(),
        net: kronor(totals.net_ore),
        vat: totals.vat.iter().map(|v| (v.percent, kronor(v.vat_ore))).collect(),
        total: kronor(totals.gross_ore),
    };
    private(html(StatusCode::OK, &page), None)
}

/// The invoice as Peppol BIS Billing 3.0 UBL, downloaded.
#[handler]
async fn invoice_xml(state: Data<&AppState>, req: &Request, id: Path<i64>) -> Response {
    let (i, _) = try_page!(readable_invoice(&state, req, id.0).await);
    let name = format!("platsen-{}-{}.xml", i.kind.code(), i.number);
    private(
        Response::builder()
            .content_type("application/xml; charset=utf-8")
            .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
            .body(i.document().to_ubl()),
        None,
    )
}

#[derive(Debug, Default, Deserialize)]
struct InvoiceForm {
    csrf: Option<String>,
    action: Option<String>,
}

/// The operator marks an invoice paid or cancels it with a credit note.
#[handler]
async fn invoice_action(state: Data<&AppState>, req: &Request, id: Path<i64>, body: Body) -> Response {
    let form: InvoiceForm = try_page!(read_form(body).await);
    try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let result = match form.action.as_deref() {
        Some("betald") => state.app.store.mark_invoice_paid(id.0, state.app.clock.now()).await.map(|_| "betald"),
        Some("kreditera") => state.app.cancel_invoice(id.0).await.map(|_| "krediterad"),
        _ => return not_found(),
    };
    match result {
        Ok(done) => see_other(&format!("/konto/ordrar?klart={done}")),
        Err(platsen_jobs::Error::Conflict { .. }) => see_other("/konto/ordrar?klart=redan"),
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ArchiveParams {
    manad: Option<String>,
}

/// A month's invoices and credit notes as UBL files in one zip.
#[handler]
async fn archive(state: Data<&AppState>, req: &Request, params: Query<ArchiveParams>) -> Response {
    try_page!(admin_session(&state, req).await);
    let Ok(month) = platsen_jobs::store::billing::parse_month("manad", params.manad.as_deref().unwrap_or_default())
    else {
        return private(
            crate::http::page::message(StatusCode::BAD_REQUEST, "Ogiltig månad", "Ange månaden som ÅÅÅÅ-MM."),
            None,
        );
    };
    match state.app.invoice_archive(month).await {
        Ok(zip) => private(
            Response::builder()
                .content_type("application/zip")
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"platsen-fakturor-{}.zip\"", month.format("%Y-%m")),
                )
                .body(zip),
            None,
        ),
        Err(e) => unavailable(e),
    }
}

// ----- products -------------------------------------------------------------

struct ProductRow {
    id: i64,
    name: String,
    price: String,
    vat: i64,
    gives: String,
    retired: bool,
}

/// The product form as posted: text, so anything typed comes back.
#[derive(Debug, Default, Clone, Deserialize)]
struct ProductForm {
    csrf: Option<String>,
    name: Option<String>,
    description: Option<String>,
    /// Kronor excluding VAT, as people write them: "4 900" or "4900,50".
    price: Option<String>,
    vat_percent: Option<String>,
    ad_credits: Option<String>,
    ad_days: Option<String>,
    featured: Option<String>,
    credit_valid_days: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_products.html")]
struct ProductsPage {
    layout: crate::http::page::Layout,
    head: AdminHead,
    rows: Vec<ProductRow>,
    form: ProductForm,
    errors: std::collections::HashMap<String, String>,
}

impl ProductsPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    /// The text fields: name, label, hint and what was typed.
    fn text_fields(&self) -> Vec<(&'static str, &'static str, &'static str, String)> {
        let f = &self.form;
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("name", "Namn", "", v(&f.name)),
            ("description", "Beskrivning", "", v(&f.description)),
            ("price", "Pris exklusive moms, kronor", "T.ex. 4 900", v(&f.price)),
            ("ad_credits", "Annonser per styck", "1–100", v(&f.ad_credits)),
            ("ad_days", "Dagar varje annons visas", "Högst 60", v(&f.ad_days)),
            ("credit_valid_days", "Dagar annonserna kan användas", "T.ex. 365", v(&f.credit_valid_days)),
        ]
    }

    /// The Swedish VAT rates, and whether each is chosen.
    fn vat_rates(&self) -> Vec<(&'static str, bool)> {
        ["25", "12", "6"].into_iter().map(|r| (r, self.form.vat_percent.as_deref() == Some(r))).collect()
    }
}

/// Kronor as typed ("4 900", "4900,50", "4900.5") in öre.
fn ore_of(raw: &str) -> Option<i64> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    let compact = compact.trim_end_matches("kr").replace(',', ".");
    let (whole, frac) = compact.split_once('.').unwrap_or((&compact, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let kr: i64 = whole.parse().ok()?;
    let ore: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    kr.checked_mul(100)?.checked_add(ore)
}

async fn products_page_with(
    state: &AppState,
    s: &platsen_jobs::store::Session,
    status: StatusCode,
    form: ProductForm,
    errors: std::collections::HashMap<String, String>,
    notice: Option<String>,
) -> Response {
    let products = match state.app.store.products(true).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let rows = products
        .iter()
        .map(|p| ProductRow {
            id: p.id,
            name: p.name.clone(),
            price: kronor(p.price_ore),
            vat: p.vat_percent,
            gives: format!(
                "{} {} i {} dagar{}, giltiga {} dagar",
                p.ad_credits,
                if p.ad_credits == 1 { "annons" } else { "annonser" },
                p.ad_days,
                if p.featured { ", utvalda" } else { "" },
                p.credit_valid_days
            ),
            retired: p.retired_at.is_some(),
        })
        .collect();
    let page = ProductsPage { layout: layout("Produkter"), head: head(s, "produkter", notice), rows, form, errors };
    private(html(status, &page), None)
}

#[handler]
async fn products_page(state: Data<&AppState>, req: &Request, params: Query<Notice>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let notice = match params.klart.as_deref() {
        Some("skapad") => Some("Produkten är skapad och erbjuds nu på /platsannonsera.".to_owned()),
        Some("utgangen") => Some("Produkten erbjuds inte längre; gjorda beställningar påverkas inte.".to_owned()),
        _ => None,
    };
    let form = ProductForm { vat_percent: Some("25".into()), ..Default::default() };
    products_page_with(&state, &s, StatusCode::OK, form, Default::default(), notice).await
}

/// Adds a product to the offer.
#[handler]
async fn create_product(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: ProductForm = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let mut errors = std::collections::HashMap::new();
    let mut number = |field: &str, raw: &Option<String>| -> Option<i64> {
        let raw = raw.as_deref().map(str::trim).filter(|r| !r.is_empty())?;
        match raw.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.insert(field.to_owned(), "Ange ett heltal.".to_owned());
                None
            }
        }
    };
    let vat_percent = number("vat_percent", &form.vat_percent);
    let ad_credits = number("ad_credits", &form.ad_credits);
    let ad_days = number("ad_days", &form.ad_days);
    let credit_valid_days = number("credit_valid_days", &form.credit_valid_days);
    let price_ore = match form.price.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => ore_of(p).or_else(|| {
            errors.insert("price".into(), "Ange priset i kronor, t.ex. 4 900 eller 4 900,50.".into());
            None
        }),
        None => None,
    };
    let input = platsen_jobs::input::ProductInput {
        name: form.name.clone(),
        description: form.description.clone(),
        price_ore,
        vat_percent,
        ad_credits,
        ad_days,
        featured: Some(form.featured.is_some()),
        credit_valid_days,
    };
    let result = if errors.is_empty() {
        state.app.store.create_product(input, state.app.clock.now()).await
    } else {
        // The numbers' errors, plus every rule the rest breaks.
        match input.validate() {
            Err(platsen_jobs::Error::Invalid(more)) => Err(platsen_jobs::Error::Invalid(more)),
            _ => Err(platsen_jobs::Error::Invalid(Vec::new())),
        }
    };
    match result {
        Ok(p) => {
            tracing::info!(user_id = s.user.id, product_id = p.id, "product created on the admin page");
            see_other("/konto/produkter?klart=skapad")
        }
        Err(platsen_jobs::Error::Invalid(more)) => {
            for e in more {
                let field = if e.field == "price_ore" { "price".to_owned() } else { e.field.clone() };
                errors.entry(field).or_insert(e.message);
            }
            products_page_with(&state, &s, StatusCode::UNPROCESSABLE_ENTITY, form, errors, None).await
        }
        Err(e) => unavailable(e),
    }
}

/// Takes a product out of the offer.
#[handler]
async fn retire_product(state: Data<&AppState>, req: &Request, id: Path<i64>, body: Body) -> Response {
    let form: crate::http::session::CsrfOnly = try_page!(read_form(body).await);
    try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    match state.app.store.retire_product(id.0, state.app.clock.now()).await {
        Ok(_) => see_other("/konto/produkter?klart=utgangen"),
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kronor_are_read_as_people_write_them() {
        assert_eq!(super::ore_of("4 900"), Some(490_000));
        assert_eq!(super::ore_of("4900,50"), Some(490_050));
        assert_eq!(super::ore_of("4900.5"), Some(490_050));
        assert_eq!(super::ore_of("4 900 kr"), Some(490_000));
        for bad in ["", "fyra", "-5", "1,234", "1.2.3", "99999999999999999999"] {
            assert_eq!(super::ore_of(bad), None, "{bad}");
        }
    }
}
