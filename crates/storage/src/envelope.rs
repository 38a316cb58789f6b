//! The checksummed envelope around every stored value.
//!
//! Layout: `version (1) ‖ payload ‖ crc32 (4, little-endian)`. The CRC
//! covers the keyspace name, the key, the version and the payload, so a
//! flipped bit is caught, and so is a valid value found under another key or
//! in another keyspace (a misdirected write). This module owns that layout;
//! it never decides what a payload means.

use crate::keys::Space;

/// Version of the envelope layout, the first byte of every value.
pub(crate) const ENVELOPE_V1: u8 = 1;
/// Bytes an envelope adds to a payload.
pub(crate) const ENVELOPE_OVERHEAD_BYTES: usize = 1 + CRC_BYTES;
const CRC_BYTES: usize = 4;

/// Why a value is not a valid envelope.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

/// Wraps `payload`, to be stored under `key` in `space`.
pub(crate) fn seal(space: Space, key: &[u8], payload: &[u8]) -> Vec<u8> {
    seal_parts(space, key, &[payload])
}

/// Wraps the concatenation of `parts` without first concatenating them, so
/// that a multi-megabyte block record is copied once.
pub(crate) fn seal_parts(space: Space, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let payload_len: usize = parts.iter().map(|part| part.len()).sum();
    let mut value = Vec::with_capacity(payload_len + ENVELOPE_OVERHEAD_BYTES);
    value.push(ENVELOPE_V1);
    for part in parts {
        value.extend_from_slice(part);
    }
    let crc = checksum(space, key, &value);
    value.extend_from_slice(&crc.to_le_bytes());
    value
}

/// Checks the envelope of `value`, stored under `key` in `space`, and
/// returns its payload.
pub(crate) fn open<'v>(space: Space, key: &[u8], value: &'v [u8]) -> Result<&'v [u8], Malformed> {
    if value.len() < ENVELOPE_OVERHEAD_BYTES {
        return Err(Malformed(format!(
            "value is {} bytes, shorter than the {ENVELOPE_OVERHEAD_BYTES}-byte envelope",
            value.len()
        )));
    }
    let (body, crc_bytes) = value.split_at(value.len() - CRC_BYTES);
    let mut crc_array = [0u8; CRC_BYTES];
    crc_array.copy_from_slice(crc_bytes);
    let stored = u32::from_le_bytes(crc_array);
    let computed = checksum(space, key, body);
    if stored != computed {
        return Err(Malformed(format!(
            "checksum mismatch: stored {stored:08x}, computed {computed:08x} over {} bytes",
            value.len()
        )));
    }
    // Checked after the CRC: a bad version byte with a good CRC is a value
    // from a future format, not a flipped bit.
    match body.split_first() {
        Some((&ENVELOPE_V1, payload)) => Ok(payload),
        Some((version, _)) => Err(Malformed(format!(
            "unknown envelope version {version}, this build reads {ENVELOPE_V1}"
        ))),
        None => Err(Malformed("empty envelope".into())),
    }
}

fn checksum(space: Space, key: &[u8], body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    let name = space.name().as_bytes();
    // Length prefixes keep (name, key) pairs from running into each other.
    hasher.update(&(name.len() as u32).to_le_bytes());
    hasher.update(name);
    hasher.update(&(key.len() as u32).to_le_bytes());
    hasher.update(key);
    hasher.update(body);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let value = seal(Space::State, b"key", b"payload");
        assert_eq!(value.len(), 7 + ENVELOPE_OVERHEAD_BYTES);
        assert_eq!(open(Space::State, b"key", &value), Ok(&b"payload"[..]));
        let empty = seal(Space::Accounts, b"k", b"");
        assert_eq!(open(Space::Accounts, b"k", &empty), Ok(&b""[..]));
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let value = seal(Space::Txs, b"key", b"payload");
        for bit in 0..value.len() * 8 {
            let mut damaged = value.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(open(Space::Txs, b"key", &damaged).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn a_value_under_another_key_or_keyspace_is_detected() {
        let value = seal(Space::Txs, b"key", b"payload");
        assert!(open(Space::Txs, b"kez", &value).is_err());
        assert!(open(Space::BlockIds, b"key", &value).is_err());
    }

    #[test]
    fn short_and_truncated_values_are_detected() {
        let value = seal(Space::Meta, b"tip", b"payload");
        for length in 0..value.len() {
            assert!(open(Space::Meta, b"tip", &value[..length]).is_err());
        }
    }
}
