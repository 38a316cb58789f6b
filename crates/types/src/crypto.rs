//! Keys and signatures: ed25519, with domain-separated signing payloads.
//!
//! Every signed payload starts with a domain tag (e.g. `cityledger/tx/v1`), so
//! a signature made for one purpose can never be replayed for another.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer as _, Verifier as _};
use std::fmt;

/// Length of an ed25519 public key, in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an ed25519 signature, in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An ed25519 public key; it identifies an actor.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; PUBLIC_KEY_LEN]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Text was not the hex of the expected number of bytes.
    #[error("expected {expected_bytes} bytes as hex")]
    BadHex {
        /// Bytes the text should encode.
        expected_bytes: usize,
    },
    /// The bytes are not a valid curve point.
    #[error("not a valid ed25519 public key")]
    BadPublicKey,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
}

impl PublicKey {
    /// The key as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| CryptoError::BadHex {
            expected_bytes: PUBLIC_KEY_LEN,
        })?;
        Ok(PublicKey(bytes))
    }

    fn to_dalek(self) -> Result<ed25519_dalek::VerifyingKey, CryptoError> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0).map_err(|_| CryptoError::BadPublicKey)
    }

    /// The key's X25519 form (the birational map of its point), to which
    /// records are sealed for its holder (ADR 0007).
    pub fn to_x25519(&self) -> Result<[u8; 32], CryptoError> {
        Ok(self.to_dalek()?.to_montgomery().to_bytes())
    }

    /// Verifies one signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let key = self.to_dalek()?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify(message, &signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl Signature {
    /// The signature as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let mut bytes = [0u8; SIGNATURE_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| CryptoError::BadHex {
            expected_bytes: SIGNATURE_LEN,
        })?;
        Ok(Signature(bytes))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

/// An ed25519 signing key. Its bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct SecretKey(ed25519_dalek::SigningKey);

impl SecretKey {
    /// Builds a key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// The 32-byte seed, for storing the key in a key file.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// The X25519 secret matching [`PublicKey::to_x25519`]: the key's
    /// ed25519 secret scalar, clamped by the X25519 multiplication.
    pub(crate) fn x25519_secret(&self) -> [u8; 32] {
        self.0.to_scalar_bytes()
    }

    /// Signs `message`; callers pass a domain-tagged payload.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public_key())
    }
}

/// One item of a batch verification.
pub struct SignedMessage<'a> {
    /// Who claims to have signed.
    pub signer: &'a PublicKey,
    /// The exact signed bytes, domain tag included.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Verifies many signatures at once and returns one verdict per item.
///
/// The batch equation is tried first; it is about three times cheaper per
/// signature. Only if it fails are the items checked one by one, to find the
/// bad ones. The result is a deterministic function of the items, so every
/// validator reaches the same verdict for the same block.
pub fn verify_batch(items: &[SignedMessage<'_>]) -> Vec<bool> {
    verify_batch_cached(items, &mut KeyCache::new(0))
}

/// Decompressed public keys kept between batches. Decompressing a key is a
/// field exponentiation, about a third of the cost of one signature in a
/// batch, and the same citizens and agencies sign again and again.
pub struct KeyCache {
    keys: std::collections::HashMap<PublicKey, ed25519_dalek::VerifyingKey>,
    capacity: usize,
}

impl KeyCache {
    /// A cache of at most `capacity` keys; 0 caches nothing.
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            keys: std::collections::HashMap::new(),
            capacity,
        }
    }

    fn get(&mut self, key: &PublicKey) -> Result<ed25519_dalek::VerifyingKey, CryptoError> {
        if let Some(found) = self.keys.get(key) {
            return Ok(*found);
        }
        let decompressed = key.to_dalek()?;
        if self.capacity > 0 {
            // Emptying when full keeps the bound without bookkeeping; the
            // keys that matter come back within a batch or two.
            if self.keys.len() >= self.capacity {
                self.keys.clear();
            }
            self.keys.insert(*key, decompressed);
        }
        Ok(decompressed)
    }
}

/// [`verify_batch`], with public keys from `cache`. The verdicts are the
/// same with any cache: it holds only what `to_dalek` computes.
pub fn verify_batch_cached(items: &[SignedMessage<'_>], cache: &mut KeyCache) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    if batch_equation_holds(items, cache) {
        return vec![true; items.len()];
    }
    items
        .iter()
        .map(|item| item.signer.verify(item.message, item.signature).is_ok())
        .collect()
}

fn batch_equation_holds(items: &[SignedMessage<'_>], cache: &mut KeyCache) -> bool {
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        match cache.get(item.signer) {
            Ok(key) => keys.push(key),
            Err(_) => return false,
        }
    }
    let messages: Vec<&[u8]> = items.iter().map(|item| item.message).collect();
    let signatures: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|item| ed25519_dalek::Signature::from_bytes(&item.signature.0))
        .collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed([seed; 32])
    }

    #[test]
    fn sign_and_verify() {
        let secret = key(1);
        let signature = secret.sign(b"hello");
        assert_eq!(secret.public_key().verify(b"hello", &signature), Ok(()));
        assert_eq!(
            secret.public_key().verify(b"hellO", &signature),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn batch_finds_the_bad_signature() {
        let keys: Vec<SecretKey> = (0..8).map(key).collect();
        let publics: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut signatures: Vec<Signature> =
            keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        signatures[5] = keys[5].sign(b"something else");
        let items: Vec<SignedMessage<'_>> = (0..8)
            .map(|i| SignedMessage {
                signer: &publics[i],
                message: &messages[i],
                signature: &signatures[i],
            })
            .collect();
        let verdicts = verify_batch(&items);
        let expected: Vec<bool> = (0..8).map(|i| i != 5).collect();
        assert_eq!(verdicts, expected);
        assert!(verify_batch(&items[..5]).iter().all(|ok| *ok));

        // A cache, even one that keeps emptying, changes no verdict.
        for capacity in [1, 3, 100] {
            let mut cache = KeyCache::new(capacity);
            for _ in 0..3 {
                assert_eq!(verify_batch_cached(&items, &mut cache), expected);
                assert!(cache.keys.len() <= capacity);
            }
        }
    }
}
