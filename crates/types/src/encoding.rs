//! Canonical binary encoding: borsh, with bounded reads.
//!
//! Borsh is canonical for the types we use (no maps with free order, no
//! floats): one value has exactly one encoding, so hashes of encodings are
//! well defined. Decoding from outside goes through [`decode_exact`], which
//! refuses trailing bytes and inputs above a size limit before reading.

use borsh::{BorshDeserialize, BorshSerialize};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than allowed for this type.
    #[error("{what} is {length} bytes, above the limit of {limit}")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Input length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not a valid encoding.
    #[error("{what} is not validly encoded: {reason}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// Why, from the decoder.
        reason: String,
    },
}

/// Encodes `value` canonically.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // Writing into a Vec cannot fail; a failure here is a bug in a
    // hand-written BorshSerialize impl.
    borsh::to_vec(value).expect("borsh encoding into a Vec is infallible")
}

/// Decodes exactly one `T` from `bytes`, refusing oversize input and
/// trailing bytes.
pub fn decode_exact<T: BorshDeserialize>(
    bytes: &[u8],
    what: &'static str,
    limit: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            what,
            length: bytes.len(),
            limit,
        });
    }
    borsh::from_slice(bytes).map_err(|error| DecodeError::Invalid {
        what,
        reason: error.to_string(),
    })
}

/// Reads a borsh string, refusing one longer than `limit` before allocating.
pub fn read_bounded_string<R: std::io::Read>(
    reader: &mut R,
    limit: usize,
) -> std::io::Result<String> {
    let length = u32::deserialize_reader(reader)? as usize;
    if length > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("string of {length} bytes is above the limit of {limit}"),
        ));
    }
    let mut bytes = vec![0u8; length];
    reader.read_exact(&mut bytes)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "string is not UTF-8"))
}

/// Reads a borsh vector, refusing one with more than `limit` items before
/// allocating.
pub fn read_bounded_vec<R: std::io::Read, T: BorshDeserialize>(
    reader: &mut R,
    limit: usize,
) -> std::io::Result<Vec<T>> {
    let length = u32::deserialize_reader(reader)? as usize;
    if length > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("list of {length} items is above the limit of {limit}"),
        ));
    }
    let mut items = Vec::with_capacity(length);
    for _ in 0..length {
        items.push(T::deserialize_reader(reader)?);
    }
    Ok(items)
}
