//! The derived indexes of records, accesses and devices: their key layout
//! and how a finalized block changes them, beside the other domains'
//! indexes and in the same atomic commit (ADR 0007).
//!
//! | prefix | key after the prefix                          | value |
//! |--------|-----------------------------------------------|-------|
//! | `r.o`  | owner (21) ‖ anchored at (8) ‖ record (32)     | —     |
//! | `r.r`  | recipient (21) ‖ anchored at (8) ‖ record (32) | —     |
//! | `r.x`  | owner (21) ‖ judged at (8) ‖ access (32)       | —     |
//! | `r.go` | owner (21) ‖ granted at (8) ‖ grant (32)      | —     |
//! | `r.gr` | reader (21) ‖ granted at (8) ‖ grant (32)     | —     |
//! | `d.o`  | org ‖ registered at (8) ‖ device key (32)      | —     |
//!
//! Every listing is fed by events of the block alone: records, accesses
//! grants and devices are never deleted and never change owner, reader or
//! organisation, so an entry is written once (a revocation changes the
//! grant in the state, which a listing reads). An erased record stays listed, as its
//! tombstone.

use crate::indexes::push_org;
use cityledger_state::{Event, StateRead, WriteSet};
use cityledger_storage::IndexChange;
use cityledger_types::{Address, Digest, Height, OrgName};

const OWNER: &[u8] = b"r.o";
const RECIPIENT: &[u8] = b"r.r";
const ACCESS_LOG: &[u8] = b"r.x";
const DEVICES: &[u8] = b"d.o";
const GRANTS_BY_OWNER: &[u8] = b"r.go";
const GRANTS_BY_READER: &[u8] = b"r.gr";

/// Whose records a listing scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordListing {
    /// An owner's (the data subject's).
    Owner(Address),
    /// Those sent to a recipient.
    Recipient(Address),
}

/// The prefix of every key of `listing`.
pub fn record_prefix(listing: &RecordListing) -> Vec<u8> {
    let (tag, address) = match listing {
        RecordListing::Owner(owner) => (OWNER, owner),
        RecordListing::Recipient(recipient) => (RECIPIENT, recipient),
    };
    let mut key = tag.to_vec();
    key.extend_from_slice(&address.0);
    key
}

/// Whose grants a listing scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantListing {
    /// Those an owner gave.
    Owner(Address),
    /// Those given to a reader.
    Reader(Address),
}

/// The prefix of every key of `listing`.
pub fn grant_prefix(listing: &GrantListing) -> Vec<u8> {
    let (tag, address) = match listing {
        GrantListing::Owner(owner) => (GRANTS_BY_OWNER, owner),
        GrantListing::Reader(reader) => (GRANTS_BY_READER, reader),
    };
    let mut key = tag.to_vec();
    key.extend_from_slice(&address.0);
    key
}

/// The prefix of an owner's access log.
pub fn access_log_prefix(owner: &Address) -> Vec<u8> {
    let mut key = ACCESS_LOG.to_vec();
    key.extend_from_slice(&owner.0);
    key
}

/// The prefix of an organisation's devices.
pub fn devices_prefix(org: &OrgName) -> Vec<u8> {
    let mut key = DEVICES.to_vec();
    push_org(&mut key, org);
    key
}

fn dated(prefix: Vec<u8>, at_ms: u64, id: &[u8; 32]) -> IndexChange {
    let mut key = prefix;
    key.extend_from_slice(&at_ms.to_be_bytes());
    key.extend_from_slice(id);
    IndexChange {
        key,
        value: Some(Vec::new()),
    }
}

/// The index changes of a finalized block for records, accesses and
/// devices, from its events.
pub fn block_changes(
    _parent: &dyn StateRead,
    _writes: &WriteSet,
    events: &[(Option<u32>, Event)],
    _hashes: &[Digest],
    _height: Height,
    timestamp_ms: u64,
) -> Vec<IndexChange> {
    let mut changes = Vec::new();
    for (_, event) in events {
        match event {
            Event::RecordAnchored {
                record,
                owner,
                recipients,
                ..
            } => {
                changes.push(dated(
                    record_prefix(&RecordListing::Owner(*owner)),
                    timestamp_ms,
                    &record.0,
                ));
                for recipient in recipients {
                    changes.push(dated(
                        record_prefix(&RecordListing::Recipient(*recipient)),
                        timestamp_ms,
                        &record.0,
                    ));
                }
            }
            Event::RecordAccessed { access, owner, .. } => {
                changes.push(dated(access_log_prefix(owner), timestamp_ms, &access.0));
            }
            Event::GrantCreated {
                grant,
                owner,
                reader,
                ..
            } => {
                for listing in [GrantListing::Owner(*owner), GrantListing::Reader(*reader)] {
                    changes.push(dated(grant_prefix(&listing), timestamp_ms, &grant.0));
                }
            }
            Event::DeviceRegistered { device, org, .. } => {
                changes.push(dated(devices_prefix(org), timestamp_ms, &device.0));
            }
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_different_listings_never_overlap() {
        let address = Address([7; 21]);
        let prefixes = [
            record_prefix(&RecordListing::Owner(address)),
            record_prefix(&RecordListing::Recipient(address)),
            access_log_prefix(&address),
            grant_prefix(&GrantListing::Owner(address)),
            grant_prefix(&GrantListing::Reader(address)),
            devices_prefix(&OrgName::new("health").unwrap()),
        ];
        for (i, a) in prefixes.iter().enumerate() {
            for (j, b) in prefixes.iter().enumerate() {
                assert!(i == j || !a.starts_with(b), "{i} and {j}");
            }
        }
    }
}
