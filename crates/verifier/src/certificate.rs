//! Commonware's Simplex finalization certificate, decoded and checked
//! without Commonware.
//!
//! The node stores, next to each finalized block, the bytes of the engine's
//! `simplex::types::Finalization` for the ed25519 scheme, as
//! `commonware-consensus` 2026.10.0 encodes it. This module re-implements
//! exactly that encoding and the message the validators sign, so that a
//! receipt can carry the validators' own bytes and be checked in a browser:
//!
//! ```text
//! Finalization = Proposal ‖ Certificate
//! Proposal     = varint(epoch) ‖ varint(view) ‖ varint(parent view) ‖ payload (32 bytes)
//! Certificate  = u64 BE bit count ‖ bitmap bytes (bit i at byte i/8, mask 1 << (i % 8))
//!                ‖ varint(signature count) ‖ 64-byte signatures, by signer index
//! signed       = varint(len(ns)) ‖ ns ‖ Proposal,   ns = namespace ‖ "_FINALIZE"
//! ```
//!
//! Varints are LEB128, and Commonware accepts only the shortest encoding,
//! so each value has one encoding; the decoder here refuses the same inputs.
//! The payload is our block id. Signer `i` is the `i`th key of the
//! validator set sorted by bytes (Commonware's `ordered::Set`). A
//! certificate holds when its bitmap covers exactly the set, it has at
//! least `n - (n - 1) / 3` signers (Commonware's `N3f1` quorum, i.e. more
//! than two thirds), and every signature verifies (see [`crate::ed25519`]).
//!
//! The node's tests build real Commonware certificates and check that this
//! module accepts them and refuses every tampered one.

use crate::ed25519::VerifyingKey;
use crate::limits::{
    CERTIFICATE_BYTES_MAX, CERTIFICATE_SIGNATURE_BYTES, VARINT_U32_BYTES_MAX, VARINT_U64_BYTES_MAX,
};
use crate::validators::ValidatorSet;
use cityledger_types::crypto::SIGNATURE_LEN;
use cityledger_types::{BlockHeader, Digest, PublicKey};

/// The base namespace of every consensus signature of CityLedger; the node
/// passes the same constant to the engine.
pub const CONSENSUS_NAMESPACE: &[u8] = b"cityledger/consensus/v1";
/// Suffix Simplex appends to the namespace for finalize votes.
pub const FINALIZE_SUFFIX: &[u8] = b"_FINALIZE";

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// No certificate where one is needed.
    #[error("the block has no finality certificate")]
    Missing,
    /// Above [`CERTIFICATE_BYTES_MAX`].
    #[error("certificate is {length} bytes, above the limit of {limit}")]
    TooLarge {
        /// Its length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a valid encoding.
    #[error("certificate is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The bitmap does not cover exactly the validator set.
    #[error("certificate names signers among {found} validators, the set has {expected}")]
    WrongSetSize {
        /// Validators in the set.
        expected: usize,
        /// Bits in the certificate's bitmap.
        found: u64,
    },
    /// Too few signers.
    #[error(
        "certificate has {signers} signers, a quorum of {quorum} of {validators} validators is needed"
    )]
    NoQuorum {
        /// Signers present.
        signers: usize,
        /// The quorum.
        quorum: usize,
        /// Validators in the set.
        validators: usize,
    },
    /// A signature does not verify.
    #[error("the signature of validator {signer} ({key}) does not verify")]
    BadSignature {
        /// Index of the signer in the sorted set.
        signer: usize,
        /// Its key.
        key: PublicKey,
    },
    /// The certificate is for another block.
    #[error("certificate finalizes block {certified}, not {expected}")]
    WrongBlock {
        /// The header's id.
        expected: Digest,
        /// The certificate's payload.
        certified: Digest,
    },
    /// The certificate's round differs from the header's.
    #[error(
        "certificate is for epoch {epoch}, view {view}, parent view {parent_view}; the header says epoch {header_epoch}, view {header_view}, parent view {header_parent_view}"
    )]
    WrongRound {
        /// From the certificate.
        epoch: u64,
        /// From the certificate.
        view: u64,
        /// From the certificate.
        parent_view: u64,
        /// From the header.
        header_epoch: u64,
        /// From the header.
        header_view: u64,
        /// From the header.
        header_parent_view: u64,
    },
    /// The certificate's epoch is not the epoch of the set checking it.
    #[error("certificate is for epoch {found}, the validator set is for epoch {expected}")]
    WrongEpoch {
        /// The set's epoch.
        expected: u64,
        /// The certificate's.
        found: u64,
    },
}

/// A decoded finalization certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalization {
    /// Epoch of the round.
    pub epoch: u64,
    /// View of the round.
    pub view: u64,
    /// View of the parent proposal.
    pub parent_view: u64,
    /// The finalized payload: a block id.
    pub payload: Digest,
    /// Bits in the signer bitmap: the size of the set that signed.
    pub participants: u64,
    /// Indices of the signers in the sorted set, ascending.
    pub signers: Vec<usize>,
    /// One signature per signer, in the same order.
    pub signatures: Vec<[u8; SIGNATURE_LEN]>,
}

/// The quorum of Commonware's `N3f1` model: `n - (n - 1) / 3`, the least
/// number of signers that is more than two thirds of `n` (for `n >= 1`).
pub fn quorum(validators: usize) -> usize {
    validators - validators.saturating_sub(1) / 3
}

/// A cursor over untrusted bytes: every read checks the length first.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], CertificateError> {
        if self.bytes.len() < count {
            return Err(CertificateError::Malformed {
                reason: "ends too early",
            });
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, CertificateError> {
        Ok(self.take(1)?[0])
    }

    /// A shortest-form LEB128 varint of at most `bits` bits, refused exactly
    /// where Commonware's `varint::Decoder` refuses it.
    fn varint(&mut self, bits: u32, max_bytes: usize) -> Result<u64, CertificateError> {
        let malformed = CertificateError::Malformed {
            reason: "a varint is overlong or overflows",
        };
        let mut value = 0u64;
        let mut shift = 0u32;
        for index in 0..max_bytes {
            let byte = self.byte()?;
            if byte == 0 && index > 0 {
                return Err(malformed);
            }
            let remaining = bits - shift;
            if remaining <= 7 && (8 - byte.leading_zeros()) > remaining {
                return Err(malformed);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
        Err(malformed)
    }

    fn digest(&mut self) -> Result<Digest, CertificateError> {
        let mut digest = Digest::ZERO;
        digest.0.copy_from_slice(self.take(32)?);
        Ok(digest)
    }
}

impl Finalization {
    /// Decodes the engine's bytes, refusing anything Commonware would not
    /// have produced: overlong varints, stray bitmap bits, a signature count
    /// that differs from the bitmap, trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Finalization, CertificateError> {
        if bytes.is_empty() {
            return Err(CertificateError::Missing);
        }
        if bytes.len() > CERTIFICATE_BYTES_MAX {
            return Err(CertificateError::TooLarge {
                length: bytes.len(),
                limit: CERTIFICATE_BYTES_MAX,
            });
        }
        let mut reader = Reader { bytes };
        let epoch = reader.varint(64, VARINT_U64_BYTES_MAX)?;
        let view = reader.varint(64, VARINT_U64_BYTES_MAX)?;
        let parent_view = reader.varint(64, VARINT_U64_BYTES_MAX)?;
        let payload = reader.digest()?;
        let mut count_bytes = [0u8; 8];
        count_bytes.copy_from_slice(reader.take(8)?);
        let participants = u64::from_be_bytes(count_bytes);
        // Bounded by the input length before anything is allocated.
        let bitmap_len =
            usize::try_from(participants.div_ceil(8)).map_err(|_| CertificateError::Malformed {
                reason: "the signer bitmap is too long",
            })?;
        let bitmap = reader.take(bitmap_len)?;
        let signers: Vec<usize> = (0..bitmap_len * 8)
            .filter(|&index| bitmap[index / 8] & (1 << (index % 8)) != 0)
            .collect();
        if signers
            .last()
            .is_some_and(|&last| last as u64 >= participants)
        {
            return Err(CertificateError::Malformed {
                reason: "the signer bitmap has bits past its length",
            });
        }
        if signers.is_empty() {
            return Err(CertificateError::Malformed {
                reason: "the certificate has no signers",
            });
        }
        let count = reader.varint(32, VARINT_U32_BYTES_MAX)?;
        if count != signers.len() as u64 {
            return Err(CertificateError::Malformed {
                reason: "the signature count differs from the signer bitmap",
            });
        }
        let mut signatures = Vec::with_capacity(signers.len());
        for _ in 0..signers.len() {
            let mut signature = [0u8; SIGNATURE_LEN];
            signature.copy_from_slice(reader.take(CERTIFICATE_SIGNATURE_BYTES)?);
            signatures.push(signature);
        }
        if !reader.bytes.is_empty() {
            return Err(CertificateError::Malformed {
                reason: "trailing bytes after the certificate",
            });
        }
        Ok(Finalization {
            epoch,
            view,
            parent_view,
            payload,
            participants,
            signers,
            signatures,
        })
    }

    /// The proposal's encoding: what the validators' votes are about.
    pub fn proposal_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(3 * VARINT_U64_BYTES_MAX + 32);
        write_varint(&mut bytes, self.epoch);
        write_varint(&mut bytes, self.view);
        write_varint(&mut bytes, self.parent_view);
        bytes.extend_from_slice(&self.payload.0);
        bytes
    }

    /// The exact bytes each validator signed: Commonware's
    /// `union_unique(namespace ‖ "_FINALIZE", proposal)`.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(&self.proposal_bytes())
    }

    /// Checks the certificate against `set` and returns the signers' keys.
    pub fn verify(&self, set: &ValidatorSet) -> Result<Vec<PublicKey>, CertificateError> {
        if self.epoch != set.epoch {
            return Err(CertificateError::WrongEpoch {
                expected: set.epoch,
                found: self.epoch,
            });
        }
        let keys = set.keys();
        if self.participants != keys.len() as u64 {
            return Err(CertificateError::WrongSetSize {
                expected: keys.len(),
                found: self.participants,
            });
        }
        let needed = quorum(keys.len());
        if self.signers.len() < needed {
            return Err(CertificateError::NoQuorum {
                signers: self.signers.len(),
                quorum: needed,
                validators: keys.len(),
            });
        }
        let message = self.signed_message();
        let mut signed_by = Vec::with_capacity(self.signers.len());
        for (&signer, signature) in self.signers.iter().zip(&self.signatures) {
            // The bitmap length equals the set size, so the index is in range.
            let key = keys[signer];
            let valid = VerifyingKey::new(&key).is_some_and(|k| k.verifies(&message, signature));
            if !valid {
                return Err(CertificateError::BadSignature { signer, key });
            }
            signed_by.push(key);
        }
        Ok(signed_by)
    }

    /// Checks that the certificate is about `header`: its payload is the
    /// block id and its round is the header's.
    pub fn check_header(&self, header: &BlockHeader) -> Result<(), CertificateError> {
        let id = header.id();
        if self.payload != id {
            return Err(CertificateError::WrongBlock {
                expected: id,
                certified: self.payload,
            });
        }
        let round = &header.round;
        if (self.epoch, self.view, self.parent_view) != (round.epoch, round.view, round.parent_view)
        {
            return Err(CertificateError::WrongRound {
                epoch: self.epoch,
                view: self.view,
                parent_view: self.parent_view,
                header_epoch: round.epoch,
                header_view: round.view,
                header_parent_view: round.parent_view,
            });
        }
        Ok(())
    }
}

/// Decodes `bytes`, checks them against `set` and `header`, and returns
/// the signers.
pub fn verify_certificate(
    bytes: &[u8],
    set: &ValidatorSet,
    header: &BlockHeader,
) -> Result<Vec<PublicKey>, CertificateError> {
    let finalization = Finalization::decode(bytes)?;
    finalization.check_header(header)?;
    finalization.verify(set)
}

/// `varint(len(ns)) ‖ ns ‖ proposal` with `ns = CONSENSUS_NAMESPACE ‖ _FINALIZE`.
fn signed_message(proposal: &[u8]) -> Vec<u8> {
    let namespace_len = CONSENSUS_NAMESPACE.len() + FINALIZE_SUFFIX.len();
    let mut message = Vec::with_capacity(VARINT_U32_BYTES_MAX + namespace_len + proposal.len());
    write_varint(&mut message, namespace_len as u64);
    message.extend_from_slice(CONSENSUS_NAMESPACE);
    message.extend_from_slice(FINALIZE_SUFFIX);
    message.extend_from_slice(proposal);
    message
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Builds certificates the way Commonware does, from validators' secret
/// keys: for tests of this crate and its users, who must not depend on the
/// engine. The node's tests check that these bytes equal the engine's.
pub mod testing {
    use super::*;
    use cityledger_types::SecretKey;

    /// Signs the finalization of `header` with the validators at `signers`
    /// (indices into `keys` sorted by public key) and encodes it.
    pub fn certify(header: &BlockHeader, keys: &[SecretKey], signers: &[usize]) -> Vec<u8> {
        let mut sorted: Vec<&SecretKey> = keys.iter().collect();
        sorted.sort_by_key(|key| key.public_key());
        let finalization = Finalization {
            epoch: header.round.epoch,
            view: header.round.view,
            parent_view: header.round.parent_view,
            payload: header.id(),
            participants: sorted.len() as u64,
            signers: signers.to_vec(),
            signatures: Vec::new(),
        };
        let message = finalization.signed_message();
        let signatures: Vec<[u8; SIGNATURE_LEN]> = signers
            .iter()
            .map(|&index| sorted[index].sign(&message).0)
            .collect();
        encode(&Finalization {
            signatures,
            ..finalization
        })
    }

    /// Commonware's encoding of `finalization`; signers must be ascending.
    pub fn encode(finalization: &Finalization) -> Vec<u8> {
        let mut bytes = finalization.proposal_bytes();
        bytes.extend_from_slice(&finalization.participants.to_be_bytes());
        let mut bitmap = vec![0u8; finalization.participants.div_ceil(8) as usize];
        for &signer in &finalization.signers {
            bitmap[signer / 8] |= 1 << (signer % 8);
        }
        bytes.extend_from_slice(&bitmap);
        write_varint(&mut bytes, finalization.signatures.len() as u64);
        for signature in &finalization.signatures {
            bytes.extend_from_slice(signature);
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::testing::certify;
    use super::*;
    use cityledger_types::Height;
    use cityledger_types::SecretKey;
    use cityledger_types::block::ConsensusRound;
    use cityledger_types::tx::ChainId;

    fn header(epoch: u64) -> BlockHeader {
        BlockHeader {
            chain_id: ChainId::new("cityledger-test").expect("chain id"),
            height: Height(5),
            parent: Digest::of(b"parent"),
            timestamp_ms: 1_800_000_000_000,
            round: ConsensusRound {
                epoch,
                view: 300,
                parent_view: 299,
                leader: None,
            },
            tx_root: Digest::ZERO,
            outcomes_root: Digest::ZERO,
            state_root: Digest::of(b"state"),
            validator_set_hash: Digest::ZERO,
            tx_count: 0,
        }
    }

    fn validators(count: u8) -> (Vec<SecretKey>, ValidatorSet) {
        let keys: Vec<SecretKey> = (0..count)
            .map(|i| SecretKey::from_seed([i + 1; 32]))
            .collect();
        let set = ValidatorSet::new(0, keys.iter().map(SecretKey::public_key))
            .expect("distinct valid keys");
        (keys, set)
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        for (validators, expected) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, 5),
            (10, 7),
            (100, 67),
        ] {
            assert_eq!(quorum(validators), expected, "{validators}");
            assert!(3 * quorum(validators) > 2 * validators);
            assert!(3 * (quorum(validators) - 1) <= 2 * validators || validators < 4);
        }
    }

    #[test]
    fn accepts_a_quorum_and_refuses_less() {
        let (keys, set) = validators(4);
        let header = header(0);
        let good = certify(&header, &keys, &[0, 1, 3]);
        let signers = verify_certificate(&good, &set, &header).expect("valid");
        assert_eq!(signers.len(), 3);
        let all = certify(&header, &keys, &[0, 1, 2, 3]);
        assert!(verify_certificate(&all, &set, &header).is_ok());
        let two = certify(&header, &keys, &[1, 2]);
        assert_eq!(
            verify_certificate(&two, &set, &header),
            Err(CertificateError::NoQuorum {
                signers: 2,
                quorum: 3,
                validators: 4
            })
        );
    }

    #[test]
    fn binds_block_round_and_epoch() {
        let (keys, set) = validators(4);
        let header = header(0);
        let bytes = certify(&header, &keys, &[0, 1, 2]);
        let mut other = header.clone();
        other.height = Height(6);
        assert!(matches!(
            verify_certificate(&bytes, &set, &other),
            Err(CertificateError::WrongBlock { .. })
        ));
        let wrong_epoch =
            ValidatorSet::new(1, keys.iter().map(SecretKey::public_key)).expect("set");
        assert!(matches!(
            verify_certificate(&bytes, &wrong_epoch, &header),
            Err(CertificateError::WrongEpoch { .. })
        ));
        let (_, five) = validators(5);
        assert!(matches!(
            verify_certificate(&bytes, &five, &header),
            Err(CertificateError::WrongSetSize { .. })
        ));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let (keys, set) = validators(4);
        let header = header(0);
        let bytes = certify(&header, &keys, &[0, 2, 3]);
        for index in 0..bytes.len() {
            for bit in 0..8 {
                let mut tampered = bytes.clone();
                tampered[index] ^= 1 << bit;
                assert!(
                    verify_certificate(&tampered, &set, &header).is_err(),
                    "flip of bit {bit} of byte {index} accepted"
                );
            }
        }
        for length in 0..bytes.len() {
            assert!(verify_certificate(&bytes[..length], &set, &header).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(verify_certificate(&longer, &set, &header).is_err());
    }

    #[test]
    fn varints_are_shortest_form_only() {
        let check = |bytes: &[u8], bits: u32, expected: Option<u64>| {
            let mut reader = Reader { bytes };
            assert_eq!(reader.varint(bits, 10).ok(), expected, "{bytes:?}");
        };
        check(&[0x00], 64, Some(0));
        check(&[0x7f], 64, Some(127));
        check(&[0x80, 0x01], 64, Some(128));
        check(&[0x80, 0x00], 64, None);
        check(
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
            32,
            Some(u64::from(u32::MAX)),
        );
        check(&[0xff, 0xff, 0xff, 0xff, 0x1f], 32, None);
        check(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            64,
            Some(u64::MAX),
        );
        check(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            64,
            None,
        );
        let mut encoded = Vec::new();
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            encoded.clear();
            write_varint(&mut encoded, value);
            check(&encoded, 64, Some(value));
        }
    }
}
