//! The initial state, from the genesis document.

use crate::view::{Layer, MemoryState, WriteSet};
use cityledger_types::genesis::{Genesis, ROLE_ADMIN};
use cityledger_types::limits::{
    CURRENCY_DECIMALS_MAX, GENESIS_KINDS_PER_ORG_MAX, MEMBERS_PER_ORG_MAX, ORGS_MAX,
    ROLES_PER_MEMBER_MAX, VALIDATORS_MAX,
};
use cityledger_types::obligation::{KindRoles, ObligationKindRecord};
use cityledger_types::records::{
    AccountRecord, ChainRecord, CurrencyRecord, MemberRecord, OrgRecord, Owner, StateKey,
};
use cityledger_types::tx::Roles;
use cityledger_types::{Address, Height};
use std::collections::BTreeSet;

/// Why a genesis document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// A list is empty or above its limit.
    #[error("genesis {field} has {count} entries; allowed 1 to {limit}")]
    Count {
        /// Which list.
        field: &'static str,
        /// Its length.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A name appears twice.
    #[error("genesis {field} lists {name} twice")]
    Duplicate {
        /// Which list.
        field: &'static str,
        /// The name.
        name: String,
    },
    /// An organisation has no admin.
    #[error("genesis organisation {org} has no member with the admin role")]
    NoAdmin {
        /// The organisation.
        org: String,
    },
    /// A currency declares too many decimals.
    #[error("genesis currency {code} has {decimals} decimals, above {CURRENCY_DECIMALS_MAX}")]
    Decimals {
        /// Code.
        code: String,
        /// Decimals.
        decimals: u8,
    },
    /// A validator's organisation is not listed.
    #[error("genesis validator belongs to unknown organisation {org}")]
    ValidatorOrg {
        /// The organisation.
        org: String,
    },
    /// A citizen service's terms are invalid.
    #[error("genesis service {service} of {org}: {reason}")]
    Service {
        /// The organisation.
        org: String,
        /// The service.
        service: String,
        /// What is wrong.
        reason: String,
    },
}

fn check_count(field: &'static str, count: usize, limit: usize) -> Result<(), GenesisError> {
    if count == 0 || count > limit {
        return Err(GenesisError::Count {
            field,
            count,
            limit,
        });
    }
    Ok(())
}

fn check_unique<'a>(
    field: &'static str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), GenesisError> {
    let mut seen = BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(GenesisError::Duplicate {
                field,
                name: name.to_string(),
            });
        }
    }
    Ok(())
}

/// Validates a genesis document.
pub fn validate(genesis: &Genesis) -> Result<(), GenesisError> {
    check_count("currencies", genesis.currencies.len(), 64)?;
    check_count("orgs", genesis.orgs.len(), ORGS_MAX)?;
    check_count("validators", genesis.validators.len(), VALIDATORS_MAX)?;
    check_unique(
        "currencies",
        genesis.currencies.iter().map(|c| c.code.as_str()),
    )?;
    check_unique("orgs", genesis.orgs.iter().map(|o| o.name.as_str()))?;
    let keys: Vec<String> = genesis.validators.iter().map(|v| v.key.to_hex()).collect();
    check_unique("validators", keys.iter().map(String::as_str))?;
    for currency in &genesis.currencies {
        if currency.decimals > CURRENCY_DECIMALS_MAX {
            return Err(GenesisError::Decimals {
                code: currency.code.to_string(),
                decimals: currency.decimals,
            });
        }
    }
    for org in &genesis.orgs {
        check_count("members", org.members.len(), MEMBERS_PER_ORG_MAX)?;
        let members: Vec<String> = org.members.iter().map(|m| m.key.to_hex()).collect();
        check_unique("members", members.iter().map(String::as_str))?;
        check_unique("accounts", org.accounts.iter().map(|a| a.name.as_str()))?;
        validate_kinds(&org.obligation_kinds)?;
        validate_services(genesis, org)?;
        let has_admin = org
            .members
            .iter()
            .any(|m| m.roles.iter().any(|r| r.as_str() == ROLE_ADMIN));
        if !has_admin {
            return Err(GenesisError::NoAdmin {
                org: org.name.to_string(),
            });
        }
    }
    for validator in &genesis.validators {
        if !genesis.orgs.iter().any(|o| o.name == validator.org) {
            return Err(GenesisError::ValidatorOrg {
                org: validator.org.to_string(),
            });
        }
    }
    Ok(())
}

fn validate_kinds(
    kinds: &[cityledger_types::genesis::GenesisObligationKind],
) -> Result<(), GenesisError> {
    if kinds.len() > GENESIS_KINDS_PER_ORG_MAX {
        return Err(GenesisError::Count {
            field: "obligation_kinds",
            count: kinds.len(),
            limit: GENESIS_KINDS_PER_ORG_MAX,
        });
    }
    check_unique("obligation_kinds", kinds.iter().map(|k| k.kind.as_str()))?;
    for kind in kinds {
        check_count("issue_roles", kind.issue_roles.len(), ROLES_PER_MEMBER_MAX)?;
        for (field, roles) in [
            ("waive_roles", &kind.waive_roles),
            ("decide_roles", &kind.decide_roles),
        ] {
            if roles.len() > ROLES_PER_MEMBER_MAX {
                return Err(GenesisError::Count {
                    field,
                    count: roles.len(),
                    limit: ROLES_PER_MEMBER_MAX,
                });
            }
        }
    }
    Ok(())
}

fn validate_services(
    genesis: &Genesis,
    org: &cityledger_types::genesis::GenesisOrg,
) -> Result<(), GenesisError> {
    use cityledger_types::limits::{
        EVIDENCE_PER_SERVICE_MAX, GENESIS_SERVICES_PER_ORG_MAX, VALIDITY_MS_MAX,
    };
    for (field, count) in [
        ("services", org.services.len()),
        ("credential_types", org.credential_types.len()),
    ] {
        if count > GENESIS_SERVICES_PER_ORG_MAX {
            return Err(GenesisError::Count {
                field,
                count,
                limit: GENESIS_SERVICES_PER_ORG_MAX,
            });
        }
    }
    check_unique("services", org.services.iter().map(|s| s.service.as_str()))?;
    check_unique(
        "credential_types",
        org.credential_types
            .iter()
            .map(|t| t.credential_type.as_str()),
    )?;
    for kind in &org.credential_types {
        for roles in [
            &kind.issue_roles,
            &kind.renew_roles,
            &kind.suspend_roles,
            &kind.revoke_roles,
        ] {
            if roles.len() > ROLES_PER_MEMBER_MAX {
                return Err(GenesisError::Count {
                    field: "credential roles",
                    count: roles.len(),
                    limit: ROLES_PER_MEMBER_MAX,
                });
            }
        }
    }
    for service in &org.services {
        let bad = |reason: &str| GenesisError::Service {
            org: org.name.to_string(),
            service: service.service.to_string(),
            reason: reason.to_owned(),
        };
        if service.decide_roles.is_empty() || service.decide_roles.len() > ROLES_PER_MEMBER_MAX {
            return Err(bad("needs 1 to 16 decide roles"));
        }
        if service.evidence.len() > EVIDENCE_PER_SERVICE_MAX {
            return Err(bad("requires more evidence than allowed"));
        }
        if service.validity_ms_max == 0 || service.validity_ms_max > VALIDITY_MS_MAX {
            return Err(bad("validity_ms_max is out of range"));
        }
        if !org
            .credential_types
            .iter()
            .any(|t| t.credential_type == service.credential_type)
        {
            return Err(bad(
                "issues a credential type the organisation does not define",
            ));
        }
        if let Some(fee) = &service.fee {
            if fee.due_ms > cityledger_types::limits::DUE_HORIZON_MS_MAX {
                return Err(bad("its fee is due later than an obligation may be"));
            }
            let kind_known = org
                .obligation_kinds
                .iter()
                .any(|k| k.kind == fee.obligation_kind);
            let currency_known = genesis.currencies.iter().any(|c| c.code == fee.currency);
            if fee.amount.0 == 0 || fee.due_ms == 0 || !kind_known || !currency_known {
                return Err(bad(
                    "its fee needs an amount, a due time, a known currency and an obligation kind of the organisation",
                ));
            }
        }
    }
    Ok(())
}

/// The writes that make the state at height 0.
pub fn genesis_writes(genesis: &Genesis) -> Result<WriteSet, GenesisError> {
    validate(genesis)?;
    let empty = MemoryState::default();
    let mut layer = Layer::new(&empty);
    layer.store(
        &StateKey::Chain,
        &ChainRecord {
            timeouts_swept_until_s: genesis.genesis_time_ms / 1000,
            // Block 1 may include a transaction expiring in genesis's own
            // second, which must still be ahead of the sweep.
            tx_ids_swept_until_s: (genesis.genesis_time_ms / 1000).saturating_sub(1),
            height: Height(0),
        },
    );
    for currency in &genesis.currencies {
        layer.store(
            &StateKey::Currency(currency.code.clone()),
            &CurrencyRecord {
                code: currency.code.clone(),
                decimals: currency.decimals,
            },
        );
    }
    for org in &genesis.orgs {
        let admin_count = org
            .members
            .iter()
            .filter(|m| m.roles.iter().any(|r| r.as_str() == ROLE_ADMIN))
            .count();
        layer.store(
            &StateKey::Org(org.name.clone()),
            &OrgRecord {
                name: org.name.clone(),
                member_count: org.members.len() as u32,
                admin_count: admin_count as u32,
            },
        );
        for member in &org.members {
            let mut roles = member.roles.clone();
            roles.sort();
            roles.dedup();
            layer.store(
                &StateKey::Member(org.name.clone(), member.key),
                &MemberRecord { roles },
            );
        }
        for account in &org.accounts {
            layer.store(
                &StateKey::Account(Address::of_org(&org.name, &account.name)),
                &AccountRecord {
                    owner: Owner::Org(org.name.clone()),
                    flags: account.flags,
                },
            );
        }
        write_services(&mut layer, org);
        for kind in &org.obligation_kinds {
            layer.store(
                &StateKey::ObligationKind(org.name.clone(), kind.kind.clone()),
                &ObligationKindRecord {
                    roles: KindRoles {
                        issue: Roles(kind.issue_roles.clone()),
                        waive: Roles(kind.waive_roles.clone()),
                        decide: Roles(kind.decide_roles.clone()),
                    },
                },
            );
        }
    }
    Ok(layer.into_writes())
}

/// The credential types, services and issuer key of `org`, checked by
/// [`validate`].
fn write_services(layer: &mut Layer<'_>, org: &cityledger_types::genesis::GenesisOrg) {
    use cityledger_types::application::{EvidenceNames, Fee, ServiceRecord};
    use cityledger_types::credential::{
        CredentialRoles, CredentialTypeRecord, IssuerKey, IssuerKeys,
    };
    for kind in &org.credential_types {
        layer.store(
            &StateKey::CredentialType(org.name.clone(), kind.credential_type.clone()),
            &CredentialTypeRecord {
                roles: CredentialRoles {
                    issue: Roles(kind.issue_roles.clone()),
                    renew: Roles(kind.renew_roles.clone()),
                    suspend: Roles(kind.suspend_roles.clone()),
                    revoke: Roles(kind.revoke_roles.clone()),
                },
            },
        );
    }
    for service in &org.services {
        layer.store(
            &StateKey::Service(org.name.clone(), service.service.clone()),
            &ServiceRecord {
                decide: Roles(service.decide_roles.clone()),
                fee: service.fee.as_ref().map(|fee| Fee {
                    amount: fee.amount,
                    currency: fee.currency.clone(),
                    obligation_kind: fee.obligation_kind.clone(),
                    due_ms: fee.due_ms,
                }),
                evidence: EvidenceNames(service.evidence.clone()),
                fields: service.fields.clone(),
                credential_type: service.credential_type.clone(),
                validity_ms_max: service.validity_ms_max,
            },
        );
    }
    if let Some(key) = org.issuer_key {
        layer.store(
            &StateKey::IssuerKeys(org.name.clone()),
            &IssuerKeys(vec![IssuerKey {
                key,
                from_height: Height(0),
                from_ms: 0,
            }]),
        );
    }
}

/// The organisations of the development chain, in order.
pub const DEV_ORGS: [&str; 8] = [
    "treasury",
    "transport",
    "health",
    "police",
    "immigration",
    "education",
    "fire",
    "prosecutor",
];

/// The kinds of obligation a city organisation issues at genesis, by its
/// name; an organisation the city does not know issues application fees.
pub fn dev_obligation_kinds(org: &str) -> &'static [&'static str] {
    match org {
        // The treasury collects the city's fines on behalf of the agencies
        // that write them, as well as taxes.
        "treasury" => &[
            "tax_assessment",
            "road_tax",
            "traffic_fine",
            "application_fee",
        ],
        "transport" => &["toll", "traffic_fine", "road_tax", "application_fee"],
        "police" => &["speeding_ticket", "traffic_fine"],
        "health" => &["pharmacy_bill", "application_fee"],
        "immigration" => &["application_fee"],
        "education" => &["tuition_fee", "application_fee"],
        _ => &["application_fee"],
    }
}

/// A consortium genesis: each organisation with one admin key holding
/// every ledger, obligation, application and credential role and signing
/// its exported credentials, a `main` account, the obligation kinds of
/// [`dev_obligation_kinds`], and the services and credential types of
/// [`crate::dev_services`]; the `treasury` organisation (or the
/// first one, if none is named so) also holds the `issuance` account,
/// allowed to go negative, and the issuing role; currency `CITY` with two
/// decimals.
pub fn consortium_genesis(
    chain_id: cityledger_types::ChainId,
    genesis_time_ms: u64,
    orgs: &[(cityledger_types::OrgName, cityledger_types::PublicKey)],
    validators: Vec<cityledger_types::genesis::GenesisValidator>,
) -> Genesis {
    use cityledger_types::genesis::{
        GenesisAccount, GenesisCurrency, GenesisMember, GenesisObligationKind, GenesisOrg,
        ROLE_LEDGER_ISSUE, ROLE_LEDGER_TRANSFER, ROLE_OBLIGATIONS_DECIDE, ROLE_OBLIGATIONS_ISSUE,
        ROLE_OBLIGATIONS_WAIVE,
    };
    use cityledger_types::records::FLAG_ALLOW_NEGATIVE;
    use cityledger_types::{AccountName, CurrencyCode, KindName, RoleName};
    let account = |text: &str, flags| GenesisAccount {
        name: AccountName::new(text).expect("built-in account names are valid"),
        flags,
    };
    let role = |text: &str| RoleName::new(text).expect("built-in role names are valid");
    let issuer = orgs
        .iter()
        .position(|(name, _)| name.as_str() == "treasury")
        .unwrap_or(0);
    let orgs = orgs
        .iter()
        .enumerate()
        .map(|(index, (org, admin))| {
            let mut roles = vec![
                role(ROLE_ADMIN),
                role(ROLE_LEDGER_TRANSFER),
                role(ROLE_OBLIGATIONS_ISSUE),
                role(ROLE_OBLIGATIONS_WAIVE),
                role(ROLE_OBLIGATIONS_DECIDE),
            ];
            roles.extend(crate::dev_services::dev_service_roles());
            roles.extend(crate::dev_services::dev_org_roles(org.as_str()));
            let mut accounts = vec![account("main", 0)];
            if index == issuer {
                roles.push(role(ROLE_LEDGER_ISSUE));
                accounts.push(account("issuance", FLAG_ALLOW_NEGATIVE));
            }
            let obligation_kinds = dev_obligation_kinds(org.as_str())
                .iter()
                .map(|kind| GenesisObligationKind {
                    kind: KindName::new(*kind).expect("built-in kind names are valid"),
                    issue_roles: vec![role(ROLE_OBLIGATIONS_ISSUE)],
                    waive_roles: vec![role(ROLE_OBLIGATIONS_WAIVE)],
                    decide_roles: vec![role(ROLE_OBLIGATIONS_DECIDE)],
                })
                .collect();
            GenesisOrg {
                name: org.clone(),
                members: vec![GenesisMember { key: *admin, roles }],
                accounts,
                obligation_kinds,
                credential_types: crate::dev_services::dev_credential_types(org.as_str()),
                services: crate::dev_services::dev_services(org.as_str()),
                issuer_key: Some(*admin),
            }
        })
        .collect();
    Genesis {
        chain_id,
        genesis_time_ms,
        currencies: vec![GenesisCurrency {
            code: CurrencyCode::new("CITY").expect("CITY is a valid code"),
            decimals: 2,
        }],
        orgs,
        validators,
    }
}

/// The development genesis: [`consortium_genesis`] over the city
/// organisations of [`DEV_ORGS`]; `admins` gives their admin keys in order.
pub fn dev_genesis(
    chain_id: cityledger_types::ChainId,
    genesis_time_ms: u64,
    admins: &[cityledger_types::PublicKey; DEV_ORGS.len()],
    validators: Vec<cityledger_types::genesis::GenesisValidator>,
) -> Genesis {
    let orgs: Vec<_> = DEV_ORGS
        .iter()
        .zip(admins)
        .map(|(name, admin)| {
            let name =
                cityledger_types::OrgName::new(*name).expect("dev organisation names are valid");
            (name, *admin)
        })
        .collect();
    consortium_genesis(chain_id, genesis_time_ms, &orgs, validators)
}
