//! Devices: registration, suspension, reinstatement and retirement, and
//! the batches of messages they anchor.
//!
//! Owns `StateKey::Device` and `Batch`. A device is registered, suspended,
//! reinstated and retired by a member of its organisation holding
//! `devices.manage` or admin; retirement is final and a retired key is
//! never registered again. Only an active device anchors batches, each
//! with the device's next sequence number, so a replayed or skipped batch
//! is refused.

use crate::events::Event;
use crate::governance::require_any_role;
use crate::ledger::OpContext;
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::device::{
    BatchRecord, DeviceLabel, DeviceOp, DeviceRecord, DeviceStatus, DeviceType, batch_id,
    batch_size_ok,
};
use cityledger_types::genesis::{ROLE_ADMIN, ROLE_DEVICES_MANAGE};
use cityledger_types::limits::BATCH_MESSAGES_MAX;
use cityledger_types::obligation::Reason;
use cityledger_types::records::StateKey;
use cityledger_types::{Digest, Height, OrgName, PublicKey, RejectCode, RoleName};

/// Applies one device operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &DeviceOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        DeviceOp::Register {
            org,
            device,
            device_type,
            label,
        } => register(
            layer,
            context,
            height,
            org,
            device,
            *device_type,
            label,
            events,
        ),
        DeviceOp::Suspend { device, reason } => change(
            layer,
            context,
            device,
            DeviceStatus::Suspended,
            reason,
            events,
        ),
        DeviceOp::Reinstate { device, reason } => {
            change(layer, context, device, DeviceStatus::Active, reason, events)
        }
        DeviceOp::Retire { device, reason } => change(
            layer,
            context,
            device,
            DeviceStatus::Retired,
            reason,
            events,
        ),
        DeviceOp::AnchorBatch {
            sequence,
            root,
            message_count,
        } => anchor_batch(
            layer,
            context,
            height,
            *sequence,
            root,
            *message_count,
            events,
        ),
    }
}

fn require_manager(layer: &Layer<'_>, org: &OrgName, signer: &PublicKey) -> Result<(), Rejection> {
    let roles = [ROLE_DEVICES_MANAGE, ROLE_ADMIN]
        .map(|name| RoleName::new(name).expect("role constants are valid names"));
    require_any_role(layer, org, signer, &roles, "manage devices").map(|_| ())
}

#[allow(clippy::too_many_arguments)]
fn register(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    org: &OrgName,
    device: &PublicKey,
    device_type: DeviceType,
    label: &DeviceLabel,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_manager(layer, org, context.signer)?;
    if let Some(existing) = layer.load::<DeviceRecord>(&StateKey::Device(*device)) {
        return Err(reject(
            RejectCode::DeviceExists,
            format!(
                "key {device} is already a device of {} ({})",
                existing.org,
                existing.status.as_str()
            ),
        ));
    }
    if device.to_x25519().is_err() {
        return Err(reject(
            RejectCode::BadRecord,
            format!("device key {device} is not a valid ed25519 key"),
        ));
    }
    layer.store(
        &StateKey::Device(*device),
        &DeviceRecord {
            org: org.clone(),
            device_type,
            label: label.clone(),
            status: DeviceStatus::Active,
            registered_height: height,
            registered_at_ms: context.timestamp_ms,
            status_changed_at_ms: context.timestamp_ms,
            next_batch_sequence: 0,
        },
    );
    events.push(Event::DeviceRegistered {
        device: *device,
        org: org.clone(),
        device_type,
    });
    Ok(())
}

fn load_device(layer: &Layer<'_>, device: &PublicKey) -> Result<DeviceRecord, Rejection> {
    layer.load(&StateKey::Device(*device)).ok_or_else(|| {
        reject(
            RejectCode::UnknownDevice,
            format!("key {device} is not a registered device"),
        )
    })
}

fn change(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    device: &PublicKey,
    to: DeviceStatus,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = load_device(layer, device)?;
    require_manager(layer, &record.org, context.signer)?;
    match (record.status, to) {
        (DeviceStatus::Retired, _) => {
            return Err(reject(
                RejectCode::DeviceRetired,
                format!("device {device} was retired; nothing changes it any more"),
            ));
        }
        (DeviceStatus::Suspended, DeviceStatus::Suspended) => {
            return Err(reject(
                RejectCode::AlreadySuspended,
                format!("device {device} is already suspended"),
            ));
        }
        (DeviceStatus::Active, DeviceStatus::Active) => {
            return Err(reject(
                RejectCode::NotSuspended,
                format!("device {device} is not suspended"),
            ));
        }
        _ => {}
    }
    record.status = to;
    record.status_changed_at_ms = context.timestamp_ms;
    layer.store(&StateKey::Device(*device), &record);
    events.push(Event::DeviceStatusChanged {
        device: *device,
        org: record.org,
        status: to,
        reason: reason.to_string(),
    });
    Ok(())
}

fn anchor_batch(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    sequence: u64,
    root: &Digest,
    message_count: u32,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let signer = context.signer;
    let mut device = load_device(layer, signer)?;
    if device.status != DeviceStatus::Active {
        return Err(reject(
            RejectCode::DeviceInactive,
            format!("device {signer} is {}", device.status.as_str()),
        ));
    }
    if sequence != device.next_batch_sequence {
        return Err(reject(
            RejectCode::BatchOutOfOrder,
            format!(
                "batch sequence {sequence} is not device {signer}'s next, {}",
                device.next_batch_sequence
            ),
        ));
    }
    if !batch_size_ok(message_count) {
        return Err(reject(
            RejectCode::BadBatch,
            format!(
                "a batch holds 1 to BATCH_MESSAGES_MAX ({BATCH_MESSAGES_MAX}) messages, not {message_count}"
            ),
        ));
    }
    if *root == Digest::ZERO {
        return Err(reject(
            RejectCode::BadBatch,
            "a batch's root must not be zero",
        ));
    }
    device.next_batch_sequence = sequence.saturating_add(1);
    let id = batch_id(context.tx_hash);
    layer.store(
        &StateKey::Batch(id),
        &BatchRecord {
            device: *signer,
            org: device.org.clone(),
            sequence,
            root: *root,
            message_count,
            height,
            at_ms: context.timestamp_ms,
        },
    );
    layer.store(&StateKey::Device(*signer), &device);
    events.push(Event::BatchAnchored {
        batch: id,
        device: *signer,
        org: device.org,
        sequence,
        message_count,
    });
    Ok(())
}
