//! The text form of a signed transaction in JSON requests: base64url of its
//! canonical bytes.
//!
//! base64url (RFC 4648 §5) rather than standard base64 so that the text can
//! also sit in a URL or a file name unescaped. Encoding never pads; decoding
//! accepts padding too, since it changes nothing about the bytes.

use crate::limits::TX_TEXT_BYTES_MAX;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cityledger_types::SignedTx;
use cityledger_types::encoding::DecodeError;

const ENCODER: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a transaction text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxTextError {
    /// Longer than any valid transaction's text.
    #[error("transaction text is {length} characters, above the limit of {limit}")]
    TooLong {
        /// Length of the text.
        length: usize,
        /// `TX_TEXT_BYTES_MAX`.
        limit: usize,
    },
    /// Not base64url.
    #[error("transaction text is not base64url: {reason}")]
    BadBase64 {
        /// The decoder's message.
        reason: String,
    },
    /// The bytes are not a signed transaction.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Encodes bytes as base64url without padding.
pub fn encode_bytes(bytes: &[u8]) -> String {
    ENCODER.encode(bytes)
}

/// Decodes base64url text (padded or not) into bytes.
pub fn decode_bytes(text: &str) -> Result<Vec<u8>, TxTextError> {
    DECODER
        .decode(text)
        .map_err(|error| TxTextError::BadBase64 {
            reason: error.to_string(),
        })
}

/// The text form of `tx`.
pub fn encode_tx(tx: &SignedTx) -> String {
    encode_bytes(&tx.to_bytes())
}

/// Decodes the text form of a transaction into its bytes, checking the
/// length before decoding anything.
pub fn decode_tx_bytes(text: &str) -> Result<Vec<u8>, TxTextError> {
    if text.len() > TX_TEXT_BYTES_MAX {
        return Err(TxTextError::TooLong {
            length: text.len(),
            limit: TX_TEXT_BYTES_MAX,
        });
    }
    decode_bytes(text)
}

/// Decodes the text form of a transaction.
pub fn decode_tx(text: &str) -> Result<SignedTx, TxTextError> {
    let bytes = decode_tx_bytes(text)?;
    Ok(SignedTx::from_bytes(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::tests::sample_tx;

    #[test]
    fn round_trip_without_padding() {
        let tx = sample_tx(1250);
        let text = encode_tx(&tx);
        assert!(!text.contains('='));
        assert!(!text.contains('+') && !text.contains('/'));
        assert_eq!(decode_tx(&text), Ok(tx));
    }

    #[test]
    fn accepts_padding() {
        let tx = sample_tx(7);
        let mut text = encode_tx(&tx);
        while !text.len().is_multiple_of(4) {
            text.push('=');
        }
        assert_eq!(decode_tx(&text), Ok(tx));
    }

    #[test]
    fn refuses_bad_input() {
        assert!(matches!(
            decode_tx("not base64!"),
            Err(TxTextError::BadBase64 { .. })
        ));
        assert!(matches!(decode_tx("AAAA"), Err(TxTextError::Decode(_))));
        let long = "A".repeat(TX_TEXT_BYTES_MAX + 1);
        assert!(matches!(decode_tx(&long), Err(TxTextError::TooLong { .. })));
        let mut trailing = sample_tx(1).to_bytes();
        trailing.push(0);
        assert!(matches!(
            decode_tx(&encode_bytes(&trailing)),
            Err(TxTextError::Decode(_))
        ));
    }
}
