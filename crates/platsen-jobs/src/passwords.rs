//! Passwords of web users: argon2id (the `argon2` crate's defaults, OWASP's
//! recommended 19 MiB, 2 passes, 1 lane) in PHC string format, so the
//! parameters travel with each hash and can be raised later.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::FieldError;

/// Shortest and longest password accepted, in characters.
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// The password rule: length only (NIST SP 800-63B), no composition rules.
pub fn check(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(FieldError::new(field, "too_short", format!("Lösenordet måste ha minst {MIN_LEN} tecken.")));
    }
    if n > MAX_LEN {
        return Err(FieldError::new(field, "too_long", format!("Lösenordet får ha högst {MAX_LEN} tecken.")));
    }
    if password.chars().any(char::is_control) {
        return Err(FieldError::new(field, "invalid_characters", "Lösenordet får inte innehålla styrtecken."));
    }
    Ok(())
}

/// Hashes a password (slow on purpose; call it off the async threads).
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

/// Whether `password` matches a stored hash (constant time in the argon2 crate).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody has, verified against when an address is
/// unknown so that a sign-in takes as long whether or not the account exists.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&hex::encode(rand::random::<[u8; 16]>())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_are_salted_and_argon2id() {
        let a = hash("correct horse battery");
        let b = hash("correct horse battery");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn the_rule_is_length_only() {
        assert_eq!(check("password", "kort").unwrap_err().code, "too_short");
        assert_eq!(check("password", &"x".repeat(129)).unwrap_err().code, "too_long");
        assert_eq!(check("password", "tolv tecken\u{0}x").unwrap_err().code, "invalid_characters");
        assert!(check("password", "åäö åäö åäö å").is_ok());
    }
}
