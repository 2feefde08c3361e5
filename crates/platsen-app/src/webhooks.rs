//! Webhooks: the change stream pushed to an integrator's URL.
//!
//! An employer's key (its own ads) or the operator's token (every ad)
//! registers a URL and gets a signing secret once. A worker then POSTs each
//! batch of new changes, the same JSON as `/api/v1/stream`, signed:
//!
//! ```text
//! Platsen-Signature: t=1764000000,v1=<hex HMAC-SHA256(secret, "1764000000." + body)>
//! Platsen-Delivery: <webhook id>-<first position>-<last position>
//! ```
//!
//! A receiver checks the HMAC over the timestamp and the raw body, and
//! refuses a timestamp more than five minutes off (replay). A batch is
//! retried with backoff until the receiver answers 2xx; the cursor moves only
//! then, so a receiver gets every change at least once, in order, and can
//! drop a repeated `Platsen-Delivery`.
//!
//! Where a webhook may point is [`crate::outgoing`]'s. The JSON of a change
//! is the API's (the same as the stream's), so the worker is given the
//! function that writes it ([`ChangesJson`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use platsen_jobs::store::{Change, DueWebhook, WebhookOutcome};

use crate::App;
use crate::outgoing::{client, error_text, literal_refused, signature};

/// Changes per delivery.
const BATCH: u32 = 100;

/// Writes a batch of changes as the stream's JSON objects.
pub type ChangesJson = Arc<dyn Fn(Vec<Change>) -> Vec<serde_json::Value> + Send + Sync>;

impl App {
    /// Delivers due webhooks until `stopped` changes: every second, up to
    /// four at a time.
    pub async fn run_webhooks(self, changes_json: ChangesJson, mut stopped: tokio::sync::watch::Receiver<bool>) {
        let client = client(self.outgoing);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let due = match self.store.lease_due_webhooks(self.clock.now(), 4).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "reading due webhooks failed");
                    continue;
                }
            };
            let deliveries = due.into_iter().map(|w| self.deliver(&client, &changes_json, w));
            futures_util::future::join_all(deliveries).await;
        }
    }

    /// One batch to one webhook, recorded whatever happens.
    async fn deliver(&self, client: &reqwest::Client, changes_json: &ChangesJson, w: DueWebhook) {
        let page = match self.store.webhook_changes(&w, BATCH).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(webhook_id = w.id, error = %e, "reading a webhook's changes failed");
                return;
            }
        };
        let (Some(first), Some(last)) = (page.changes.first(), page.changes.last()) else { return };
        let (first, last, n) = (first.position, last.position, page.changes.len() as i64);
        let body = serde_json::json!({
            "webhook_id": w.id,
            "changes": changes_json(page.changes),
            "next_cursor": page.cursor.to_string(),
            "has_more": page.more,
        })
        .to_string();
        let now = self.clock.now();
        let started = Instant::now();
        let sent = match literal_refused(&w.url, self.outgoing) {
            Some(refusal) => Err(refusal),
            None => client
                .post(&w.url)
                .header("content-type", "application/json")
                .header("platsen-signature", signature(&w.secret, now.timestamp(), body.as_bytes()))
                .header("platsen-delivery", format!("{}-{first}-{last}", w.id))
                .header("platsen-webhook-id", w.id.to_string())
                .body(body)
                .send()
                .await
                .map_err(|e| error_text(&e)),
        };
        let outcome = WebhookOutcome {
            first_position: first,
            last_position: last,
            changes: n,
            status_code: sent.as_ref().ok().map(|r| r.status().as_u16()),
            error: sent.as_ref().err().cloned(),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        let counted = if outcome.succeeded() { "delivered" } else { "failed" };
        crate::metrics::Metrics::count(&self.metrics.webhooks, counted);
        if outcome.succeeded() {
            tracing::info!(webhook_id = w.id, changes = n, status = outcome.status_code, "webhook delivered");
        } else {
            tracing::warn!(
                webhook_id = w.id,
                attempt = w.attempts + 1,
                status = outcome.status_code,
                error = outcome.error.as_deref(),
                "webhook delivery failed"
            );
        }
        if let Err(e) = self.store.record_webhook_delivery(&w, &outcome, self.clock.now()).await {
            tracing::error!(webhook_id = w.id, error = %e, "recording a webhook delivery failed");
        }
    }
}
