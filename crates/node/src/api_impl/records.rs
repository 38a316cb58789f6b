//! Record, access, device and batch queries, and the blob store's edge:
//! records and grants from the finalized state, listings from the derived
//! indexes, sealed content served only for a granted access finalized on
//! chain, and wrapped keys accepted only from a record's owner or author
//! (ADR 0007).

use super::credentials::listing_page;
use super::internal;
use super::obligations::Snapshot;
use super::safety::require_fresh;
use crate::record_indexes::{self, GrantListing, RecordListing};
use crate::rest::{AccessQuery, ApiError, GrantQuery, RecordQuery, SignedReader};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityledger_api::problem::code;
use cityledger_api::{
    AccessView, AccessesPage, BatchProof, DeviceView, DevicesPage, GrantView, GrantsPage,
    RecordContentView, RecordView, RecordsPage,
};
use cityledger_storage::{BlobError, BlobStore, Store};
use cityledger_types::device::{BatchRecord, DeviceRecord};
use cityledger_types::record::{
    AccessDecision, AccessRecord, Anchor, GrantRecord, Record, access_id, record_id,
};
use cityledger_types::records::StateKey;
use cityledger_types::sealed::{KeyUpload, WrappedKeys};
use cityledger_types::tx::Action;
use cityledger_types::{Address, Digest, OrgName, PublicKey, SignedTx};

fn record_not_found(id: &Digest) -> ApiError {
    ApiError::not_found(code::RECORD_NOT_FOUND, format!("no record {id}"))
}

fn blob_error(error: BlobError) -> ApiError {
    match error {
        BlobError::Mismatch { .. } | BlobError::TooLarge { .. } => {
            ApiError::bad_request(code::BLOB_MISMATCH, "blob", error.to_string())
        }
        other => internal(other),
    }
}

/// The record `id`.
pub(super) fn record(snapshot: &Snapshot<'_>, id: Digest) -> Result<Option<RecordView>, ApiError> {
    Ok(snapshot
        .load::<Record>(&StateKey::Record(id))?
        .map(|record| RecordView::new(id, &record)))
}

/// What an anchoring request carries, checked against its transaction
/// before anything is stored: the record id the chain will give it and
/// the anchor.
pub(super) fn anchored(tx: &SignedTx) -> Result<(Digest, Anchor), ApiError> {
    // Evidence items and exam answers are records anchored by their own
    // operations (ADR 0008); their blobs travel the same way.
    match &tx.body.action {
        Action::Record(cityledger_types::record::RecordOp::Anchor(anchor))
        | Action::Education(cityledger_types::education::EducationOp::Reveal { anchor, .. }) => {
            Ok((record_id(&tx.hash()), anchor.clone()))
        }
        Action::Safety(cityledger_types::safety::SafetyOp::AddEvidence(evidence)) => {
            Ok((record_id(&tx.hash()), evidence.anchor.clone()))
        }
        _ => Err(ApiError::bad_request(
            code::NOT_AN_ANCHOR,
            "tx",
            "the transaction does not anchor a record",
        )),
    }
}

/// Stores the blob and first keys of the record `tx` anchors, after
/// checking the blob against the digest and size the transaction names.
pub(super) fn store_blob(
    blobs: &dyn BlobStore,
    tx: &SignedTx,
    blob: &[u8],
    keys: &WrappedKeys,
) -> Result<(), ApiError> {
    let (id, anchor) = anchored(tx)?;
    blobs
        .put(&id, blob, &anchor.blob_digest, anchor.blob_bytes, keys)
        .map_err(blob_error)
}

/// Merges wrapped keys handed by the record's owner or author.
pub(super) fn add_keys(
    snapshot: &Snapshot<'_>,
    blobs: &dyn BlobStore,
    upload: &KeyUpload,
) -> Result<usize, ApiError> {
    let record: Record = snapshot
        .load(&StateKey::Record(upload.record))?
        .ok_or_else(|| record_not_found(&upload.record))?;
    if let Some(tombstone) = gone(upload.record, &record) {
        return Err(tombstone);
    }
    if upload.verify().is_err() {
        return Err(ApiError::Forbidden {
            code: code::NOT_RECORD_PARTY,
            detail: "the key upload's signature does not verify".into(),
            access: None,
        });
    }
    if upload.signer != record.owner
        && upload.signer != record.author
        && !is_custodian_member(snapshot, &upload.record, &upload.signer)?
    {
        return Err(ApiError::Forbidden {
            code: code::NOT_RECORD_PARTY,
            detail: format!(
                "signer {} is neither the owner nor the author of record {}, nor a member of its custodian",
                upload.signer, upload.record
            ),
            access: None,
        });
    }
    let merged = blobs
        .add_keys(&upload.record, &upload.keys)
        .map_err(|error| match error {
            BlobError::TooLarge { .. } => ApiError::bad_request(
                code::BAD_KEYS,
                "upload",
                format!("the record would hold more wrapped keys than allowed: {error}"),
            ),
            other => internal(other),
        })?;
    Ok(merged.keys().len())
}

/// Whether `signer` is a member of the agency holding the evidence item
/// `record` (ADR 0008): a custodian hands the key on to the next one.
fn is_custodian_member(
    snapshot: &Snapshot<'_>,
    record: &Digest,
    signer: &PublicKey,
) -> Result<bool, ApiError> {
    let Some(custody) =
        snapshot.load::<cityledger_types::safety::CustodyRecord>(&StateKey::Custody(*record))?
    else {
        return Ok(false);
    };
    Ok(snapshot
        .load::<cityledger_types::records::MemberRecord>(&StateKey::Member(
            custody.custodian,
            *signer,
        ))?
        .is_some())
}

/// Refuses a private read (ADR 0007) unless `reader` signed it recently
/// with the key of `party`, the one whose data `what` is.
fn require_reader(
    reader: &SignedReader,
    party: &Address,
    what: &str,
    now_ms: u64,
) -> Result<(), ApiError> {
    require_fresh(reader, now_ms)?;
    let signed_by = Address::of_key(&reader.key);
    if signed_by != *party {
        return Err(ApiError::Forbidden {
            code: code::NOT_THE_READER,
            detail: format!(
                "{what} is read only by {party}, and this read is signed by {signed_by}"
            ),
            access: None,
        });
    }
    Ok(())
}

/// A request for a record's sealed content.
pub(super) struct ContentRead {
    /// The record.
    pub id: Digest,
    /// The hash of the reader's finalized access transaction.
    pub access: Digest,
    /// Who asked; must be the access's reader.
    pub reader: SignedReader,
}

fn gone(id: Digest, record: &Record) -> Option<ApiError> {
    let erasure = record.erasure.as_ref()?;
    Some(ApiError::Gone {
        detail: format!(
            "record {id} was erased at height {}; only its tombstone and commitment remain",
            erasure.height.0
        ),
        record: Box::new(RecordView::new(id, record)),
    })
}

/// The sealed content of record `id` for the access `access_tx`: 410 with
/// the tombstone after erasure, 403 with the access record when the chain
/// refused it, the blob and the reader's wrapped key when it granted it.
pub(super) fn content(
    snapshot: &Snapshot<'_>,
    blobs: &dyn BlobStore,
    read: &ContentRead,
    now_ms: u64,
) -> Result<RecordContentView, ApiError> {
    let (id, access_tx) = (read.id, read.access);
    let record: Record = snapshot
        .load(&StateKey::Record(id))?
        .ok_or_else(|| record_not_found(&id))?;
    if let Some(tombstone) = gone(id, &record) {
        return Err(tombstone);
    }
    let access_key = access_id(&access_tx);
    let access: AccessRecord = snapshot
        .load(&StateKey::Access(access_key))?
        .ok_or_else(|| {
            ApiError::not_found(
                code::NOT_AN_ACCESS,
                format!(
                    "transaction {access_tx} is not a finalized access; submit one and wait for it"
                ),
            )
        })?;
    if access.record != id {
        return Err(ApiError::bad_request(
            code::NOT_AN_ACCESS,
            "access",
            format!(
                "access {access_tx} is to record {}, not {id}",
                access.record
            ),
        ));
    }
    // The sealed blob opens only with the reader's key, but who holds
    // which record is itself private: only the access's signer asks.
    require_reader(
        &read.reader,
        &Address::of_key(&access.reader),
        &format!("the content granted by access {access_tx}"),
        now_ms,
    )?;
    let access_view = AccessView::new(access_key, &access);
    if let AccessDecision::Refused(refusal) = access.decision {
        return Err(ApiError::Forbidden {
            code: code::ACCESS_REFUSED,
            detail: format!(
                "access by {} to record {id} was refused at height {} ({}) and is in its owner's access log",
                access.reader,
                access.height.0,
                refusal.as_str()
            ),
            access: Some(Box::new(access_view)),
        });
    }
    let not_held = |what: &str| {
        ApiError::not_found(
            code::BLOB_NOT_HELD,
            format!("this node holds no {what} of record {id}"),
        )
    };
    let blob = blobs
        .blob(&id, &record.blob_digest)
        .map_err(|error| match error {
            BlobError::Corrupt { .. } => {
                tracing::error!(%id, %error, "a record's blob on this node's disk is corrupt");
                ApiError::Unavailable {
                    detail: format!(
                        "this node's copy of record {id}'s blob does not match its digest on chain; \
                         fetch it from another node that holds it"
                    ),
                }
            }
            other => internal(other),
        })?
        .ok_or_else(|| not_held("blob"))?;
    let wrapped_key = blobs
        .keys(&id)
        .map_err(internal)?
        .and_then(|keys| keys.for_reader(&access.reader).cloned())
        .ok_or_else(|| not_held(&format!("data key wrapped for {}", access.reader)))?;
    Ok(RecordContentView {
        record: RecordView::new(id, &record),
        access: access_view,
        blob: URL_SAFE_NO_PAD.encode(&blob),
        wrapped_key,
    })
}

/// A page of records of an owner or of a recipient.
pub(super) fn records(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &RecordQuery,
    now_ms: u64,
) -> Result<RecordsPage, ApiError> {
    let listing = match (&query.owner, &query.recipient) {
        (Some(owner), _) => RecordListing::Owner(*owner),
        (None, Some(recipient)) => RecordListing::Recipient(*recipient),
        (None, None) => {
            return Err(ApiError::bad_request(
                code::MISSING_PARAMETER,
                "owner",
                "give owner or recipient",
            ));
        }
    };
    let (party, what) = match &listing {
        RecordListing::Owner(owner) => (owner, "the records of an owner"),
        RecordListing::Recipient(recipient) => (recipient, "the records sent to a recipient"),
    };
    require_reader(&query.reader, party, what, now_ms)?;
    let prefix = record_indexes::record_prefix(&listing);
    let (items, next_cursor) =
        listing_page(store, &prefix, query.cursor.as_deref(), query.limit, |id| {
            record(snapshot, id)
        })?;
    Ok(RecordsPage { items, next_cursor })
}

/// A page of an owner's access log, newest first, optionally of one record.
pub(super) fn accesses(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &AccessQuery,
    now_ms: u64,
) -> Result<AccessesPage, ApiError> {
    require_reader(&query.reader, &query.owner, "an owner's access log", now_ms)?;
    let prefix = record_indexes::access_log_prefix(&query.owner);
    let (items, next_cursor) =
        listing_page(store, &prefix, query.cursor.as_deref(), query.limit, |id| {
            let access: Option<AccessRecord> = snapshot.load(&StateKey::Access(id))?;
            Ok(access
                .filter(|a| query.record.is_none_or(|record| record == a.record))
                .map(|a| AccessView::new(id, &a)))
        })?;
    Ok(AccessesPage { items, next_cursor })
}

/// A page of the grants an owner gave or a reader holds, newest first,
/// each with its state at the tip's block time.
pub(super) fn grants(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    query: &GrantQuery,
    now_ms: u64,
) -> Result<GrantsPage, ApiError> {
    let (party, what) = match &query.listing {
        GrantListing::Owner(owner) => (owner, "the grants an owner gave"),
        GrantListing::Reader(reader) => (reader, "the grants a reader holds"),
    };
    require_reader(&query.signer, party, what, now_ms)?;
    let prefix = record_indexes::grant_prefix(&query.listing);
    let (items, next_cursor) =
        listing_page(store, &prefix, query.cursor.as_deref(), query.limit, |id| {
            let grant: Option<GrantRecord> = snapshot.load(&StateKey::Grant(id))?;
            Ok(grant.map(|grant| GrantView::new(id, &grant, snapshot.as_of_ms)))
        })?;
    Ok(GrantsPage { items, next_cursor })
}

/// The device `key`.
pub(super) fn device(
    snapshot: &Snapshot<'_>,
    key: PublicKey,
) -> Result<Option<DeviceView>, ApiError> {
    Ok(snapshot
        .load::<DeviceRecord>(&StateKey::Device(key))?
        .map(|device| DeviceView::new(key, &device)))
}

/// A page of an organisation's devices, newest registered first.
pub(super) fn devices(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    org: &OrgName,
    cursor: Option<&str>,
    limit: usize,
) -> Result<DevicesPage, ApiError> {
    let prefix = record_indexes::devices_prefix(org);
    let (items, next_cursor) = listing_page(store, &prefix, cursor, limit, |id| {
        device(snapshot, PublicKey(id.0))
    })?;
    Ok(DevicesPage { items, next_cursor })
}

/// The batch `id` with the proof of its record at the tip.
pub(super) fn batch(
    snapshot: &Snapshot<'_>,
    block_id: Digest,
    id: Digest,
) -> Result<BatchProof, ApiError> {
    let key = StateKey::Batch(id).to_bytes();
    let bytes = snapshot
        .state
        .get(&key)
        .ok_or_else(|| ApiError::not_found(code::BATCH_NOT_FOUND, format!("no batch {id}")))?;
    let record: BatchRecord = borsh::from_slice(bytes).map_err(internal)?;
    Ok(BatchProof {
        batch: id,
        device: record.device,
        sequence: record.sequence,
        root: record.root,
        message_count: record.message_count,
        anchored_height: record.height,
        record: URL_SAFE_NO_PAD.encode(bytes),
        proof: snapshot.state.prove(&key),
        state_root: snapshot.state.root(),
        proven_height: snapshot.height,
        block_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::READ_SKEW_MS_MAX;
    use cityledger_types::SecretKey;

    fn reader(seed: u8, time_ms: u64) -> SignedReader {
        SignedReader {
            key: SecretKey::from_seed([seed; 32]).public_key(),
            time_ms,
        }
    }

    fn refusal(result: Result<(), ApiError>) -> &'static str {
        match result {
            Err(ApiError::Forbidden { code, .. }) => code,
            other => panic!("expected a 403, got {other:?}"),
        }
    }

    #[test]
    fn a_private_read_is_served_only_to_its_party_with_a_fresh_clock() {
        let now_ms = 10 * READ_SKEW_MS_MAX;
        let owner = Address::of_key(&reader(1, 0).key);
        assert!(require_reader(&reader(1, now_ms), &owner, "a log", now_ms).is_ok());
        assert!(
            require_reader(
                &reader(1, now_ms - READ_SKEW_MS_MAX),
                &owner,
                "a log",
                now_ms
            )
            .is_ok()
        );
        assert_eq!(
            refusal(require_reader(&reader(2, now_ms), &owner, "a log", now_ms)),
            code::NOT_THE_READER
        );
        let replayed = reader(1, now_ms - READ_SKEW_MS_MAX - 1);
        assert_eq!(
            refusal(require_reader(&replayed, &owner, "a log", now_ms)),
            code::STALE_READ
        );
    }
}
