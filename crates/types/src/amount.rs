//! Amounts in integer minor units, and their decimal text form.
//!
//! Money is never a float. `12.50` CITY (2 decimals) is `1250` minor units.

use crate::limits::CURRENCY_DECIMALS_MAX;
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;

/// An amount in minor units of some currency.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Amount(pub u128);

/// Why a decimal amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal number.
    #[error("amount must be a non-negative decimal number such as 12.50")]
    NotDecimal,
    /// More fraction digits than the currency has.
    #[error("amount has {digits} decimals but the currency has {decimals}")]
    TooPrecise {
        /// Fraction digits given.
        digits: usize,
        /// Decimals of the currency.
        decimals: u8,
    },
    /// Too large for u128 minor units.
    #[error("amount is too large")]
    Overflow,
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// Parses a decimal in major units (`12.5`) into minor units.
    pub fn parse_major(text: &str, decimals: u8) -> Result<Amount, AmountError> {
        assert!(decimals <= CURRENCY_DECIMALS_MAX);
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
            return Err(AmountError::NotDecimal);
        }
        if text.ends_with('.') {
            return Err(AmountError::NotDecimal);
        }
        if fraction.len() > decimals as usize {
            return Err(AmountError::TooPrecise {
                digits: fraction.len(),
                decimals,
            });
        }
        let scale = 10u128.pow(u32::from(decimals));
        let whole: u128 = whole.parse().map_err(|_| AmountError::Overflow)?;
        let padded = format!("{fraction:0<width$}", width = decimals as usize);
        let fraction: u128 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| AmountError::NotDecimal)?
        };
        whole
            .checked_mul(scale)
            .and_then(|minor| minor.checked_add(fraction))
            .map(Amount)
            .ok_or(AmountError::Overflow)
    }

    /// Formats in major units with exactly `decimals` fraction digits.
    pub fn to_major(self, decimals: u8) -> String {
        assert!(decimals <= CURRENCY_DECIMALS_MAX);
        if decimals == 0 {
            return self.0.to_string();
        }
        let scale = 10u128.pow(u32::from(decimals));
        format!(
            "{}.{:0width$}",
            self.0 / scale,
            self.0 % scale,
            width = decimals as usize
        )
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// Amounts travel as JSON strings: u128 does not fit a JavaScript number.
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(
                "amount must be a string of decimal digits in minor units",
            ));
        }
        text.parse::<u128>()
            .map(Amount)
            .map_err(|_| serde::de::Error::custom("amount does not fit in 128 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_major() {
        let cases: &[(&str, u8, Result<u128, AmountError>)] = &[
            ("12.50", 2, Ok(1250)),
            ("12.5", 2, Ok(1250)),
            ("12", 2, Ok(1200)),
            ("0.01", 2, Ok(1)),
            ("7", 0, Ok(7)),
            (
                "1.234",
                2,
                Err(AmountError::TooPrecise {
                    digits: 3,
                    decimals: 2,
                }),
            ),
            ("-1", 2, Err(AmountError::NotDecimal)),
            ("1.", 2, Err(AmountError::NotDecimal)),
            ("", 2, Err(AmountError::NotDecimal)),
            ("1e3", 2, Err(AmountError::NotDecimal)),
            (&"9".repeat(40), 2, Err(AmountError::Overflow)),
        ];
        for (text, decimals, expected) in cases {
            assert_eq!(
                Amount::parse_major(text, *decimals).map(|a| a.0),
                *expected,
                "{text}"
            );
        }
    }

    #[test]
    fn to_major() {
        assert_eq!(Amount(1250).to_major(2), "12.50");
        assert_eq!(Amount(5).to_major(2), "0.05");
        assert_eq!(Amount(5).to_major(0), "5");
    }
}
