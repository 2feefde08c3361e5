//! Ordering ads: a buyer's order (the page and the API share it), its
//! confirmation mail, and the operator's rejection with a reason mailed to
//! the contact person. A client address may place five orders, then one
//! every ten minutes; a refused order stores nothing.

use std::time::Duration;

use platsen_jobs::input::OrderInput;
use platsen_jobs::store::orders::Order;

use crate::App;
use crate::limits::PerClient;

/// Orders a client address may place: five, then one every ten minutes.
pub fn order_limit() -> PerClient {
    PerClient::new(5, Duration::from_secs(600))
}

/// Why an order was not taken.
#[derive(Debug)]
pub enum OrderRefusal {
    /// Fields are wrong, or the store failed.
    Store(platsen_jobs::Error),
    /// This client placed too many orders just now.
    TooMany,
}

impl From<platsen_jobs::Error> for OrderRefusal {
    fn from(e: platsen_jobs::Error) -> Self {
        OrderRefusal::Store(e)
    }
}

/// Kronor with a space between thousands and two decimals when there are
/// öre: "4 900 kr", "1 234,50 kr".
pub fn kronor(ore: i64) -> String {
    let kr = platsen_salary::format::thousands(ore / 100);
    match ore % 100 {
        0 => format!("{kr} kr"),
        o => format!("{kr},{o:02} kr"),
    }
}

impl App {
    /// Takes an order and mails its confirmation to the contact person.
    pub async fn place_order(
        &self,
        client: Option<std::net::IpAddr>,
        input: OrderInput,
    ) -> Result<Order, OrderRefusal> {
        // Every rule first: a wrong form costs no attempt.
        input.clone().validate()?;
        if !self.order_limit.allow(client) {
            tracing::warn!(client = ?client, "order refused: too many from one address");
            return Err(OrderRefusal::TooMany);
        }
        let order = self.store.create_order(input, self.clock.now()).await?;
        let body = format!(
            "Hej {}!\n\nTack för er beställning på Platsen. Vi har tagit emot den och återkommer när den är \
             godkänd.\n\nBeställning: {}\nProdukt: {} × {}\nPris: {} exkl. moms\nOrganisation: {} ({})\n\
             Er referens: {}\nFakturan skickas som e-faktura till {}:{}.\n\n/Platsen\n",
            order.contact_name,
            order.number(),
            order.quantity,
            order.product_name,
            kronor(order.net_ore()),
            order.organization_name,
            order.organization_number,
            order.buyer_reference,
            order.peppol_scheme,
            order.peppol_id,
        );
        // A failed mail is logged by the mailer; the order stands.
        let _ =
            self.mailer.send(&order.contact_email, &format!("Beställning {} på Platsen", order.number()), body).await;
        Ok(order)
    }

    /// Rejects a pending order and tells the contact person why.
    pub async fn reject_order(&self, id: i64, reason: &str) -> platsen_jobs::Result<Order> {
        let order = self.store.reject_order(id, reason, self.clock.now()).await?;
        let body = format!(
            "Hej {}!\n\nVi kan tyvärr inte godkänna beställning {} ({} × {}). Förklaringen:\n\n{}\n\n\
             Hör av er om ni har frågor.\n\n/Platsen\n",
            order.contact_name,
            order.number(),
            order.quantity,
            order.product_name,
            order.rejection_reason.as_deref().unwrap_or_default(),
        );
        let _ = self
            .mailer
            .send(&order.contact_email, &format!("Beställning {} godkändes inte", order.number()), body)
            .await;
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kronor_read_as_swedes_write_them() {
        assert_eq!(super::kronor(490_000), "4 900 kr");
        assert_eq!(super::kronor(123_450), "1 234,50 kr");
        assert_eq!(super::kronor(5), "0,05 kr");
    }
}
