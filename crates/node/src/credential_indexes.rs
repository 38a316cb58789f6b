//! The derived indexes of applications and credentials: their key layout
//! and how a finalized block changes them, beside the obligation indexes
//! of [`crate::indexes`] and in the same atomic commit.
//!
//! | prefix | key after the prefix                              | value       |
//! |--------|---------------------------------------------------|-------------|
//! | `a.a`  | applicant (21) ‖ submitted at (8) ‖ id (32)        | —           |
//! | `a.o`  | org ‖ group (1) ‖ submitted at ‖ id               | —           |
//! | `a.h`  | id ‖ height (8) ‖ event index in block (4)        | history item, JSON |
//! | `c.h`  | holder (21) ‖ issued at (8) ‖ id (32)             | —           |
//! | `c.i`  | issuer ‖ issued at ‖ id                           | —           |
//! | `c.l`  | issuer ‖ status list position (4)                 | id (32)     |
//! | `c.e`  | id ‖ height ‖ event index in block                | history item, JSON |
//!
//! An org is its length (1 byte) and its name. Numbers are big-endian, so
//! byte order is time order (and position order for `c.l`, which is how a
//! status list is read). Applications are listed from their state diff
//! (a group changes once, when decided); credentials, which are never
//! deleted and never change holder or issuer, from their issuance events.

use crate::indexes::{history_change, push_org};
use cityledger_state::{Event, StateRead, WriteSet};
use cityledger_storage::IndexChange;
use cityledger_types::application::{ApplicationRecord, ApplicationStatus};
use cityledger_types::records::StateKey;
use cityledger_types::{Address, Digest, Height, OrgName};

const APPLICANT: &[u8] = b"a.a";
const DECIDING_ORG: &[u8] = b"a.o";
const APPLICATION_HISTORY: &[u8] = b"a.h";
const HOLDER: &[u8] = b"c.h";
const ISSUER: &[u8] = b"c.i";
const STATUS_POSITION: &[u8] = b"c.l";
const CREDENTIAL_HISTORY: &[u8] = b"c.e";

/// The application groups of the `a.o` index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ApplicationGroup {
    /// Submitted or waiting for information: the agency's queue.
    Open = 1,
    /// Approved or rejected.
    Decided = 2,
}

impl ApplicationGroup {
    /// The group of `status`.
    pub fn of(status: ApplicationStatus) -> ApplicationGroup {
        if status.is_decided() {
            ApplicationGroup::Decided
        } else {
            ApplicationGroup::Open
        }
    }
}

/// Whose applications a listing scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplicationListing {
    /// An applicant's, every status.
    Applicant(Address),
    /// A deciding organisation's, in one group.
    Org(OrgName, ApplicationGroup),
}

/// The prefix of every key of `listing`.
pub fn application_prefix(listing: &ApplicationListing) -> Vec<u8> {
    match listing {
        ApplicationListing::Applicant(applicant) => {
            let mut key = APPLICANT.to_vec();
            key.extend_from_slice(&applicant.0);
            key
        }
        ApplicationListing::Org(org, group) => {
            let mut key = DECIDING_ORG.to_vec();
            push_org(&mut key, org);
            key.push(*group as u8);
            key
        }
    }
}

/// Whose credentials a listing scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialListing {
    /// A holder's.
    Holder(Address),
    /// An issuer's.
    Issuer(OrgName),
}

/// The prefix of every key of `listing`.
pub fn credential_prefix(listing: &CredentialListing) -> Vec<u8> {
    match listing {
        CredentialListing::Holder(holder) => {
            let mut key = HOLDER.to_vec();
            key.extend_from_slice(&holder.0);
            key
        }
        CredentialListing::Issuer(issuer) => {
            let mut key = ISSUER.to_vec();
            push_org(&mut key, issuer);
            key
        }
    }
}

/// The prefix of an issuer's status list positions.
pub fn status_position_prefix(issuer: &OrgName) -> Vec<u8> {
    let mut key = STATUS_POSITION.to_vec();
    push_org(&mut key, issuer);
    key
}

/// The key of status list position `index` of `issuer`.
pub fn status_position_key(issuer: &OrgName, index: u32) -> Vec<u8> {
    let mut key = status_position_prefix(issuer);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The prefix of an application's history.
pub fn application_history_prefix(id: &Digest) -> Vec<u8> {
    let mut key = APPLICATION_HISTORY.to_vec();
    key.extend_from_slice(&id.0);
    key
}

/// The prefix of a credential's history.
pub fn credential_history_prefix(id: &Digest) -> Vec<u8> {
    let mut key = CREDENTIAL_HISTORY.to_vec();
    key.extend_from_slice(&id.0);
    key
}

fn dated(prefix: Vec<u8>, at_ms: u64, id: &Digest) -> Vec<u8> {
    let mut key = prefix;
    key.extend_from_slice(&at_ms.to_be_bytes());
    key.extend_from_slice(&id.0);
    key
}

/// First byte of every encoded `StateKey::Application`.
fn application_key_tag() -> u8 {
    StateKey::Application(Digest::ZERO).to_bytes()[0]
}

/// The index changes of a finalized block for applications and
/// credentials: listings from its state diff and issuance events, history
/// from its events.
pub fn block_changes(
    parent: &dyn StateRead,
    writes: &WriteSet,
    events: &[(Option<u32>, Event)],
    hashes: &[Digest],
    height: Height,
    timestamp_ms: u64,
) -> Vec<IndexChange> {
    let mut changes = Vec::new();
    let tag = application_key_tag();
    for (key, value) in writes.iter().filter(|(key, _)| key.first() == Some(&tag)) {
        let Ok(StateKey::Application(id)) = borsh::from_slice::<StateKey>(key) else {
            continue;
        };
        let old = parent.get(key).map(|bytes| decode(&bytes));
        let new = value.as_deref().map(decode);
        application_changes(&id, old.as_ref(), new.as_ref(), &mut changes);
    }
    for (index, (position, event)) in events.iter().enumerate() {
        if let Event::CredentialIssued {
            credential,
            issuer,
            holder,
            ..
        } = event
        {
            credential_listed(
                credential,
                issuer,
                holder,
                timestamp_ms,
                writes,
                &mut changes,
            );
        }
        let Some(tx) = position.and_then(|p| hashes.get(p as usize)) else {
            continue;
        };
        let prefix = match (event.application(), event.credential()) {
            (Some(id), _) => application_history_prefix(&id),
            (None, Some(id)) => credential_history_prefix(&id),
            (None, None) => continue,
        };
        changes.push(history_change(
            prefix,
            (height, timestamp_ms),
            index,
            tx,
            event,
        ));
    }
    changes
}

fn decode(bytes: &[u8]) -> ApplicationRecord {
    // The state holds what execution wrote; a record that does not decode
    // is a broken invariant, and indexing around it would hide it.
    borsh::from_slice(bytes).expect("application records in the state decode")
}

fn application_changes(
    id: &Digest,
    old: Option<&ApplicationRecord>,
    new: Option<&ApplicationRecord>,
    changes: &mut Vec<IndexChange>,
) {
    let org_key = |record: &ApplicationRecord| {
        let listing =
            ApplicationListing::Org(record.org.clone(), ApplicationGroup::of(record.status));
        dated(application_prefix(&listing), record.submitted_at_ms, id)
    };
    match (old, new) {
        (None, Some(new)) => {
            let applicant = ApplicationListing::Applicant(Address::of_key(&new.applicant));
            for key in [
                dated(application_prefix(&applicant), new.submitted_at_ms, id),
                org_key(new),
            ] {
                changes.push(IndexChange {
                    key,
                    value: Some(Vec::new()),
                });
            }
        }
        (Some(old), Some(new))
            if ApplicationGroup::of(old.status) != ApplicationGroup::of(new.status) =>
        {
            changes.push(IndexChange {
                key: org_key(old),
                value: None,
            });
            changes.push(IndexChange {
                key: org_key(new),
                value: Some(Vec::new()),
            });
        }
        // Applications are never deleted, and a change within a group
        // moves nothing.
        _ => {}
    }
}

fn credential_listed(
    id: &Digest,
    issuer: &OrgName,
    holder: &Address,
    issued_at_ms: u64,
    writes: &WriteSet,
    changes: &mut Vec<IndexChange>,
) {
    let put = |key| IndexChange {
        key,
        value: Some(Vec::new()),
    };
    changes.push(put(dated(
        credential_prefix(&CredentialListing::Holder(*holder)),
        issued_at_ms,
        id,
    )));
    changes.push(put(dated(
        credential_prefix(&CredentialListing::Issuer(issuer.clone())),
        issued_at_ms,
        id,
    )));
    let record = writes
        .get(&StateKey::Credential(*id).to_bytes())
        .and_then(|value| value.as_deref())
        .map(|bytes| {
            borsh::from_slice::<cityledger_types::credential::CredentialRecord>(bytes)
                .expect("credential records in the state decode")
        });
    // An issuance event without its record in the same block's writes is
    // a broken invariant of execution.
    let record = record.expect("an issued credential is written in its block");
    changes.push(IndexChange {
        key: status_position_key(issuer, record.status_index),
        value: Some(id.0.to_vec()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_disjoint_and_positions_sort_in_order() {
        let org = OrgName::new("transport").unwrap();
        let longer = OrgName::new("transport2").unwrap();
        assert!(!status_position_prefix(&longer).starts_with(&status_position_prefix(&org)));
        assert!(status_position_key(&org, 255) < status_position_key(&org, 256));
        let open = application_prefix(&ApplicationListing::Org(
            org.clone(),
            ApplicationGroup::Open,
        ));
        let decided = application_prefix(&ApplicationListing::Org(org, ApplicationGroup::Decided));
        assert!(!decided.starts_with(&open) && !open.starts_with(&decided));
        assert_eq!(
            ApplicationGroup::of(ApplicationStatus::InfoRequested),
            ApplicationGroup::Open
        );
    }
}
