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

/// The writes that make the state at height 0.
pub fn genesis_writes(genesis: &Genesis) -> Result<WriteSet, GenesisError> {
    validate(genesis)?;
    let empty = MemoryState::default();
    let mut layer = Layer::new(&empty);
    layer.store(
        &StateKey::Chain,
        &ChainRecord {
            timeouts_swept_until_s: genesis.genesis_time_ms / 1000,
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

/// The organisations of the development chain, in order.
pub const DEV_ORGS: [&str; 6] = [
    "treasury",
    "transport",
    "health",
    "police",
    "immigration",
    "education",
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
        "transport" => &["toll", "traffic_fine", "road_tax"],
        "police" => &["speeding_ticket", "traffic_fine"],
        "health" => &["pharmacy_bill", "application_fee"],
        "immigration" => &["application_fee"],
        "education" => &["tuition_fee", "application_fee"],
        _ => &["application_fee"],
    }
}

/// A consortium genesis: each organisation with one admin key holding
/// every ledger and obligation role, a `main` account, and the obligation
/// kinds of [`dev_obligation_kinds`]; the `treasury` organisation (or the
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

/// The development genesis: [`consortium_genesis`] over the six city
/// organisations of [`DEV_ORGS`]; `admins` gives their admin keys in order.
pub fn dev_genesis(
    chain_id: cityledger_types::ChainId,
    genesis_time_ms: u64,
    admins: &[cityledger_types::PublicKey; 6],
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
