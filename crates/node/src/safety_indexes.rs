//! The derived indexes of public safety and education: their key layout
//! and how a finalized block changes them, in the block's own atomic commit
//! beside the other domains' indexes (ADR 0008).
//!
//! | prefix | key after the prefix                         | value |
//! |--------|----------------------------------------------|-------|
//! | `s.a`  | org ‖ raised at (8) ‖ alert (32)              | —     |
//! | `s.i`  | org ‖ opened or shared at (8) ‖ incident (32) | —     |
//! | `e.x`  | exam (32) ‖ student key (32)                  | —     |
//!
//! Fed by the block's events alone. An alert is listed under its device's
//! organisation and each agency it notifies; an incident under its
//! opening agency and each agency it is shared with, from the block that
//! shared it; an exam's entry once per student (a new commitment rewrites
//! the same key).

use crate::indexes::push_org;
use cityledger_state::{Event, StateRead, WriteSet};
use cityledger_storage::IndexChange;
use cityledger_types::{Digest, Height, OrgName};

const ALERTS: &[u8] = b"s.a";
const INCIDENTS: &[u8] = b"s.i";
const EXAM_ENTRIES: &[u8] = b"e.x";

/// The prefix of the alerts an agency receives.
pub fn alerts_prefix(org: &OrgName) -> Vec<u8> {
    let mut key = ALERTS.to_vec();
    push_org(&mut key, org);
    key
}

/// The prefix of the incidents an agency sees.
pub fn incidents_prefix(org: &OrgName) -> Vec<u8> {
    let mut key = INCIDENTS.to_vec();
    push_org(&mut key, org);
    key
}

/// The prefix of an exam's entries.
pub fn exam_entries_prefix(exam: &Digest) -> Vec<u8> {
    let mut key = EXAM_ENTRIES.to_vec();
    key.extend_from_slice(&exam.0);
    key
}

fn entry(prefix: Vec<u8>, at_ms: Option<u64>, id: &[u8; 32]) -> IndexChange {
    let mut key = prefix;
    if let Some(at_ms) = at_ms {
        key.extend_from_slice(&at_ms.to_be_bytes());
    }
    key.extend_from_slice(id);
    IndexChange {
        key,
        value: Some(Vec::new()),
    }
}

/// The index changes of a finalized block for alerts, incidents and exam
/// entries, from its events.
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
            Event::AlertRaised { alert, orgs, .. } => {
                for org in orgs {
                    changes.push(entry(alerts_prefix(org), Some(timestamp_ms), &alert.0));
                }
            }
            Event::IncidentOpened { incident, org, .. } => {
                changes.push(entry(
                    incidents_prefix(org),
                    Some(timestamp_ms),
                    &incident.0,
                ));
            }
            Event::IncidentShared { incident, with, .. } => {
                changes.push(entry(
                    incidents_prefix(with),
                    Some(timestamp_ms),
                    &incident.0,
                ));
            }
            Event::AnswersCommitted {
                exam, student_key, ..
            } => {
                changes.push(entry(exam_entries_prefix(exam), None, &student_key.0));
            }
            _ => {}
        }
    }
    changes
}
