//! Bitstring Status Lists (W3C Bitstring Status List v1.0): one bit per
//! credential, GZIP-compressed and written as multibase base64url, so that
//! a verifier fetches one list for 131,072 credentials and learns nothing
//! about which one it checks.
//!
//! Bit 0 is the most significant bit of the first byte.

use crate::limits::{ENCODED_LIST_BYTES_MAX, STATUS_LIST_BITS};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Multibase prefix of base64url without padding.
const BASE64URL: char = 'u';
/// GZIP magic, DEFLATE method, no flags, no time, unknown system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// GZIP header flag bits (RFC 1952).
const FLAG_HCRC: u8 = 0x02;
const FLAG_EXTRA: u8 = 0x04;
const FLAG_NAME: u8 = 0x08;
const FLAG_COMMENT: u8 = 0x10;
/// Compression level: the list is written rarely and read often.
const DEFLATE_LEVEL: u8 = 9;
/// Largest decompressed list accepted from outside, in bytes: eight times
/// the minimum, for issuers with longer lists.
const DECODED_BYTES_MAX: usize = STATUS_LIST_BITS / 8 * 8;

/// Why an encoded list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// Not multibase base64url (`u…`).
    #[error("the encoded list is not multibase base64url")]
    NotBase64Url,
    /// Longer than [`ENCODED_LIST_BYTES_MAX`].
    #[error("the encoded list is longer than {ENCODED_LIST_BYTES_MAX} bytes")]
    TooLong,
    /// Not a GZIP stream we read.
    #[error("the encoded list is not GZIP: {0}")]
    NotGzip(&'static str),
    /// Shorter than the specification's minimum of 16 KiB.
    #[error("the list has {0} bits, fewer than the minimum {STATUS_LIST_BITS}")]
    TooShort(usize),
    /// A position outside the list.
    #[error("position {index} is outside a list of {bits} bits")]
    OutOfRange {
        /// The position.
        index: usize,
        /// The list's length.
        bits: usize,
    },
}

/// A list of status bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitstring(Vec<u8>);

impl Default for Bitstring {
    fn default() -> Self {
        Bitstring(vec![0; STATUS_LIST_BITS / 8])
    }
}

impl Bitstring {
    /// Its length, in bits.
    pub fn len(&self) -> usize {
        self.0.len() * 8
    }

    /// Whether it has no bits (never, for a list made or decoded here).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets bit `index`.
    pub fn set(&mut self, index: usize) -> Result<(), StatusListError> {
        let bits = self.len();
        let byte = self
            .0
            .get_mut(index / 8)
            .ok_or(StatusListError::OutOfRange { index, bits })?;
        *byte |= 0x80 >> (index % 8);
        Ok(())
    }

    /// Bit `index`.
    pub fn get(&self, index: usize) -> Result<bool, StatusListError> {
        let bits = self.len();
        let byte = self
            .0
            .get(index / 8)
            .ok_or(StatusListError::OutOfRange { index, bits })?;
        Ok(byte & (0x80 >> (index % 8)) != 0)
    }

    /// How many bits are set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// The `encodedList`: multibase base64url of the GZIP of the bits.
    pub fn encode(&self) -> String {
        let mut gzip = GZIP_HEADER.to_vec();
        gzip.extend(miniz_oxide::deflate::compress_to_vec(
            &self.0,
            DEFLATE_LEVEL,
        ));
        gzip.extend_from_slice(&crc32fast::hash(&self.0).to_le_bytes());
        // The list is far below 4 GiB; GZIP stores the size modulo 2^32.
        gzip.extend_from_slice(&(self.0.len() as u32).to_le_bytes());
        format!("{BASE64URL}{}", URL_SAFE_NO_PAD.encode(gzip))
    }

    /// Decodes an `encodedList` from outside.
    pub fn decode(text: &str) -> Result<Bitstring, StatusListError> {
        if text.len() > ENCODED_LIST_BYTES_MAX {
            return Err(StatusListError::TooLong);
        }
        let body = text
            .strip_prefix(BASE64URL)
            .ok_or(StatusListError::NotBase64Url)?;
        let gzip = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| StatusListError::NotBase64Url)?;
        let bytes = gunzip(&gzip)?;
        if bytes.len() * 8 < STATUS_LIST_BITS {
            return Err(StatusListError::TooShort(bytes.len() * 8));
        }
        Ok(Bitstring(bytes))
    }
}

fn gunzip(gzip: &[u8]) -> Result<Vec<u8>, StatusListError> {
    let bad = StatusListError::NotGzip;
    if gzip.len() < 18 || gzip[..3] != GZIP_HEADER[..3] {
        return Err(bad("no GZIP header"));
    }
    let flags = gzip[3];
    let mut at = 10;
    if flags & FLAG_EXTRA != 0 {
        let length = gzip
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or(bad("truncated extra field"))?;
        at += 2 + length;
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            let end = gzip
                .get(at..)
                .and_then(|rest| rest.iter().position(|b| *b == 0))
                .ok_or(bad("unterminated name or comment"))?;
            at += end + 1;
        }
    }
    if flags & FLAG_HCRC != 0 {
        at += 2;
    }
    let trailer_at = gzip.len() - 8;
    let deflated = gzip.get(at..trailer_at).ok_or(bad("truncated stream"))?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, DECODED_BYTES_MAX)
        .map_err(|_| bad("the DEFLATE data is corrupt or too large"))?;
    let trailer = &gzip[trailer_at..];
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32fast::hash(&bytes) || size as usize != bytes.len() {
        return Err(bad("the checksum or size does not match"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_survive_encoding_and_an_empty_list_is_small() {
        let empty = Bitstring::default().encode();
        assert!(empty.starts_with("uH4sI"), "{empty}");
        assert!(
            empty.len() < 100,
            "16 KiB of zeros compress: {}",
            empty.len()
        );
        let mut list = Bitstring::default();
        for index in [0, 7, 8, 94_567, STATUS_LIST_BITS - 1] {
            list.set(index).unwrap();
        }
        let decoded = Bitstring::decode(&list.encode()).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(decoded.count(), 5);
        assert!(decoded.get(94_567).unwrap());
        assert!(!decoded.get(94_566).unwrap());
        assert!(list.set(STATUS_LIST_BITS).is_err());
    }

    #[test]
    fn outside_input_is_refused_with_a_reason() {
        let good = Bitstring::default().encode();
        let cases: Vec<(String, StatusListError)> = vec![
            (good[1..].to_string(), StatusListError::NotBase64Url),
            ("u!!".into(), StatusListError::NotBase64Url),
            (
                format!("u{}", URL_SAFE_NO_PAD.encode(b"not gzip at all, no")),
                StatusListError::NotGzip("no GZIP header"),
            ),
            (
                "u".repeat(ENCODED_LIST_BYTES_MAX + 1),
                StatusListError::TooLong,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Bitstring::decode(&text), Err(expected));
        }
        let mut short = GZIP_HEADER.to_vec();
        short.extend(miniz_oxide::deflate::compress_to_vec(&[0u8; 16], 6));
        short.extend_from_slice(&crc32fast::hash(&[0u8; 16]).to_le_bytes());
        short.extend_from_slice(&16u32.to_le_bytes());
        let short = format!("u{}", URL_SAFE_NO_PAD.encode(short));
        assert_eq!(
            Bitstring::decode(&short),
            Err(StatusListError::TooShort(128))
        );
    }
}
