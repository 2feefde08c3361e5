//! Limits per client address on what costs others something (a mail, an
//! order to review): a burst, then one per period.

use std::time::Duration;

/// At most `burst` at once per client address, then one per `period`.
pub struct PerClient(governor::DefaultKeyedRateLimiter<std::net::IpAddr>);

impl PerClient {
    pub fn new(burst: u32, period: Duration) -> PerClient {
        let burst = std::num::NonZeroU32::new(burst).expect("a burst of at least one");
        let quota = governor::Quota::with_period(period).expect("a period above zero").allow_burst(burst);
        PerClient(governor::RateLimiter::keyed(quota))
    }

    /// Whether `client` may go ahead now (counts it). A request without a
    /// known address is not limited here (the HTTP layer's limit still is).
    pub fn allow(&self, client: Option<std::net::IpAddr>) -> bool {
        let Some(ip) = client else { return true };
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_none_until_the_period_passes() {
        let limit = PerClient::new(2, Duration::from_secs(600));
        let (a, b) = (Some("192.0.2.1".parse().unwrap()), Some("192.0.2.2".parse().unwrap()));
        assert!(limit.allow(a) && limit.allow(a));
        assert!(!limit.allow(a), "the third at once is refused");
        assert!(limit.allow(b), "another address has its own");
        assert!(limit.allow(None));
    }
}
