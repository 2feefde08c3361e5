//! How amounts are shown: rounded to 100 kr, thousands separated by a space.

/// Rounds to the nearest 100 kr (halves away from zero), as every published
/// amount is.
pub fn round_100(amount: f64) -> i64 {
    ((amount / 100.0).round() * 100.0) as i64
}

/// `45 300` (whole kronor, a space between thousands).
pub fn thousands(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if amount < 0 {
        out.push('−');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `45 300` for an unrounded amount (rounded to whole kronor).
pub fn kronor(amount: f64) -> String {
    thousands(amount.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_to_hundreds_and_group_thousands_with_spaces() {
        assert_eq!(round_100(45_249.9), 45_200);
        assert_eq!(round_100(45_250.0), 45_300);
        assert_eq!(thousands(45_300), "45 300");
        assert_eq!(thousands(1_234_567), "1 234 567");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(0), "0");
        assert_eq!(kronor(540_000.4), "540 000");
    }
}
