//! Lists, byte strings and text with a bound checked while decoding.
//!
//! Borsh's derived decoders read a length and trust it; these wrappers
//! refuse a length above their bound before reading on, so that a receipt
//! from outside can never make the decoder allocate beyond the limits in
//! [`crate::limits`].

use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::encoding::{read_bounded_string, read_bounded_vec};
use std::io::{Error, ErrorKind, Read};

/// A list of at most `MAX` items.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct BoundedVec<T, const MAX: usize>(pub Vec<T>);

impl<T: BorshDeserialize, const MAX: usize> BorshDeserialize for BoundedVec<T, MAX> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, MAX).map(BoundedVec)
    }
}

/// At most `MAX` opaque bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct BoundedBytes<const MAX: usize>(pub Vec<u8>);

impl<const MAX: usize> BorshDeserialize for BoundedBytes<MAX> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        let length = u32::deserialize_reader(reader)? as usize;
        if length > MAX {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("{length} bytes are above the limit of {MAX}"),
            ));
        }
        let mut bytes = vec![0u8; length];
        reader.read_exact(&mut bytes)?;
        Ok(BoundedBytes(bytes))
    }
}

/// UTF-8 text of at most `MAX` bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct BoundedText<const MAX: usize>(pub String);

impl<const MAX: usize> BorshDeserialize for BoundedText<MAX> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_string(reader, MAX).map(BoundedText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_lengths_above_their_bound() {
        let four = borsh::to_vec(&vec![1u8, 2, 3, 4]).expect("encode");
        assert!(borsh::from_slice::<BoundedBytes<4>>(&four).is_ok());
        assert!(borsh::from_slice::<BoundedBytes<3>>(&four).is_err());
        assert!(borsh::from_slice::<BoundedVec<u8, 3>>(&four).is_err());
        let text = borsh::to_vec(&"four".to_owned()).expect("encode");
        assert!(borsh::from_slice::<BoundedText<4>>(&text).is_ok());
        assert!(borsh::from_slice::<BoundedText<3>>(&text).is_err());
        // A huge claimed length fails before any allocation.
        let huge = u32::MAX.to_le_bytes();
        assert!(borsh::from_slice::<BoundedBytes<64>>(&huge).is_err());
    }
}
