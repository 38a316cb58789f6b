//! Multibase base58btc and `did:key` identifiers of Ed25519 keys, as the
//! Data Integrity specifications name keys and write proof values.

use cityledger_types::PublicKey;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Multibase prefix of base58btc.
const BASE58BTC: char = 'z';
/// Multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Longest base58 text decoded, in characters: far above a signature's 88,
/// so that decoding outside input stays cheap (quadratic in length).
const BASE58_CHARS_MAX: usize = 128;

/// Why a multibase text or a `did:key` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultibaseError {
    /// Not base58btc (`z…`), or a character outside the alphabet.
    #[error("not a base58btc multibase value")]
    NotBase58,
    /// Longer than any value we decode.
    #[error("multibase value is longer than {BASE58_CHARS_MAX} characters")]
    TooLong,
    /// Not an Ed25519 `did:key` or verification method.
    #[error("`{0}` is not an Ed25519 did:key")]
    NotEd25519DidKey(String),
}

/// `bytes` as base58btc, with the multibase prefix `z`.
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    // Base 58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for byte in &bytes[zeros..] {
        let mut carry = u32::from(*byte);
        for digit in digits.iter_mut() {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(1 + zeros + digits.len());
    out.push(BASE58BTC);
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|d| char::from(ALPHABET[usize::from(*d)])),
    );
    out
}

/// The bytes of a base58btc multibase text (`z…`).
pub fn decode_base58btc(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let body = text
        .strip_prefix(BASE58BTC)
        .ok_or(MultibaseError::NotBase58)?;
    if body.len() > BASE58_CHARS_MAX {
        return Err(MultibaseError::TooLong);
    }
    let zeros = body.bytes().take_while(|b| *b == b'1').count();
    // Bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(body.len());
    for c in body.bytes().skip(zeros) {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or(MultibaseError::NotBase58)?;
        let mut carry = value as u32;
        for byte in bytes.iter_mut() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Ok(out)
}

/// The multibase of an Ed25519 public key (`z6Mk…`).
pub fn public_key_multibase(key: &PublicKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(&key.0);
    encode_base58btc(&bytes)
}

/// The `did:key` of an Ed25519 public key.
pub fn did_key(key: &PublicKey) -> String {
    format!("did:key:{}", public_key_multibase(key))
}

/// The verification method of a `did:key`: the DID, `#`, the key again.
pub fn verification_method(key: &PublicKey) -> String {
    let multibase = public_key_multibase(key);
    format!("did:key:{multibase}#{multibase}")
}

/// The public key of an Ed25519 `did:key`, or of its verification method.
pub fn key_of_did(did: &str) -> Result<PublicKey, MultibaseError> {
    let refuse = || MultibaseError::NotEd25519DidKey(did.chars().take(80).collect());
    let rest = did.strip_prefix("did:key:").ok_or_else(refuse)?;
    let (multibase, fragment) = match rest.split_once('#') {
        Some((key, fragment)) => (key, Some(fragment)),
        None => (rest, None),
    };
    if fragment.is_some_and(|f| f != multibase) {
        return Err(refuse());
    }
    let bytes = decode_base58btc(multibase).map_err(|_| refuse())?;
    let key: [u8; 32] = bytes
        .strip_prefix(&ED25519_PUB)
        .and_then(|key| key.try_into().ok())
        .ok_or_else(refuse)?;
    Ok(PublicKey(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "z"),
            (&[0], "z1"),
            (&[0, 0, 1], "z112"),
            (b"Hello World!", "z2NEpo7TZRRrLZSi2U"),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode_base58btc(bytes), *text);
            assert_eq!(decode_base58btc(text).unwrap(), bytes.to_vec());
        }
        assert_eq!(decode_base58btc("z0"), Err(MultibaseError::NotBase58));
        assert_eq!(decode_base58btc("u2NE"), Err(MultibaseError::NotBase58));
        assert!(
            key_of_did("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other").is_err()
        );
        assert!(key_of_did("did:web:example.com").is_err());
    }

    proptest! {
        #[test]
        fn base58_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(decode_base58btc(&encode_base58btc(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn did_keys_round_trip(key in any::<[u8; 32]>()) {
            let key = PublicKey(key);
            prop_assert_eq!(key_of_did(&did_key(&key)).unwrap(), key);
            prop_assert_eq!(key_of_did(&verification_method(&key)).unwrap(), key);
        }
    }
}
