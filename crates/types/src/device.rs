//! Devices and the batches of messages they anchor.
//!
//! An organisation registers its devices (MRI scanners, imaging servers,
//! traffic cameras, sensors, connected cars, gateways) by their keys. An
//! active device signs the records it produces as their author, and
//! anchors high-rate streams in batches: one transaction carries the root
//! of the RFC 6962 tree ([`crate::merkle`]) over up to
//! [`BATCH_MESSAGES_MAX`] messages, so that each message is later provable
//! on its own by its inclusion proof and the batch record's state proof.

use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::limits::{BATCH_MESSAGES_MAX, DEVICE_LABEL_BYTES_MAX};
use crate::merkle::{self, InclusionError, InclusionProof};
use crate::names::OrgName;
use crate::obligation::Reason;
use crate::tx::bounded_text;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of batch ids.
const BATCH_DOMAIN: &[u8] = b"cityledger/batch/v1";

bounded_text!(
    /// A device's label: an asset tag or a location, never a person's name.
    DeviceLabel, "device label", DEVICE_LABEL_BYTES_MAX, false
);

/// The id of the batch anchored by the transaction `tx_hash`.
pub fn batch_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[BATCH_DOMAIN, &tx_hash.0])
}

/// The leaf of one message in its batch's tree.
pub fn message_leaf(message: &[u8]) -> Digest {
    merkle::leaf_hash(message)
}

/// Checks that `message` is the leaf its proof names under the batch
/// `root`.
pub fn verify_message(
    message: &[u8],
    proof: &InclusionProof,
    root: &Digest,
) -> Result<(), InclusionError> {
    proof.verify(&message_leaf(message), root)
}

/// What kind of device.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum DeviceType {
    /// An MRI scanner.
    MriScanner = 1,
    /// An imaging (PACS) server.
    ImagingServer = 2,
    /// A traffic camera.
    TrafficCamera = 3,
    /// A sensor.
    Sensor = 4,
    /// A connected car.
    ConnectedCar = 5,
    /// A gateway that anchors for devices behind it.
    Gateway = 6,
}

impl DeviceType {
    /// Every type, for parsing and listings.
    pub const ALL: [DeviceType; 6] = [
        DeviceType::MriScanner,
        DeviceType::ImagingServer,
        DeviceType::TrafficCamera,
        DeviceType::Sensor,
        DeviceType::ConnectedCar,
        DeviceType::Gateway,
    ];

    /// The type as it appears in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceType::MriScanner => "mri_scanner",
            DeviceType::ImagingServer => "imaging_server",
            DeviceType::TrafficCamera => "traffic_camera",
            DeviceType::Sensor => "sensor",
            DeviceType::ConnectedCar => "connected_car",
            DeviceType::Gateway => "gateway",
        }
    }

    /// Parses [`DeviceType::as_str`].
    pub fn parse(text: &str) -> Option<DeviceType> {
        DeviceType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Where a device stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum DeviceStatus {
    /// Signs records and anchors batches.
    Active = 1,
    /// Out of service until reinstated; what it signs is refused.
    Suspended = 2,
    /// Out of service for good; its key is never registered again.
    Retired = 3,
}

impl DeviceStatus {
    /// The status as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeviceStatus::Active => "active",
            DeviceStatus::Suspended => "suspended",
            DeviceStatus::Retired => "retired",
        }
    }
}

/// An operation on devices and their batches.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum DeviceOp {
    /// Register a device; signed by a member holding `devices.manage` (or
    /// admin) of the organisation.
    Register {
        /// The owning organisation.
        org: OrgName,
        /// The device's key.
        device: PublicKey,
        /// What it is.
        device_type: DeviceType,
        /// An asset tag or location.
        label: DeviceLabel,
    },
    /// Take a device out of service until reinstated.
    Suspend {
        /// The device.
        device: PublicKey,
        /// Why.
        reason: Reason,
    },
    /// Put a suspended device back in service.
    Reinstate {
        /// The device.
        device: PublicKey,
        /// Why.
        reason: Reason,
    },
    /// Take a device out of service for good.
    Retire {
        /// The device.
        device: PublicKey,
        /// Why.
        reason: Reason,
    },
    /// Anchor a batch of messages; signed by the device itself.
    AnchorBatch {
        /// The device's next batch sequence number (from 0).
        sequence: u64,
        /// Root of the messages' tree.
        root: Digest,
        /// How many messages; 1 to [`BATCH_MESSAGES_MAX`].
        message_count: u32,
    },
}

/// A device in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DeviceRecord {
    /// The owning organisation.
    pub org: OrgName,
    /// What it is.
    pub device_type: DeviceType,
    /// Its label.
    pub label: DeviceLabel,
    /// Where it stands.
    pub status: DeviceStatus,
    /// Height of the registering block.
    pub registered_height: Height,
    /// Block time of the registering block, ms.
    pub registered_at_ms: u64,
    /// Block time of its last status change, ms.
    pub status_changed_at_ms: u64,
    /// The sequence its next batch must carry.
    pub next_batch_sequence: u64,
}

/// An anchored batch in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchRecord {
    /// The device that signed it.
    pub device: PublicKey,
    /// The device's organisation at the time.
    pub org: OrgName,
    /// Its sequence among the device's batches.
    pub sequence: u64,
    /// Root of the messages' tree.
    pub root: Digest,
    /// How many messages.
    pub message_count: u32,
    /// Height of the anchoring block.
    pub height: Height,
    /// Block time of the anchoring block, ms.
    pub at_ms: u64,
}

/// Whether `count` messages fit one batch.
pub fn batch_size_ok(count: u32) -> bool {
    count >= 1 && count as usize <= BATCH_MESSAGES_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_of_a_batch_proves_and_a_changed_one_fails() {
        let messages: Vec<Vec<u8>> = (0..37u32)
            .map(|i| format!("car-17,speed={i}").into_bytes())
            .collect();
        let leaves: Vec<Digest> = messages.iter().map(|m| message_leaf(m)).collect();
        let root = merkle::root(&leaves);
        for (index, message) in messages.iter().enumerate() {
            let proof = merkle::prove(&leaves, index);
            assert_eq!(verify_message(message, &proof, &root), Ok(()));
            let mut changed = message.clone();
            changed[0] ^= 1;
            assert!(matches!(
                verify_message(&changed, &proof, &root),
                Err(InclusionError::RootMismatch { .. })
            ));
        }
    }

    #[test]
    fn device_types_parse_their_own_names() {
        for device_type in DeviceType::ALL {
            assert_eq!(DeviceType::parse(device_type.as_str()), Some(device_type));
        }
        assert_eq!(DeviceType::parse("toaster"), None);
        assert!(!batch_size_ok(0));
        assert!(batch_size_ok(BATCH_MESSAGES_MAX as u32));
        assert!(!batch_size_ok(BATCH_MESSAGES_MAX as u32 + 1));
    }
}
