//! `/platsannonsera`: what an ad on Platsen gives (the board's figures,
//! read live), the products and their prices, the terms, and the order
//! form. No account is needed; a signed-in employer's user finds the form
//! filled in from the account. The form is protected against bots by a
//! honeypot field, a CSRF token and a per-address limit (the API's), with
//! no third-party captcha; every field error is shown next to its field,
//! with what was typed kept, and a refused order stores nothing.

use askama::Template;
use platsen_app::orders::{OrderRefusal, kronor};
use platsen_jobs::FieldError;
use platsen_jobs::input::OrderInput;
use platsen_jobs::store::BoardFigures;
use platsen_jobs::store::products::Product;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, Request, Response, handler};
use serde::Deserialize;

use crate::AppState;
use crate::http::page::{Layout, html, unavailable};
use crate::http::session::{anonymous_csrf, anonymous_csrf_ok, csrf_refused, private, read_form, see_other, session};

/// One field of the order form.
struct Field {
    /// The form's (and the API's) name, e.g. `invoice_address.street`.
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    hint: Option<&'static str>,
    required: bool,
    value: String,
    error: Option<String>,
}

impl Field {
    /// The element id: the name with `.` as `-`.
    fn id(&self) -> String {
        self.name.replace('.', "-")
    }

    fn described_by(&self) -> String {
        let id = self.id();
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{id}-hint"));
        }
        if self.error.is_some() {
            ids.push(format!("{id}-error"));
        }
        ids.join(" ")
    }
}

struct FieldSet {
    legend: &'static str,
    fields: Vec<Field>,
}

struct ProductItem {
    id: i64,
    name: String,
    description: String,
    price: String,
    gives: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    layout: Layout,
    csrf: String,
    open_ads: String,
    searches: String,
    views: String,
    alerts: String,
    products: Vec<ProductItem>,
    fieldsets: Vec<FieldSet>,
    quantity: String,
    quantity_error: Option<String>,
    product_error: Option<String>,
    terms_error: Option<String>,
    accepted: bool,
    /// Every error, in the order of the form, for the summary at the top.
    summary: Vec<(String, String)>,
    notice: Option<String>,
}

/// The form as posted: text throughout, so anything typed comes back.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct OrderForm {
    csrf: Option<String>,
    /// The honeypot: hidden from people, filled in by bots.
    webbplats: Option<String>,
    organization_name: Option<String>,
    organization_number: Option<String>,
    #[serde(rename = "invoice_address.street")]
    street: Option<String>,
    #[serde(rename = "invoice_address.postal_code")]
    postal_code: Option<String>,
    #[serde(rename = "invoice_address.city")]
    city: Option<String>,
    peppol_id: Option<String>,
    buyer_reference: Option<String>,
    order_number: Option<String>,
    invoice_email: Option<String>,
    #[serde(rename = "contact.name")]
    contact_name: Option<String>,
    #[serde(rename = "contact.email")]
    contact_email: Option<String>,
    #[serde(rename = "contact.phone")]
    contact_phone: Option<String>,
    product_id: Option<String>,
    quantity: Option<String>,
    accept_terms: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl OrderForm {
    /// The order, and what the form itself finds wrong (a number that is
    /// not a number).
    fn input(&self) -> (OrderInput, Vec<FieldError>) {
        let mut own = Vec::new();
        let number = |field: &'static str, raw: &Option<String>, own: &mut Vec<FieldError>| -> Option<i64> {
            let raw = opt(raw)?;
            match raw.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    own.push(FieldError::new(field, "invalid_number", "Ange ett heltal."));
                    None
                }
            }
        };
        let product_id = number("product_id", &self.product_id, &mut own);
        let quantity = number("quantity", &self.quantity, &mut own);
        let input = OrderInput {
            organization_name: self.organization_name.clone(),
            organization_number: self.organization_number.clone(),
            street: self.street.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            peppol_id: opt(&self.peppol_id),
            buyer_reference: self.buyer_reference.clone(),
            order_number: opt(&self.order_number),
            invoice_email: self.invoice_email.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            contact_phone: self.contact_phone.clone(),
            product_id,
            quantity,
            accept_terms: Some(self.accept_terms.is_some()),
        };
        (input, own)
    }
}

/// Swedish thousands: "12 345".
fn figure(n: i64) -> String {
    platsen_salary::format::thousands(n)
}

/// What one unit of a product gives, in Swedish.
fn gives(p: &Product) -> String {
    let ads = match p.ad_credits {
        1 => "1 annons".to_owned(),
        n => format!("{n} annonser"),
    };
    let featured = if p.featured { ", utvald" } else { "" };
    format!("{ads}{featured} som visas i upp till {} dagar; att använda inom {} dagar", p.ad_days, p.credit_valid_days)
}

struct Render<'a> {
    form: &'a OrderForm,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

async fn offer_page(state: &AppState, req: &Request, status: StatusCode, r: Render<'_>) -> Response {
    let now = state.app.clock.now();
    // What is still being summed in memory counts too.
    state.app.write_counts().await;
    let (figures, products): (BoardFigures, Vec<Product>) =
        match tokio::try_join!(state.app.store.board_figures(now), state.app.store.products(false)) {
            Ok(x) => x,
            Err(e) => return unavailable(e),
        };
    let error = |name: &str| r.errors.iter().find(|e| e.field == name).map(|e| e.message.clone());
    let f = r.form;
    let field = |name: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 autocomplete: &'static str,
                 hint: Option<&'static str>,
                 required: bool,
                 value: &Option<String>| Field {
        name,
        label,
        kind,
        autocomplete,
        hint,
        required,
        value: value.clone().unwrap_or_default(),
        error: error(name),
    };
    let fieldsets = vec![
        FieldSet {
            legend: "Organisation",
            fields: vec![
                field(
                    "organization_name",
                    "Organisationens namn",
                    "text",
                    "organization",
                    None,
                    true,
                    &f.organization_name,
                ),
                field(
                    "organization_number",
                    "Organisationsnummer",
                    "text",
                    "off",
                    Some("NNNNNN-NNNN"),
                    true,
                    &f.organization_number,
                ),
            ],
        },
        FieldSet {
            legend: "Faktura",
            fields: vec![
                field("invoice_address.street", "Fakturaadress", "text", "street-address", None, true, &f.street),
                field("invoice_address.postal_code", "Postnummer", "text", "postal-code", None, true, &f.postal_code),
                field("invoice_address.city", "Ort", "text", "address-level2", None, true, &f.city),
                field(
                    "peppol_id",
                    "Peppol-id för e-faktura",
                    "text",
                    "off",
                    Some("Lämna tomt för 0007: och organisationsnumret, eller ange 0088: och ert GLN."),
                    false,
                    &f.peppol_id,
                ),
                field(
                    "buyer_reference",
                    "Er referens",
                    "text",
                    "off",
                    Some("Den som ska ta emot fakturan hos er, eller er referenskod."),
                    true,
                    &f.buyer_reference,
                ),
                field("order_number", "Ert ordernummer", "text", "off", None, false, &f.order_number),
                field("invoice_email", "E-post för fakturakopior", "email", "email", None, true, &f.invoice_email),
            ],
        },
        FieldSet {
            legend: "Kontaktperson",
            fields: vec![
                field("contact.name", "Namn", "text", "name", None, true, &f.contact_name),
                field("contact.email", "E-post", "email", "email", None, true, &f.contact_email),
                field("contact.phone", "Telefon", "tel", "tel", None, true, &f.contact_phone),
            ],
        },
    ];
    let chosen = f.product_id.as_deref().and_then(|p| p.trim().parse::<i64>().ok());
    let products: Vec<ProductItem> = products
        .iter()
        .map(|p| ProductItem {
            id: p.id,
            name: p.name.clone(),
            description: p.description.clone(),
            price: kronor(p.price_ore),
            gives: gives(p),
            selected: chosen == Some(p.id),
        })
        .collect();
    let order = [
        "organization_name",
        "organization_number",
        "invoice_address.street",
        "invoice_address.postal_code",
        "invoice_address.city",
        "peppol_id",
        "buyer_reference",
        "order_number",
        "invoice_email",
        "contact.name",
        "contact.email",
        "contact.phone",
        "product_id",
        "quantity",
        "accept_terms",
    ];
    let mut summary: Vec<(String, String)> = Vec::new();
    for name in order {
        if let Some(m) = error(name) {
            summary.push((name.replace('.', "-"), m));
        }
    }
    for e in &r.errors {
        if !order.contains(&e.field.as_str()) {
            summary.push(("order".into(), e.message.clone()));
        }
    }
    let (csrf, set) = anonymous_csrf(state, req);
    let mut layout = Layout::new("Platsannonsera");
    layout.description = Some(
        "Annonsera lediga jobb inom upphandling och inköp på Platsen: priser, villkor och beställning.".to_owned(),
    );
    let page = OfferPage {
        layout,
        csrf,
        open_ads: figure(figures.open_ads),
        searches: figure(figures.searches_30_days),
        views: figure(figures.views_30_days),
        alerts: figure(figures.confirmed_alerts),
        products,
        fieldsets,
        quantity: f.quantity.clone().unwrap_or_else(|| "1".into()),
        quantity_error: error("quantity"),
        product_error: error("product_id"),
        terms_error: error("accept_terms"),
        accepted: f.accept_terms.is_some(),
        summary,
        notice: r.notice,
    };
    private(html(status, &page), set)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OfferParams {
    produkt: Option<String>,
}

/// The offer and the order form; a signed-in employer's user finds it
/// filled in from the account.
#[handler]
pub(crate) async fn offer(state: Data<&AppState>, req: &Request, params: Query<OfferParams>) -> Response {
    let mut form = OrderForm { product_id: params.0.produkt.clone(), ..Default::default() };
    if let Ok(Some(s)) = session(&state, req).await
        && let Some(employer_id) = s.user.employer_id
    {
        form.contact_email = Some(s.user.email.clone());
        if let Ok(e) = state.app.store.employer(&platsen_jobs::IdOrSlug::Id(employer_id), state.app.clock.now()).await {
            form.organization_name = Some(e.name);
            form.organization_number = Some(e.organization_number);
        }
    }
    offer_page(&state, req, StatusCode::OK, Render { form: &form, errors: Vec::new(), notice: None }).await
}

/// Takes an order from the form.
#[handler]
pub(crate) async fn place_order(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: OrderForm = try_page!(read_form(body).await);
    if !anonymous_csrf_ok(req, form.csrf.as_deref()) {
        tracing::warn!("order form posted without a valid CSRF token");
        return csrf_refused();
    }
    if form.webbplats.as_deref().is_some_and(|w| !w.is_empty()) {
        tracing::warn!("order form refused: the honeypot field was filled in");
        let notice = Some("Beställningen kunde inte tas emot. Försök igen, eller mejla oss.".to_owned());
        return offer_page(&state, req, StatusCode::BAD_REQUEST, Render { form: &form, errors: Vec::new(), notice })
            .await;
    }
    let (input, own) = form.input();
    let client = crate::http::client::client_ip(req);
    let result = if own.is_empty() {
        state.app.place_order(client, input).await
    } else {
        // The number errors, plus every rule the rest breaks.
        let mut errors = own;
        if let Err(platsen_jobs::Error::Invalid(more)) = input.validate() {
            let named: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
            errors.extend(more.into_iter().filter(|e| !named.contains(&e.field)));
        }
        Err(OrderRefusal::Store(platsen_jobs::Error::Invalid(errors)))
    };
    match result {
        Ok(order) => see_other(&format!("/platsannonsera/tack?bestallning={}", order.number())),
        Err(OrderRefusal::Store(platsen_jobs::Error::Invalid(errors))) => {
            offer_page(&state, req, StatusCode::UNPROCESSABLE_ENTITY, Render { form: &form, errors, notice: None })
                .await
        }
        Err(OrderRefusal::TooMany) => {
            let notice =
                Some("För många beställningar från er adress just nu. Vänta tio minuter och försök igen.".into());
            let mut r = offer_page(
                &state,
                req,
                StatusCode::TOO_MANY_REQUESTS,
                Render { form: &form, errors: Vec::new(), notice },
            )
            .await;
            r.headers_mut().insert(poem::http::header::RETRY_AFTER, "600".parse().expect("header"));
            r
        }
        Err(OrderRefusal::Store(e)) => unavailable(e),
    }
}

#[derive(Template)]
#[template(path = "offer_thanks.html")]
struct ThanksPage {
    layout: Layout,
    number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ThanksParams {
    bestallning: Option<String>,
}

/// After an order: its number, and what happens next.
#[handler]
pub(crate) async fn thanks(params: Query<ThanksParams>) -> Response {
    // Only a number of the form B-000042 is repeated back.
    let number = params.0.bestallning.filter(|n| {
        n.len() <= 20 && n.strip_prefix("B-").is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    });
    let mut layout = Layout::new("Tack för er beställning");
    layout.noindex = true;
    html(StatusCode::OK, &ThanksPage { layout, number })
}
