//! Outgoing requests to addresses integrators give (webhooks): which
//! addresses may be reached, the checked URL, the client that delivers, and
//! the signature.
//!
//! **Server-side request forgery.** A webhook URL must not point into the
//! operator's network: its host must resolve only to public addresses, when
//! it is registered and again at every delivery (the resolver refuses the
//! rest, so a DNS answer that changes later does not help), and redirects are
//! not followed. [`Policy::AllowPrivate`] (`PLATSEN_WEBHOOK_ALLOW_PRIVATE=1`)
//! lifts this for development and tests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use platsen_jobs::FieldError;
use sha2::Sha256;

/// Where outgoing requests may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Only public addresses (production).
    PublicOnly,
    /// Loopback, private and link-local addresses too (development, tests).
    AllowPrivate,
}

impl Policy {
    fn allow_private(self) -> bool {
        self == Policy::AllowPrivate
    }
}

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, documentation, benchmarking or
/// otherwise reserved. An IPv6 address must be global unicast (2000::/3),
/// and where it carries an IPv4 address (IPv4-mapped and -translated,
/// NAT64, 6to4, Teredo) that address must be public too; the local-use
/// NAT64 prefix (64:ff9b:1::/48, RFC 8215) leads into someone's own
/// network and is refused whole.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn v4_of(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn is_public_v6(v6: std::net::Ipv6Addr) -> bool {
    let s = v6.segments();
    // IPv4-mapped (::ffff:0:0/96) and IPv4-translated (::ffff:0:0:0/96, RFC 2765).
    if (s[0..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff) || (s[0..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0) {
        return is_public_v4(v4_of(s[6], s[7]));
    }
    // NAT64, the well-known prefix (64:ff9b::/96, RFC 6052).
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(v4_of(s[6], s[7]));
    }
    // Local-use NAT64 (64:ff9b:1::/48, RFC 8215): a translator inside some
    // operator's network, whatever address it carries.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return false;
    }
    // Only global unicast from here on; that leaves out ::/8 (loopback,
    // unspecified, IPv4-compatible), 100::/64 (discard), fc00::/7,
    // fe80::/10, fec0::/10 and ff00::/8, among others.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 6to4 (2002::/16): the IPv4 address of the relay's other end.
    if s[0] == 0x2002 {
        return is_public_v4(v4_of(s[1], s[2]));
    }
    // Teredo (2001::/32): the server's IPv4 address and the client's (inverted).
    if s[0] == 0x2001 && s[1] == 0 {
        return is_public_v4(v4_of(s[2], s[3])) && is_public_v4(v4_of(!s[6], !s[7]));
    }
    !((s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] & 0xfff0) == 0x3ff0 // documentation (3fff::/20, RFC 9637)
        || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0) // benchmarking (2001:2::/48)
        || (s[0] == 0x2001 && (0x0010..0x0030).contains(&s[1]))) // ORCHID and ORCHIDv2 (2001:10::/28, 2001:20::/28)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Checks a webhook URL as typed: http(s), a host, no credentials in it,
/// at most 2000 characters, and (unless allowed) only public addresses.
pub async fn check_url(raw: &str, policy: Policy) -> Result<url::Url, FieldError> {
    let bad = |code: &'static str, msg: &str| FieldError::new("url", code, msg);
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(bad("too_long", "Högst 2 000 tecken."));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| bad("invalid_url", "Ange en fullständig adress, som https://ats.example.se/platsen."))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("invalid_url", "Bara http och https."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("invalid_url", "Ingen inloggning i adressen; kontrollera signaturen i stället."));
    }
    let Some(host) = url.host_str().map(str::to_owned) else {
        return Err(bad("invalid_url", "Adressen saknar värd."));
    };
    if policy.allow_private() {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await {
        Ok(a) => a.collect(),
        Err(_) => return Err(bad("unresolvable_host", "Värden gick inte att slå upp.")),
    };
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(bad(
            "private_address",
            "Adressen pekar på ett internt, privat eller lokalt nät; webhooks går bara till publika adresser.",
        ));
    }
    Ok(url)
}

/// A resolver that hands reqwest only public addresses (DNS rebinding: a
/// name that was public at registration may not turn private later).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The `Platsen-Signature` header's value for a body sent at `at`.
pub fn signature(secret: &str, at: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The client deliveries go through: no redirects, a timeout, and unless
/// allowed, only public addresses.
pub fn client(policy: Policy) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("Platsen-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !policy.allow_private() {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b.build().expect("the webhook client builds")
}

/// reqwest does not resolve an IP literal, so the resolver never sees it:
/// refuse a literal non-public address here.
pub fn literal_refused(raw: &str, policy: Policy) -> Option<String> {
    if policy.allow_private() {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then(|| format!("{ip} is not a public address"))
}

/// An error without the URL's secrets (reqwest's text includes the URL).
pub fn error_text(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "::127.0.0.1",
            // Prefixes that carry an IPv4 address, with a private one inside.
            "64:ff9b:1::7f00:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::1",
            "::ffff:0:7f00:1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:a00:1::1",                      // Teredo, server 10.0.0.1
            // Not global unicast, or reserved inside it.
            "100::1",
            "5f00::1",
            "3fff::1",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450:4001:80b::200e",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        let sig = signature("whsec_test", 1_764_000_000, b"{\"a\":1}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1764000000.{\"a\":1}");
        assert_eq!(sig, format!("t=1764000000,v1={}", hex::encode(mac.finalize().into_bytes())));
        assert_ne!(sig, signature("whsec_other", 1_764_000_000, b"{\"a\":1}"));
        assert_ne!(sig, signature("whsec_test", 1_764_000_001, b"{\"a\":1}"));
    }

    #[test]
    fn literal_private_targets_are_refused_at_delivery() {
        assert!(literal_refused("http://127.0.0.1:9/x", Policy::PublicOnly).is_some());
        assert!(literal_refused("http://[::1]/x", Policy::PublicOnly).is_some());
        assert!(literal_refused("http://169.254.169.254/latest/meta-data", Policy::PublicOnly).is_some());
        assert!(literal_refused("http://127.0.0.1:9/x", Policy::AllowPrivate).is_none());
        assert!(literal_refused("https://example.org/x", Policy::PublicOnly).is_none());
    }
}
