//! Account addresses: 20 bytes derived from the owner, shown with a checksum.
//!
//! An address is a kind byte and 20 bytes of hash. The kind tells the state
//! machine who may own it without a lookup: a key address belongs to the key
//! that hashes to it and opens on its first credit; an organisation address
//! must have been created before it can move money.
//!
//! Text form: `cl1` + 42 hex characters + 8 hex characters of checksum. The
//! checksum catches a mistyped address before money moves to an account that
//! nobody controls. Organisation accounts can also be named `org:account`.

use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::names::{AccountName, NameError, OrgName};
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;

/// Length of an address, in bytes: the kind and 20 bytes of hash.
pub const ADDRESS_LEN: usize = 21;
const HASH_LEN: usize = ADDRESS_LEN - 1;
const KIND_KEY: u8 = 0;
const KIND_ORG: u8 = 1;

/// Who an address belongs to, as far as the address itself tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// The default account of a key.
    Key,
    /// An account of an organisation.
    Org,
}
const CHECKSUM_LEN: usize = 4;
const TEXT_PREFIX: &str = "cl1";
const KEY_DOMAIN: &[u8] = b"cityledger/address/key/v1";
const ORG_DOMAIN: &[u8] = b"cityledger/address/org/v1";
const CHECKSUM_DOMAIN: &[u8] = b"cityledger/address/checksum/v1";

/// The address of an account.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; ADDRESS_LEN]);

/// Why an address text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Wrong prefix or length.
    #[error(
        "an address is `cl1` followed by 50 hex characters, or `organisation:account`; got {length} characters"
    )]
    Malformed {
        /// Length of the text.
        length: usize,
    },
    /// The checksum does not match: most likely a typo.
    #[error("address checksum does not match; check the address for a typo")]
    BadChecksum,
    /// The `org:account` form has a bad name.
    #[error(transparent)]
    BadName(#[from] NameError),
}

impl Address {
    /// The default account of a key.
    pub fn of_key(key: &PublicKey) -> Address {
        truncate(KIND_KEY, Digest::of_parts(&[KEY_DOMAIN, &key.0]))
    }

    /// The account `name` of organisation `org`.
    pub fn of_org(org: &OrgName, name: &AccountName) -> Address {
        truncate(
            KIND_ORG,
            Digest::of_parts(&[
                ORG_DOMAIN,
                org.as_str().as_bytes(),
                &[0],
                name.as_str().as_bytes(),
            ]),
        )
    }

    /// The kind, from the first byte. `None` for bytes no valid address has.
    pub fn kind(&self) -> Option<AddressKind> {
        match self.0[0] {
            KIND_KEY => Some(AddressKind::Key),
            KIND_ORG => Some(AddressKind::Org),
            _ => None,
        }
    }

    fn checksum(&self) -> [u8; CHECKSUM_LEN] {
        let digest = Digest::of_parts(&[CHECKSUM_DOMAIN, &self.0]);
        let mut out = [0u8; CHECKSUM_LEN];
        out.copy_from_slice(&digest.0[..CHECKSUM_LEN]);
        out
    }

    /// Parses the `cl1…` form, checking its checksum.
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        let malformed = AddressError::Malformed { length: text.len() };
        let body = text.strip_prefix(TEXT_PREFIX).ok_or(malformed.clone())?;
        let mut bytes = [0u8; ADDRESS_LEN + CHECKSUM_LEN];
        hex::decode_to_slice(body, &mut bytes).map_err(|_| malformed)?;
        let mut address = Address([0u8; ADDRESS_LEN]);
        address.0.copy_from_slice(&bytes[..ADDRESS_LEN]);
        if bytes[ADDRESS_LEN..] != address.checksum() {
            return Err(AddressError::BadChecksum);
        }
        if address.kind().is_none() {
            return Err(AddressError::Malformed { length: text.len() });
        }
        Ok(address)
    }

    /// Parses either the `cl1…` form or an `org:account` alias.
    pub fn parse_or_alias(text: &str) -> Result<Address, AddressError> {
        match text.split_once(':') {
            Some((org, name)) => Ok(Address::of_org(
                &OrgName::new(org)?,
                &AccountName::new(name)?,
            )),
            None => Address::parse(text),
        }
    }
}

fn truncate(kind: u8, digest: Digest) -> Address {
    let mut address = Address([0u8; ADDRESS_LEN]);
    address.0[0] = kind;
    address.0[1..].copy_from_slice(&digest.0[..HASH_LEN]);
    address
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TEXT_PREFIX}{}{}",
            hex::encode(self.0),
            hex::encode(self.checksum())
        )
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl std::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(text: &str) -> Result<Self, AddressError> {
        Address::parse(text)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        Address::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    #[test]
    fn text_round_trip_and_checksum() {
        let address = Address::of_key(&SecretKey::from_seed([7; 32]).public_key());
        let text = address.to_string();
        assert_eq!(text.len(), 3 + 50);
        assert_eq!(address.kind(), Some(AddressKind::Key));
        assert_eq!(Address::parse(&text), Ok(address));
        let mut typo = text.clone().into_bytes();
        typo[10] = if typo[10] == b'0' { b'1' } else { b'0' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(Address::parse(&typo), Err(AddressError::BadChecksum));
        assert!(matches!(
            Address::parse("cl1xyz"),
            Err(AddressError::Malformed { .. })
        ));
    }

    #[test]
    fn org_alias() {
        let org = OrgName::new("treasury").unwrap();
        let name = AccountName::new("issuance").unwrap();
        assert_eq!(
            Address::parse_or_alias("treasury:issuance"),
            Ok(Address::of_org(&org, &name))
        );
        assert!(Address::parse_or_alias("Treasury:issuance").is_err());
    }
}
