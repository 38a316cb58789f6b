//! Governance: organisations, their members and roles.
//!
//! Owns `StateKey::Org` and `StateKey::Member`. Every action of every domain
//! that acts for an organisation asks [`require_role`] first.

use crate::events::Event;
use crate::outcome::{Rejection, reject};
use crate::view::Layer;
use cityledger_types::genesis::ROLE_ADMIN;
use cityledger_types::limits::MEMBERS_PER_ORG_MAX;
use cityledger_types::records::{MemberRecord, OrgRecord, StateKey};
use cityledger_types::tx::GovernanceOp;
use cityledger_types::{OrgName, PublicKey, RejectCode, RoleName};

fn require_org(layer: &Layer<'_>, org: &OrgName) -> Result<(), Rejection> {
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

/// Checks that `signer` is a member of `org` holding `role`.
pub fn require_role(
    layer: &Layer<'_>,
    org: &OrgName,
    signer: &PublicKey,
    role: &str,
) -> Result<(), Rejection> {
    require_org(layer, org)?;
    let member: Option<MemberRecord> = layer.load(&StateKey::Member(org.clone(), *signer));
    let holds = member.is_some_and(|m| m.roles.iter().any(|r| r.as_str() == role));
    if !holds {
        return Err(reject(
            RejectCode::MissingRole,
            format!("signer {signer} does not hold role {role} in {org}"),
        ));
    }
    Ok(())
}

/// Checks that `signer` is a member of `org` holding one of `roles`, and
/// returns the first such role (the one the action is recorded under).
pub fn require_any_role(
    layer: &Layer<'_>,
    org: &OrgName,
    signer: &PublicKey,
    roles: &[RoleName],
    action: &str,
) -> Result<RoleName, Rejection> {
    require_org(layer, org)?;
    let member: Option<MemberRecord> = layer.load(&StateKey::Member(org.clone(), *signer));
    let held = member.and_then(|m| roles.iter().find(|r| m.roles.contains(r)).cloned());
    held.ok_or_else(|| {
        let names: Vec<&str> = roles.iter().map(RoleName::as_str).collect();
        let needed = if names.is_empty() {
            format!("no role of {org} may {action}")
        } else {
            format!("needs one of the roles [{}] in {org}", names.join(", "))
        };
        reject(
            RejectCode::MissingRole,
            format!("signer {signer} may not {action}: {needed}"),
        )
    })
}

fn is_admin(record: &Option<MemberRecord>) -> bool {
    record
        .as_ref()
        .is_some_and(|m| m.roles.iter().any(|r| r.as_str() == ROLE_ADMIN))
}

/// Applies a governance operation signed by `signer`.
pub fn apply(
    layer: &mut Layer<'_>,
    signer: &PublicKey,
    op: &GovernanceOp,
    events: &mut Vec<Event>,
) -> Result<(), Rejection> {
    match op {
        GovernanceOp::SetMember { org, member, roles } => {
            set_member(layer, signer, org, member, &roles.0)?;
            events.push(Event::MemberSet {
                org: org.clone(),
                member: *member,
                roles: normalise(&roles.0),
            });
        }
        GovernanceOp::RemoveMember { org, member } => {
            remove_member(layer, signer, org, member)?;
            events.push(Event::MemberRemoved {
                org: org.clone(),
                member: *member,
            });
        }
    }
    Ok(())
}

fn normalise(roles: &[RoleName]) -> Vec<RoleName> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    roles
}

fn set_member(
    layer: &mut Layer<'_>,
    signer: &PublicKey,
    org: &OrgName,
    member: &PublicKey,
    roles: &[RoleName],
) -> Result<(), Rejection> {
    require_role(layer, org, signer, ROLE_ADMIN)?;
    let org_key = StateKey::Org(org.clone());
    let member_key = StateKey::Member(org.clone(), *member);
    let mut record: OrgRecord = layer.load(&org_key).expect("checked by require_role");
    let previous: Option<MemberRecord> = layer.load(&member_key);
    let next = MemberRecord {
        roles: normalise(roles),
    };
    if previous.is_none() {
        if record.member_count as usize >= MEMBERS_PER_ORG_MAX {
            return Err(reject(
                RejectCode::Overflow,
                format!("{org} already has {MEMBERS_PER_ORG_MAX} members, the limit"),
            ));
        }
        record.member_count += 1;
    }
    let admin_delta = i64::from(is_admin(&Some(next.clone()))) - i64::from(is_admin(&previous));
    record.admin_count = apply_admin_delta(org, record.admin_count, admin_delta)?;
    layer.store(&org_key, &record);
    layer.store(&member_key, &next);
    Ok(())
}

fn remove_member(
    layer: &mut Layer<'_>,
    signer: &PublicKey,
    org: &OrgName,
    member: &PublicKey,
) -> Result<(), Rejection> {
    require_role(layer, org, signer, ROLE_ADMIN)?;
    let org_key = StateKey::Org(org.clone());
    let member_key = StateKey::Member(org.clone(), *member);
    let mut record: OrgRecord = layer.load(&org_key).expect("checked by require_role");
    let previous: Option<MemberRecord> = layer.load(&member_key);
    if previous.is_none() {
        return Err(reject(
            RejectCode::UnknownAccount,
            format!("{member} is not a member of {org}"),
        ));
    }
    record.admin_count =
        apply_admin_delta(org, record.admin_count, -i64::from(is_admin(&previous)))?;
    record.member_count -= 1;
    layer.store(&org_key, &record);
    layer.delete(&member_key);
    Ok(())
}

/// Keeps at least one admin: an organisation without one could never change
/// its membership again.
fn apply_admin_delta(org: &OrgName, count: u32, delta: i64) -> Result<u32, Rejection> {
    let next = i64::from(count) + delta;
    if next < 1 {
        return Err(reject(
            RejectCode::LastAdmin,
            format!("{org} would be left without an admin"),
        ));
    }
    Ok(next as u32)
}
