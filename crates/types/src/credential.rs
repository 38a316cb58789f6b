//! Credentials: what an agency attests about a holder, for how long, and
//! every change of its status since issuance.
//!
//! A credential (a driver licence, a passport, a visa, a library card) has
//! an id, a type, a holder key, an issuing organisation, bounded claims and
//! a validity period. Its record carries its own append-only status history
//! (issued, renewed, suspended, reinstated, revoked, each with the block
//! height and block time of the change), so that one proof of the current
//! record against a state root proves its status at any earlier height or
//! time: [`CredentialRecord::status_at`] is the one pure function that the
//! state machine, the API and any offline verifier share.
//!
//! Personal identifiers (a passport number) are never stored in clear: a
//! claim holds a salted [`commitment`], and the holder keeps the salt.

use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::{FIELD_SPECS_MAX, FIELD_TEXT_BYTES_MAX, FIELDS_MAX, STATUS_CHANGES_MAX};
use crate::names::{CredentialType, FieldName, OrgName, RoleName};
use crate::obligation::Reason;
use crate::tx::{Roles, bounded_text};
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of credential ids.
const CREDENTIAL_DOMAIN: &[u8] = b"cityledger/credential/v1";
/// Domain tag of salted commitments to personal identifiers.
const COMMITMENT_DOMAIN: &[u8] = b"cityledger/commitment/v1";

/// Bytes of the salt of a commitment: enough that a commitment to a short
/// identifier (a passport number) cannot be found by trying every value.
pub const SALT_BYTES: usize = 32;

bounded_text!(
    /// The text value of a field or claim, e.g. a licence class.
    FieldText, "field text", FIELD_TEXT_BYTES_MAX, false
);

/// The id of the credential created by the transaction `tx_hash`: a
/// transaction issues at most one credential.
pub fn credential_id(tx_hash: &Digest) -> Digest {
    Digest::of_parts(&[CREDENTIAL_DOMAIN, &tx_hash.0])
}

/// The salted commitment to a personal identifier: SHA-256 of the domain
/// tag, the salt and the value. The holder keeps the salt and shows it,
/// with the value, to whoever must check the claim.
pub fn commitment(salt: &[u8; SALT_BYTES], value: &str) -> Digest {
    Digest::of_parts(&[COMMITMENT_DOMAIN, salt, value.as_bytes()])
}

/// The value of a field or a claim.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Short printable text, e.g. a licence class or a visa category.
    Text(FieldText),
    /// A whole number, e.g. entries allowed.
    Integer(i64),
    /// A date: days since 1970-01-01 (UTC).
    Date(u32),
    /// Yes or no.
    Flag(bool),
    /// A salted commitment to a personal identifier (see [`commitment`]).
    Commitment(Digest),
}

impl FieldValue {
    /// The type of the value.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Text(_) => FieldType::Text,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Date(_) => FieldType::Date,
            FieldValue::Flag(_) => FieldType::Flag,
            FieldValue::Commitment(_) => FieldType::Commitment,
        }
    }
}

/// The type a service requires of a field.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum FieldType {
    /// [`FieldValue::Text`].
    Text = 1,
    /// [`FieldValue::Integer`].
    Integer = 2,
    /// [`FieldValue::Date`].
    Date = 3,
    /// [`FieldValue::Flag`].
    Flag = 4,
    /// [`FieldValue::Commitment`]: how a service keeps personal identifiers
    /// out of the ledger; a clear value where a commitment is required is
    /// refused.
    Commitment = 5,
}

impl FieldType {
    /// The type as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Date => "date",
            FieldType::Flag => "flag",
            FieldType::Commitment => "commitment",
        }
    }
}

/// One named field.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Field {
    /// Its name.
    pub name: FieldName,
    /// Its value.
    pub value: FieldValue,
}

/// Why a list of fields or field specifications was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    /// More entries than allowed.
    #[error("{count} entries, above the limit of {limit}")]
    TooMany {
        /// Entries given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A name appears twice.
    #[error("field {name} appears twice")]
    Duplicate {
        /// The name.
        name: String,
    },
}

fn check_unique<'a>(
    names: impl Iterator<Item = &'a FieldName>,
    count: usize,
    limit: usize,
) -> Result<(), FieldsError> {
    if count > limit {
        return Err(FieldsError::TooMany { count, limit });
    }
    let mut seen: Vec<&FieldName> = Vec::with_capacity(count);
    for name in names {
        if seen.contains(&name) {
            return Err(FieldsError::Duplicate {
                name: name.to_string(),
            });
        }
        seen.push(name);
    }
    Ok(())
}

/// At most [`FIELDS_MAX`] fields, each name once, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, serde::Serialize)]
pub struct Fields(Vec<Field>);

impl Fields {
    /// Validates `fields`.
    pub fn new(fields: Vec<Field>) -> Result<Fields, FieldsError> {
        check_unique(fields.iter().map(|f| &f.name), fields.len(), FIELDS_MAX)?;
        Ok(Fields(fields))
    }

    /// The fields.
    pub fn fields(&self) -> &[Field] {
        &self.0
    }

    /// The field named `name`.
    pub fn get(&self, name: &FieldName) -> Option<&FieldValue> {
        self.0.iter().find(|f| f.name == *name).map(|f| &f.value)
    }
}

impl BorshDeserialize for Fields {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let fields = read_bounded_vec(reader, FIELDS_MAX)?;
        Fields::new(fields).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = <Vec<Field> as serde::Deserialize>::deserialize(deserializer)?;
        Fields::new(fields).map_err(serde::de::Error::custom)
    }
}

/// What a service requires of one field.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FieldSpec {
    /// The field's name.
    pub name: FieldName,
    /// The type its value must have.
    pub field_type: FieldType,
    /// Whether an application must carry it.
    pub required: bool,
}

/// At most [`FIELD_SPECS_MAX`] specifications, each name once.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, serde::Serialize)]
pub struct FieldSpecs(Vec<FieldSpec>);

/// Why fields do not meet their specifications.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A required field is missing.
    #[error("field {name} is required")]
    Missing {
        /// The field.
        name: String,
    },
    /// A field has a value of another type.
    #[error("field {name} must be {expected}, not {found}")]
    WrongType {
        /// The field.
        name: String,
        /// The type required.
        expected: &'static str,
        /// The type given.
        found: &'static str,
    },
    /// A field the service does not know.
    #[error("field {name} is not one this service takes")]
    Unknown {
        /// The field.
        name: String,
    },
}

impl FieldSpecs {
    /// Validates `specs`.
    pub fn new(specs: Vec<FieldSpec>) -> Result<FieldSpecs, FieldsError> {
        check_unique(specs.iter().map(|s| &s.name), specs.len(), FIELD_SPECS_MAX)?;
        Ok(FieldSpecs(specs))
    }

    /// The specifications.
    pub fn specs(&self) -> &[FieldSpec] {
        &self.0
    }

    /// Checks that `fields` has every required field, each of its type,
    /// and no field the specifications do not name.
    pub fn check(&self, fields: &Fields) -> Result<(), SpecError> {
        for field in fields.fields() {
            let Some(spec) = self.0.iter().find(|s| s.name == field.name) else {
                return Err(SpecError::Unknown {
                    name: field.name.to_string(),
                });
            };
            let found = field.value.field_type();
            if found != spec.field_type {
                return Err(SpecError::WrongType {
                    name: field.name.to_string(),
                    expected: spec.field_type.as_str(),
                    found: found.as_str(),
                });
            }
        }
        match self
            .0
            .iter()
            .find(|spec| spec.required && fields.get(&spec.name).is_none())
        {
            Some(spec) => Err(SpecError::Missing {
                name: spec.name.to_string(),
            }),
            None => Ok(()),
        }
    }
}

impl BorshDeserialize for FieldSpecs {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let specs = read_bounded_vec(reader, FIELD_SPECS_MAX)?;
        FieldSpecs::new(specs).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

impl<'de> serde::Deserialize<'de> for FieldSpecs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let specs = <Vec<FieldSpec> as serde::Deserialize>::deserialize(deserializer)?;
        FieldSpecs::new(specs).map_err(serde::de::Error::custom)
    }
}

/// Which of an organisation's roles may act on one type of credential. A
/// member holding any role of a list may take that action.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CredentialRoles {
    /// May issue directly (approving an application is the decide role of
    /// its service).
    pub issue: Roles,
    /// May renew (extend the validity).
    pub renew: Roles,
    /// May suspend and reinstate.
    pub suspend: Roles,
    /// May revoke.
    pub revoke: Roles,
}

/// A type of credential, as its organisation defined it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CredentialTypeRecord {
    /// Who may do what.
    pub roles: CredentialRoles,
}

/// An operation on credentials.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CredentialOp {
    /// Define (or redefine) a credential type and its roles; signed by an
    /// admin of the organisation.
    DefineType {
        /// The organisation.
        org: OrgName,
        /// The type.
        credential_type: CredentialType,
        /// Who may do what.
        roles: CredentialRoles,
    },
    /// Issue a credential without an application (a certificate, a card);
    /// signed by a holder of an issue role. Valid from block time.
    Issue {
        /// The issuing organisation.
        org: OrgName,
        /// The type.
        credential_type: CredentialType,
        /// The holder's key.
        holder: PublicKey,
        /// The claims.
        claims: Fields,
        /// End of validity (exclusive), ms of block time.
        valid_until_ms: u64,
    },
    /// Extend the validity; signed by a holder of a renew role.
    Renew {
        /// The credential.
        credential: Digest,
        /// The new end of validity; after the current one.
        valid_until_ms: u64,
    },
    /// Suspend until reinstated; signed by a holder of a suspend role.
    Suspend {
        /// The credential.
        credential: Digest,
        /// Why.
        reason: Reason,
    },
    /// Lift a suspension; signed by a holder of a suspend role.
    Reinstate {
        /// The credential.
        credential: Digest,
        /// Why.
        reason: Reason,
    },
    /// Revoke for good; signed by a holder of a revoke role.
    Revoke {
        /// The credential.
        credential: Digest,
        /// Why.
        reason: Reason,
    },
    /// Name the key that signs the organisation's exported Verifiable
    /// Credentials and status lists from now on; signed by an admin.
    SetIssuerKey {
        /// The organisation.
        org: OrgName,
        /// The key.
        key: PublicKey,
    },
}

/// One change of a credential's status.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum StatusChangeKind {
    /// Issued, valid from `valid_from_ms` until (not including)
    /// `valid_until_ms`.
    Issued {
        /// Start of validity, ms of block time.
        valid_from_ms: u64,
        /// End of validity (exclusive).
        valid_until_ms: u64,
    },
    /// Validity extended.
    Renewed {
        /// The new end of validity (exclusive).
        valid_until_ms: u64,
    },
    /// Suspended until reinstated.
    Suspended,
    /// Suspension lifted.
    Reinstated,
    /// Revoked for good.
    Revoked,
}

/// A change of status, when and by whom it was made.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StatusChange {
    /// Height of the block that made it.
    pub height: Height,
    /// Block time of that block, ms.
    pub at_ms: u64,
    /// The member who made it.
    pub by: PublicKey,
    /// Under which role.
    pub role: RoleName,
    /// What changed.
    pub kind: StatusChangeKind,
    /// Why, where a reason is required.
    pub reason: Option<Reason>,
}

/// A credential's status changes, oldest first, at most
/// [`STATUS_CHANGES_MAX`]; the first is the issuance.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize)]
pub struct StatusHistory(Vec<StatusChange>);

/// Why a status history was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Empty, or not starting with the issuance.
    #[error("a status history starts with the issuance, and only there")]
    NotIssuedFirst,
    /// Heights or times go backwards.
    #[error("status change {index} is before the one it follows")]
    OutOfOrder {
        /// Position of the change.
        index: usize,
    },
    /// Above the limit.
    #[error("{count} status changes, above the limit of {STATUS_CHANGES_MAX}")]
    TooMany {
        /// Changes given.
        count: usize,
    },
}

impl StatusHistory {
    /// Validates `changes`: issuance first and only first, heights and
    /// times never decreasing, at most [`STATUS_CHANGES_MAX`].
    pub fn new(changes: Vec<StatusChange>) -> Result<StatusHistory, HistoryError> {
        if changes.len() > STATUS_CHANGES_MAX {
            return Err(HistoryError::TooMany {
                count: changes.len(),
            });
        }
        for (index, change) in changes.iter().enumerate() {
            let is_issuance = matches!(change.kind, StatusChangeKind::Issued { .. });
            if is_issuance != (index == 0) {
                return Err(HistoryError::NotIssuedFirst);
            }
            if let Some(previous) = index.checked_sub(1).map(|i| &changes[i])
                && (change.height < previous.height || change.at_ms < previous.at_ms)
            {
                return Err(HistoryError::OutOfOrder { index });
            }
        }
        if changes.is_empty() {
            return Err(HistoryError::NotIssuedFirst);
        }
        Ok(StatusHistory(changes))
    }

    /// The changes, oldest first.
    pub fn changes(&self) -> &[StatusChange] {
        &self.0
    }

    /// Appends `change`, which the caller dates at or after the last one.
    pub fn push(&mut self, change: StatusChange) -> Result<(), HistoryError> {
        let mut changes = self.0.clone();
        changes.push(change);
        *self = StatusHistory::new(changes)?;
        Ok(())
    }
}

impl BorshDeserialize for StatusHistory {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let changes = read_bounded_vec(reader, STATUS_CHANGES_MAX)?;
        StatusHistory::new(changes).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

/// A credential in the state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CredentialRecord {
    /// Its type.
    pub credential_type: CredentialType,
    /// The issuing organisation.
    pub issuer: OrgName,
    /// The holder's key.
    pub holder: PublicKey,
    /// The claims.
    pub claims: Fields,
    /// The application whose approval issued it, if any.
    pub application: Option<Digest>,
    /// Its position in the issuer's Bitstring Status Lists.
    pub status_index: u32,
    /// Every change of its status, oldest first.
    pub history: StatusHistory,
}

/// Where a credential stands at a moment.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum CredentialStatus {
    /// Not issued yet at that moment.
    NotIssued = 1,
    /// Issued, but its validity has not started.
    NotYetValid = 2,
    /// Valid.
    Valid = 3,
    /// Its validity has ended.
    Expired = 4,
    /// Suspended.
    Suspended = 5,
    /// Revoked.
    Revoked = 6,
}

impl CredentialStatus {
    /// The status as it appears in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            CredentialStatus::NotIssued => "not_issued",
            CredentialStatus::NotYetValid => "not_yet_valid",
            CredentialStatus::Valid => "valid",
            CredentialStatus::Expired => "expired",
            CredentialStatus::Suspended => "suspended",
            CredentialStatus::Revoked => "revoked",
        }
    }
}

/// A moment of the chain: the state after block `height`, at block time
/// `time_ms`. Asking "at height h" is `(h, block time of h)`; asking "at
/// time t" is `(any height at or after t, t)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsOf {
    /// Changes of later blocks are not in force.
    pub height: Height,
    /// Changes after this block time are not in force, and validity is
    /// judged at it.
    pub time_ms: u64,
}

impl CredentialRecord {
    /// The change that issued it.
    pub fn issuance(&self) -> &StatusChange {
        // A history always starts with the issuance (checked on decoding
        // and on every append).
        &self.history.changes()[0]
    }

    /// Start of validity.
    pub fn valid_from_ms(&self) -> u64 {
        match self.issuance().kind {
            StatusChangeKind::Issued { valid_from_ms, .. } => valid_from_ms,
            _ => unreachable!("the first change is the issuance"),
        }
    }

    /// End of validity (exclusive) after every change so far.
    pub fn valid_until_ms(&self) -> u64 {
        self.period_at(&AsOf {
            height: Height(u64::MAX),
            time_ms: u64::MAX,
        })
        .map_or(0, |(_, until)| until)
    }

    /// The changes in force at `as_of`.
    fn in_force<'a>(&'a self, as_of: &'a AsOf) -> impl Iterator<Item = &'a StatusChange> + 'a {
        self.history
            .changes()
            .iter()
            .take_while(move |c| c.height <= as_of.height && c.at_ms <= as_of.time_ms)
    }

    /// The validity period `(from, until)` in force at `as_of`, in ms of
    /// block time (`until` exclusive); `None` before the issuance.
    pub fn period_at(&self, as_of: &AsOf) -> Option<(u64, u64)> {
        let mut period = None;
        for change in self.in_force(as_of) {
            match change.kind {
                StatusChangeKind::Issued {
                    valid_from_ms,
                    valid_until_ms,
                } => period = Some((valid_from_ms, valid_until_ms)),
                StatusChangeKind::Renewed { valid_until_ms } => {
                    period = period.map(|(from, _)| (from, valid_until_ms));
                }
                _ => {}
            }
        }
        period
    }

    /// Where the credential stood at `as_of`: revoked and suspended win
    /// over validity; otherwise valid from `valid_from` until (not
    /// including) the end of validity then in force.
    pub fn status_at(&self, as_of: &AsOf) -> CredentialStatus {
        let Some((from, until)) = self.period_at(as_of) else {
            return CredentialStatus::NotIssued;
        };
        let mut suspended = false;
        for change in self.in_force(as_of) {
            match change.kind {
                StatusChangeKind::Revoked => return CredentialStatus::Revoked,
                StatusChangeKind::Suspended => suspended = true,
                StatusChangeKind::Reinstated => suspended = false,
                StatusChangeKind::Issued { .. } | StatusChangeKind::Renewed { .. } => {}
            }
        }
        if suspended {
            CredentialStatus::Suspended
        } else if as_of.time_ms < from {
            CredentialStatus::NotYetValid
        } else if as_of.time_ms >= until {
            CredentialStatus::Expired
        } else {
            CredentialStatus::Valid
        }
    }

    /// Whether it is revoked, after every change so far.
    pub fn is_revoked(&self) -> bool {
        self.history
            .changes()
            .iter()
            .any(|c| c.kind == StatusChangeKind::Revoked)
    }

    /// Whether it is suspended now, after every change so far.
    pub fn is_suspended(&self) -> bool {
        self.history
            .changes()
            .iter()
            .rev()
            .find_map(|c| match c.kind {
                StatusChangeKind::Suspended => Some(true),
                StatusChangeKind::Reinstated => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }
}

/// One key that has signed an organisation's exported credentials.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct IssuerKey {
    /// The key.
    pub key: PublicKey,
    /// Height from which it signs.
    pub from_height: Height,
    /// Block time from which it signs.
    pub from_ms: u64,
}

/// An organisation's issuer keys, oldest first; the last signs now.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct IssuerKeys(pub Vec<IssuerKey>);

impl BorshDeserialize for IssuerKeys {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, crate::limits::ISSUER_KEYS_MAX).map(IssuerKeys)
    }
}

impl IssuerKeys {
    /// The key that signs now.
    pub fn current(&self) -> Option<&PublicKey> {
        self.0.last().map(|k| &k.key)
    }

    /// The key that signed at block time `at_ms`.
    pub fn at(&self, at_ms: u64) -> Option<&PublicKey> {
        self.0
            .iter()
            .rev()
            .find(|k| k.from_ms <= at_ms)
            .map(|k| &k.key)
    }
}

/// The next free position in an organisation's status lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct StatusListCounter {
    /// Positions handed out so far.
    pub next_index: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    const DAY: u64 = 86_400_000;

    fn change(height: u64, at_ms: u64, kind: StatusChangeKind) -> StatusChange {
        StatusChange {
            height: Height(height),
            at_ms,
            by: SecretKey::from_seed([1; 32]).public_key(),
            role: RoleName::new("credentials.revoke").unwrap(),
            kind,
            reason: None,
        }
    }

    fn record(changes: Vec<StatusChange>) -> CredentialRecord {
        CredentialRecord {
            credential_type: CredentialType::new("driver_licence").unwrap(),
            issuer: OrgName::new("transport").unwrap(),
            holder: SecretKey::from_seed([2; 32]).public_key(),
            claims: Fields::default(),
            application: None,
            status_index: 0,
            history: StatusHistory::new(changes).unwrap(),
        }
    }

    fn at(height: u64, time_ms: u64) -> AsOf {
        AsOf {
            height: Height(height),
            time_ms,
        }
    }

    #[test]
    fn status_at_any_earlier_moment_follows_from_the_history() {
        let issued = StatusChangeKind::Issued {
            valid_from_ms: 10 * DAY,
            valid_until_ms: 20 * DAY,
        };
        let credential = record(vec![
            change(5, 10 * DAY, issued),
            change(7, 12 * DAY, StatusChangeKind::Suspended),
            change(8, 13 * DAY, StatusChangeKind::Reinstated),
            change(
                9,
                19 * DAY,
                StatusChangeKind::Renewed {
                    valid_until_ms: 30 * DAY,
                },
            ),
            change(11, 25 * DAY, StatusChangeKind::Revoked),
        ]);
        use CredentialStatus::*;
        let cases: &[(AsOf, CredentialStatus)] = &[
            (at(4, 9 * DAY), NotIssued),
            (at(5, 10 * DAY), Valid),
            (at(6, 11 * DAY), Valid),
            (at(7, 12 * DAY), Suspended),
            (at(8, 13 * DAY), Valid),
            // At height 8 the renewal was not made: by day 21 it had expired.
            (at(8, 21 * DAY), Expired),
            (at(9, 21 * DAY), Valid),
            (at(10, 24 * DAY), Valid),
            (at(11, 25 * DAY), Revoked),
            (at(u64::MAX, 26 * DAY), Revoked),
            // Asking by time alone: the revocation at day 25 is not yet in
            // force on day 24.
            (at(u64::MAX, 24 * DAY), Valid),
            (at(u64::MAX, 12 * DAY + 1), Suspended),
        ];
        for (as_of, expected) in cases {
            assert_eq!(credential.status_at(as_of), *expected, "{as_of:?}");
        }
        assert!(credential.is_revoked());
        assert_eq!(credential.valid_until_ms(), 30 * DAY);
        assert_eq!(credential.valid_from_ms(), 10 * DAY);
    }

    #[test]
    fn validity_ends_before_its_last_millisecond_and_may_start_later() {
        let credential = record(vec![change(
            1,
            DAY,
            StatusChangeKind::Issued {
                valid_from_ms: 2 * DAY,
                valid_until_ms: 3 * DAY,
            },
        )]);
        let cases = [
            (DAY, CredentialStatus::NotYetValid),
            (2 * DAY, CredentialStatus::Valid),
            (3 * DAY - 1, CredentialStatus::Valid),
            (3 * DAY, CredentialStatus::Expired),
        ];
        for (time_ms, expected) in cases {
            assert_eq!(credential.status_at(&at(1, time_ms)), expected, "{time_ms}");
        }
        assert!(!credential.is_suspended());
    }

    #[test]
    fn histories_start_with_the_issuance_and_never_go_back() {
        let issued = StatusChangeKind::Issued {
            valid_from_ms: 0,
            valid_until_ms: 1,
        };
        assert_eq!(
            StatusHistory::new(vec![]),
            Err(HistoryError::NotIssuedFirst)
        );
        assert_eq!(
            StatusHistory::new(vec![change(1, 1, StatusChangeKind::Revoked)]),
            Err(HistoryError::NotIssuedFirst)
        );
        assert_eq!(
            StatusHistory::new(vec![
                change(1, 1, issued.clone()),
                change(2, 2, issued.clone())
            ]),
            Err(HistoryError::NotIssuedFirst)
        );
        assert_eq!(
            StatusHistory::new(vec![
                change(2, 2, issued.clone()),
                change(1, 2, StatusChangeKind::Suspended)
            ]),
            Err(HistoryError::OutOfOrder { index: 1 })
        );
        let mut history = StatusHistory::new(vec![change(1, 1, issued.clone())]).unwrap();
        for i in 1..STATUS_CHANGES_MAX {
            history
                .push(change(1 + i as u64, 1, StatusChangeKind::Suspended))
                .unwrap();
        }
        assert!(matches!(
            history.push(change(100, 1, StatusChangeKind::Reinstated)),
            Err(HistoryError::TooMany { .. })
        ));
        let bytes = borsh::to_vec(&history).unwrap();
        assert_eq!(borsh::from_slice::<StatusHistory>(&bytes).unwrap(), history);
        let bad = borsh::to_vec(&vec![change(1, 1, StatusChangeKind::Revoked)]).unwrap();
        assert!(borsh::from_slice::<StatusHistory>(&bad).is_err());
    }

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(FieldText::new(value).unwrap())
    }

    fn field(name: &str, value: FieldValue) -> Field {
        Field {
            name: FieldName::new(name).unwrap(),
            value,
        }
    }

    fn spec(name: &str, field_type: FieldType, required: bool) -> FieldSpec {
        FieldSpec {
            name: FieldName::new(name).unwrap(),
            field_type,
            required,
        }
    }

    #[test]
    fn fields_meet_their_specifications_or_say_which_does_not() {
        let specs = FieldSpecs::new(vec![
            spec("licence_class", FieldType::Text, true),
            spec("licence_number", FieldType::Commitment, true),
            spec("entries", FieldType::Integer, false),
        ])
        .unwrap();
        let number = FieldValue::Commitment(commitment(&[7; 32], "D1234567"));
        let fields = |list: Vec<Field>| Fields::new(list).unwrap();
        let cases: Vec<(Fields, Result<(), SpecError>)> = vec![
            (
                fields(vec![
                    field("licence_class", text("B")),
                    field("licence_number", number.clone()),
                ]),
                Ok(()),
            ),
            (
                fields(vec![field("licence_class", text("B"))]),
                Err(SpecError::Missing {
                    name: "licence_number".into(),
                }),
            ),
            (
                fields(vec![
                    field("licence_class", text("B")),
                    field("licence_number", text("D1234567")),
                ]),
                Err(SpecError::WrongType {
                    name: "licence_number".into(),
                    expected: "commitment",
                    found: "text",
                }),
            ),
            (
                fields(vec![field("colour", text("red"))]),
                Err(SpecError::Unknown {
                    name: "colour".into(),
                }),
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(specs.check(&fields), expected, "{fields:?}");
        }
        assert!(Fields::new(vec![field("a", text("x")), field("a", text("y"))]).is_err());
        let duplicate = borsh::to_vec(&vec![field("a", text("x")), field("a", text("y"))]).unwrap();
        assert!(borsh::from_slice::<Fields>(&duplicate).is_err());
    }

    #[test]
    fn commitments_hide_the_value_behind_the_salt() {
        let one = commitment(&[1; 32], "P1234567");
        assert_eq!(one, commitment(&[1; 32], "P1234567"));
        assert_ne!(one, commitment(&[2; 32], "P1234567"));
        assert_ne!(one, commitment(&[1; 32], "P1234568"));
        assert_ne!(
            credential_id(&Digest([1; 32])),
            credential_id(&Digest([2; 32]))
        );
    }

    #[test]
    fn issuer_keys_answer_which_key_signed_when() {
        let key = |seed| SecretKey::from_seed([seed; 32]).public_key();
        let keys = IssuerKeys(vec![
            IssuerKey {
                key: key(1),
                from_height: Height(0),
                from_ms: 0,
            },
            IssuerKey {
                key: key(2),
                from_height: Height(9),
                from_ms: 100,
            },
        ]);
        assert_eq!(keys.current(), Some(&key(2)));
        assert_eq!(keys.at(99), Some(&key(1)));
        assert_eq!(keys.at(100), Some(&key(2)));
    }
}
