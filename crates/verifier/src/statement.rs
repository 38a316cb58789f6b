//! The plain words of a claim, rendered from its structured form.
//!
//! The verifier renders the statement of every receipt it checks and
//! refuses one whose stored words differ, so the sentence a court clerk
//! reads is bound to the proven data. The rendering is therefore part of
//! the format: version 1 receipts are rendered by these functions, and a
//! change of wording needs a new receipt version (the fixture tests fail
//! first).

use crate::receipt::{
    BalanceClaim, BatchClaim, CaseItemClaim, CredentialClaim, CurrencyFact, CustodyClaim,
    MessageClaim, ObligationClaim, RecordClaim, TxClaim,
};
use cityledger_types::application::ApplicationOp;
use cityledger_types::credential::{AsOf, CredentialOp, Fields};
use cityledger_types::device::{BatchRecord, DeviceOp};
use cityledger_types::education::EducationOp;
use cityledger_types::history::HistoryRecord;
use cityledger_types::limits::CURRENCY_DECIMALS_MAX;
use cityledger_types::obligation::{AppealDecision, ObligationOp};
use cityledger_types::record::{GrantScope, RecordOp};
use cityledger_types::safety::CustodyEventKind;
use cityledger_types::safety::{EvidenceLink, SafetyOp};
use cityledger_types::tx::{Action, GovernanceOp, LedgerOp, TransferOrder};
use cityledger_types::{Address, Amount, BlockHeader, CurrencyCode, Digest, OrgName, TxOutcome};

/// The statement of a checkpoint.
pub fn checkpoint(header: &BlockHeader, history: &HistoryRecord) -> String {
    format!(
        "Block {} ({}) of chain {} at {} is final, and its state commits to the {} blocks before it (history root {}).",
        header.height,
        header.id(),
        header.chain_id,
        utc(header.timestamp_ms),
        history.leaf_count(),
        history.root(),
    )
}

/// What a consistency check between two checkpoints proves.
pub fn consistency(old: &BlockHeader, new: &BlockHeader) -> String {
    if old.height == new.height {
        return format!(
            "Both checkpoints are block {} ({}) of chain {}.",
            old.height,
            old.id(),
            old.chain_id
        );
    }
    format!(
        "Block {} ({}) of chain {} is an ancestor of block {} ({}): the chain finalized up to block {} extends the one up to block {}, with {} blocks appended and none rewritten.",
        old.height,
        old.id(),
        old.chain_id,
        new.height,
        new.id(),
        new.height,
        old.height,
        new.height.0 - old.height.0,
    )
}

/// The statement of a transaction receipt.
pub fn transaction(claim: &TxClaim, header: &BlockHeader) -> String {
    let body = &claim.tx.body;
    let place = format!(
        "in block {} of chain {} at {}, position {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms),
        claim.tx_proof.index
    );
    let verdict = match &claim.outcome {
        TxOutcome::Applied => format!("was applied {place}"),
        TxOutcome::Rejected {
            code,
            op_index,
            detail,
        } => format!(
            "was included {place}, but rejected ({}, operation {op_index}: {detail}) and changed nothing",
            code.as_str()
        ),
    };
    format!(
        "Transaction {} signed by {} {verdict}: {}.",
        claim.tx.hash(),
        Address::of_key(&body.signer),
        action(&body.action, &claim.currencies.0),
    )
}

/// The statement of a balance receipt.
pub fn balance(claim: &BalanceClaim, header: &BlockHeader) -> String {
    let code = claim.currency.code();
    let decimals = claim.currency.record.decimals;
    let held = match &claim.balance {
        None => format!("held no {code} (the account has no {code} balance)"),
        Some(record) => {
            let mut held = format!(
                "held {} {code}",
                signed_major(record.credits_posted, record.debits_posted, decimals)
            );
            let pending: Vec<String> = [
                (
                    record.debits_pending,
                    "reserved for outgoing pending transfers",
                ),
                (record.credits_pending, "incoming in pending transfers"),
            ]
            .iter()
            .filter(|(sum, _)| *sum > 0)
            .map(|(sum, what)| format!("{} {code} {what}", major(Amount(*sum), decimals)))
            .collect();
            if !pending.is_empty() {
                held.push_str(&format!(", with {}", pending.join(" and ")));
            }
            held
        }
    };
    format!(
        "Account {} {held} after block {} of chain {} at {}.",
        claim.address,
        header.height,
        header.chain_id,
        utc(header.timestamp_ms),
    )
}

/// The statement of an obligation receipt.
pub fn obligation(claim: &ObligationClaim, header: &BlockHeader) -> String {
    let at = format!(
        "in block {} of chain {} at {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms)
    );
    let (Some(record), Some(currency)) = (&claim.record, &claim.currency) else {
        return format!("No obligation {} exists {at}.", claim.id);
    };
    let money =
        |amount: Amount| amount_words(amount, &record.currency, std::slice::from_ref(currency));
    let mut status = record.status.as_str().replace('_', " ");
    if record.is_overdue_at(header.timestamp_ms) {
        status.push_str(", overdue");
    }
    format!(
        "Obligation {}: {} issued by {} to payer {}, {} due by {}; paid {}, penalty {}, owing {}; {status}, {at}.",
        claim.id,
        record.kind,
        record.issuer,
        record.payer,
        money(record.amount),
        utc(record.due_at_ms),
        money(record.paid),
        money(record.penalty_at(header.timestamp_ms)),
        money(record.owed_at(header.timestamp_ms)),
    )
}

/// The statement of a custody receipt: who holds the item, and every
/// hand-over, each with its block.
pub fn custody(claim: &CustodyClaim, header: &BlockHeader) -> String {
    let at = format!(
        "after block {} of chain {} at {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms)
    );
    let Some(record) = &claim.record else {
        return format!("No evidence item {} exists {at}.", claim.id);
    };
    let steps: Vec<String> = record
        .history
        .0
        .iter()
        .map(|event| {
            let what = match &event.kind {
                CustodyEventKind::Collected => format!("collected by {}", event.org),
                CustodyEventKind::Offered { to, receiver } => {
                    format!("offered by {} to {receiver} of {to}", event.org)
                }
                CustodyEventKind::Accepted { from } => {
                    format!("accepted by {} from {from}", event.org)
                }
            };
            format!("{what} (signed by {}, block {})", event.by, event.height)
        })
        .collect();
    let offer = match &record.offer {
        Some(offer) => format!(
            "; an offer to {} of {} awaits acceptance",
            offer.receiver, offer.to
        ),
        None => String::new(),
    };
    format!(
        "Evidence item {} (content commitment {}) is held by {} {at}{offer}. Its chain of custody: {}.",
        claim.id,
        record.commitment,
        record.custodian,
        steps.join("; ")
    )
}

/// The statement of a case-bundle item receipt.
pub fn case_item(claim: &CaseItemClaim, header: &BlockHeader) -> String {
    format!(
        "Evidence item {} is item {} of the {} items of version {} of case {} (bundle root {}), made at block {}; proven in block {} of chain {} at {}.",
        claim.item,
        u64::from(claim.inclusion.index) + 1,
        claim.record.item_count,
        claim.version,
        claim.case,
        claim.record.root,
        claim.record.height,
        header.height,
        header.chain_id,
        utc(header.timestamp_ms)
    )
}

/// The statement of a credential receipt.
pub fn credential(claim: &CredentialClaim, header: &BlockHeader) -> String {
    let recorded = format!(
        "in block {} of chain {} at {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms)
    );
    let Some(record) = &claim.record else {
        return format!("No credential {} exists {recorded}.", claim.id);
    };
    let moment = claim
        .moment
        .as_ref()
        .map_or(header, |moment| &moment.header);
    let as_of = AsOf {
        height: moment.height,
        time_ms: moment.timestamp_ms,
    };
    let when = format!("at height {} ({})", moment.height, utc(moment.timestamp_ms));
    let what = format!(
        "Credential {}: {} issued by {} to holder {}",
        claim.id, record.credential_type, record.issuer, record.holder
    );
    match record.period_at(&as_of) {
        None => format!("{what}; not yet issued {when}; recorded {recorded}."),
        Some((from, until)) => format!(
            "{what}, valid from {} until {}; {} {when}; recorded {recorded}.",
            utc(from),
            utc(until),
            record.status_at(&as_of).as_str().replace('_', " "),
        ),
    }
}

/// A record's public facts: never its content, metadata or the erasure's
/// reason, which may name the person.
pub fn record(claim: &RecordClaim, header: &BlockHeader) -> String {
    let at = place(header);
    let Some(record) = &claim.record else {
        return format!("No record {} exists {at}.", claim.id);
    };
    let org = record
        .org
        .as_ref()
        .map(|org| format!(" for {org}"))
        .unwrap_or_default();
    let mut words = format!(
        "Record {}: {} of owner {}, anchored by {}{org} at height {} ({}), commitment {}, sealed content of {} bytes (SHA-256 {})",
        claim.id,
        record.record_type,
        Address::of_key(&record.owner),
        Address::of_key(&record.author),
        record.anchored_height,
        utc(record.anchored_at_ms),
        record.commitment,
        record.blob_bytes,
        record.blob_digest,
    );
    let recipients = record.recipients.keys();
    if !recipients.is_empty() {
        let acknowledged: Vec<String> = record
            .acknowledgements
            .0
            .iter()
            .map(|ack| format!("{} at height {}", Address::of_key(&ack.by), ack.height))
            .collect();
        words.push_str(&format!(
            "; sent to {}; acknowledged by {}",
            recipients
                .iter()
                .map(|key| Address::of_key(key).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if acknowledged.is_empty() {
                "none yet".to_owned()
            } else {
                acknowledged.join(", ")
            }
        ));
    }
    if let Some(parent) = &record.parent {
        words.push_str(&format!("; follows record {parent}"));
    }
    if let Some(erasure) = &record.erasure {
        words.push_str(&format!(
            "; erased at height {} ({}) by {}: its content and keys destroyed, its commitment kept",
            erasure.height,
            utc(erasure.at_ms),
            Address::of_key(&erasure.by),
        ));
    }
    format!("{words}; {at}.")
}

fn batch_words(batch: &BatchRecord) -> String {
    format!(
        "signed by device {} of {}, sequence {}, {} messages under root {}, anchored at height {} ({})",
        batch.device,
        batch.org,
        batch.sequence,
        batch.message_count,
        batch.root,
        batch.height,
        utc(batch.at_ms),
    )
}

/// A device's batch.
pub fn batch(claim: &BatchClaim, header: &BlockHeader) -> String {
    let at = place(header);
    match &claim.record {
        None => format!("No batch {} exists {at}.", claim.id),
        Some(batch) => format!("Batch {}: {}; {at}.", claim.id, batch_words(batch)),
    }
}

/// One message of a batch: its position and digest, never its bytes in
/// the words (they are in the claim).
pub fn message(claim: &MessageClaim, header: &BlockHeader) -> String {
    let at = place(header);
    let Some(batch) = &claim.batch.record else {
        return format!("No batch {} exists {at}.", claim.batch.id);
    };
    format!(
        "Message {} of {} in batch {} ({} bytes, SHA-256 {}), {}; {at}.",
        u64::from(claim.inclusion.index) + 1,
        batch.message_count,
        claim.batch.id,
        claim.message.0.len(),
        Digest::of(&claim.message.0),
        batch_words(batch),
    )
}

/// Where a state claim is recorded.
fn place(header: &BlockHeader) -> String {
    format!(
        "recorded in block {} of chain {} at {}",
        header.height,
        header.chain_id,
        utc(header.timestamp_ms)
    )
}

fn action(action: &Action, currencies: &[CurrencyFact]) -> String {
    match action {
        Action::Ledger(op) => ledger_op(op, currencies),
        Action::Linked(ops) => {
            let each: Vec<String> = ops.0.iter().map(|op| ledger_op(op, currencies)).collect();
            format!("linked operations, all or none: {}", each.join("; "))
        }
        Action::Governance(GovernanceOp::SetMember { org, member, roles }) => {
            let names: Vec<&str> = roles.0.iter().map(|role| role.as_str()).collect();
            format!(
                "member {member} of organisation {org} given the roles [{}]",
                names.join(", ")
            )
        }
        Action::Governance(GovernanceOp::RemoveMember { org, member }) => {
            format!("member {member} removed from organisation {org}")
        }
        Action::Obligation(op) => obligation_op(op, currencies),
        Action::Application(op) => application_op(op),
        Action::Credential(op) => credential_op(op),
        Action::Record(op) => record_op(op),
        Action::Device(op) => device_op(op),
        Action::Safety(op) => safety_op(op),
        Action::Education(op) => education_op(op),
    }
}

/// Safety words name agencies, kinds, areas, severities and commitments,
/// never a note's text (responders' words may name people).
fn safety_op(op: &SafetyOp) -> String {
    match op {
        SafetyOp::RaiseAlert {
            kind,
            severity,
            location,
            media,
            notify,
            ..
        } => {
            let notified: Vec<&str> = notify.0.iter().map(OrgName::as_str).collect();
            format!(
                "{} alert of kind {kind} in area {} raised by the signing device, media commitment {media}, notifying [{}]",
                severity.as_str(),
                location.area,
                notified.join(", ")
            )
        }
        SafetyOp::OpenIncident {
            org,
            kind,
            severity,
            location,
            ..
        } => format!(
            "opening by {org} of a {} incident of kind {kind} in area {}",
            severity.as_str(),
            location.area
        ),
        SafetyOp::UpdateIncident {
            incident,
            org,
            status,
            units,
            ..
        } => {
            let status = status.map_or("unchanged".to_owned(), |s| s.as_str().replace('_', " "));
            let units: Vec<&str> = units.0.iter().map(|u| u.as_str()).collect();
            format!(
                "update by {org} of incident {incident}: status {status}, units [{}]",
                units.join(", ")
            )
        }
        SafetyOp::ShareIncident { incident, with } => {
            format!("sharing of incident {incident} with {with}")
        }
        SafetyOp::CloseIncident { incident, .. } => format!("closing of incident {incident}"),
        SafetyOp::AddEvidence(evidence) => {
            let link = match evidence.link {
                EvidenceLink::Incident(id) => format!("incident {id}"),
                EvidenceLink::Case(id) => format!("case {id}"),
            };
            format!(
                "{} evidence for {link}: {}",
                evidence.media_kind.as_str().replace('_', " "),
                record_op(&RecordOp::Anchor(evidence.anchor.clone()))
            )
        }
        SafetyOp::OfferHandover {
            evidence,
            to,
            receiver,
            commitment,
        } => format!(
            "offer to hand evidence {evidence} (commitment {commitment}) over to {receiver} of {to}"
        ),
        SafetyOp::AcceptHandover {
            evidence,
            commitment,
        } => format!("acceptance of evidence {evidence} received with commitment {commitment}"),
        SafetyOp::CreateCase { org, incident, .. } => match incident {
            Some(incident) => format!("creation by {org} of a case about incident {incident}"),
            None => format!("creation by {org} of a case"),
        },
        SafetyOp::AddToCase { case, items } => {
            let items: Vec<String> = items.0.iter().map(|item| item.to_string()).collect();
            format!(
                "addition to case {case} of the evidence items [{}], in this order",
                items.join(", ")
            )
        }
    }
}

fn education_op(op: &EducationOp) -> String {
    match op {
        EducationOp::CreateExam(terms) => format!(
            "definition by {} of an exam of course {} open from {} until {}, pass mark {} of {}{}",
            terms.org,
            terms.course,
            utc(terms.opens_at_ms),
            utc(terms.deadline_ms),
            terms.pass_mark,
            terms.max_score,
            match &terms.certificate {
                Some(certificate) => format!(
                    ", a pass issuing a {} credential",
                    certificate.credential_type
                ),
                None => String::new(),
            }
        ),
        EducationOp::Commit { exam, commitment } => {
            format!("commitment to answers of exam {exam}: {commitment}")
        }
        EducationOp::Reveal { exam, anchor } => format!(
            "reveal of the answers to exam {exam} with commitment {}, sealed for [{}]",
            anchor.commitment,
            anchor
                .recipients
                .keys()
                .iter()
                .map(|key| key.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        EducationOp::Grade {
            exam,
            student,
            score,
        } => format!("grading of {student}'s answers to exam {exam}: score {score}"),
    }
}

/// A record's words name its parties, type, commitment and metadata keys,
/// never its content, metadata values or a free-text reason (an erasure
/// request may name the person it is about).
fn record_op(op: &RecordOp) -> String {
    match op {
        RecordOp::Anchor(anchor) => {
            let by = match &anchor.org {
                Some(org) => format!(" for organisation {org}"),
                None => String::new(),
            };
            let keys: Vec<&str> = anchor
                .metadata
                .fields()
                .iter()
                .map(|f| f.key.as_str())
                .collect();
            let recipients: Vec<String> = anchor
                .recipients
                .keys()
                .iter()
                .map(|key| key.to_string())
                .collect();
            let parent = match &anchor.parent {
                Some(parent) => format!(", following record {parent}"),
                None => String::new(),
            };
            format!(
                "anchoring{by} of a {} record owned by {} with content commitment {} ({} sealed bytes, digest {}), metadata [{}], sent to [{}]{parent}",
                anchor.record_type,
                anchor.owner,
                anchor.commitment,
                anchor.blob_bytes,
                anchor.blob_digest,
                keys.join(", "),
                recipients.join(", "),
            )
        }
        RecordOp::Acknowledge { record, commitment } => {
            format!(
                "acknowledgement of delivery of record {record} with content commitment {commitment}"
            )
        }
        RecordOp::Grant {
            reader,
            scope,
            valid_until_ms,
        } => {
            let what = match scope {
                GrantScope::Record(record) => format!("record {record}"),
                GrantScope::Category(record_type) => {
                    format!("every {record_type} record of the signer")
                }
            };
            format!(
                "grant to reader {reader} of access to {what} until {}",
                utc(*valid_until_ms)
            )
        }
        RecordOp::RevokeGrant { grant } => format!("revocation of grant {grant}"),
        RecordOp::Access { record, grant } => match grant {
            Some(grant) => format!("access to record {record} under grant {grant}"),
            None => format!("access to record {record} as one of its parties"),
        },
        RecordOp::Erase { record, .. } => {
            format!("erasure of record {record} (its commitment stays)")
        }
    }
}

fn device_op(op: &DeviceOp) -> String {
    match op {
        DeviceOp::Register {
            org,
            device,
            device_type,
            ..
        } => format!(
            "registration by {org} of device {device} as a {}",
            device_type.as_str().replace('_', " ")
        ),
        DeviceOp::Suspend { device, .. } => format!("suspension of device {device}"),
        DeviceOp::Reinstate { device, .. } => format!("reinstatement of device {device}"),
        DeviceOp::Retire { device, .. } => format!("retirement of device {device}"),
        DeviceOp::AnchorBatch {
            sequence,
            root,
            message_count,
        } => format!(
            "anchoring of batch {sequence} of the signing device: {message_count} message(s) under Merkle root {root}"
        ),
    }
}

/// Field values stay out of the words: a receipt is shown to third parties,
/// and the names say what was given without repeating it.
fn field_names(fields: &Fields) -> String {
    let names: Vec<&str> = fields.fields().iter().map(|f| f.name.as_str()).collect();
    format!("[{}]", names.join(", "))
}

fn application_op(op: &ApplicationOp) -> String {
    match op {
        ApplicationOp::DefineService { org, service, .. } => {
            format!("definition of service {service} of organisation {org}")
        }
        ApplicationOp::Submit {
            org,
            service,
            fields,
            documents,
        } => format!(
            "application for service {service} of organisation {org} with fields {} and {} document commitment(s)",
            field_names(fields),
            documents.0.len()
        ),
        ApplicationOp::RequestInfo {
            application,
            request,
        } => format!("request for more information on application {application} (\"{request}\")"),
        ApplicationOp::Respond {
            application,
            documents,
            ..
        } => format!(
            "answer to application {application}'s request, with {} document commitment(s)",
            documents.0.len()
        ),
        ApplicationOp::Approve {
            application,
            claims,
            valid_until_ms,
        } => {
            let until =
                valid_until_ms.map_or_else(|| "the service's longest validity".to_owned(), utc);
            format!(
                "approval of application {application}, issuing its credential with claims {} valid until {until}",
                field_names(claims)
            )
        }
        ApplicationOp::Reject {
            application,
            reason,
        } => format!("rejection of application {application} (reason \"{reason}\")"),
    }
}

fn credential_op(op: &CredentialOp) -> String {
    match op {
        CredentialOp::DefineType {
            org,
            credential_type,
            ..
        } => format!("definition of credential type {credential_type} of organisation {org}"),
        CredentialOp::Issue {
            org,
            credential_type,
            holder,
            claims,
            valid_until_ms,
        } => format!(
            "issuance by {org} of a {credential_type} credential to holder {holder} with claims {} valid until {}",
            field_names(claims),
            utc(*valid_until_ms)
        ),
        CredentialOp::Renew {
            credential,
            valid_until_ms,
        } => format!(
            "renewal of credential {credential} until {}",
            utc(*valid_until_ms)
        ),
        CredentialOp::Suspend { credential, reason } => {
            format!("suspension of credential {credential} (reason \"{reason}\")")
        }
        CredentialOp::Reinstate { credential, reason } => {
            format!("reinstatement of credential {credential} (reason \"{reason}\")")
        }
        CredentialOp::Revoke { credential, reason } => {
            format!("revocation of credential {credential} (reason \"{reason}\")")
        }
        CredentialOp::SetIssuerKey { org, key } => {
            format!("issuer key of organisation {org} set to {key}")
        }
    }
}

fn obligation_op(op: &ObligationOp, currencies: &[CurrencyFact]) -> String {
    match op {
        ObligationOp::DefineKind { org, kind, .. } => {
            format!("definition of obligation kind {kind} of organisation {org}")
        }
        ObligationOp::Issue(issuance) => {
            let total = issuance
                .charges
                .0
                .iter()
                .fold(0u128, |sum, charge| sum.saturating_add(charge.amount.0));
            format!(
                "issuance by {} of {} {} obligation(s) totalling {}, payable to {} by {}",
                issuance.org,
                issuance.charges.0.len(),
                issuance.kind,
                amount_words(Amount(total), &issuance.currency, currencies),
                issuance.payee,
                utc(issuance.due_at_ms)
            )
        }
        ObligationOp::Pay {
            obligation,
            from,
            currency,
            amount,
        } => format!(
            "payment of {} from {from} toward obligation {obligation}",
            amount_words(*amount, currency, currencies)
        ),
        ObligationOp::Waive { obligation, reason } => {
            format!("waiver of obligation {obligation} (reason \"{reason}\")")
        }
        ObligationOp::Appeal { obligation, reason } => {
            format!("appeal of obligation {obligation} (grounds \"{reason}\")")
        }
        ObligationOp::Decide {
            obligation,
            decision: AppealDecision::Upheld { due_at_ms },
            reason,
        } => format!(
            "appeal of obligation {obligation} decided: upheld, payable by {} (reason \"{reason}\")",
            utc(*due_at_ms)
        ),
        ObligationOp::Decide {
            obligation,
            decision: AppealDecision::Cancelled,
            reason,
        } => format!("appeal of obligation {obligation} decided: cancelled (reason \"{reason}\")"),
        ObligationOp::Cancel { obligation, reason } => {
            format!("cancellation of obligation {obligation} (reason \"{reason}\")")
        }
    }
}

fn ledger_op(op: &LedgerOp, currencies: &[CurrencyFact]) -> String {
    match op {
        LedgerOp::Transfer(order) => format!("transfer of {}", order_words(order, currencies)),
        LedgerOp::CreatePending { order, timeout_ms } => format!(
            "reservation of {}, held for {timeout_ms} ms of block time",
            order_words(order, currencies)
        ),
        LedgerOp::PostPending { pending, amount } => match amount {
            Some(amount) => {
                format!("posting of {amount} minor units of pending transfer {pending}")
            }
            None => format!("posting of pending transfer {pending} in full"),
        },
        LedgerOp::VoidPending { pending } => format!("void of pending transfer {pending}"),
    }
}

fn order_words(order: &TransferOrder, currencies: &[CurrencyFact]) -> String {
    let mut words = format!(
        "{} from {} to {}",
        amount_words(order.amount, &order.currency, currencies),
        order.from,
        order.to
    );
    if !order.memo.as_str().is_empty() {
        words.push_str(&format!(" (memo \"{}\")", order.memo));
    }
    words
}

/// `12.50 CITY` when the currency's decimals are proven in the receipt,
/// `1250 minor units of CITY` otherwise.
fn amount_words(amount: Amount, code: &CurrencyCode, currencies: &[CurrencyFact]) -> String {
    match currencies.iter().find(|fact| fact.code() == code) {
        Some(fact) => format!("{} {code}", major(amount, fact.record.decimals)),
        None => format!("{amount} minor units of {code}"),
    }
}

/// Credits minus debits in major units, without a signed type that could
/// overflow on sums no real chain reaches.
fn signed_major(credits: u128, debits: u128, decimals: u8) -> String {
    if credits >= debits {
        major(Amount(credits - debits), decimals)
    } else {
        format!("-{}", major(Amount(debits - credits), decimals))
    }
}

/// An amount in major units; decimals beyond what the protocol allows
/// (which no chain's state holds) read as minor units rather than panic.
fn major(amount: Amount, decimals: u8) -> String {
    if decimals <= CURRENCY_DECIMALS_MAX {
        amount.to_major(decimals)
    } else {
        amount.to_string()
    }
}

pub use cityledger_types::civil::utc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_amounts() {
        assert_eq!(signed_major(0, 1250, 2), "-12.50");
        assert_eq!(signed_major(5, 0, 2), "0.05");
        assert_eq!(signed_major(7, 7, 0), "0");
        assert_eq!(signed_major(u128::MAX, 0, 0), u128::MAX.to_string());
        assert_eq!(major(Amount(5), 200), "5");
    }
}
