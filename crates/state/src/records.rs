//! Records: anchoring, acknowledgement of delivery, consent grants, the
//! access log and erasure.
//!
//! Owns `StateKey::Record`, `Grant` and `Access`. The content of a record
//! is never here: only its commitment, the digest of its sealed blob and
//! who may read (ADR 0007). Every access attempt by a signed reader is
//! judged at block time and written as an access record, granted or
//! refused, so the owner's access log is provable entry by entry; only an
//! access naming no known record or grant is rejected. Erasure sets the
//! record's tombstone and keeps its commitment; the nodes delete the blob
//! and the keys when they commit it.

use crate::credentials::check_validity;
use crate::events::Event;
use crate::governance::require_any_role;
use crate::ledger::OpContext;
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::device::{DeviceRecord, DeviceStatus};
use cityledger_types::genesis::{ROLE_ADMIN, ROLE_RECORDS_ERASE, ROLE_RECORDS_WRITE};
use cityledger_types::limits::{BLOB_BYTES_MAX, GRANT_MS_MAX};
use cityledger_types::obligation::Reason;
use cityledger_types::record::{
    AccessDecision, AccessRecord, Acknowledgement, Acknowledgements, Anchor, Erasure, GrantRecord,
    GrantScope, Record, RecordOp, access_id, grant_id, record_id,
};
use cityledger_types::records::StateKey;
use cityledger_types::{Address, Digest, Height, OrgName, PublicKey, RejectCode, RoleName};

/// Applies one record operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &RecordOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        RecordOp::Anchor(anchor) => {
            anchor_record(layer, context, height, anchor, events).map(|_| ())
        }
        RecordOp::Acknowledge { record, commitment } => {
            acknowledge(layer, context, height, record, commitment, events)
        }
        RecordOp::Grant {
            reader,
            scope,
            valid_until_ms,
        } => grant(
            layer,
            context,
            height,
            reader,
            scope,
            *valid_until_ms,
            events,
        ),
        RecordOp::RevokeGrant { grant } => revoke_grant(layer, context, grant, events),
        RecordOp::Access { record, grant } => access(layer, context, height, record, grant, events),
        RecordOp::Erase { record, reason } => erase(layer, context, height, record, reason, events),
    }
}

/// Refuses a signer that is a registered device out of service: what a
/// suspended or retired device signs must not count.
pub(crate) fn require_device_active_if_registered(
    layer: &Layer<'_>,
    signer: &PublicKey,
) -> Result<Option<DeviceRecord>, Rejection> {
    let Some(device) = layer.load::<DeviceRecord>(&StateKey::Device(*signer)) else {
        return Ok(None);
    };
    if device.status != DeviceStatus::Active {
        return Err(reject(
            RejectCode::DeviceInactive,
            format!("device {signer} is {}", device.status.as_str()),
        ));
    }
    Ok(Some(device))
}

/// Loads record `id`, refusing an unknown one.
pub(crate) fn load_record(layer: &Layer<'_>, id: &Digest) -> Result<Record, Rejection> {
    layer.load(&StateKey::Record(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownRecord,
            format!("record {id} does not exist"),
        )
    })
}

fn require_not_erased(id: &Digest, record: &Record) -> Result<(), Rejection> {
    match &record.erasure {
        Some(erasure) => Err(reject(
            RejectCode::RecordErased,
            format!("record {id} was erased at height {}", erasure.height.0),
        )),
        None => Ok(()),
    }
}

/// Checks that the signer may anchor for `org`: one of its active devices,
/// or a member holding `records.write` or admin.
fn require_author_for(
    layer: &Layer<'_>,
    org: &OrgName,
    signer: &PublicKey,
    device: Option<&DeviceRecord>,
) -> Result<(), Rejection> {
    if let Some(device) = device {
        if device.org == *org {
            return Ok(());
        }
        return Err(reject(
            RejectCode::MissingRole,
            format!("device {signer} belongs to {}, not {org}", device.org),
        ));
    }
    let roles = roles(&[ROLE_RECORDS_WRITE, ROLE_ADMIN]);
    require_any_role(layer, org, signer, &roles, "anchor records").map(|_| ())
}

fn roles(names: &[&str]) -> Vec<RoleName> {
    names
        .iter()
        .map(|name| RoleName::new(*name).expect("role constants are valid names"))
        .collect()
}

/// Anchors the record of `anchor`, authored by the signer, with the id of
/// the transaction; returns the id. Evidence items and exam answers are
/// anchored through here too.
pub(crate) fn anchor_record(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    anchor: &Anchor,
    events: &mut Vec<Event>,
) -> Result<Digest, Rejection> {
    let signer = context.signer;
    let device = require_device_active_if_registered(layer, signer)?;
    match &anchor.org {
        Some(org) => require_author_for(layer, org, signer, device.as_ref())?,
        None if anchor.owner != *signer => {
            return Err(reject(
                RejectCode::BadRecord,
                "a record anchored for no organisation is its owner's own: the signer must be the owner",
            ));
        }
        None => {}
    }
    if anchor.blob_bytes == 0 || anchor.blob_bytes > BLOB_BYTES_MAX {
        return Err(reject(
            RejectCode::BadRecord,
            format!(
                "blob_bytes is {}, outside 1 to BLOB_BYTES_MAX ({BLOB_BYTES_MAX})",
                anchor.blob_bytes
            ),
        ));
    }
    if let Some(parent) = &anchor.parent {
        load_record(layer, parent)?;
    }
    let id = record_id(context.tx_hash);
    let record = Record {
        record_type: anchor.record_type.clone(),
        owner: anchor.owner,
        author: *signer,
        org: anchor.org.clone(),
        commitment: anchor.commitment,
        blob_digest: anchor.blob_digest,
        blob_bytes: anchor.blob_bytes,
        metadata: anchor.metadata.clone(),
        parent: anchor.parent,
        recipients: anchor.recipients.clone(),
        acknowledgements: Acknowledgements::default(),
        anchored_height: height,
        anchored_at_ms: context.timestamp_ms,
        erasure: None,
    };
    layer.store(&StateKey::Record(id), &record);
    events.push(Event::RecordAnchored {
        record: id,
        record_type: record.record_type,
        owner: Address::of_key(&record.owner),
        author: Address::of_key(signer),
        org: record.org,
        parent: record.parent,
        recipients: record
            .recipients
            .keys()
            .iter()
            .map(Address::of_key)
            .collect(),
    });
    Ok(id)
}

fn acknowledge(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    commitment: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let signer = context.signer;
    require_device_active_if_registered(layer, signer)?;
    let mut record = load_record(layer, id)?;
    require_not_erased(id, &record)?;
    if !record.recipients.contains(signer) {
        return Err(reject(
            RejectCode::NotRecipient,
            format!("signer {signer} is not a recipient of record {id}"),
        ));
    }
    if let Some(first) = record.acknowledgements.by(signer) {
        return Err(reject(
            RejectCode::AlreadyAcknowledged,
            format!(
                "signer {signer} acknowledged record {id} at height {} already",
                first.height.0
            ),
        ));
    }
    if *commitment != record.commitment {
        return Err(reject(
            RejectCode::CommitmentMismatch,
            format!(
                "acknowledged commitment {commitment} is not record {id}'s {}",
                record.commitment
            ),
        ));
    }
    // Recipients are unique and bounded, and each acknowledges once, so the
    // list stays within its decoding bound.
    record.acknowledgements.0.push(Acknowledgement {
        by: *signer,
        height,
        at_ms: context.timestamp_ms,
    });
    layer.store(&StateKey::Record(*id), &record);
    events.push(Event::RecordAcknowledged {
        record: *id,
        owner: Address::of_key(&record.owner),
        by: Address::of_key(signer),
    });
    Ok(())
}

fn grant(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    reader: &PublicKey,
    scope: &GrantScope,
    valid_until_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let owner = context.signer;
    if let GrantScope::Record(id) = scope {
        let record = load_record(layer, id)?;
        if record.owner != *owner {
            return Err(reject(
                RejectCode::NotRecordOwner,
                format!("signer {owner} does not own record {id}; its owner grants access"),
            ));
        }
        require_not_erased(id, &record)?;
    }
    if reader == owner {
        return Err(reject(
            RejectCode::BadRecord,
            "an owner reads its own records without a grant",
        ));
    }
    check_validity(context.timestamp_ms, valid_until_ms, GRANT_MS_MAX)?;
    let id = grant_id(context.tx_hash);
    let record = GrantRecord {
        owner: *owner,
        reader: *reader,
        scope: scope.clone(),
        granted_height: height,
        granted_at_ms: context.timestamp_ms,
        valid_until_ms,
        revoked_at_ms: None,
    };
    layer.store(&StateKey::Grant(id), &record);
    events.push(Event::GrantCreated {
        grant: id,
        owner: Address::of_key(owner),
        reader: Address::of_key(reader),
        scope: scope.clone(),
        valid_until_ms,
    });
    Ok(())
}

fn load_grant(layer: &Layer<'_>, id: &Digest) -> Result<GrantRecord, Rejection> {
    layer.load(&StateKey::Grant(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownGrant,
            format!("grant {id} does not exist"),
        )
    })
}

fn revoke_grant(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut grant = load_grant(layer, id)?;
    if grant.owner != *context.signer {
        return Err(reject(
            RejectCode::NotRecordOwner,
            format!("signer {} did not make grant {id}", context.signer),
        ));
    }
    if grant.revoked_at_ms.is_some() {
        return Err(reject(
            RejectCode::GrantRevoked,
            format!("grant {id} is already revoked"),
        ));
    }
    grant.revoked_at_ms = Some(context.timestamp_ms);
    layer.store(&StateKey::Grant(*id), &grant);
    events.push(Event::GrantRevoked {
        grant: *id,
        owner: Address::of_key(&grant.owner),
        reader: Address::of_key(&grant.reader),
    });
    Ok(())
}

/// Judges an access by `reader` to record `id` under `grant` at block time
/// `at_ms`: the one rule the state machine and the node's answers share.
pub fn judge(
    id: &Digest,
    record: &Record,
    reader: &PublicKey,
    grant: Option<&GrantRecord>,
    at_ms: u64,
) -> AccessDecision {
    if record.erasure.is_some() {
        return AccessDecision::Refused(RejectCode::RecordErased);
    }
    let Some(grant) = grant else {
        return if record.is_party(reader) {
            AccessDecision::Granted
        } else {
            AccessDecision::Refused(RejectCode::NoGrant)
        };
    };
    if !grant.covers(id, record, reader) {
        return AccessDecision::Refused(RejectCode::NoGrant);
    }
    match grant.refusal_at(at_ms) {
        Some(code) => AccessDecision::Refused(code),
        None => AccessDecision::Granted,
    }
}

/// How an access by a party of the record is judged: granted unless the
/// record was erased.
fn judge_as_party(record: &Record) -> AccessDecision {
    if record.erasure.is_some() {
        AccessDecision::Refused(RejectCode::RecordErased)
    } else {
        AccessDecision::Granted
    }
}

fn access(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    grant_named: &Option<Digest>,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let reader = context.signer;
    let record = load_record(layer, id)?;
    let grant = match grant_named {
        Some(grant) => Some(load_grant(layer, grant)?),
        None => None,
    };
    let decision = match grant {
        // The agency holding an evidence item reads it as a party would.
        None if crate::safety::is_custodian_member(layer, id, reader) => judge_as_party(&record),
        _ => judge(id, &record, reader, grant.as_ref(), context.timestamp_ms),
    };
    let access = access_id(context.tx_hash);
    layer.store(
        &StateKey::Access(access),
        &AccessRecord {
            record: *id,
            owner: record.owner,
            reader: *reader,
            grant: *grant_named,
            height,
            at_ms: context.timestamp_ms,
            decision,
        },
    );
    events.push(Event::RecordAccessed {
        access,
        record: *id,
        owner: Address::of_key(&record.owner),
        reader: Address::of_key(reader),
        grant: *grant_named,
        refused: match decision {
            AccessDecision::Granted => None,
            AccessDecision::Refused(code) => Some(code),
        },
    });
    Ok(())
}

fn erase(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    id: &Digest,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let signer = context.signer;
    let mut record = load_record(layer, id)?;
    if record.owner != *signer {
        let Some(org) = &record.org else {
            return Err(reject(
                RejectCode::NotRecordOwner,
                format!("signer {signer} does not own record {id}, which no organisation controls"),
            ));
        };
        let roles = roles(&[ROLE_RECORDS_ERASE, ROLE_ADMIN]);
        require_any_role(layer, org, signer, &roles, "erase records")?;
    }
    require_not_erased(id, &record)?;
    record.erasure = Some(Erasure {
        height,
        at_ms: context.timestamp_ms,
        by: *signer,
        reason: reason.clone(),
    });
    layer.store(&StateKey::Record(*id), &record);
    events.push(Event::RecordErased {
        record: *id,
        owner: Address::of_key(&record.owner),
        by: Address::of_key(signer),
        reason: reason.to_string(),
    });
    Ok(())
}
