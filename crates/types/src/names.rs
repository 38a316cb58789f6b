//! Bounded, validated names: organisations, accounts, roles and currencies.
//!
//! A name is checked once, where it enters (decoding or parsing), so that the
//! rest of the code can rely on it being short and printable.

use crate::limits::{
    ACCOUNT_NAME_BYTES_MAX, AREA_BYTES_MAX, CURRENCY_CODE_BYTES_MAX, KIND_NAME_BYTES_MAX,
    ORG_NAME_BYTES_MAX, RECORD_TYPE_BYTES_MAX, REFERENCE_KEY_BYTES_MAX, ROLE_NAME_BYTES_MAX,
    SAFETY_NAME_BYTES_MAX, SERVICE_NAME_BYTES_MAX,
};
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// What kind of name.
        kind: &'static str,
    },
    /// The name is longer than its limit.
    #[error("{kind} is {length} bytes, above the limit of {limit}")]
    TooLong {
        /// What kind of name.
        kind: &'static str,
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The name has a character outside its alphabet.
    #[error("{kind} may only contain {alphabet}")]
    BadCharacter {
        /// What kind of name.
        kind: &'static str,
        /// The allowed characters, in words.
        alphabet: &'static str,
    },
}

fn check(
    text: &str,
    kind: &'static str,
    limit: usize,
    alphabet: &'static str,
    allowed: fn(u8) -> bool,
) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if text.len() > limit {
        return Err(NameError::TooLong {
            kind,
            length: text.len(),
            limit,
        });
    }
    if !text.bytes().all(allowed) {
        return Err(NameError::BadCharacter { kind, alphabet });
    }
    Ok(())
}

fn lower_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

fn role_byte(b: u8) -> bool {
    lower_name_byte(b) || b == b'.'
}

fn currency_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

macro_rules! bounded_name {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $limit:expr, $alphabet:literal, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `text`.
            pub fn new(text: impl Into<String>) -> Result<Self, NameError> {
                let text = text.into();
                check(&text, $kind, $limit, $alphabet, $allowed)?;
                Ok($name(text))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                let text = crate::encoding::read_bounded_string(reader, $limit)?;
                $name::new(text).map_err(|error| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
                })
            }
        }

        impl std::str::FromStr for $name {
            type Err = NameError;
            fn from_str(text: &str) -> Result<Self, NameError> {
                $name::new(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $name::new(text).map_err(serde::de::Error::custom)
            }
        }
    };
}

bounded_name!(
    /// An organisation of the consortium, e.g. `treasury`.
    OrgName, "organisation name", ORG_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// The name of an organisation's account, e.g. `issuance`.
    AccountName, "account name", ACCOUNT_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// A role an organisation grants its members, e.g. `ledger.issue`.
    RoleName, "role name", ROLE_NAME_BYTES_MAX, "lowercase letters, digits, '-', '_' and '.'", role_byte
);
bounded_name!(
    /// A currency code, e.g. `CITY`.
    CurrencyCode, "currency code", CURRENCY_CODE_BYTES_MAX, "uppercase letters and digits", currency_byte
);
bounded_name!(
    /// A kind of obligation an organisation issues, e.g. `traffic_fine`.
    KindName, "obligation kind", KIND_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// The name of a field of an obligation's reference data, e.g. `plate`.
    ReferenceKey, "reference key", REFERENCE_KEY_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);

bounded_name!(
    /// A citizen service an organisation decides applications for, e.g.
    /// `passport_renewal`.
    ServiceName, "service name", SERVICE_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// A type of credential an organisation issues, e.g. `driver_licence`.
    CredentialType, "credential type", SERVICE_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// The name of a field of an application, a claim of a credential or a
    /// piece of evidence, e.g. `licence_class`.
    FieldName, "field name", SERVICE_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// The type of a record, e.g. `lab_result` or `mri_image`; a grant of a
    /// *category* covers every record of one type of its owner.
    RecordType, "record type", RECORD_TYPE_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);

bounded_name!(
    /// An area code: a district or grid square that command centres filter
    /// alerts and incidents by, e.g. `district-7`.
    AreaCode, "area code", AREA_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// The kind of an alert or an incident, e.g. `fire`, `collision`.
    EventKind, "kind", SAFETY_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// A unit dispatched to an incident, e.g. `engine-12`.
    UnitName, "unit name", SAFETY_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);
bounded_name!(
    /// A course of a school, e.g. `math-101`.
    CourseName, "course name", SAFETY_NAME_BYTES_MAX, "lowercase letters, digits, '-' and '_'", lower_name_byte
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        let cases: &[(&str, bool)] = &[
            ("treasury", true),
            ("road-tax_2", true),
            ("", false),
            ("Treasury", false),
            ("a b", false),
            (&"x".repeat(ORG_NAME_BYTES_MAX + 1), false),
        ];
        for (text, ok) in cases {
            assert_eq!(OrgName::new(*text).is_ok(), *ok, "{text:?}");
        }
        assert!(CurrencyCode::new("CITY").is_ok());
        assert!(CurrencyCode::new("city").is_err());
        assert!(RoleName::new("ledger.issue").is_ok());
    }

    #[test]
    fn decoding_validates_too() {
        let bytes = borsh::to_vec(&"Not Valid".to_string()).unwrap();
        assert!(borsh::from_slice::<OrgName>(&bytes).is_err());
        let good = OrgName::new("health").unwrap();
        let bytes = borsh::to_vec(&good).unwrap();
        assert_eq!(borsh::from_slice::<OrgName>(&bytes).unwrap(), good);
    }
}
