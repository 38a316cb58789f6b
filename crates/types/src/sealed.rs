//! Sealing a record's content for its readers (ADR 0007).
//!
//! The content, behind a 32-byte salt, is sealed once with XChaCha20-Poly1305
//! under a data key of its own. The data key is wrapped for each reader: an
//! X25519 agreement between a one-time key and the reader's key (the X25519
//! form of its ed25519 key), hashed into a wrapping key that seals the data
//! key with the blob's digest as associated data, so a wrapped key opens
//! one blob only.
//!
//! These are pure functions: the caller draws every key, nonce and salt
//! (the client does, from the operating system), so the crate stays free of
//! randomness and I/O and builds for wasm32.

use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::digest::Digest;
use crate::encoding::{self, read_bounded_vec};
use crate::limits::WRAPPED_KEYS_PER_RECORD_MAX;
use borsh::{BorshDeserialize, BorshSerialize};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use curve25519_dalek::montgomery::MontgomeryPoint;

/// First bytes of every sealed blob.
pub const BLOB_MAGIC: &[u8; 4] = b"CLSB";
/// Version of the blob format.
pub const BLOB_VERSION: u8 = 1;
/// Bytes of a data key.
pub const DATA_KEY_BYTES: usize = 32;
/// Bytes of an XChaCha20-Poly1305 nonce: random nonces of this size never
/// collide in practice, so no counter has to be kept.
pub const NONCE_BYTES: usize = 24;
/// Bytes of the salt sealed before the content.
pub const SALT_BYTES: usize = 32;
/// Bytes of the authentication tag.
pub const TAG_BYTES: usize = 16;
/// Bytes a blob adds to its content: header, nonce, salt and tag.
pub const BLOB_OVERHEAD_BYTES: usize = 4 + 1 + NONCE_BYTES + SALT_BYTES + TAG_BYTES;

const CONTENT_DOMAIN: &[u8] = b"cityledger/record-content/v1";
const BLOB_AAD: &[u8] = b"cityledger/record-blob/v1";
const WRAP_DOMAIN: &[u8] = b"cityledger/record-wrap/v1";
const KEYS_DOMAIN: &[u8] = b"cityledger/record-keys/v1";

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The bytes are not a sealed blob of a known version.
    #[error("not a CityLedger sealed blob (version {BLOB_VERSION})")]
    NotABlob,
    /// The blob does not open under the data key: changed bytes, or the
    /// data key of another record.
    #[error(
        "the blob does not open with this data key: it was changed, or the key is another record's"
    )]
    Tampered,
    /// The wrapped key does not open with this reader's key.
    #[error("the data key is not wrapped for this key (wrong key, or another blob's wrapping)")]
    WrongKey,
    /// The content opened but does not match the commitment on chain.
    #[error("the content does not match the commitment on chain")]
    CommitmentMismatch,
    /// The reader's key is not a valid curve point.
    #[error("reader key {key} is not a valid ed25519 key")]
    BadReaderKey {
        /// The key.
        key: PublicKey,
    },
}

/// The commitment to a record's content: SHA-256 of a domain tag, the salt
/// and the content. The salt stays sealed in the blob, so a guessable
/// content cannot be found from the commitment.
pub fn content_commitment(salt: &[u8; SALT_BYTES], content: &[u8]) -> Digest {
    Digest::of_parts(&[CONTENT_DOMAIN, salt, content])
}

/// A sealed blob and what the chain records about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The blob: magic, version, nonce, then the ciphertext of salt and
    /// content with its tag.
    pub blob: Vec<u8>,
    /// The commitment to the content.
    pub commitment: Digest,
    /// SHA-256 of the blob.
    pub blob_digest: Digest,
}

/// Seals `content` under `data_key` with a fresh `nonce` and `salt`.
pub fn seal(
    content: &[u8],
    data_key: &[u8; DATA_KEY_BYTES],
    nonce: &[u8; NONCE_BYTES],
    salt: &[u8; SALT_BYTES],
) -> Sealed {
    let mut plain = Vec::with_capacity(SALT_BYTES + content.len());
    plain.extend_from_slice(salt);
    plain.extend_from_slice(content);
    let cipher = XChaCha20Poly1305::new(data_key.into());
    let sealed = cipher
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: &plain,
                aad: BLOB_AAD,
            },
        )
        // Encryption fails only for inputs beyond 2^38 bytes, far above
        // BLOB_BYTES_MAX, which callers check first.
        .expect("content within BLOB_BYTES_MAX seals");
    let mut blob = Vec::with_capacity(5 + NONCE_BYTES + sealed.len());
    blob.extend_from_slice(BLOB_MAGIC);
    blob.push(BLOB_VERSION);
    blob.extend_from_slice(nonce);
    blob.extend_from_slice(&sealed);
    Sealed {
        blob_digest: Digest::of(&blob),
        commitment: content_commitment(salt, content),
        blob,
    }
}

/// Opens `blob` with `data_key` and checks the content against
/// `commitment`. Returns the content.
pub fn open(
    blob: &[u8],
    data_key: &[u8; DATA_KEY_BYTES],
    commitment: &Digest,
) -> Result<Vec<u8>, SealError> {
    let header = 4 + 1 + NONCE_BYTES;
    if blob.len() < header + SALT_BYTES + TAG_BYTES
        || &blob[..4] != BLOB_MAGIC
        || blob[4] != BLOB_VERSION
    {
        return Err(SealError::NotABlob);
    }
    let mut nonce = [0u8; NONCE_BYTES];
    nonce.copy_from_slice(&blob[5..header]);
    let cipher = XChaCha20Poly1305::new(data_key.into());
    let plain = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &blob[header..],
                aad: BLOB_AAD,
            },
        )
        .map_err(|_| SealError::Tampered)?;
    let (salt, content) = plain.split_at(SALT_BYTES);
    let mut salt_bytes = [0u8; SALT_BYTES];
    salt_bytes.copy_from_slice(salt);
    if content_commitment(&salt_bytes, content) != *commitment {
        return Err(SealError::CommitmentMismatch);
    }
    Ok(content.to_vec())
}

/// A data key wrapped for one reader.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct WrappedKey {
    /// The reader it opens for.
    pub reader: PublicKey,
    /// The one-time X25519 public key of the agreement.
    pub ephemeral: [u8; 32],
    /// The wrapping's nonce.
    pub nonce: [u8; NONCE_BYTES],
    /// The data key sealed under the wrapping key, with its tag.
    pub sealed_key: Vec<u8>,
}

fn wrapping_key(shared: &[u8; 32], ephemeral: &[u8; 32], reader: &[u8; 32]) -> [u8; 32] {
    Digest::of_parts(&[WRAP_DOMAIN, shared, ephemeral, reader]).0
}

/// Wraps `data_key` for `reader`, bound to the blob `blob_digest`, with the
/// one-time secret `ephemeral_secret` and `nonce` drawn by the caller.
pub fn wrap_key(
    data_key: &[u8; DATA_KEY_BYTES],
    reader: &PublicKey,
    blob_digest: &Digest,
    ephemeral_secret: &[u8; 32],
    nonce: &[u8; NONCE_BYTES],
) -> Result<WrappedKey, SealError> {
    let reader_x25519 = reader
        .to_x25519()
        .map_err(|_| SealError::BadReaderKey { key: *reader })?;
    let ephemeral = MontgomeryPoint::mul_base_clamped(*ephemeral_secret).to_bytes();
    let shared = MontgomeryPoint(reader_x25519)
        .mul_clamped(*ephemeral_secret)
        .to_bytes();
    // A low-order reader point makes the agreement all zeros, which anyone
    // could compute: refuse to wrap for it.
    if shared == [0u8; 32] {
        return Err(SealError::BadReaderKey { key: *reader });
    }
    let cipher =
        XChaCha20Poly1305::new((&wrapping_key(&shared, &ephemeral, &reader_x25519)).into());
    let sealed_key = cipher
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: data_key,
                aad: &blob_digest.0,
            },
        )
        .expect("a 32-byte key seals");
    Ok(WrappedKey {
        reader: *reader,
        ephemeral,
        nonce: *nonce,
        sealed_key,
    })
}

/// Opens `wrapped` with the reader's `key`, for the blob `blob_digest`.
pub fn unwrap_key(
    wrapped: &WrappedKey,
    key: &SecretKey,
    blob_digest: &Digest,
) -> Result<[u8; DATA_KEY_BYTES], SealError> {
    if wrapped.reader != key.public_key() {
        return Err(SealError::WrongKey);
    }
    let reader_x25519 = wrapped
        .reader
        .to_x25519()
        .map_err(|_| SealError::BadReaderKey {
            key: wrapped.reader,
        })?;
    let shared = MontgomeryPoint(wrapped.ephemeral)
        .mul_clamped(key.x25519_secret())
        .to_bytes();
    let cipher =
        XChaCha20Poly1305::new((&wrapping_key(&shared, &wrapped.ephemeral, &reader_x25519)).into());
    let opened = cipher
        .decrypt(
            &XNonce::from(wrapped.nonce),
            Payload {
                msg: &wrapped.sealed_key,
                aad: &blob_digest.0,
            },
        )
        .map_err(|_| SealError::WrongKey)?;
    opened.try_into().map_err(|_| SealError::WrongKey)
}

/// At most [`WRAPPED_KEYS_PER_RECORD_MAX`] wrapped keys, one per reader.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, serde::Serialize)]
pub struct WrappedKeys(Vec<WrappedKey>);

/// Why a list of wrapped keys was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrappedKeysError {
    /// More than a record may have.
    #[error("{count} wrapped keys, above the limit of {WRAPPED_KEYS_PER_RECORD_MAX}")]
    TooMany {
        /// Keys given.
        count: usize,
    },
    /// Two keys for one reader.
    #[error("two wrapped keys for reader {reader}")]
    Duplicate {
        /// The reader.
        reader: PublicKey,
    },
}

impl WrappedKeys {
    /// Validates `keys`.
    pub fn new(keys: Vec<WrappedKey>) -> Result<WrappedKeys, WrappedKeysError> {
        if keys.len() > WRAPPED_KEYS_PER_RECORD_MAX {
            return Err(WrappedKeysError::TooMany { count: keys.len() });
        }
        for (index, key) in keys.iter().enumerate() {
            if keys[..index].iter().any(|k| k.reader == key.reader) {
                return Err(WrappedKeysError::Duplicate { reader: key.reader });
            }
        }
        Ok(WrappedKeys(keys))
    }

    /// The keys.
    pub fn keys(&self) -> &[WrappedKey] {
        &self.0
    }

    /// The key wrapped for `reader`.
    pub fn for_reader(&self, reader: &PublicKey) -> Option<&WrappedKey> {
        self.0.iter().find(|k| k.reader == *reader)
    }

    /// These keys with `added` merged in, a reader's newer key replacing
    /// its older one.
    pub fn merged(&self, added: &WrappedKeys) -> Result<WrappedKeys, WrappedKeysError> {
        let mut keys: Vec<WrappedKey> = self
            .0
            .iter()
            .filter(|k| added.for_reader(&k.reader).is_none())
            .cloned()
            .collect();
        keys.extend(added.0.iter().cloned());
        WrappedKeys::new(keys)
    }
}

impl BorshDeserialize for WrappedKeys {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let keys = read_bounded_vec(reader, WRAPPED_KEYS_PER_RECORD_MAX)?;
        WrappedKeys::new(keys).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

impl<'de> serde::Deserialize<'de> for WrappedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let keys = <Vec<WrappedKey> as serde::Deserialize>::deserialize(deserializer)?;
        WrappedKeys::new(keys).map_err(serde::de::Error::custom)
    }
}

/// Wrapped keys a record's owner or author hands a node for new readers,
/// signed so that no one else can plant a key a reader would trust.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct KeyUpload {
    /// The record.
    pub record: Digest,
    /// The keys.
    pub keys: WrappedKeys,
    /// Who signs: the record's owner or author.
    pub signer: PublicKey,
    /// Signature over [`KeyUpload::signing_payload`].
    pub signature: Signature,
}

impl KeyUpload {
    /// The bytes signed: a domain tag, the record and the keys.
    pub fn signing_payload(record: &Digest, keys: &WrappedKeys) -> Vec<u8> {
        let mut payload = KEYS_DOMAIN.to_vec();
        payload.extend_from_slice(&record.0);
        payload.extend_from_slice(&encoding::encode(keys));
        payload
    }

    /// Signs `keys` for `record` with `key`.
    pub fn sign(record: Digest, keys: WrappedKeys, key: &SecretKey) -> KeyUpload {
        let signature = key.sign(&KeyUpload::signing_payload(&record, &keys));
        KeyUpload {
            record,
            keys,
            signer: key.public_key(),
            signature,
        }
    }

    /// Checks the signature.
    pub fn verify(&self) -> Result<(), crate::crypto::CryptoError> {
        self.signer.verify(
            &KeyUpload::signing_payload(&self.record, &self.keys),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA_KEY: [u8; 32] = [11; 32];

    fn sealed() -> Sealed {
        seal(
            b"HbA1c 6.1 %",
            &DATA_KEY,
            &[12; NONCE_BYTES],
            &[13; SALT_BYTES],
        )
    }

    #[test]
    fn the_reader_opens_what_was_sealed_for_it() {
        let sealed = sealed();
        assert_eq!(sealed.blob.len(), 11 + BLOB_OVERHEAD_BYTES);
        assert_eq!(sealed.blob_digest, Digest::of(&sealed.blob));
        let pharmacy = SecretKey::from_seed([5; 32]);
        let wrapped = wrap_key(
            &DATA_KEY,
            &pharmacy.public_key(),
            &sealed.blob_digest,
            &[6; 32],
            &[7; NONCE_BYTES],
        )
        .unwrap();
        let key = unwrap_key(&wrapped, &pharmacy, &sealed.blob_digest).unwrap();
        assert_eq!(
            open(&sealed.blob, &key, &sealed.commitment).unwrap(),
            b"HbA1c 6.1 %"
        );
    }

    #[test]
    fn a_wrong_key_a_moved_wrapping_or_a_tampered_blob_fails_with_its_reason() {
        let sealed = sealed();
        let pharmacy = SecretKey::from_seed([5; 32]);
        let stranger = SecretKey::from_seed([8; 32]);
        let wrapped = wrap_key(
            &DATA_KEY,
            &pharmacy.public_key(),
            &sealed.blob_digest,
            &[6; 32],
            &[7; NONCE_BYTES],
        )
        .unwrap();
        // Another key, even claiming to be the reader, cannot open it.
        assert_eq!(
            unwrap_key(&wrapped, &stranger, &sealed.blob_digest),
            Err(SealError::WrongKey)
        );
        let mut claimed = wrapped.clone();
        claimed.reader = stranger.public_key();
        assert_eq!(
            unwrap_key(&claimed, &stranger, &sealed.blob_digest),
            Err(SealError::WrongKey)
        );
        // A wrapping for one blob does not open for another.
        assert_eq!(
            unwrap_key(&wrapped, &pharmacy, &Digest([0; 32])),
            Err(SealError::WrongKey)
        );
        // Every flipped byte of the blob is caught.
        for index in 0..sealed.blob.len() {
            let mut tampered = sealed.blob.clone();
            tampered[index] ^= 0x40;
            let result = open(&tampered, &DATA_KEY, &sealed.commitment);
            assert!(
                matches!(result, Err(SealError::Tampered | SealError::NotABlob)),
                "byte {index}: {result:?}"
            );
        }
        // Another record's data key does not open it.
        assert_eq!(
            open(&sealed.blob, &[99; 32], &sealed.commitment),
            Err(SealError::Tampered)
        );
        // The content is not the one committed to on chain.
        assert_eq!(
            open(&sealed.blob, &DATA_KEY, &Digest([1; 32])),
            Err(SealError::CommitmentMismatch)
        );
        assert_eq!(
            open(b"CLSB", &DATA_KEY, &sealed.commitment),
            Err(SealError::NotABlob)
        );
    }

    #[test]
    fn the_commitment_hides_a_guessable_content_behind_the_salt() {
        assert_ne!(
            content_commitment(&[1; 32], b"positive"),
            content_commitment(&[2; 32], b"positive")
        );
        assert_ne!(
            content_commitment(&[1; 32], b"positive"),
            content_commitment(&[1; 32], b"negative")
        );
    }

    #[test]
    fn key_uploads_are_signed_and_bounded() {
        let owner = SecretKey::from_seed([1; 32]);
        let wrapped = |seed: u8| {
            wrap_key(
                &DATA_KEY,
                &SecretKey::from_seed([seed; 32]).public_key(),
                &Digest([2; 32]),
                &[seed; 32],
                &[seed; NONCE_BYTES],
            )
            .unwrap()
        };
        let keys = WrappedKeys::new(vec![wrapped(3), wrapped(4)]).unwrap();
        let upload = KeyUpload::sign(Digest([9; 32]), keys.clone(), &owner);
        assert_eq!(upload.verify(), Ok(()));
        let mut moved = upload.clone();
        moved.record = Digest([8; 32]);
        assert!(moved.verify().is_err());
        assert!(WrappedKeys::new(vec![wrapped(3), wrapped(3)]).is_err());
        let newer = WrappedKeys::new(vec![wrapped(4), wrapped(5)]).unwrap();
        let merged = keys.merged(&newer).unwrap();
        assert_eq!(merged.keys().len(), 3);
        let bytes = borsh::to_vec(&merged).unwrap();
        assert_eq!(borsh::from_slice::<WrappedKeys>(&bytes).unwrap(), merged);
    }
}
