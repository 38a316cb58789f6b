//! Signed 128-bit integers as JSON strings.
//!
//! Balances can be negative (the issuance account) and exceed 2^53, so they
//! travel as decimal strings like amounts do; JavaScript clients would
//! otherwise round them silently.

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes an `i128` as a decimal string.
pub fn serialize<S: Serializer>(value: &i128, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Deserializes an `i128` from a decimal string, optionally signed with `-`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
    let text = String::deserialize(deserializer)?;
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(
            "expected a decimal integer string such as \"-1250\"",
        ));
    }
    text.parse::<i128>()
        .map_err(|_| serde::de::Error::custom("integer does not fit in 128 bits"))
}
