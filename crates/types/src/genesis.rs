//! The genesis document: the chain's identity and its initial state.
//!
//! Every node of a network holds the same genesis; its hash is the chain's
//! root of trust, next to the validator keys.

use crate::amount::Amount;
use crate::credential::FieldSpecs;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding;
use crate::names::{
    AccountName, CredentialType, CurrencyCode, FieldName, KindName, OrgName, RoleName, ServiceName,
};
use crate::tx::ChainId;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Role that administers an organisation: manages members and roles.
pub const ROLE_ADMIN: &str = "admin";
/// Role that may move money out of the organisation's accounts.
pub const ROLE_LEDGER_TRANSFER: &str = "ledger.transfer";
/// Role that may debit an account flagged to go negative (issuance).
pub const ROLE_LEDGER_ISSUE: &str = "ledger.issue";
/// Role that issues (and cancels) obligations of the kinds that name it.
pub const ROLE_OBLIGATIONS_ISSUE: &str = "obligations.issue";
/// Role that waives obligations of the kinds that name it.
pub const ROLE_OBLIGATIONS_WAIVE: &str = "obligations.waive";
/// Role that decides appeals of obligations of the kinds that name it.
pub const ROLE_OBLIGATIONS_DECIDE: &str = "obligations.decide";
/// Role that reviews and decides applications for the services that name it.
pub const ROLE_APPLICATIONS_DECIDE: &str = "applications.decide";
/// Role that issues credentials of the types that name it directly.
pub const ROLE_CREDENTIALS_ISSUE: &str = "credentials.issue";
/// Role that renews credentials of the types that name it.
pub const ROLE_CREDENTIALS_RENEW: &str = "credentials.renew";
/// Role that suspends and reinstates credentials of the types that name it.
pub const ROLE_CREDENTIALS_SUSPEND: &str = "credentials.suspend";
/// Role that revokes credentials of the types that name it.
pub const ROLE_CREDENTIALS_REVOKE: &str = "credentials.revoke";
/// Role that anchors records for the organisation (admins may too).
pub const ROLE_RECORDS_WRITE: &str = "records.write";
/// Role that erases the organisation's records (admins may too).
pub const ROLE_RECORDS_ERASE: &str = "records.erase";
/// Role that registers, suspends and retires the organisation's devices
/// (admins may too).
pub const ROLE_DEVICES_MANAGE: &str = "devices.manage";
/// Role that opens, updates, shares and closes incidents of its agency.
pub const ROLE_INCIDENTS_RESPOND: &str = "incidents.respond";
/// Role that adds evidence, hands it over and accepts it, and builds cases.
pub const ROLE_EVIDENCE_CUSTODY: &str = "evidence.custody";
/// Role that defines exams.
pub const ROLE_EXAMS_MANAGE: &str = "exams.manage";
/// Role of a teacher: grades exams (admin does not suffice).
pub const ROLE_EXAMS_GRADE: &str = "exams.grade";

/// A currency at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisCurrency {
    /// Code, e.g. `CITY`.
    pub code: CurrencyCode,
    /// Decimals.
    pub decimals: u8,
}

/// A member at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisMember {
    /// The member's key, hex.
    pub key: PublicKey,
    /// Roles.
    pub roles: Vec<RoleName>,
}

/// An organisation account at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisAccount {
    /// Name within the organisation.
    pub name: AccountName,
    /// `FLAG_*` bits.
    pub flags: u32,
}

/// A kind of obligation at genesis, and which roles act on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisObligationKind {
    /// The kind, e.g. `traffic_fine`.
    pub kind: KindName,
    /// Roles that may issue and cancel.
    pub issue_roles: Vec<RoleName>,
    /// Roles that may waive.
    pub waive_roles: Vec<RoleName>,
    /// Roles that may decide appeals.
    pub decide_roles: Vec<RoleName>,
}

/// The fee of a service at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisFee {
    /// Amount, minor units.
    pub amount: Amount,
    /// Currency.
    pub currency: CurrencyCode,
    /// The obligation kind it is raised as; the organisation defines it.
    pub obligation_kind: KindName,
    /// How long the applicant has to pay, ms.
    pub due_ms: u64,
}

/// A citizen service at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisService {
    /// The service, e.g. `passport_renewal`.
    pub service: ServiceName,
    /// Roles that review and decide.
    pub decide_roles: Vec<RoleName>,
    /// The fee, if any.
    pub fee: Option<GenesisFee>,
    /// Evidence an application must carry.
    pub evidence: Vec<FieldName>,
    /// Fields an application carries.
    pub fields: FieldSpecs,
    /// The credential an approval issues.
    pub credential_type: CredentialType,
    /// Longest validity an approval gives, ms.
    pub validity_ms_max: u64,
}

/// A credential type at genesis, and which roles act on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisCredentialType {
    /// The type, e.g. `passport`.
    pub credential_type: CredentialType,
    /// Roles that issue directly.
    pub issue_roles: Vec<RoleName>,
    /// Roles that renew.
    pub renew_roles: Vec<RoleName>,
    /// Roles that suspend and reinstate.
    pub suspend_roles: Vec<RoleName>,
    /// Roles that revoke.
    pub revoke_roles: Vec<RoleName>,
}

/// An organisation at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisOrg {
    /// Name.
    pub name: OrgName,
    /// Members; at least one admin.
    pub members: Vec<GenesisMember>,
    /// Accounts.
    pub accounts: Vec<GenesisAccount>,
    /// Kinds of obligations it issues; more can be defined later by
    /// transaction.
    #[serde(default)]
    pub obligation_kinds: Vec<GenesisObligationKind>,
    /// Types of credential it issues.
    #[serde(default)]
    pub credential_types: Vec<GenesisCredentialType>,
    /// Citizen services it decides.
    #[serde(default)]
    pub services: Vec<GenesisService>,
    /// The key that signs its exported credentials, if it issues any.
    #[serde(default)]
    pub issuer_key: Option<PublicKey>,
}

/// A validator at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct GenesisValidator {
    /// The organisation that runs it.
    pub org: OrgName,
    /// Its consensus (and p2p identity) key.
    pub key: PublicKey,
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Genesis {
    /// Chain id.
    pub chain_id: ChainId,
    /// Block time of genesis, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Currencies.
    pub currencies: Vec<GenesisCurrency>,
    /// Organisations.
    pub orgs: Vec<GenesisOrg>,
    /// Validators.
    pub validators: Vec<GenesisValidator>,
}

impl Genesis {
    /// Hash of the canonical encoding: the chain's identity.
    pub fn hash(&self) -> Digest {
        Digest::of(&encoding::encode(self))
    }

    /// Hash of the validator set, sorted by key so order of listing does not
    /// matter.
    pub fn validator_set_hash(&self) -> Digest {
        validator_set_hash(self.validators.iter().map(|v| v.key))
    }
}

/// Hash of a validator set given its keys in any order.
pub fn validator_set_hash(keys: impl IntoIterator<Item = PublicKey>) -> Digest {
    let mut keys: Vec<PublicKey> = keys.into_iter().collect();
    keys.sort();
    keys.dedup();
    let mut bytes = b"cityledger/validators/v1".to_vec();
    for key in &keys {
        bytes.extend_from_slice(&key.0);
    }
    Digest::of(&bytes)
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        PublicKey::from_hex(&text).map_err(serde::de::Error::custom)
    }
}
