//! Citizen services: applications from submission to decision.
//!
//! Owns `StateKey::Service`, `Application` and `OpenApplication`. A
//! submission raises the service's fee as an obligation in the same
//! transaction layer (through [`crate::obligations::raise`]), so the
//! application and its fee commit together or not at all; an approval
//! issues the service's credential in the same transaction (through
//! [`crate::credentials::issue`]). An approval needs the fee settled: paid,
//! waived or cancelled by the agency (ADR 0006).

use crate::credentials::{self, Moment, check_validity};
use crate::events::Event;
use crate::governance::{require_any_role, require_role};
use crate::ledger::OpContext;
use crate::obligations;
use crate::outcome::{Rejection, reject};
use crate::view::{Layer, StateRead};
use cityledger_types::application::{
    ApplicationDecision, ApplicationOp, ApplicationRecord, ApplicationStatus, Documents,
    InfoResponse, InfoRound, OpenApplication, ServiceRecord, application_id,
};
use cityledger_types::credential::Fields;
use cityledger_types::genesis::ROLE_ADMIN;
use cityledger_types::limits::{
    DOCUMENTS_PER_APPLICATION_MAX, DUE_HORIZON_MS_MAX, INFO_ROUNDS_MAX, VALIDITY_MS_MAX,
};
use cityledger_types::names::ReferenceKey;
use cityledger_types::obligation::{
    Charge, Charges, Issuance, ObligationRecord, PenaltyRule, Reason, Reference, ReferenceField,
    ReferenceValue, obligation_id,
};
use cityledger_types::records::{CurrencyRecord, StateKey};
use cityledger_types::{
    AccountName, Address, Amount, Digest, Height, OrgName, RejectCode, RoleName, ServiceName,
};

/// Applies one application operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &ApplicationOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let at = Moment { context, height };
    match op {
        ApplicationOp::DefineService {
            org,
            service,
            definition,
        } => define_service(layer, context, org, service, definition, events),
        ApplicationOp::Submit {
            org,
            service,
            fields,
            documents,
        } => submit(layer, context, org, service, fields, documents, events),
        ApplicationOp::RequestInfo {
            application,
            request,
        } => request_info(layer, context, application, request, events),
        ApplicationOp::Respond {
            application,
            response,
            documents,
        } => respond(layer, context, application, response, documents, events),
        ApplicationOp::Approve {
            application,
            claims,
            valid_until_ms,
        } => approve(layer, &at, application, claims, *valid_until_ms, events),
        ApplicationOp::Reject {
            application,
            reason,
        } => reject_application(layer, context, application, reason, events),
    }
}

fn define_service(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    org: &OrgName,
    service: &ServiceName,
    definition: &ServiceRecord,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_role(layer, org, context.signer, ROLE_ADMIN)?;
    check_definition(layer, org, definition)?;
    layer.store(&StateKey::Service(org.clone(), service.clone()), definition);
    events.push(Event::ServiceDefined {
        org: org.clone(),
        service: service.clone(),
    });
    Ok(())
}

/// Checks a service's terms against the state: the roles, the fee's
/// currency and obligation kind, the credential type, the validity.
pub(crate) fn check_definition(
    layer: &Layer<'_>,
    org: &OrgName,
    definition: &ServiceRecord,
) -> Result<(), Rejection> {
    let bad = |detail: String| Err(reject(RejectCode::BadTerms, detail));
    if definition.decide.0.is_empty() {
        return bad("a service needs at least one role that decides it".into());
    }
    if let Some(fee) = &definition.fee {
        if fee.amount == Amount::ZERO {
            return bad("a fee must be above zero; give no fee instead".into());
        }
        if fee.due_ms == 0 || fee.due_ms > DUE_HORIZON_MS_MAX {
            return bad(format!(
                "a fee is due 1 to {DUE_HORIZON_MS_MAX} ms after submission"
            ));
        }
        if layer
            .load::<CurrencyRecord>(&StateKey::Currency(fee.currency.clone()))
            .is_none()
        {
            return Err(reject(
                RejectCode::UnknownCurrency,
                format!("currency {} does not exist", fee.currency),
            ));
        }
        let kind = StateKey::ObligationKind(org.clone(), fee.obligation_kind.clone());
        if layer.get(&kind.to_bytes()).is_none() {
            return Err(reject(
                RejectCode::UnknownKind,
                format!("{org} defines no obligation kind {}", fee.obligation_kind),
            ));
        }
    }
    for (index, name) in definition.evidence.0.iter().enumerate() {
        if definition.evidence.0[..index].contains(name) {
            return bad(format!("evidence {name} is listed twice"));
        }
    }
    if definition.validity_ms_max == 0 || definition.validity_ms_max > VALIDITY_MS_MAX {
        return bad(format!("validity_ms_max must be 1 to {VALIDITY_MS_MAX}"));
    }
    credentials::load_type(layer, org, &definition.credential_type)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn submit(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    org: &OrgName,
    service: &ServiceName,
    fields: &Fields,
    documents: &Documents,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let definition = load_service(layer, org, service)?;
    let open_key = StateKey::OpenApplication(org.clone(), service.clone(), *context.signer);
    if let Some(open) = layer.load::<OpenApplication>(&open_key) {
        return Err(reject(
            RejectCode::DuplicateApplication,
            format!(
                "the applicant already has application {} open for {service}; it must be decided first",
                open.application
            ),
        ));
    }
    definition
        .fields
        .check(fields)
        .map_err(|error| reject(RejectCode::BadFields, error.to_string()))?;
    check_documents(documents)?;
    if let Some(missing) = definition
        .evidence
        .0
        .iter()
        .find(|name| !documents.0.iter().any(|d| d.name == **name))
    {
        return Err(reject(
            RejectCode::MissingEvidence,
            format!("{service} requires a document for {missing}"),
        ));
    }
    let id = application_id(context.tx_hash);
    let applicant = Address::of_key(context.signer);
    let fee_obligation = match &definition.fee {
        None => None,
        Some(fee) => {
            let issuance = Issuance {
                org: org.clone(),
                kind: fee.obligation_kind.clone(),
                payee: Address::of_org(
                    org,
                    &AccountName::new("main").expect("main is a valid account name"),
                ),
                currency: fee.currency.clone(),
                due_at_ms: context.timestamp_ms.saturating_add(fee.due_ms),
                penalty: PenaltyRule::None,
                charges: Charges(vec![Charge {
                    payer: applicant,
                    amount: fee.amount,
                    reference: service_reference(service),
                    evidence: Some(id),
                }]),
            };
            obligations::raise(layer, context, &issuance, events)?;
            Some(obligation_id(context.tx_hash, 0))
        }
    };
    let record = ApplicationRecord {
        org: org.clone(),
        service: service.clone(),
        applicant: *context.signer,
        submitted_at_ms: context.timestamp_ms,
        fields: fields.clone(),
        documents: documents.clone(),
        fee_obligation,
        status: ApplicationStatus::Submitted,
        rounds: Default::default(),
        decision: None,
    };
    layer.store(&StateKey::Application(id), &record);
    layer.store(&open_key, &OpenApplication { application: id });
    events.push(Event::ApplicationSubmitted {
        application: id,
        org: org.clone(),
        service: service.clone(),
        applicant,
        fee_obligation,
    });
    Ok(())
}

/// The fee's reference data: which service it is for.
fn service_reference(service: &ServiceName) -> Reference {
    let field = ReferenceField {
        key: ReferenceKey::new("service").expect("service is a valid reference key"),
        // Service names are at most SERVICE_NAME_BYTES_MAX (32) bytes of
        // printable ASCII, within a reference value's bound.
        value: ReferenceValue::new(service.as_str()).expect("a service name is a valid value"),
    };
    Reference::new(vec![field]).expect("one field is within the bounds")
}

/// Each document names its evidence once.
fn check_documents(documents: &Documents) -> Result<(), Rejection> {
    for (index, document) in documents.0.iter().enumerate() {
        if documents.0[..index].iter().any(|d| d.name == document.name) {
            return Err(reject(
                RejectCode::BadFields,
                format!("document {} is given twice", document.name),
            ));
        }
    }
    Ok(())
}

fn request_info(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    request: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_agency(layer, context, id, "request information on")?;
    if record.rounds.0.len() >= INFO_ROUNDS_MAX {
        return Err(reject(
            RejectCode::RecordFull,
            format!("application {id} has had {INFO_ROUNDS_MAX} requests, the limit; decide it"),
        ));
    }
    record.rounds.0.push(InfoRound {
        requested_by: *context.signer,
        role: role.clone(),
        requested_at_ms: context.timestamp_ms,
        request: request.clone(),
        response: None,
    });
    record.status = ApplicationStatus::InfoRequested;
    events.push(Event::ApplicationInfoRequested {
        application: *id,
        org: record.org.clone(),
        applicant: Address::of_key(&record.applicant),
        role,
        request: request.to_string(),
    });
    layer.store(&StateKey::Application(*id), &record);
    Ok(())
}

fn respond(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    response: &Reason,
    documents: &Documents,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let mut record = load(layer, id)?;
    ensure_open(id, &record)?;
    if record.applicant != *context.signer {
        return Err(reject(
            RejectCode::NotApplicant,
            format!(
                "signer {} is not the applicant of application {id}",
                context.signer
            ),
        ));
    }
    let waiting = record
        .rounds
        .0
        .last_mut()
        .filter(|round| round.response.is_none());
    let Some(round) = waiting else {
        return Err(reject(
            RejectCode::NoInfoRequested,
            format!("application {id} has no request waiting for an answer"),
        ));
    };
    round.response = Some(InfoResponse {
        responded_at_ms: context.timestamp_ms,
        response: response.clone(),
    });
    let mut all = record.documents.0.clone();
    all.extend(documents.0.iter().cloned());
    if all.len() > DOCUMENTS_PER_APPLICATION_MAX {
        return Err(reject(
            RejectCode::RecordFull,
            format!("an application holds at most {DOCUMENTS_PER_APPLICATION_MAX} documents"),
        ));
    }
    record.documents = Documents(all);
    check_documents(&record.documents)?;
    record.status = ApplicationStatus::Submitted;
    events.push(Event::ApplicationResponded {
        application: *id,
        org: record.org.clone(),
        applicant: Address::of_key(&record.applicant),
        // Bounded by DOCUMENTS_PER_APPLICATION_MAX.
        documents: documents.0.len() as u32,
    });
    layer.store(&StateKey::Application(*id), &record);
    Ok(())
}

fn approve(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    id: &Digest,
    claims: &Fields,
    valid_until_ms: Option<u64>,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let context = at.context;
    let (mut record, role) = load_for_agency(layer, context, id, "approve")?;
    if let Some(fee) = record.fee_obligation {
        let obligation: Option<ObligationRecord> = layer.load(&StateKey::Obligation(fee));
        let settled = obligation.is_some_and(|o| o.status.is_closed());
        if !settled {
            return Err(reject(
                RejectCode::FeeUnpaid,
                format!("the fee of application {id} (obligation {fee}) is not paid yet"),
            ));
        }
    }
    let definition = load_service(layer, &record.org, &record.service)?;
    let valid_until_ms = valid_until_ms.unwrap_or_else(|| {
        context
            .timestamp_ms
            .saturating_add(definition.validity_ms_max)
    });
    check_validity(
        context.timestamp_ms,
        valid_until_ms,
        definition.validity_ms_max,
    )?;
    let issuance = credentials::Issuance {
        org: &record.org,
        credential_type: &definition.credential_type,
        holder: &record.applicant,
        claims,
        valid_until_ms,
        application: Some(*id),
        role: role.clone(),
    };
    // The service's credential type may have been redefined away since.
    credentials::load_type(layer, &record.org, &definition.credential_type)?;
    let credential = credentials::issue(layer, at, &issuance, events)?;
    record.status = ApplicationStatus::Approved;
    record.decision = Some(ApplicationDecision {
        decided_by: *context.signer,
        role: role.clone(),
        decided_at_ms: context.timestamp_ms,
        reason: None,
        credential: Some(credential),
    });
    close(layer, id, &record);
    events.push(Event::ApplicationApproved {
        application: *id,
        org: record.org.clone(),
        applicant: Address::of_key(&record.applicant),
        role,
        credential,
    });
    Ok(())
}

fn reject_application(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_agency(layer, context, id, "reject")?;
    record.status = ApplicationStatus::Rejected;
    record.decision = Some(ApplicationDecision {
        decided_by: *context.signer,
        role: role.clone(),
        decided_at_ms: context.timestamp_ms,
        reason: Some(reason.clone()),
        credential: None,
    });
    close(layer, id, &record);
    events.push(Event::ApplicationRejected {
        application: *id,
        org: record.org.clone(),
        applicant: Address::of_key(&record.applicant),
        role,
        reason: reason.to_string(),
    });
    Ok(())
}

/// Stores a decided application and frees its applicant to apply again.
fn close(layer: &mut Layer<'_>, id: &Digest, record: &ApplicationRecord) {
    layer.store(&StateKey::Application(*id), record);
    layer.delete(&StateKey::OpenApplication(
        record.org.clone(),
        record.service.clone(),
        record.applicant,
    ));
}

/// Loads an undecided application for an action of the deciding agency:
/// the signer must hold a decide role of its service. Returns the
/// application and the role the action is recorded under.
fn load_for_agency(
    layer: &Layer<'_>,
    context: &OpContext<'_>,
    id: &Digest,
    action: &str,
) -> Result<(ApplicationRecord, RoleName), Rejection> {
    let record = load(layer, id)?;
    let definition = load_service(layer, &record.org, &record.service)?;
    let role = require_any_role(
        layer,
        &record.org,
        context.signer,
        &definition.decide.0,
        &format!("{action} {} applications", record.service),
    )?;
    ensure_open(id, &record)?;
    Ok((record, role))
}

fn ensure_open(id: &Digest, record: &ApplicationRecord) -> Result<(), Rejection> {
    if record.status.is_decided() {
        return Err(reject(
            RejectCode::ApplicationDecided,
            format!("application {id} was {}", record.status.as_str()),
        ));
    }
    Ok(())
}

fn load(layer: &Layer<'_>, id: &Digest) -> Result<ApplicationRecord, Rejection> {
    layer.load(&StateKey::Application(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownApplication,
            format!("application {id} does not exist"),
        )
    })
}

fn load_service(
    layer: &Layer<'_>,
    org: &OrgName,
    service: &ServiceName,
) -> Result<ServiceRecord, Rejection> {
    layer
        .load(&StateKey::Service(org.clone(), service.clone()))
        .ok_or_else(|| {
            reject(
                RejectCode::UnknownService,
                format!("{org} offers no service {service}"),
            )
        })
}
