//! Who the client is, behind a load balancer.
//!
//! Per-client limits (requests per second, sign-in failures, alert and order
//! confirmations) key on the client's address. Behind HAProxy the socket's
//! peer is the proxy, so the address is taken from `X-Forwarded-For`, but
//! only when the peer is one of the proxies the operator trusts
//! (`PLATSEN_TRUSTED_PROXIES`): anyone else could write that header. The
//! address is the right-most entry that is not itself a trusted proxy (the
//! entries to its left were written by the client and prove nothing).

use std::net::IpAddr;
use std::sync::Arc;

pub use ipnet::IpNet;
use poem::{Endpoint, Middleware, Request, Result};

/// The client's address as [`ClientAddress`] worked it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address of a request: from [`ClientAddress`], or the
/// socket's peer where that middleware is not in the chain.
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.data::<ClientIp>().map(|c| c.0).or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()))
}

/// Parses `PLATSEN_TRUSTED_PROXIES`: addresses or networks, separated by
/// commas (`127.0.0.1, 10.0.0.0/8, ::1`).
pub fn parse_trusted(list: &str) -> std::result::Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} är varken en adress eller ett nät (t.ex. 10.0.0.0/8)"))
        })
        .collect()
}

/// Sets [`ClientIp`] on every request.
#[derive(Clone, Debug, Default)]
pub struct ClientAddress {
    trusted: Arc<Vec<IpNet>>,
}

impl ClientAddress {
    pub fn new(trusted: Vec<IpNet>) -> Self {
        ClientAddress { trusted: Arc::new(trusted) }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values.
    fn resolve<'a>(&self, peer: IpAddr, forwarded: impl DoubleEndedIterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for entry in forwarded.rev() {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(client) {
                        break;
                    }
                }
                // Garbage: what lies further left cannot be believed either.
                Err(_) => break,
            }
        }
        client
    }
}

impl<E: Endpoint> Middleware<E> for ClientAddress {
    type Output = ClientAddressEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ClientAddressEndpoint { inner: ep, config: self.clone() }
    }
}

pub struct ClientAddressEndpoint<E> {
    inner: E,
    config: ClientAddress,
}

impl<E: Endpoint> Endpoint for ClientAddressEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        if let Some(peer) = req.remote_addr().as_socket_addr().map(|a| a.ip()) {
            let client = if self.config.trusted.is_empty() {
                peer
            } else {
                let values: Vec<&str> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .collect();
                self.config.resolve(peer, values.into_iter())
            };
            req.set_data(ClientIp(client));
        }
        self.inner.call(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let c = ClientAddress::new(parse_trusted("10.0.0.0/8, 127.0.0.1").unwrap());
        // A stranger's header is ignored.
        assert_eq!(c.resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter()), ip("203.0.113.9"));
        // The proxy's last entry is the client.
        assert_eq!(c.resolve(ip("127.0.0.1"), ["198.51.100.7"].into_iter()), ip("198.51.100.7"));
        // A forged entry to the left of the real one is not believed.
        assert_eq!(c.resolve(ip("127.0.0.1"), ["1.1.1.1", "198.51.100.7"].into_iter()), ip("198.51.100.7"));
        // Chained trusted proxies are skipped.
        assert_eq!(c.resolve(ip("127.0.0.1"), ["198.51.100.7", "10.1.2.3"].into_iter()), ip("198.51.100.7"));
        // Garbage stops the walk at the last address that could be believed.
        assert_eq!(c.resolve(ip("127.0.0.1"), ["198.51.100.7", "nonsense"].into_iter()), ip("127.0.0.1"));
        assert_eq!(c.resolve(ip("127.0.0.1"), std::iter::empty()), ip("127.0.0.1"));
        // IPv4 mapped into IPv6 is the same address.
        assert_eq!(c.resolve(ip("::ffff:127.0.0.1"), ["2001:db8::1"].into_iter()), ip("2001:db8::1"));
    }

    #[test]
    fn the_setting_refuses_garbage_naming_it() {
        assert!(parse_trusted("").unwrap().is_empty());
        assert_eq!(parse_trusted(" ::1 ,192.168.0.0/16").unwrap().len(), 2);
        for bad in ["localhost", "10.0.0.0/33", "1.2.3", "127.0.0.1;"] {
            let e = parse_trusted(bad).unwrap_err();
            assert!(e.contains(bad.trim()), "{e}");
        }
    }
}
