//! Records: documents and data kept off-chain, sealed, with their
//! commitment, parties, consent grants and every access on chain.
//!
//! A record (a lab result, a prescription, an MRI series, a department's
//! letter) is anchored by its author for an owner (the data subject) and
//! named recipients. The content never reaches the ledger: it is sealed
//! with a data key of its own ([`crate::sealed`]) and kept in the blob store
//! of the nodes; the ledger holds the commitment to the content, the digest
//! of the sealed blob, bounded metadata and who may read. Each read is an
//! access transaction signed by the reader, judged at block time against
//! the owner's grants and kept as an [`AccessRecord`], granted or refused.
//! Erasure leaves the record as a tombstone: the commitment stays for
//! audit, and every node deletes the blob and the wrapped keys.

use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::RECIPIENTS_PER_RECORD_MAX;
use crate::names::{OrgName, RecordType};
use crate::obligation::{Reason, Reference};
use crate::outcome::RejectCode;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of record ids.
const RECORD_DOMAIN: &[u8] = b"cityledger/record/v1";
/// Domain tag of grant ids.
const GRANT_DOMAIN: &[u8] = b"cityledger/grant/v1";
/// Domain tag of access ids.
const ACCESS_DOMAIN: &[u8] = b"cityledger/access/v1";

/// The id of the record anchored by the transaction `tx_hash`.
pub fn record_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[RECORD_DOMAIN, &tx_hash.0])
}

/// The id of the grant made by the transaction `tx_hash`.
pub fn grant_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[GRANT_DOMAIN, &tx_hash.0])
}

/// The id of the access logged by the transaction `tx_hash`.
pub fn access_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[ACCESS_DOMAIN, &tx_hash.0])
}

/// Why a list of recipients was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientsError {
    /// More than allowed.
    #[error("{count} recipients, above the limit of {RECIPIENTS_PER_RECORD_MAX}")]
    TooMany {
        /// Recipients given.
        count: usize,
    },
    /// A key appears twice.
    #[error("recipient {key} appears twice")]
    Duplicate {
        /// The key.
        key: PublicKey,
    },
}

/// At most [`RECIPIENTS_PER_RECORD_MAX`] keys, each once, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct Recipients(Vec<PublicKey>);

impl Recipients {
    /// Validates `keys`.
    pub fn new(keys: Vec<PublicKey>) -> Result<Recipients, RecipientsError> {
        if keys.len() > RECIPIENTS_PER_RECORD_MAX {
            return Err(RecipientsError::TooMany { count: keys.len() });
        }
        for (index, key) in keys.iter().enumerate() {
            if keys[..index].contains(key) {
                return Err(RecipientsError::Duplicate { key: *key });
            }
        }
        Ok(Recipients(keys))
    }

    /// The keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.0
    }

    /// Whether `key` is one of them.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.0.contains(key)
    }
}

impl BorshDeserialize for Recipients {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let keys = read_bounded_vec(reader, RECIPIENTS_PER_RECORD_MAX)?;
        Recipients::new(keys).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

/// What an anchoring transaction states about a new record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Anchor {
    /// The organisation the author acts for (a member with a records role,
    /// or one of its devices), which then controls the record; `None` for
    /// a citizen anchoring their own record, who must be its owner.
    pub org: Option<OrgName>,
    /// Its type; a category grant names it.
    pub record_type: RecordType,
    /// The data subject, who grants others access and may erase it.
    pub owner: PublicKey,
    /// The commitment to the content (`sealed::content_commitment`).
    pub commitment: Digest,
    /// SHA-256 of the sealed blob, which every node checks on every read.
    pub blob_digest: Digest,
    /// Size of the sealed blob, in bytes; at most `BLOB_BYTES_MAX`.
    pub blob_bytes: u64,
    /// Bounded metadata (a study code, a prescription number); never
    /// personal data in clear.
    pub metadata: Reference,
    /// The record this one answers or follows, if any.
    pub parent: Option<Digest>,
    /// Who the record is sent to; each may read it and acknowledge it.
    pub recipients: Recipients,
}

/// What a grant covers.
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
#[serde(tag = "scope", content = "value", rename_all = "snake_case")]
pub enum GrantScope {
    /// One record.
    Record(Digest),
    /// Every record of one type of the owner, present and future.
    Category(RecordType),
}

/// An operation on records, grants and accesses.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RecordOp {
    /// Anchor a record; signed by its author.
    Anchor(Anchor),
    /// Acknowledge delivery; signed by a recipient, naming the commitment
    /// of the content it received.
    Acknowledge {
        /// The record.
        record: Digest,
        /// The commitment of what was received; must be the record's.
        commitment: Digest,
    },
    /// Let a reader read; signed by the owner.
    Grant {
        /// Who may read.
        reader: PublicKey,
        /// What.
        scope: GrantScope,
        /// End of the grant (exclusive), ms of block time.
        valid_until_ms: u64,
    },
    /// End a grant now; signed by its owner.
    RevokeGrant {
        /// The grant.
        grant: Digest,
    },
    /// Read a record; signed by the reader. Logged whether granted or
    /// refused.
    Access {
        /// The record.
        record: Digest,
        /// The grant read under; `None` for the record's own parties.
        grant: Option<Digest>,
    },
    /// Erase a record: its content and keys are destroyed, a tombstone
    /// stays. Signed by the owner or the controlling organisation.
    Erase {
        /// The record.
        record: Digest,
        /// Why.
        reason: Reason,
    },
}

/// A recipient's acknowledgement of delivery.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Acknowledgement {
    /// The recipient.
    pub by: PublicKey,
    /// Height of the block that recorded it.
    pub height: Height,
    /// Block time of that block, ms.
    pub at_ms: u64,
}

/// A record's acknowledgements, at most one per recipient.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct Acknowledgements(pub Vec<Acknowledgement>);

impl BorshDeserialize for Acknowledgements {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, RECIPIENTS_PER_RECORD_MAX).map(Acknowledgements)
    }
}

impl Acknowledgements {
    /// The acknowledgement of `key`, if it gave one.
    pub fn by(&self, key: &PublicKey) -> Option<&Acknowledgement> {
        self.0.iter().find(|a| a.by == *key)
    }
}

/// The tombstone of an erased record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Erasure {
    /// Height of the block that erased it.
    pub height: Height,
    /// Block time of that block, ms.
    pub at_ms: u64,
    /// Who erased it.
    pub by: PublicKey,
    /// Why.
    pub reason: Reason,
}

/// A record in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Record {
    /// Its type.
    pub record_type: RecordType,
    /// The data subject.
    pub owner: PublicKey,
    /// Who anchored it (a member, a citizen or a device).
    pub author: PublicKey,
    /// The controlling organisation, if anchored for one.
    pub org: Option<OrgName>,
    /// The commitment to the content; kept after erasure, for audit.
    pub commitment: Digest,
    /// SHA-256 of the sealed blob.
    pub blob_digest: Digest,
    /// Size of the sealed blob, in bytes.
    pub blob_bytes: u64,
    /// Bounded metadata.
    pub metadata: Reference,
    /// The record it answers or follows.
    pub parent: Option<Digest>,
    /// Who it was sent to.
    pub recipients: Recipients,
    /// Which recipients acknowledged delivery, and when.
    pub acknowledgements: Acknowledgements,
    /// Height of the anchoring block.
    pub anchored_height: Height,
    /// Block time of the anchoring block, ms.
    pub anchored_at_ms: u64,
    /// Set once erased; never cleared.
    pub erasure: Option<Erasure>,
}

impl Record {
    /// Whether `key` reads without a grant: the owner, the author or a
    /// recipient.
    pub fn is_party(&self, key: &PublicKey) -> bool {
        self.owner == *key || self.author == *key || self.recipients.contains(key)
    }
}

/// A consent grant in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GrantRecord {
    /// Who granted: the owner of the records it covers.
    pub owner: PublicKey,
    /// Who may read.
    pub reader: PublicKey,
    /// What.
    pub scope: GrantScope,
    /// Height of the granting block.
    pub granted_height: Height,
    /// Block time of the granting block: the grant holds from then.
    pub granted_at_ms: u64,
    /// End (exclusive), ms of block time.
    pub valid_until_ms: u64,
    /// Block time of its revocation, if revoked.
    pub revoked_at_ms: Option<u64>,
}

impl GrantRecord {
    /// Whether it covers `record` (of id `id`) for `reader`, whatever the
    /// time.
    pub fn covers(&self, id: &Digest, record: &Record, reader: &PublicKey) -> bool {
        if self.reader != *reader || self.owner != record.owner {
            return false;
        }
        match &self.scope {
            GrantScope::Record(granted) => granted == id,
            GrantScope::Category(record_type) => *record_type == record.record_type,
        }
    }

    /// Why it does not hold at block time `at_ms`, if it does not:
    /// revoked before, or expired.
    pub fn refusal_at(&self, at_ms: u64) -> Option<RejectCode> {
        if self.revoked_at_ms.is_some_and(|revoked| revoked <= at_ms) {
            Some(RejectCode::GrantRevoked)
        } else if at_ms >= self.valid_until_ms || at_ms < self.granted_at_ms {
            Some(RejectCode::GrantExpired)
        } else {
            None
        }
    }
}

/// How an access was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AccessDecision {
    /// Allowed: the reader is a party of the record, or its grant holds.
    Granted,
    /// Refused, with why (`no_grant`, `grant_expired`, `grant_revoked`,
    /// `record_erased`).
    Refused(RejectCode),
}

/// One access to a record, granted or refused: the access log.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccessRecord {
    /// The record.
    pub record: Digest,
    /// Its owner, whose access log this entry is in.
    pub owner: PublicKey,
    /// Who asked; the access transaction's signer.
    pub reader: PublicKey,
    /// The grant named, if any.
    pub grant: Option<Digest>,
    /// Height of the block that judged it.
    pub height: Height,
    /// Block time of that block, ms.
    pub at_ms: u64,
    /// The judgement.
    pub decision: AccessDecision,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn key(seed: u8) -> PublicKey {
        SecretKey::from_seed([seed; 32]).public_key()
    }

    fn record() -> Record {
        Record {
            record_type: RecordType::new("lab_result").unwrap(),
            owner: key(1),
            author: key(2),
            org: Some(OrgName::new("health").unwrap()),
            commitment: Digest([3; 32]),
            blob_digest: Digest([4; 32]),
            blob_bytes: 100,
            metadata: Reference::default(),
            parent: None,
            recipients: Recipients::new(vec![key(3)]).unwrap(),
            acknowledgements: Acknowledgements::default(),
            anchored_height: Height(1),
            anchored_at_ms: 1_000,
            erasure: None,
        }
    }

    fn grant(scope: GrantScope) -> GrantRecord {
        GrantRecord {
            owner: key(1),
            reader: key(9),
            scope,
            granted_height: Height(2),
            granted_at_ms: 2_000,
            valid_until_ms: 5_000,
            revoked_at_ms: None,
        }
    }

    #[test]
    fn grants_cover_their_record_or_category_for_their_reader_only() {
        let id = Digest([7; 32]);
        let record = record();
        let cases = [
            (grant(GrantScope::Record(id)), key(9), true),
            (grant(GrantScope::Record(Digest([8; 32]))), key(9), false),
            (
                grant(GrantScope::Category(RecordType::new("lab_result").unwrap())),
                key(9),
                true,
            ),
            (
                grant(GrantScope::Category(RecordType::new("x_ray").unwrap())),
                key(9),
                false,
            ),
            (grant(GrantScope::Record(id)), key(8), false),
            (
                GrantRecord {
                    owner: key(5),
                    ..grant(GrantScope::Record(id))
                },
                key(9),
                false,
            ),
        ];
        for (grant, reader, expected) in cases {
            assert_eq!(grant.covers(&id, &record, &reader), expected, "{grant:?}");
        }
        assert!(record.is_party(&key(1)) && record.is_party(&key(2)) && record.is_party(&key(3)));
        assert!(!record.is_party(&key(9)));
    }

    #[test]
    fn a_grant_holds_from_its_block_until_its_end_or_revocation() {
        let mut held = grant(GrantScope::Record(Digest([7; 32])));
        let cases = [
            (1_999, Some(RejectCode::GrantExpired)),
            (2_000, None),
            (4_999, None),
            (5_000, Some(RejectCode::GrantExpired)),
        ];
        for (at_ms, expected) in cases {
            assert_eq!(held.refusal_at(at_ms), expected, "{at_ms}");
        }
        held.revoked_at_ms = Some(3_000);
        assert_eq!(held.refusal_at(2_999), None);
        assert_eq!(held.refusal_at(3_000), Some(RejectCode::GrantRevoked));
    }

    #[test]
    fn recipients_are_bounded_and_unique_when_decoded_too() {
        assert!(Recipients::new(vec![key(1), key(1)]).is_err());
        let many: Vec<PublicKey> = (0..=RECIPIENTS_PER_RECORD_MAX as u8).map(key).collect();
        assert!(matches!(
            Recipients::new(many.clone()),
            Err(RecipientsError::TooMany { .. })
        ));
        assert!(borsh::from_slice::<Recipients>(&borsh::to_vec(&many).unwrap()).is_err());
        let duplicate = borsh::to_vec(&vec![key(1), key(1)]).unwrap();
        assert!(borsh::from_slice::<Recipients>(&duplicate).is_err());
        let record = record();
        let bytes = borsh::to_vec(&record).unwrap();
        assert_eq!(borsh::from_slice::<Record>(&bytes).unwrap(), record);
        assert_ne!(record_id(&Digest([1; 32])), grant_id(&Digest([1; 32])));
        assert_ne!(grant_id(&Digest([1; 32])), access_id(&Digest([1; 32])));
    }
}
