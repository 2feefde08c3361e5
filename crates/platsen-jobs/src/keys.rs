//! Employer API keys: `plk_<8 hex>_<64 hex>`.
//!
//! The first part (`plk_<8 hex>`) is the public prefix that identifies a key in
//! lists and logs. The whole key has 288 random bits, so a single SHA-256 is
//! the right hash (a slow password hash adds nothing against brute force of
//! that much entropy and would cost every request). Only the hash is stored.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const KEY_PREFIX: &str = "plk_";

/// A freshly generated key: the prefix to store and list, the secret to show
/// once, and the hash to store.
pub struct Generated {
    pub prefix: String,
    pub secret: String,
    pub hash: String,
}

pub fn generate() -> Generated {
    let mut id = [0u8; 4];
    let mut secret = [0u8; 32];
    let mut rng = rand::rng();
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let prefix = format!("{KEY_PREFIX}{}", hex::encode(id));
    let secret = format!("{prefix}_{}", hex::encode(secret));
    let hash = hash(&secret);
    Generated { prefix, secret, hash }
}

/// The stored form of a key.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The prefix of a presented key, if it has the shape of one of ours.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 8
        && secret.len() == 64
        && id.bytes().chain(secret.bytes()).all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    ok.then(|| &presented[..KEY_PREFIX.len() + 8])
}

/// Compares a presented key with a stored hash in constant time.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    hash(presented).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Compares two secrets (such as the admin token) in constant time, without
/// leaking their length through early exits.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (ha, hb) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    ha.ct_eq(&hb).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_verify_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(prefix_of(&a.secret), Some(a.prefix.as_str()));
        assert!(matches(&a.secret, &a.hash));
        assert!(!matches(&b.secret, &a.hash));
        assert!(!a.hash.contains(&a.secret[a.prefix.len() + 1..]));
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for bad in
            ["", "plk_", "plk_1234_abcd", "Bearer x", "plk_zzzzzzzz_00", &format!("plk_0000000g_{}", "0".repeat(64))]
        {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
