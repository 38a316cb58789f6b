//! The derived indexes: their key layout, how a finalized block changes
//! them, and how a query reads them back.
//!
//! Indexes are derived from the block log, never part of consensus: the
//! changes of one block are computed at commit from its state diff (the
//! parent's record against the block's write) and its events, and written
//! in the same atomic batch as the block. The store treats keys and values
//! as opaque bytes; this module owns their layout.
//!
//! | prefix | key after the prefix                           | value |
//! |--------|------------------------------------------------|-------|
//! | `o.p`  | payer (21) ‖ issued at (8) ‖ id (32)            | —     |
//! | `o.i`  | issuer ‖ issued at ‖ id                        | —     |
//! | `o.q`  | payer ‖ group (1) ‖ issued at ‖ id             | —     |
//! | `o.s`  | issuer ‖ group ‖ issued at ‖ id                | —     |
//! | `o.h`  | id ‖ height (8) ‖ event index in block (4)     | history item, JSON |
//!
//! An issuer is its length (1 byte) and its name, so that one name is never
//! a prefix of another's keys. Numbers are big-endian, so byte order is
//! time order. A status *group* changes less often than a status: open and
//! partially paid obligations share one, so a part payment rewrites nothing.

use cityledger_api::ObligationHistoryItem;
use cityledger_state::{Event, StateRead, WriteSet};
use cityledger_storage::IndexChange;
use cityledger_types::obligation::{ObligationRecord, ObligationStatus};
use cityledger_types::records::StateKey;
use cityledger_types::{Address, Digest, Height, OrgName};

const PAYER: &[u8] = b"o.p";
const ISSUER: &[u8] = b"o.i";
const PAYER_GROUP: &[u8] = b"o.q";
const ISSUER_GROUP: &[u8] = b"o.s";
const HISTORY: &[u8] = b"o.h";

/// The status groups of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Group {
    /// Open or partially paid.
    Payable = 1,
    /// Under appeal.
    Appealed = 2,
    /// Paid in full.
    Paid = 3,
    /// Waived.
    Waived = 4,
    /// Cancelled.
    Cancelled = 5,
}

impl Group {
    /// The group of `status`.
    pub fn of(status: ObligationStatus) -> Group {
        match status {
            ObligationStatus::Open | ObligationStatus::PartiallyPaid => Group::Payable,
            ObligationStatus::Appealed => Group::Appealed,
            ObligationStatus::Paid => Group::Paid,
            ObligationStatus::Waived => Group::Waived,
            ObligationStatus::Cancelled => Group::Cancelled,
        }
    }
}

/// Whom a listing is about: the prefix it scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Obligations owed by a payer.
    Payer(Address),
    /// Obligations issued by an organisation.
    Issuer(OrgName),
}

/// The prefix of every key of `listing`, in `group` if given.
pub fn listing_prefix(listing: &Listing, group: Option<Group>) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    match (listing, group) {
        (Listing::Payer(payer), None) => {
            key.extend_from_slice(PAYER);
            key.extend_from_slice(&payer.0);
        }
        (Listing::Issuer(issuer), None) => {
            key.extend_from_slice(ISSUER);
            push_org(&mut key, issuer);
        }
        (Listing::Payer(payer), Some(group)) => {
            key.extend_from_slice(PAYER_GROUP);
            key.extend_from_slice(&payer.0);
            key.push(group as u8);
        }
        (Listing::Issuer(issuer), Some(group)) => {
            key.extend_from_slice(ISSUER_GROUP);
            push_org(&mut key, issuer);
            key.push(group as u8);
        }
    }
    key
}

/// The obligation id at the end of a listing key.
pub fn listed_id(key: &[u8]) -> Option<Digest> {
    let tail = key.len().checked_sub(32)?;
    let bytes: [u8; 32] = key[tail..].try_into().ok()?;
    Some(Digest(bytes))
}

/// The prefix of an obligation's history.
pub fn history_prefix(id: &Digest) -> Vec<u8> {
    let mut key = HISTORY.to_vec();
    key.extend_from_slice(&id.0);
    key
}

/// Appends `org` as its length and its name, so that one name is never a
/// prefix of another's keys.
pub(crate) fn push_org(key: &mut Vec<u8>, org: &OrgName) {
    // Organisation names are at most ORG_NAME_BYTES_MAX (32) bytes.
    key.push(org.as_str().len() as u8);
    key.extend_from_slice(org.as_str().as_bytes());
}

fn listing_key(prefix: Vec<u8>, record: &ObligationRecord, id: &Digest) -> Vec<u8> {
    let mut key = prefix;
    key.extend_from_slice(&record.issued_at_ms.to_be_bytes());
    key.extend_from_slice(&id.0);
    key
}

fn keys_of(record: &ObligationRecord, id: &Digest, group: Option<Group>) -> Vec<Vec<u8>> {
    let payer = Listing::Payer(record.payer);
    let issuer = Listing::Issuer(record.issuer.clone());
    match group {
        None => vec![
            listing_key(listing_prefix(&payer, None), record, id),
            listing_key(listing_prefix(&issuer, None), record, id),
        ],
        Some(group) => vec![
            listing_key(listing_prefix(&payer, Some(group)), record, id),
            listing_key(listing_prefix(&issuer, Some(group)), record, id),
        ],
    }
}

/// First byte of every encoded `StateKey::Obligation`: lets the commit skip
/// the other writes without decoding them.
fn obligation_key_tag() -> u8 {
    StateKey::Obligation(Digest::ZERO).to_bytes()[0]
}

/// The index changes of a finalized block: listings from its state diff
/// against `parent`, history from its events.
pub fn block_changes(
    parent: &dyn StateRead,
    writes: &WriteSet,
    events: &[(Option<u32>, Event)],
    hashes: &[Digest],
    height: Height,
    timestamp_ms: u64,
) -> Vec<IndexChange> {
    let mut changes = Vec::new();
    let tag = obligation_key_tag();
    for (key, value) in writes.iter().filter(|(key, _)| key.first() == Some(&tag)) {
        let Ok(StateKey::Obligation(id)) = borsh::from_slice::<StateKey>(key) else {
            continue;
        };
        let old = parent.get(key).map(|bytes| decode(&bytes));
        let new = value.as_deref().map(decode);
        listing_changes(&id, old.as_ref(), new.as_ref(), &mut changes);
    }
    for (index, (position, event)) in events.iter().enumerate() {
        let (Some(id), Some(position)) = (event.obligation(), position) else {
            continue;
        };
        let Some(tx) = hashes.get(*position as usize) else {
            continue;
        };
        changes.push(history_change(
            history_prefix(&id),
            (height, timestamp_ms),
            index,
            tx,
            event,
        ));
    }
    changes
}

/// The history entry of `event`, the `index`th of the block at `(height,
/// block time)`, written by transaction `tx`, under `prefix` (the history
/// of one record). Every domain's history has this one shape.
pub(crate) fn history_change(
    prefix: Vec<u8>,
    (height, timestamp_ms): (Height, u64),
    index: usize,
    tx: &Digest,
    event: &Event,
) -> IndexChange {
    let mut key = prefix;
    key.extend_from_slice(&height.0.to_be_bytes());
    // Events per block are bounded far below u32::MAX.
    key.extend_from_slice(&(index as u32).to_be_bytes());
    let item = ObligationHistoryItem {
        height,
        timestamp_ms,
        tx: *tx,
        event: serde_json::to_value(event).expect("events serialize to JSON"),
    };
    let value = serde_json::to_vec(&item).expect("history items serialize to JSON");
    IndexChange {
        key,
        value: Some(value),
    }
}

fn decode(bytes: &[u8]) -> ObligationRecord {
    // The state holds what execution wrote; a record that does not decode
    // is a broken invariant, and indexing around it would hide it.
    borsh::from_slice(bytes).expect("obligation records in the state decode")
}

fn listing_changes(
    id: &Digest,
    old: Option<&ObligationRecord>,
    new: Option<&ObligationRecord>,
    changes: &mut Vec<IndexChange>,
) {
    let put = |key| IndexChange {
        key,
        value: Some(Vec::new()),
    };
    let delete = |key| IndexChange { key, value: None };
    match (old, new) {
        (None, Some(new)) => {
            changes.extend(keys_of(new, id, None).into_iter().map(put));
            changes.extend(
                keys_of(new, id, Some(Group::of(new.status)))
                    .into_iter()
                    .map(put),
            );
        }
        (Some(old), Some(new)) => {
            let (before, after) = (Group::of(old.status), Group::of(new.status));
            if before != after {
                changes.extend(keys_of(old, id, Some(before)).into_iter().map(delete));
                changes.extend(keys_of(new, id, Some(after)).into_iter().map(put));
            }
        }
        // Obligations are never deleted; a deletion would be indexed as
        // nothing at all, which is what a listing would then show.
        (_, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::obligation::{PenaltyRule, Reference};
    use cityledger_types::{Amount, CurrencyCode, KindName, SecretKey};

    fn record(status: ObligationStatus, issuer: &str) -> ObligationRecord {
        ObligationRecord {
            kind: KindName::new("toll").unwrap(),
            issuer: OrgName::new(issuer).unwrap(),
            issued_by: SecretKey::from_seed([1; 32]).public_key(),
            issued_at_ms: 77,
            payer: Address::of_key(&SecretKey::from_seed([2; 32]).public_key()),
            payee: Address::parse_or_alias(&format!("{issuer}:main")).unwrap(),
            currency: CurrencyCode::new("CITY").unwrap(),
            amount: Amount(5),
            due_at_ms: 100,
            penalty: PenaltyRule::None,
            reference: Reference::default(),
            evidence: None,
            status,
            paid: Amount::ZERO,
            penalty_assessed: Amount::ZERO,
            appeal: None,
            closure: None,
        }
    }

    #[test]
    fn a_new_obligation_is_listed_four_ways_and_a_group_change_moves_two() {
        let id = Digest([9; 32]);
        let open = record(ObligationStatus::Open, "transport");
        let mut changes = Vec::new();
        listing_changes(&id, None, Some(&open), &mut changes);
        assert_eq!(changes.len(), 4);
        assert!(changes.iter().all(|c| listed_id(&c.key) == Some(id)));
        let partial = record(ObligationStatus::PartiallyPaid, "transport");
        let mut same_group = Vec::new();
        listing_changes(&id, Some(&open), Some(&partial), &mut same_group);
        assert!(same_group.is_empty(), "a part payment rewrites nothing");
        let paid = record(ObligationStatus::Paid, "transport");
        let mut moved = Vec::new();
        listing_changes(&id, Some(&partial), Some(&paid), &mut moved);
        let deleted: Vec<_> = moved.iter().filter(|c| c.value.is_none()).collect();
        assert_eq!((moved.len(), deleted.len()), (4, 2));
        let payable = listing_prefix(&Listing::Issuer(open.issuer.clone()), Some(Group::Payable));
        assert!(deleted.iter().any(|c| c.key.starts_with(&payable)));
    }

    #[test]
    fn one_organisation_name_is_never_a_prefix_of_another() {
        let short = listing_prefix(&Listing::Issuer(OrgName::new("police").unwrap()), None);
        let long = listing_prefix(&Listing::Issuer(OrgName::new("police2").unwrap()), None);
        assert!(!long.starts_with(&short));
    }
}
