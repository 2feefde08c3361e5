//! The JSON API under `/api`: one `#[OpenApi]` impl per resource, the
//! wire types, the bearer-token scheme and the OpenAPI documentation page.
//! Handlers parse, call the application (`platsen_app::App`) or the store,
//! and map the answer to the wire; they never call a page.

pub mod admin;
pub mod alerts;
pub mod billing;
pub mod codes;
pub mod docs;
pub mod employers;
pub mod fast_json;
pub mod jobs;
pub mod orders;
pub mod products;
pub mod salary;
pub mod stream;
pub mod webhooks;
pub mod wire;

use poem_openapi::Tags;

use crate::AppState;

#[derive(Tags)]
pub(crate) enum Tag {
    /// Job ads: public reads, and employers managing their own.
    Jobs,
    /// Employers and their public pages.
    Employers,
    /// Operator tasks: employers, keys and review.
    Admin,
    /// Lönestatistik: salary statistics, charts and the salary calculator.
    Salaries,
    /// Platsannonsera: the products employers order, and their orders.
    Products,
}

pub type Apis = (
    jobs::JobsApi,
    employers::EmployersApi,
    admin::AdminApi,
    salary::SalaryApi,
    stream::StreamApi,
    webhooks::WebhooksApi,
    alerts::AlertsApi,
    products::ProductsApi,
    orders::OrdersApi,
    billing::BillingApi,
);

pub fn apis(state: AppState) -> Apis {
    (
        jobs::JobsApi { state: state.clone() },
        employers::EmployersApi { state: state.clone() },
        admin::AdminApi { state: state.clone() },
        salary::SalaryApi { state: state.clone() },
        stream::StreamApi { state: state.clone() },
        webhooks::WebhooksApi { state: state.clone() },
        alerts::AlertsApi { state: state.clone() },
        products::ProductsApi { state: state.clone() },
        orders::OrdersApi { state: state.clone() },
        billing::BillingApi { state },
    )
}
