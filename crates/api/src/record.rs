//! Records, grants, accesses, devices and batches on the wire: a record
//! with its parties and tombstone, the owner's access log, the sealed
//! content a granted reader fetches, the upload that anchors a record with
//! its blob, a batch with the proof of its record, and the readable views
//! of their transactions.
//!
//! No view carries content in clear: a record's content is only ever the
//! sealed blob, which opens with the reader's key alone (ADR 0007).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_types::device::{
    BatchRecord, DeviceOp, DeviceRecord, DeviceStatus, DeviceType, message_leaf,
};
use cityledger_types::merkle::{InclusionError, InclusionProof};
use cityledger_types::obligation::ReferenceField;
use cityledger_types::outcome::RejectCode;
use cityledger_types::record::{
    AccessDecision, AccessRecord, GrantRecord, GrantScope, Record, RecordOp,
};
use cityledger_types::records::StateKey;
use cityledger_types::sealed::WrappedKey;
use cityledger_types::smt::{ProofError, StateProof};
use cityledger_types::{Address, Digest, Height, OrgName, PublicKey, RecordType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A recipient's acknowledgement of delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcknowledgementView {
    /// The recipient, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// Height of its block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
}

/// The tombstone of an erased record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureView {
    /// Who erased it, hex key.
    #[schema(value_type = String)]
    pub by: PublicKey,
    /// Height of the erasing block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
    /// Why.
    pub reason: String,
}

/// A record at the newest finalized block: its parties, commitment and
/// acknowledgements, never its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Its type, e.g. `lab_result`.
    #[schema(value_type = String)]
    pub record_type: RecordType,
    /// The data subject, hex key.
    #[schema(value_type = String)]
    pub owner: PublicKey,
    /// Who anchored it, hex key.
    #[schema(value_type = String)]
    pub author: PublicKey,
    /// The controlling organisation.
    #[schema(value_type = Option<String>)]
    pub org: Option<OrgName>,
    /// The commitment to the content, hex; kept after erasure.
    #[schema(value_type = String)]
    pub commitment: Digest,
    /// SHA-256 of the sealed blob, hex.
    #[schema(value_type = String)]
    pub blob_digest: Digest,
    /// Size of the sealed blob, bytes.
    pub blob_bytes: u64,
    /// Metadata fields.
    #[schema(value_type = Vec<Object>)]
    pub metadata: Vec<ReferenceField>,
    /// The record it follows, hex.
    #[schema(value_type = Option<String>)]
    pub parent: Option<Digest>,
    /// Recipients, hex keys.
    #[schema(value_type = Vec<String>)]
    pub recipients: Vec<PublicKey>,
    /// Acknowledgements of delivery.
    pub acknowledgements: Vec<AcknowledgementView>,
    /// Height of the anchoring block.
    #[schema(value_type = u64)]
    pub anchored_height: Height,
    /// Block time of anchoring, ms.
    pub anchored_at_ms: u64,
    /// The tombstone, once erased.
    pub erasure: Option<ErasureView>,
}

impl RecordView {
    /// The view of record `id`.
    pub fn new(id: Digest, record: &Record) -> RecordView {
        RecordView {
            id,
            record_type: record.record_type.clone(),
            owner: record.owner,
            author: record.author,
            org: record.org.clone(),
            commitment: record.commitment,
            blob_digest: record.blob_digest,
            blob_bytes: record.blob_bytes,
            metadata: record.metadata.fields().to_vec(),
            parent: record.parent,
            recipients: record.recipients.keys().to_vec(),
            acknowledgements: record
                .acknowledgements
                .0
                .iter()
                .map(|a| AcknowledgementView {
                    by: a.by,
                    height: a.height,
                    at_ms: a.at_ms,
                })
                .collect(),
            anchored_height: record.anchored_height,
            anchored_at_ms: record.anchored_at_ms,
            erasure: record.erasure.as_ref().map(|e| ErasureView {
                by: e.by,
                height: e.height,
                at_ms: e.at_ms,
                reason: e.reason.to_string(),
            }),
        }
    }
}

/// A consent grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// Who granted, hex key.
    #[schema(value_type = String)]
    pub owner: PublicKey,
    /// Who may read, hex key.
    #[schema(value_type = String)]
    pub reader: PublicKey,
    /// What it covers: `{"scope": "record", "value": id}` or
    /// `{"scope": "category", "value": type}`.
    #[schema(value_type = Object)]
    pub scope: GrantScope,
    /// The reader's account.
    #[schema(value_type = String)]
    pub reader_address: Address,
    /// Height of the granting block.
    #[schema(value_type = u64)]
    pub granted_height: Height,
    /// Block time from which it holds, ms.
    pub granted_at_ms: u64,
    /// Its end (exclusive), ms.
    pub valid_until_ms: u64,
    /// Block time of its revocation, ms.
    pub revoked_at_ms: Option<u64>,
    /// At the block time it was read at: `active`, `expired` or `revoked`.
    #[schema(example = "active")]
    pub state: String,
}

impl GrantView {
    /// The view of grant `id` at block time `as_of_ms`.
    pub fn new(id: Digest, grant: &GrantRecord, as_of_ms: u64) -> GrantView {
        let state = match grant.refusal_at(as_of_ms) {
            None => "active",
            Some(RejectCode::GrantRevoked) => "revoked",
            Some(_) => "expired",
        };
        GrantView {
            id,
            owner: grant.owner,
            reader: grant.reader,
            scope: grant.scope.clone(),
            reader_address: Address::of_key(&grant.reader),
            granted_height: grant.granted_height,
            granted_at_ms: grant.granted_at_ms,
            valid_until_ms: grant.valid_until_ms,
            revoked_at_ms: grant.revoked_at_ms,
            state: state.to_owned(),
        }
    }
}

/// A page of grants, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GrantsPage {
    /// The grants of this page.
    pub items: Vec<GrantView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// One entry of an owner's access log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessView {
    /// Its id, hex.
    #[schema(value_type = String)]
    pub id: Digest,
    /// The record, hex.
    #[schema(value_type = String)]
    pub record: Digest,
    /// The owner, hex key.
    #[schema(value_type = String)]
    pub owner: PublicKey,
    /// Who asked, hex key.
    #[schema(value_type = String)]
    pub reader: PublicKey,
    /// The reader's account.
    #[schema(value_type = String)]
    pub reader_address: Address,
    /// The grant named, hex.
    #[schema(value_type = Option<String>)]
    pub grant: Option<Digest>,
    /// Height of the judging block.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Block time, ms.
    pub at_ms: u64,
    /// `granted` or `refused`.
    pub decision: String,
    /// Why it was refused: `no_grant`, `grant_expired`, `grant_revoked`
    /// or `record_erased`.
    pub refused: Option<String>,
}

impl AccessView {
    /// The view of access `id`.
    pub fn new(id: Digest, access: &AccessRecord) -> AccessView {
        let (decision, refused) = match access.decision {
            AccessDecision::Granted => ("granted", None),
            AccessDecision::Refused(code) => ("refused", Some(code.as_str().to_string())),
        };
        AccessView {
            id,
            record: access.record,
            owner: access.owner,
            reader: access.reader,
            reader_address: Address::of_key(&access.reader),
            grant: access.grant,
            height: access.height,
            at_ms: access.at_ms,
            decision: decision.to_string(),
            refused,
        }
    }

    /// Whether the access was granted.
    pub fn is_granted(&self) -> bool {
        self.refused.is_none()
    }
}

/// A page of accesses, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessesPage {
    /// The accesses of this page.
    pub items: Vec<AccessView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// A page of records, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordsPage {
    /// The records of this page.
    pub items: Vec<RecordView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// What a reader receives for a granted access: the sealed blob and the
/// data key wrapped for it. Useless to anyone else, who lacks the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordContentView {
    /// The record.
    pub record: RecordView,
    /// The granted access it was served under.
    pub access: AccessView,
    /// The sealed blob, base64url.
    pub blob: String,
    /// The data key wrapped for the reader.
    #[schema(value_type = Object)]
    pub wrapped_key: WrappedKey,
}

/// Anchor a record: the signed anchoring transaction, the sealed blob and
/// the data key wrapped for its first readers. The node stores the blob and
/// keys, checked against the transaction, before it admits the
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnchorRecordRequest {
    /// base64url of the canonical `SignedTx` whose action anchors the
    /// record.
    pub tx: String,
    /// The sealed blob, base64url.
    pub blob: String,
    /// The data key wrapped for the owner, the author and the recipients.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<WrappedKey>,
}

/// Hand a node wrapped keys for new readers of a record: base64url of a
/// borsh `sealed::KeyUpload` signed by the record's owner or author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordKeysRequest {
    /// The signed upload.
    pub upload: String,
}

/// A device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    /// Its key, hex.
    #[schema(value_type = String)]
    pub key: PublicKey,
    /// Its account.
    #[schema(value_type = String)]
    pub address: Address,
    /// Its organisation.
    #[schema(value_type = String)]
    pub org: OrgName,
    /// `mri_scanner`, `imaging_server`, `traffic_camera`, `sensor`,
    /// `connected_car` or `gateway`.
    #[schema(value_type = String)]
    pub device_type: DeviceType,
    /// Its label.
    pub label: String,
    /// `active`, `suspended` or `retired`.
    #[schema(value_type = String)]
    pub status: DeviceStatus,
    /// Block time of registration, ms.
    pub registered_at_ms: u64,
    /// Block time of the last status change, ms.
    pub status_changed_at_ms: u64,
    /// The sequence its next batch must carry.
    pub next_batch_sequence: u64,
}

impl DeviceView {
    /// The view of device `key`.
    pub fn new(key: PublicKey, device: &DeviceRecord) -> DeviceView {
        DeviceView {
            key,
            address: Address::of_key(&key),
            org: device.org.clone(),
            device_type: device.device_type,
            label: device.label.to_string(),
            status: device.status,
            registered_at_ms: device.registered_at_ms,
            status_changed_at_ms: device.status_changed_at_ms,
            next_batch_sequence: device.next_batch_sequence,
        }
    }
}

/// A page of devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DevicesPage {
    /// The devices of this page.
    pub items: Vec<DeviceView>,
    /// Pass as `cursor` to continue; absent when the listing is complete.
    pub next_cursor: Option<String>,
}

/// An anchored batch with the proof of its record against the state root
/// of the newest finalized block; a message is proven by its inclusion
/// proof under `root` and [`BatchProof::check_message`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchProof {
    /// The batch, hex.
    #[schema(value_type = String)]
    pub batch: Digest,
    /// The device that signed it, hex key.
    #[schema(value_type = String)]
    pub device: PublicKey,
    /// Its sequence among the device's batches.
    pub sequence: u64,
    /// The root of its messages' tree, hex.
    #[schema(value_type = String)]
    pub root: Digest,
    /// How many messages.
    pub message_count: u32,
    /// Height of the anchoring block.
    #[schema(value_type = u64)]
    pub anchored_height: Height,
    /// The batch record: base64url of its canonical (borsh) bytes.
    pub record: String,
    /// The proof of the record under `StateKey::Batch(batch)`.
    #[schema(value_type = Object)]
    pub proof: StateProof,
    /// The state root the proof reaches, hex.
    #[schema(value_type = String)]
    pub state_root: Digest,
    /// Height of the block whose header holds `state_root`.
    #[schema(value_type = u64)]
    pub proven_height: Height,
    /// That block's id, hex.
    #[schema(value_type = String)]
    pub block_id: Digest,
}

/// Why a batch or message proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchProofError {
    /// The record is not base64url of a batch record.
    #[error("the batch record does not decode: {0}")]
    Record(String),
    /// The state proof does not reach the state root.
    #[error("the batch record's proof does not hold: {0}")]
    Proof(#[from] ProofError),
    /// The fields beside the record say otherwise than the record.
    #[error("the batch's {field} differs from its proven record")]
    Field {
        /// Which field.
        field: &'static str,
    },
    /// The message is not under the batch's root.
    #[error("the message is not in the batch: {0}")]
    Message(#[from] InclusionError),
}

impl BatchProof {
    /// Checks the batch record against `state_root`, and the fields beside
    /// it against the record; returns the proven record.
    pub fn check(&self) -> Result<BatchRecord, BatchProofError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.record)
            .map_err(|error| BatchProofError::Record(error.to_string()))?;
        let record: BatchRecord = borsh::from_slice(&bytes)
            .map_err(|error| BatchProofError::Record(error.to_string()))?;
        let key = StateKey::Batch(self.batch).to_bytes();
        self.proof.verify(&self.state_root, &key, Some(&bytes))?;
        let checks = [
            (record.root == self.root, "root"),
            (record.device == self.device, "device"),
            (record.sequence == self.sequence, "sequence"),
            (record.message_count == self.message_count, "message_count"),
            (record.height == self.anchored_height, "anchored_height"),
        ];
        if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(BatchProofError::Field { field });
        }
        Ok(record)
    }

    /// Checks the batch, then that `message` sits under its root.
    pub fn check_message(
        &self,
        message: &[u8],
        inclusion: &InclusionProof,
    ) -> Result<BatchRecord, BatchProofError> {
        let record = self.check()?;
        if inclusion.leaf_count != record.message_count {
            return Err(BatchProofError::Field {
                field: "message_count",
            });
        }
        inclusion.verify(&message_leaf(message), &record.root)?;
        Ok(record)
    }
}

/// A record operation, tagged by `op`. Metadata values and reasons are
/// shown (they are the signer's own words on chain); content never is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RecordOpView {
    /// Anchoring a record.
    Anchor {
        /// Organisation, if any.
        #[schema(value_type = Option<String>)]
        org: Option<OrgName>,
        /// Type.
        #[schema(value_type = String)]
        record_type: RecordType,
        /// Owner, hex key.
        #[schema(value_type = String)]
        owner: PublicKey,
        /// Content commitment, hex.
        #[schema(value_type = String)]
        commitment: Digest,
        /// Blob digest, hex.
        #[schema(value_type = String)]
        blob_digest: Digest,
        /// Blob size, bytes.
        blob_bytes: u64,
        /// Metadata.
        #[schema(value_type = Vec<Object>)]
        metadata: Vec<ReferenceField>,
        /// Parent record, hex.
        #[schema(value_type = Option<String>)]
        parent: Option<Digest>,
        /// Recipients, hex keys.
        #[schema(value_type = Vec<String>)]
        recipients: Vec<PublicKey>,
    },
    /// Acknowledging delivery.
    Acknowledge {
        /// The record, hex.
        #[schema(value_type = String)]
        record: Digest,
        /// The commitment received, hex.
        #[schema(value_type = String)]
        commitment: Digest,
    },
    /// Granting access.
    Grant {
        /// Reader, hex key.
        #[schema(value_type = String)]
        reader: PublicKey,
        /// What.
        #[schema(value_type = Object)]
        scope: GrantScope,
        /// End, ms.
        valid_until_ms: u64,
    },
    /// Revoking a grant.
    RevokeGrant {
        /// The grant, hex.
        #[schema(value_type = String)]
        grant: Digest,
    },
    /// Accessing a record.
    Access {
        /// The record, hex.
        #[schema(value_type = String)]
        record: Digest,
        /// The grant, hex.
        #[schema(value_type = Option<String>)]
        grant: Option<Digest>,
    },
    /// Erasing a record.
    Erase {
        /// The record, hex.
        #[schema(value_type = String)]
        record: Digest,
        /// Why.
        reason: String,
    },
}

impl From<&RecordOp> for RecordOpView {
    fn from(op: &RecordOp) -> RecordOpView {
        match op {
            RecordOp::Anchor(anchor) => RecordOpView::Anchor {
                org: anchor.org.clone(),
                record_type: anchor.record_type.clone(),
                owner: anchor.owner,
                commitment: anchor.commitment,
                blob_digest: anchor.blob_digest,
                blob_bytes: anchor.blob_bytes,
                metadata: anchor.metadata.fields().to_vec(),
                parent: anchor.parent,
                recipients: anchor.recipients.keys().to_vec(),
            },
            RecordOp::Acknowledge { record, commitment } => RecordOpView::Acknowledge {
                record: *record,
                commitment: *commitment,
            },
            RecordOp::Grant {
                reader,
                scope,
                valid_until_ms,
            } => RecordOpView::Grant {
                reader: *reader,
                scope: scope.clone(),
                valid_until_ms: *valid_until_ms,
            },
            RecordOp::RevokeGrant { grant } => RecordOpView::RevokeGrant { grant: *grant },
            RecordOp::Access { record, grant } => RecordOpView::Access {
                record: *record,
                grant: *grant,
            },
            RecordOp::Erase { record, reason } => RecordOpView::Erase {
                record: *record,
                reason: reason.to_string(),
            },
        }
    }
}

/// A device operation, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DeviceOpView {
    /// Registering a device.
    Register {
        /// Organisation.
        #[schema(value_type = String)]
        org: OrgName,
        /// The device's key, hex.
        #[schema(value_type = String)]
        device: PublicKey,
        /// Its type.
        #[schema(value_type = String)]
        device_type: DeviceType,
        /// Its label.
        label: String,
    },
    /// Suspending, reinstating or retiring a device.
    ChangeStatus {
        /// The device's key, hex.
        #[schema(value_type = String)]
        device: PublicKey,
        /// The status it goes to.
        #[schema(value_type = String)]
        status: DeviceStatus,
        /// Why.
        reason: String,
    },
    /// Anchoring a batch.
    AnchorBatch {
        /// Sequence.
        sequence: u64,
        /// Root, hex.
        #[schema(value_type = String)]
        root: Digest,
        /// Messages.
        message_count: u32,
    },
}

impl From<&DeviceOp> for DeviceOpView {
    fn from(op: &DeviceOp) -> DeviceOpView {
        let change = |device: &PublicKey, status, reason: &cityledger_types::obligation::Reason| {
            DeviceOpView::ChangeStatus {
                device: *device,
                status,
                reason: reason.to_string(),
            }
        };
        match op {
            DeviceOp::Register {
                org,
                device,
                device_type,
                label,
            } => DeviceOpView::Register {
                org: org.clone(),
                device: *device,
                device_type: *device_type,
                label: label.to_string(),
            },
            DeviceOp::Suspend { device, reason } => change(device, DeviceStatus::Suspended, reason),
            DeviceOp::Reinstate { device, reason } => change(device, DeviceStatus::Active, reason),
            DeviceOp::Retire { device, reason } => change(device, DeviceStatus::Retired, reason),
            DeviceOp::AnchorBatch {
                sequence,
                root,
                message_count,
            } => DeviceOpView::AnchorBatch {
                sequence: *sequence,
                root: *root,
                message_count: *message_count,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::SecretKey;
    use cityledger_types::merkle;
    use cityledger_types::smt::SparseMerkleTree;

    #[test]
    fn a_message_proves_against_its_batch_and_the_state_root_and_nothing_else_does() {
        let messages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![b'm', i]).collect();
        let leaves: Vec<Digest> = messages.iter().map(|m| message_leaf(m)).collect();
        let root = merkle::root(&leaves);
        let device = SecretKey::from_seed([3; 32]).public_key();
        let record = BatchRecord {
            device,
            org: OrgName::new("transport").unwrap(),
            sequence: 4,
            root,
            message_count: 10,
            height: Height(7),
            at_ms: 1_000,
        };
        let batch = Digest([5; 32]);
        let bytes = borsh::to_vec(&record).unwrap();
        let key = StateKey::Batch(batch).to_bytes();
        let tree = SparseMerkleTree::new().apply([
            (key.clone(), Some(bytes.clone())),
            (b"other".to_vec(), Some(b"x".to_vec())),
        ]);
        let proof = BatchProof {
            batch,
            device,
            sequence: 4,
            root,
            message_count: 10,
            anchored_height: Height(7),
            record: URL_SAFE_NO_PAD.encode(&bytes),
            proof: tree.prove(&key),
            state_root: tree.root(),
            proven_height: Height(8),
            block_id: Digest([6; 32]),
        };
        for (index, message) in messages.iter().enumerate() {
            let inclusion = merkle::prove(&leaves, index);
            assert_eq!(proof.check_message(message, &inclusion), Ok(record.clone()));
            assert!(matches!(
                proof.check_message(b"changed", &inclusion),
                Err(BatchProofError::Message(_))
            ));
        }
        let moved = BatchProof {
            root: Digest([1; 32]),
            ..proof.clone()
        };
        assert_eq!(moved.check(), Err(BatchProofError::Field { field: "root" }));
        let other_root = BatchProof {
            state_root: Digest([1; 32]),
            ..proof
        };
        assert!(matches!(other_root.check(), Err(BatchProofError::Proof(_))));
    }
}
