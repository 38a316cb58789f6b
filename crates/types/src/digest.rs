//! The one hash of CityLedger: SHA-256, wrapped in [`Digest`].
//!
//! Every hash in the protocol (transaction ids, Merkle nodes, block ids, state
//! leaves) goes through this module, so a change of hash function is one
//! decision in one place.

use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// Length of a [`Digest`] in bytes.
pub const DIGEST_LEN: usize = 32;

/// A SHA-256 digest.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Digest(pub [u8; DIGEST_LEN]);

impl Digest {
    /// The all-zero digest: the hash of an empty subtree and the parent of genesis.
    pub const ZERO: Digest = Digest([0u8; DIGEST_LEN]);

    /// Hashes `bytes` in one call.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Hashes the concatenation of `parts`, without allocating.
    pub fn of_parts(parts: &[&[u8]]) -> Digest {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Digest(hasher.finalize().into())
    }

    /// The digest as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Digest, DigestParseError> {
        let mut bytes = [0u8; DIGEST_LEN];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| DigestParseError { length: text.len() })?;
        Ok(Digest(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        &self.0
    }
}

/// A digest given as text was not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected 64 hex characters, got {length} characters that are not valid hex of that length"
)]
pub struct DigestParseError {
    /// Length of the rejected text.
    pub length: usize,
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        Digest::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let digest = Digest::of(b"cityledger");
        assert_eq!(Digest::from_hex(&digest.to_hex()), Ok(digest));
        assert_eq!(Digest::of_parts(&[b"city", b"ledger"]), digest);
    }

    #[test]
    fn rejects_bad_hex() {
        assert!(Digest::from_hex("zz").is_err());
        assert!(Digest::from_hex(&"a".repeat(63)).is_err());
    }
}
