//! Public safety: alerts, incidents, evidence custody and case bundles.
//!
//! Owns `StateKey::Alert`, `Incident`, `Custody`, `Case` and `CaseVersion`
//! (ADR 0008). An evidence item's record is the records module's, anchored
//! through `records::anchor_record` in the same transaction as its custody
//! record; this module never touches a record's content, parties or access
//! log. Custody moves only when the receiver named by an open offer
//! accepts it, naming the record's commitment; an offer not accepted
//! changes nothing. Case items are only appended, and every version's
//! root stays in the state, so any version stays provable.

use crate::events::Event;
use crate::governance::require_any_role;
use crate::ledger::OpContext;
use crate::outcome::{Rejection, reject};
use crate::records::{anchor_record, load_record, require_device_active_if_registered};
use crate::view::Layer;
use cityledger_types::device::DeviceRecord;
use cityledger_types::genesis::{ROLE_ADMIN, ROLE_EVIDENCE_CUSTODY, ROLE_INCIDENTS_RESPOND};
use cityledger_types::records::{MemberRecord, OrgRecord, StateKey};
use cityledger_types::safety::{
    AlertRecord, CaseAddition, CaseItems, CaseRecord, CaseVersionRecord, Closure, CustodyEvent,
    CustodyEventKind, CustodyHistory, CustodyOffer, CustodyRecord, EvidenceAnchor, EvidenceLink,
    IncidentRecord, IncidentStatus, IncidentUpdate, IncidentUpdates, Location, Note, OrgList,
    SafetyOp, Severity, Share, Shares, Units, alert_id, case_id, case_root, incident_id,
};
use cityledger_types::{
    Address, Digest, EventKind, Height, OrgName, PublicKey, RejectCode, RoleName,
};

/// Applies one safety operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &SafetyOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let at = At { context, height };
    match op {
        SafetyOp::RaiseAlert {
            kind,
            severity,
            location,
            media,
            captured_at_ms,
            notify,
        } => raise_alert(
            layer,
            &at,
            &AlertTerms {
                kind,
                severity: *severity,
                location,
                media,
                captured_at_ms: *captured_at_ms,
                notify,
            },
            events,
        ),
        SafetyOp::OpenIncident {
            org,
            kind,
            severity,
            location,
            note,
        } => open_incident(layer, &at, org, kind, *severity, location, note, events),
        SafetyOp::UpdateIncident {
            incident,
            org,
            status,
            severity,
            location,
            units,
            note,
        } => update_incident(
            layer,
            &at,
            incident,
            org,
            &Change {
                status: *status,
                severity: *severity,
                location: location.as_ref(),
                units,
                note,
            },
            events,
        ),
        SafetyOp::ShareIncident { incident, with } => {
            share_incident(layer, &at, incident, with, events)
        }
        SafetyOp::CloseIncident { incident, outcome } => {
            close_incident(layer, &at, incident, outcome, events)
        }
        SafetyOp::AddEvidence(evidence) => add_evidence(layer, &at, evidence, events),
        SafetyOp::OfferHandover {
            evidence,
            to,
            receiver,
            commitment,
        } => offer_handover(layer, &at, evidence, to, receiver, commitment, events),
        SafetyOp::AcceptHandover {
            evidence,
            commitment,
        } => accept_handover(layer, &at, evidence, commitment, events),
        SafetyOp::CreateCase {
            org,
            incident,
            title,
        } => create_case(layer, &at, org, incident, title, events),
        SafetyOp::AddToCase { case, items } => add_to_case(layer, &at, case, items, events),
    }
}

/// Who acts, in which block.
struct At<'a> {
    context: &'a OpContext<'a>,
    height: Height,
}

impl At<'_> {
    fn signer(&self) -> &PublicKey {
        self.context.signer
    }

    fn now_ms(&self) -> u64 {
        self.context.timestamp_ms
    }
}

fn roles(names: &[&str]) -> Vec<RoleName> {
    names
        .iter()
        .map(|name| RoleName::new(*name).expect("role constants are valid names"))
        .collect()
}

fn require_responder(
    layer: &Layer<'_>,
    org: &OrgName,
    signer: &PublicKey,
) -> Result<(), Rejection> {
    let roles = roles(&[ROLE_INCIDENTS_RESPOND, ROLE_ADMIN]);
    require_any_role(layer, org, signer, &roles, "respond to incidents").map(|_| ())
}

fn require_custodian(
    layer: &Layer<'_>,
    org: &OrgName,
    signer: &PublicKey,
) -> Result<(), Rejection> {
    let roles = roles(&[ROLE_EVIDENCE_CUSTODY, ROLE_ADMIN]);
    require_any_role(layer, org, signer, &roles, "keep evidence").map(|_| ())
}

fn require_org_exists(layer: &Layer<'_>, org: &OrgName) -> Result<(), Rejection> {
    if layer
        .load::<OrgRecord>(&StateKey::Org(org.clone()))
        .is_none()
    {
        return Err(reject(
            RejectCode::UnknownOrg,
            format!("organisation {org} does not exist"),
        ));
    }
    Ok(())
}

fn check_location(location: &Location) -> Result<(), Rejection> {
    location
        .check()
        .map_err(|error| reject(RejectCode::BadLocation, error.to_string()))
}

fn check_captured(captured_at_ms: u64, now_ms: u64) -> Result<(), Rejection> {
    if captured_at_ms > now_ms {
        return Err(reject(
            RejectCode::BadRecord,
            format!("captured_at_ms {captured_at_ms} is after block time {now_ms}"),
        ));
    }
    Ok(())
}

/// Whether `reader` is a member of the agency holding the evidence item
/// `record`: the records module lets it read the item as a party.
pub(crate) fn is_custodian_member(layer: &Layer<'_>, record: &Digest, reader: &PublicKey) -> bool {
    let Some(custody) = layer.load::<CustodyRecord>(&StateKey::Custody(*record)) else {
        return false;
    };
    layer
        .load::<MemberRecord>(&StateKey::Member(custody.custodian, *reader))
        .is_some()
}

struct AlertTerms<'a> {
    kind: &'a EventKind,
    severity: Severity,
    location: &'a Location,
    media: &'a Digest,
    captured_at_ms: u64,
    notify: &'a OrgList,
}

fn raise_alert(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    terms: &AlertTerms<'_>,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let signer = at.signer();
    let Some(device) = require_device_active_if_registered(layer, signer)? else {
        return Err(reject(
            RejectCode::UnknownDevice,
            format!("signer {signer} is not a registered device; only devices raise alerts"),
        ));
    };
    check_location(terms.location)?;
    check_captured(terms.captured_at_ms, at.now_ms())?;
    let mut orgs = vec![device.org.clone()];
    for org in &terms.notify.0 {
        require_org_exists(layer, org)?;
        if orgs.contains(org) {
            return Err(reject(
                RejectCode::BadRecord,
                format!("organisation {org} is notified twice"),
            ));
        }
        orgs.push(org.clone());
    }
    let id = alert_id(at.context.tx_hash);
    let record = AlertRecord {
        device: *signer,
        org: device.org.clone(),
        kind: terms.kind.clone(),
        severity: terms.severity,
        location: terms.location.clone(),
        media: *terms.media,
        captured_at_ms: terms.captured_at_ms,
        notify: terms.notify.clone(),
        height: at.height,
        at_ms: at.now_ms(),
    };
    layer.store(&StateKey::Alert(id), &record);
    events.push(Event::AlertRaised {
        alert: id,
        device: *signer,
        org: device.org,
        kind: record.kind,
        severity: record.severity,
        area: record.location.area,
        orgs,
    });
    Ok(())
}

/// Loads incident `id`, refusing an unknown one.
fn load_incident(layer: &Layer<'_>, id: &Digest) -> Result<IncidentRecord, Rejection> {
    layer.load(&StateKey::Incident(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownIncident,
            format!("incident {id} does not exist"),
        )
    })
}

fn require_open(id: &Digest, incident: &IncidentRecord) -> Result<(), Rejection> {
    match &incident.closure {
        Some(closure) => Err(reject(
            RejectCode::IncidentClosed,
            format!("incident {id} was closed at height {}", closure.height.0),
        )),
        None => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn open_incident(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    org: &OrgName,
    kind: &EventKind,
    severity: Severity,
    location: &Location,
    note: &Note,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_responder(layer, org, at.signer())?;
    check_location(location)?;
    let id = incident_id(at.context.tx_hash);
    let record = IncidentRecord {
        org: org.clone(),
        kind: kind.clone(),
        severity,
        location: location.clone(),
        status: IncidentStatus::Reported,
        opened_by: *at.signer(),
        opened_height: at.height,
        opened_at_ms: at.now_ms(),
        note: note.clone(),
        updates: IncidentUpdates::default(),
        shares: Shares::default(),
        closure: None,
    };
    layer.store(&StateKey::Incident(id), &record);
    events.push(Event::IncidentOpened {
        incident: id,
        org: org.clone(),
        kind: kind.clone(),
        severity,
        area: location.area.clone(),
        orgs: record.agencies(),
    });
    Ok(())
}

/// What an update changes.
struct Change<'a> {
    status: Option<IncidentStatus>,
    severity: Option<Severity>,
    location: Option<&'a Location>,
    units: &'a Units,
    note: &'a Note,
}

fn update_incident(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    org: &OrgName,
    change: &Change<'_>,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut incident = load_incident(layer, id)?;
    if !incident.is_visible_to(org) {
        return Err(reject(
            RejectCode::IncidentNotShared,
            format!("incident {id} of {} is not shared with {org}", incident.org),
        ));
    }
    require_responder(layer, org, at.signer())?;
    require_open(id, &incident)?;
    if change.status == Some(IncidentStatus::Closed) {
        return Err(reject(
            RejectCode::BadRecord,
            "an update does not close an incident; close it with its outcome",
        ));
    }
    if let Some(location) = change.location {
        check_location(location)?;
    }
    if !incident.updates.has_room() {
        return Err(reject(
            RejectCode::RecordFull,
            format!(
                "incident {id} holds INCIDENT_UPDATES_MAX ({}) updates; open a follow-up incident",
                cityledger_types::limits::INCIDENT_UPDATES_MAX
            ),
        ));
    }
    if let Some(status) = change.status {
        incident.status = status;
    }
    if let Some(severity) = change.severity {
        incident.severity = severity;
    }
    if let Some(location) = change.location {
        incident.location = location.clone();
    }
    incident.updates.0.push(IncidentUpdate {
        height: at.height,
        at_ms: at.now_ms(),
        by: *at.signer(),
        org: org.clone(),
        status: incident.status,
        severity: incident.severity,
        location: change.location.cloned(),
        units: change.units.clone(),
        note: change.note.clone(),
    });
    layer.store(&StateKey::Incident(*id), &incident);
    events.push(Event::IncidentUpdated {
        incident: *id,
        org: incident.org.clone(),
        by_org: org.clone(),
        update: (incident.updates.0.len() - 1) as u32,
        status: incident.status,
        severity: incident.severity,
        area: incident.location.area.clone(),
        units: change.units.0.clone(),
        orgs: incident.agencies(),
    });
    Ok(())
}

fn share_incident(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    with: &OrgName,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut incident = load_incident(layer, id)?;
    require_responder(layer, &incident.org, at.signer())?;
    require_open(id, &incident)?;
    require_org_exists(layer, with)?;
    if incident.is_visible_to(with) {
        return Err(reject(
            RejectCode::AlreadyShared,
            format!(
                "incident {id} is {}'s or shared with {with} already",
                incident.org
            ),
        ));
    }
    if !incident.shares.has_room() {
        return Err(reject(
            RejectCode::RecordFull,
            format!(
                "incident {id} is shared with INCIDENT_SHARES_MAX ({}) agencies",
                cityledger_types::limits::INCIDENT_SHARES_MAX
            ),
        ));
    }
    incident.shares.0.push(Share {
        org: with.clone(),
        by: *at.signer(),
        height: at.height,
        at_ms: at.now_ms(),
    });
    layer.store(&StateKey::Incident(*id), &incident);
    events.push(Event::IncidentShared {
        incident: *id,
        org: incident.org.clone(),
        with: with.clone(),
        severity: incident.severity,
        area: incident.location.area.clone(),
        orgs: incident.agencies(),
    });
    Ok(())
}

fn close_incident(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    outcome: &Note,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut incident = load_incident(layer, id)?;
    require_responder(layer, &incident.org, at.signer())?;
    require_open(id, &incident)?;
    incident.status = IncidentStatus::Closed;
    incident.closure = Some(Closure {
        by: *at.signer(),
        height: at.height,
        at_ms: at.now_ms(),
        outcome: outcome.clone(),
    });
    layer.store(&StateKey::Incident(*id), &incident);
    events.push(Event::IncidentClosed {
        incident: *id,
        org: incident.org.clone(),
        severity: incident.severity,
        area: incident.location.area.clone(),
        orgs: incident.agencies(),
    });
    Ok(())
}

fn load_case(layer: &Layer<'_>, id: &Digest) -> Result<CaseRecord, Rejection> {
    layer
        .load(&StateKey::Case(*id))
        .ok_or_else(|| reject(RejectCode::UnknownCase, format!("case {id} does not exist")))
}

fn load_custody(layer: &Layer<'_>, id: &Digest) -> Result<CustodyRecord, Rejection> {
    layer.load(&StateKey::Custody(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownEvidence,
            format!("{id} is not an evidence item (it has no custody record)"),
        )
    })
}

fn add_evidence(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    evidence: &EvidenceAnchor,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let Some(org) = evidence.anchor.org.clone() else {
        return Err(reject(
            RejectCode::BadRecord,
            "an evidence item is anchored for the agency that collects it: give its organisation",
        ));
    };
    match &evidence.link {
        EvidenceLink::Incident(incident) => {
            load_incident(layer, incident)?;
        }
        EvidenceLink::Case(case) => {
            load_case(layer, case)?;
        }
    }
    check_location(&evidence.location)?;
    check_captured(evidence.captured_at_ms, at.now_ms())?;
    let signer_device = layer.load::<DeviceRecord>(&StateKey::Device(*at.signer()));
    let source_device = match (&signer_device, &evidence.source_device) {
        (Some(_), Some(named)) if named != at.signer() => {
            return Err(reject(
                RejectCode::BadRecord,
                "a device anchors its own captures: source_device must be the signer or none",
            ));
        }
        (Some(_), _) => Some(*at.signer()),
        (None, Some(named)) => {
            if layer
                .load::<DeviceRecord>(&StateKey::Device(*named))
                .is_none()
            {
                return Err(reject(
                    RejectCode::UnknownDevice,
                    format!("source device {named} is not registered"),
                ));
            }
            Some(*named)
        }
        (None, None) => None,
    };
    // The records module checks the author (a device of the agency or a
    // member holding records.write) and the blob's bounds.
    let id = anchor_record(layer, at.context, at.height, &evidence.anchor, events)?;
    let custody = CustodyRecord {
        link: evidence.link,
        media_kind: evidence.media_kind,
        captured_at_ms: evidence.captured_at_ms,
        location: evidence.location.clone(),
        source_device,
        commitment: evidence.anchor.commitment,
        custodian: org.clone(),
        offer: None,
        history: CustodyHistory(vec![CustodyEvent {
            kind: CustodyEventKind::Collected,
            org: org.clone(),
            by: *at.signer(),
            height: at.height,
            at_ms: at.now_ms(),
        }]),
    };
    layer.store(&StateKey::Custody(id), &custody);
    events.push(Event::EvidenceAdded {
        evidence: id,
        org: org.clone(),
        link: evidence.link,
        media_kind: evidence.media_kind,
        area: evidence.location.area.clone(),
        orgs: vec![org],
    });
    Ok(())
}

fn require_commitment(
    id: &Digest,
    custody: &CustodyRecord,
    commitment: &Digest,
) -> Result<(), Rejection> {
    if *commitment != custody.commitment {
        return Err(reject(
            RejectCode::CommitmentMismatch,
            format!(
                "commitment {commitment} is not evidence {id}'s {}: the media were altered or are another item",
                custody.commitment
            ),
        ));
    }
    Ok(())
}

fn push_custody(
    id: &Digest,
    custody: &mut CustodyRecord,
    event: CustodyEvent,
) -> Result<(), Rejection> {
    if !custody.history.has_room() {
        return Err(reject(
            RejectCode::RecordFull,
            format!(
                "evidence {id} holds CUSTODY_EVENTS_MAX ({}) custody events",
                cityledger_types::limits::CUSTODY_EVENTS_MAX
            ),
        ));
    }
    custody.history.0.push(event);
    Ok(())
}

fn offer_handover(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    to: &OrgName,
    receiver: &PublicKey,
    commitment: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut custody = load_custody(layer, id)?;
    let custodian = custody.custodian.clone();
    require_custodian(layer, &custodian, at.signer()).map_err(|rejection| {
        reject(
            RejectCode::NotCustodian,
            format!("evidence {id} is held by {custodian}: {}", rejection.detail),
        )
    })?;
    if let Some(offer) = &custody.offer {
        return Err(reject(
            RejectCode::HandoverPending,
            format!(
                "evidence {id} is offered to {} since height {}; it must be accepted first",
                offer.to, offer.height.0
            ),
        ));
    }
    if *to == custodian {
        return Err(reject(
            RejectCode::BadRecord,
            format!("evidence {id} is held by {to} already"),
        ));
    }
    require_commitment(id, &custody, commitment)?;
    require_custodian(layer, to, receiver)?;
    load_record(layer, id)?;
    push_custody(
        id,
        &mut custody,
        CustodyEvent {
            kind: CustodyEventKind::Offered {
                to: to.clone(),
                receiver: *receiver,
            },
            org: custodian.clone(),
            by: *at.signer(),
            height: at.height,
            at_ms: at.now_ms(),
        },
    )?;
    custody.offer = Some(CustodyOffer {
        to: to.clone(),
        receiver: *receiver,
        by: *at.signer(),
        height: at.height,
    });
    layer.store(&StateKey::Custody(*id), &custody);
    events.push(Event::HandoverOffered {
        evidence: *id,
        org: custodian.clone(),
        to: to.clone(),
        receiver: Address::of_key(receiver),
        orgs: vec![custodian, to.clone()],
    });
    Ok(())
}

fn accept_handover(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    commitment: &Digest,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut custody = load_custody(layer, id)?;
    let Some(offer) = custody.offer.clone() else {
        return Err(reject(
            RejectCode::NoHandoverOffer,
            format!(
                "evidence {id} has no open hand-over offer; it stays with {}",
                custody.custodian
            ),
        ));
    };
    if offer.receiver != *at.signer() {
        return Err(reject(
            RejectCode::NotReceiver,
            format!(
                "the offer of evidence {id} names {} of {} as receiver, not {}; custody stays with {}",
                offer.receiver,
                offer.to,
                at.signer(),
                custody.custodian
            ),
        ));
    }
    require_custodian(layer, &offer.to, at.signer())?;
    require_commitment(id, &custody, commitment)?;
    let from = custody.custodian.clone();
    push_custody(
        id,
        &mut custody,
        CustodyEvent {
            kind: CustodyEventKind::Accepted { from: from.clone() },
            org: offer.to.clone(),
            by: *at.signer(),
            height: at.height,
            at_ms: at.now_ms(),
        },
    )?;
    custody.custodian = offer.to.clone();
    custody.offer = None;
    layer.store(&StateKey::Custody(*id), &custody);
    events.push(Event::HandoverAccepted {
        evidence: *id,
        org: offer.to.clone(),
        from: from.clone(),
        orgs: vec![from, offer.to],
    });
    Ok(())
}

fn create_case(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    org: &OrgName,
    incident: &Option<Digest>,
    title: &Note,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_custodian(layer, org, at.signer())?;
    if let Some(incident) = incident {
        load_incident(layer, incident)?;
    }
    let id = case_id(at.context.tx_hash);
    layer.store(
        &StateKey::Case(id),
        &CaseRecord {
            org: org.clone(),
            incident: *incident,
            title: title.clone(),
            items: CaseItems::default(),
            versions: 0,
            created_height: at.height,
            created_at_ms: at.now_ms(),
        },
    );
    events.push(Event::CaseCreated {
        case: id,
        org: org.clone(),
        incident: *incident,
    });
    Ok(())
}

fn add_to_case(
    layer: &mut Layer<'_>,
    at: &At<'_>,
    id: &Digest,
    items: &CaseAddition,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut case = load_case(layer, id)?;
    require_custodian(layer, &case.org, at.signer())?;
    if items.0.is_empty() {
        return Err(reject(
            RejectCode::BadRecord,
            "a new version of a case adds at least one item",
        ));
    }
    let limit = cityledger_types::limits::CASE_ITEMS_MAX;
    if case.items.0.len() + items.0.len() > limit {
        return Err(reject(
            RejectCode::RecordFull,
            format!(
                "case {id} holds {} items; {} more exceed CASE_ITEMS_MAX ({limit})",
                case.items.0.len(),
                items.0.len()
            ),
        ));
    }
    for (index, item) in items.0.iter().enumerate() {
        load_custody(layer, item)?;
        if case.items.0.contains(item) || items.0[..index].contains(item) {
            return Err(reject(
                RejectCode::DuplicateCaseItem,
                format!("evidence {item} is in case {id} already"),
            ));
        }
    }
    case.items.0.extend(items.0.iter().copied());
    case.versions += 1;
    let root = case_root(&case.items.0);
    let version = CaseVersionRecord {
        item_count: case.items.0.len() as u32,
        root,
        height: at.height,
        at_ms: at.now_ms(),
    };
    layer.store(&StateKey::CaseVersion(*id, case.versions), &version);
    layer.store(&StateKey::Case(*id), &case);
    events.push(Event::CaseVersioned {
        case: *id,
        org: case.org.clone(),
        version: case.versions,
        item_count: version.item_count,
        root,
    });
    Ok(())
}
