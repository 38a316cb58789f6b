//! Credentials: issuance, renewal, suspension, reinstatement, revocation,
//! and the keys that sign exported Verifiable Credentials.
//!
//! Owns `StateKey::CredentialType`, `Credential`, `StatusListCounter` and
//! `IssuerKeys`. Every change of a credential's status is appended to the
//! credential's own history with the block's height and time, and nothing
//! is ever removed from it: the record at the tip proves the status at
//! every earlier moment (ADR 0006). Only a member of the issuing
//! organisation holding a role of the credential's type changes it; the
//! holder cannot.

use crate::events::Event;
use crate::governance::{require_any_role, require_role};
use crate::ledger::OpContext;
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::credential::{
    CredentialOp, CredentialRecord, CredentialRoles, CredentialTypeRecord, Fields, IssuerKey,
    IssuerKeys, StatusChange, StatusChangeKind, StatusHistory, StatusListCounter, credential_id,
};
use cityledger_types::genesis::ROLE_ADMIN;
use cityledger_types::limits::{ISSUER_KEYS_MAX, VALIDITY_MS_MAX};
use cityledger_types::obligation::Reason;
use cityledger_types::records::StateKey;
use cityledger_types::tx::Roles;
use cityledger_types::{
    Address, CredentialType, Digest, Height, OrgName, PublicKey, RejectCode, RoleName,
};

/// Applies one credential operation in the block at `height`.
pub fn apply(
    layer: &mut Layer<'_>,
    context: &OpContext<'_>,
    height: Height,
    op: &CredentialOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let at = Moment { context, height };
    match op {
        CredentialOp::DefineType {
            org,
            credential_type,
            roles,
        } => define_type(layer, &at, org, credential_type, roles, events),
        CredentialOp::Issue {
            org,
            credential_type,
            holder,
            claims,
            valid_until_ms,
        } => {
            let kind = load_type(layer, org, credential_type)?;
            let role = require_any_role(
                layer,
                org,
                context.signer,
                &kind.roles.issue.0,
                &format!("issue {credential_type}"),
            )?;
            check_validity(context.timestamp_ms, *valid_until_ms, VALIDITY_MS_MAX)?;
            let issuance = Issuance {
                org,
                credential_type,
                holder,
                claims,
                valid_until_ms: *valid_until_ms,
                application: None,
                role,
            };
            issue(layer, &at, &issuance, events).map(|_| ())
        }
        CredentialOp::Renew {
            credential,
            valid_until_ms,
        } => renew(layer, &at, credential, *valid_until_ms, events),
        CredentialOp::Suspend { credential, reason } => {
            change(layer, &at, credential, Change::Suspend, reason, events)
        }
        CredentialOp::Reinstate { credential, reason } => {
            change(layer, &at, credential, Change::Reinstate, reason, events)
        }
        CredentialOp::Revoke { credential, reason } => {
            change(layer, &at, credential, Change::Revoke, reason, events)
        }
        CredentialOp::SetIssuerKey { org, key } => set_issuer_key(layer, &at, org, key, events),
    }
}

/// Who acts, in which block: a change is dated by both.
pub(crate) struct Moment<'a> {
    /// The transaction's signer and block time.
    pub context: &'a OpContext<'a>,
    /// Height of the block.
    pub height: Height,
}

impl Moment<'_> {
    fn change(
        &self,
        role: RoleName,
        kind: StatusChangeKind,
        reason: Option<Reason>,
    ) -> StatusChange {
        StatusChange {
            height: self.height,
            at_ms: self.context.timestamp_ms,
            by: *self.context.signer,
            role,
            kind,
            reason,
        }
    }
}

/// What an issuance creates; the caller has checked the role.
pub(crate) struct Issuance<'a> {
    /// The issuing organisation.
    pub org: &'a OrgName,
    /// The type; defined by the organisation.
    pub credential_type: &'a CredentialType,
    /// The holder.
    pub holder: &'a PublicKey,
    /// The claims.
    pub claims: &'a Fields,
    /// End of validity, checked by the caller.
    pub valid_until_ms: u64,
    /// The application approved, if any.
    pub application: Option<Digest>,
    /// The role it is issued under.
    pub role: RoleName,
}

/// Creates the credential of `issuance`, valid from block time, at the
/// next free position of the issuer's status lists. Returns its id.
pub(crate) fn issue(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    issuance: &Issuance<'_>,
    events: &mut Vec<Event>,
) -> Result<Digest, Rejection> {
    let counter_key = StateKey::StatusListCounter(issuance.org.clone());
    let mut counter: StatusListCounter = layer.load(&counter_key).unwrap_or_default();
    let status_index = counter.next_index;
    counter.next_index = status_index.checked_add(1).ok_or_else(|| {
        reject(
            RejectCode::RecordFull,
            format!("{} has used every status list position", issuance.org),
        )
    })?;
    let valid_from_ms = at.context.timestamp_ms;
    let issued = at.change(
        issuance.role.clone(),
        StatusChangeKind::Issued {
            valid_from_ms,
            valid_until_ms: issuance.valid_until_ms,
        },
        None,
    );
    let history = StatusHistory::new(vec![issued]).expect("one issuance is a valid history");
    let record = CredentialRecord {
        credential_type: issuance.credential_type.clone(),
        issuer: issuance.org.clone(),
        holder: *issuance.holder,
        claims: issuance.claims.clone(),
        application: issuance.application,
        status_index,
        history,
    };
    let id = credential_id(at.context.tx_hash);
    layer.store(&counter_key, &counter);
    layer.store(&StateKey::Credential(id), &record);
    events.push(Event::CredentialIssued {
        credential: id,
        issuer: record.issuer,
        credential_type: record.credential_type,
        holder: Address::of_key(&record.holder),
        valid_from_ms,
        valid_until_ms: issuance.valid_until_ms,
        application: issuance.application,
    });
    Ok(id)
}

/// Checks that a validity ending at `valid_until_ms` starts now, is not
/// empty, and lasts at most `longest_ms`.
pub(crate) fn check_validity(
    now_ms: u64,
    valid_until_ms: u64,
    longest_ms: u64,
) -> Result<(), Rejection> {
    if valid_until_ms <= now_ms {
        return Err(reject(
            RejectCode::BadValidity,
            format!("validity must end after block time {now_ms}, not at {valid_until_ms}"),
        ));
    }
    let longest_ms = longest_ms.min(VALIDITY_MS_MAX);
    if valid_until_ms - now_ms > longest_ms {
        return Err(reject(
            RejectCode::BadValidity,
            format!(
                "validity until {valid_until_ms} is more than {longest_ms} ms after block time {now_ms}"
            ),
        ));
    }
    Ok(())
}

fn define_type(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    org: &OrgName,
    credential_type: &CredentialType,
    roles: &CredentialRoles,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_role(layer, org, at.context.signer, ROLE_ADMIN)?;
    layer.store(
        &StateKey::CredentialType(org.clone(), credential_type.clone()),
        &CredentialTypeRecord {
            roles: roles.clone(),
        },
    );
    events.push(Event::CredentialTypeDefined {
        org: org.clone(),
        credential_type: credential_type.clone(),
    });
    Ok(())
}

fn renew(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    id: &Digest,
    valid_until_ms: u64,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (mut record, role) = load_for_issuer(layer, at, id, |roles| &roles.renew, "renew")?;
    let current = record.valid_until_ms();
    if valid_until_ms <= current {
        return Err(reject(
            RejectCode::BadValidity,
            format!("renewal must end after the current end of validity {current}"),
        ));
    }
    check_validity(at.context.timestamp_ms, valid_until_ms, VALIDITY_MS_MAX)?;
    append(
        &mut record,
        id,
        at.change(role, StatusChangeKind::Renewed { valid_until_ms }, None),
    )?;
    events.push(Event::CredentialRenewed {
        credential: *id,
        issuer: record.issuer.clone(),
        holder: Address::of_key(&record.holder),
        valid_until_ms,
    });
    layer.store(&StateKey::Credential(*id), &record);
    Ok(())
}

/// A change that takes a reason.
#[derive(Clone, Copy)]
enum Change {
    Suspend,
    Reinstate,
    Revoke,
}

fn change(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    id: &Digest,
    change: Change,
    reason: &Reason,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    let (roles_of, action): (fn(&CredentialRoles) -> &Roles, &str) = match change {
        Change::Suspend => (|roles| &roles.suspend, "suspend"),
        Change::Reinstate => (|roles| &roles.suspend, "reinstate"),
        Change::Revoke => (|roles| &roles.revoke, "revoke"),
    };
    let (mut record, role) = load_for_issuer(layer, at, id, roles_of, action)?;
    let suspended = record.is_suspended();
    let kind = match change {
        Change::Suspend if suspended => {
            return Err(reject(
                RejectCode::AlreadySuspended,
                format!("credential {id} is already suspended"),
            ));
        }
        Change::Reinstate if !suspended => {
            return Err(reject(
                RejectCode::NotSuspended,
                format!("credential {id} is not suspended"),
            ));
        }
        Change::Suspend => StatusChangeKind::Suspended,
        Change::Reinstate => StatusChangeKind::Reinstated,
        Change::Revoke => StatusChangeKind::Revoked,
    };
    append(&mut record, id, at.change(role, kind, Some(reason.clone())))?;
    let (credential, issuer, holder, reason) = (
        *id,
        record.issuer.clone(),
        Address::of_key(&record.holder),
        reason.to_string(),
    );
    events.push(match change {
        Change::Suspend => Event::CredentialSuspended {
            credential,
            issuer,
            holder,
            reason,
        },
        Change::Reinstate => Event::CredentialReinstated {
            credential,
            issuer,
            holder,
            reason,
        },
        Change::Revoke => Event::CredentialRevoked {
            credential,
            issuer,
            holder,
            reason,
        },
    });
    layer.store(&StateKey::Credential(*id), &record);
    Ok(())
}

fn append(
    record: &mut CredentialRecord,
    id: &Digest,
    change: StatusChange,
) -> Result<(), Rejection> {
    record.history.push(change).map_err(|error| {
        reject(
            RejectCode::RecordFull,
            format!("credential {id} cannot take another change: {error}"),
        )
    })
}

fn set_issuer_key(
    layer: &mut Layer<'_>,
    at: &Moment<'_>,
    org: &OrgName,
    key: &PublicKey,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    require_role(layer, org, at.context.signer, ROLE_ADMIN)?;
    let state_key = StateKey::IssuerKeys(org.clone());
    let mut keys: IssuerKeys = layer.load(&state_key).unwrap_or_default();
    if keys.0.len() >= ISSUER_KEYS_MAX {
        return Err(reject(
            RejectCode::RecordFull,
            format!("{org} has had {ISSUER_KEYS_MAX} issuer keys, the limit"),
        ));
    }
    keys.0.push(IssuerKey {
        key: *key,
        from_height: at.height,
        from_ms: at.context.timestamp_ms,
    });
    layer.store(&state_key, &keys);
    events.push(Event::IssuerKeySet {
        org: org.clone(),
        key: *key,
    });
    Ok(())
}

/// Loads a credential that is not revoked, for an action of its issuer:
/// the signer must hold one of the roles `roles_of` picks from its type.
/// Returns the credential and the role the change is recorded under.
fn load_for_issuer(
    layer: &Layer<'_>,
    at: &Moment<'_>,
    id: &Digest,
    roles_of: fn(&CredentialRoles) -> &Roles,
    action: &str,
) -> Result<(CredentialRecord, RoleName), Rejection> {
    let record: CredentialRecord = layer.load(&StateKey::Credential(*id)).ok_or_else(|| {
        reject(
            RejectCode::UnknownCredential,
            format!("credential {id} does not exist"),
        )
    })?;
    let kind = load_type(layer, &record.issuer, &record.credential_type)?;
    let role = require_any_role(
        layer,
        &record.issuer,
        at.context.signer,
        &roles_of(&kind.roles).0,
        &format!("{action} {}", record.credential_type),
    )?;
    if record.is_revoked() {
        return Err(reject(
            RejectCode::CredentialRevoked,
            format!("credential {id} was revoked; nothing changes it any more"),
        ));
    }
    Ok((record, role))
}

/// The credential type `credential_type` of `org`.
pub(crate) fn load_type(
    layer: &Layer<'_>,
    org: &OrgName,
    credential_type: &CredentialType,
) -> Result<CredentialTypeRecord, Rejection> {
    layer
        .load(&StateKey::CredentialType(
            org.clone(),
            credential_type.clone(),
        ))
        .ok_or_else(|| {
            reject(
                RejectCode::UnknownCredentialType,
                format!("{org} defines no credential type {credential_type}"),
            )
        })
}
