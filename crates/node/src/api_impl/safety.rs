//! Public safety and education queries: alerts and incidents an agency
//! sees, evidence with its custody, case bundles and exam results, from the
//! finalized state and the derived indexes (ADR 0008).
//!
//! An incident is served only to a member of its opening agency or of an
//! agency it is shared with: the REST edge has checked the reader's
//! signature, and this module checks its clock and its membership.

use super::credentials::listing_page;
use super::internal;
use super::obligations::Snapshot;
use super::records::record;
use crate::limits::READ_SKEW_MS_MAX;
use crate::rest::{ApiError, SignedReader};
use crate::safety_indexes;
use cityledger_api::problem::code;
use cityledger_api::safety::{
    AlertView, AlertsPage, CaseVersionView, CaseView, EvidenceView, ExamResultView,
    ExamResultsPage, ExamView, IncidentView, IncidentsPage,
};
use cityledger_storage::Store;
use cityledger_types::education::{ExamEntry, ExamRecord};
use cityledger_types::records::{MemberRecord, StateKey};
use cityledger_types::safety::{
    AlertRecord, CaseRecord, CaseVersionRecord, CustodyRecord, IncidentRecord,
};
use cityledger_types::{Digest, OrgName, PublicKey};

/// Refuses a read signed too far from the node's clock `now_ms` (a
/// replayed or pre-signed request).
pub(super) fn require_fresh(reader: &SignedReader, now_ms: u64) -> Result<(), ApiError> {
    if reader.time_ms.abs_diff(now_ms) > READ_SKEW_MS_MAX {
        return Err(ApiError::Forbidden {
            code: code::STALE_READ,
            detail: format!(
                "the read was signed at {} ms, more than READ_SKEW_MS_MAX ({READ_SKEW_MS_MAX} ms) from the node's clock {now_ms}; sign it again",
                reader.time_ms
            ),
            access: None,
        });
    }
    Ok(())
}

fn is_member(snapshot: &Snapshot<'_>, org: &OrgName, key: &PublicKey) -> Result<bool, ApiError> {
    Ok(snapshot
        .load::<MemberRecord>(&StateKey::Member(org.clone(), *key))?
        .is_some())
}

/// The alert `id`.
fn alert(snapshot: &Snapshot<'_>, id: Digest) -> Result<Option<AlertView>, ApiError> {
    Ok(snapshot
        .load::<AlertRecord>(&StateKey::Alert(id))?
        .map(|alert| AlertView::new(id, &alert)))
}

/// A page of the alerts an agency received, newest first.
pub(super) fn alerts(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    org: &OrgName,
    cursor: Option<&str>,
    limit: usize,
) -> Result<AlertsPage, ApiError> {
    let prefix = safety_indexes::alerts_prefix(org);
    let (items, next_cursor) =
        listing_page(store, &prefix, cursor, limit, |id| alert(snapshot, id))?;
    Ok(AlertsPage { items, next_cursor })
}

/// The incident `id` for `reader`, a member of an agency that sees it.
pub(super) fn incident(
    snapshot: &Snapshot<'_>,
    id: Digest,
    reader: &SignedReader,
    now_ms: u64,
) -> Result<IncidentView, ApiError> {
    require_fresh(reader, now_ms)?;
    let incident: IncidentRecord = snapshot.load(&StateKey::Incident(id))?.ok_or_else(|| {
        ApiError::not_found(code::INCIDENT_NOT_FOUND, format!("no incident {id}"))
    })?;
    for org in incident.agencies() {
        if is_member(snapshot, &org, &reader.key)? {
            return Ok(IncidentView::new(id, &incident));
        }
    }
    let agencies: Vec<String> = incident.agencies().iter().map(|o| o.to_string()).collect();
    Err(ApiError::Forbidden {
        code: code::INCIDENT_NOT_SHARED,
        detail: format!(
            "incident {id} is shared with [{}] only, and {} is a member of none of them",
            agencies.join(", "),
            reader.key
        ),
        access: None,
    })
}

/// A page of the incidents `org` sees, for `reader`, one of its members.
pub(super) fn incidents(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    org: &OrgName,
    reader: &SignedReader,
    now_ms: u64,
    cursor: Option<&str>,
    limit: usize,
) -> Result<IncidentsPage, ApiError> {
    require_fresh(reader, now_ms)?;
    if !is_member(snapshot, org, &reader.key)? {
        return Err(ApiError::Forbidden {
            code: code::INCIDENT_NOT_SHARED,
            detail: format!(
                "{} is not a member of {org}, so it may not list {org}'s incidents",
                reader.key
            ),
            access: None,
        });
    }
    let prefix = safety_indexes::incidents_prefix(org);
    let (items, next_cursor) = listing_page(store, &prefix, cursor, limit, |id| {
        Ok(snapshot
            .load::<IncidentRecord>(&StateKey::Incident(id))?
            .map(|incident| IncidentView::new(id, &incident)))
    })?;
    Ok(IncidentsPage { items, next_cursor })
}

/// The evidence item `id`: its record and its custody.
pub(super) fn evidence(
    snapshot: &Snapshot<'_>,
    id: Digest,
) -> Result<Option<EvidenceView>, ApiError> {
    let Some(custody) = snapshot.load::<CustodyRecord>(&StateKey::Custody(id))? else {
        return Ok(None);
    };
    let view = record(snapshot, id)?
        .ok_or_else(|| internal(format!("evidence {id} has custody but no record")))?;
    Ok(Some(EvidenceView::new(id, view, &custody)))
}

/// The case `id` with every version.
pub(super) fn case(snapshot: &Snapshot<'_>, id: Digest) -> Result<Option<CaseView>, ApiError> {
    let Some(case) = snapshot.load::<CaseRecord>(&StateKey::Case(id))? else {
        return Ok(None);
    };
    let mut versions = Vec::with_capacity(case.versions as usize);
    for version in 1..=case.versions {
        let kept: CaseVersionRecord = snapshot
            .load(&StateKey::CaseVersion(id, version))?
            .ok_or_else(|| internal(format!("case {id} lacks its version {version}")))?;
        versions.push(CaseVersionView::new(version, &kept));
    }
    Ok(Some(CaseView::new(id, &case, versions)))
}

/// Exam `id` with a page of its entries.
pub(super) fn exam_results(
    store: &dyn Store,
    snapshot: &Snapshot<'_>,
    id: Digest,
    cursor: Option<&str>,
    limit: usize,
) -> Result<ExamResultsPage, ApiError> {
    let exam: ExamRecord = snapshot
        .load(&StateKey::Exam(id))?
        .ok_or_else(|| ApiError::not_found(code::EXAM_NOT_FOUND, format!("no exam {id}")))?;
    let prefix = safety_indexes::exam_entries_prefix(&id);
    let (items, next_cursor) = listing_page(store, &prefix, cursor, limit, |key| {
        let student = PublicKey(key.0);
        Ok(snapshot
            .load::<ExamEntry>(&StateKey::ExamEntry(id, student))?
            .map(|entry| ExamResultView::new(student, &entry)))
    })?;
    Ok(ExamResultsPage {
        exam: ExamView::new(id, &exam),
        items,
        next_cursor,
    })
}
