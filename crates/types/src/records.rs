//! What the authenticated state holds: its keys and its records.
//!
//! Every entry is `borsh(StateKey) → borsh(record)` in the sparse Merkle
//! tree, so any entry, present or absent, is provable against a block's
//! `state_root`. Domains own disjoint key variants. The obligation records
//! live in [`crate::obligation`], applications in [`crate::application`]
//! credentials in [`crate::credential`], records, grants and accesses in
//! [`crate::record`], devices and batches in [`crate::device`], alerts,
//! incidents, custody and cases in [`crate::safety`], exams in
//! [`crate::education`]. New keys are appended: borsh tags are positional.

use crate::address::Address;
use crate::amount::Amount;
use crate::block::Height;
use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding;
use crate::names::{CredentialType, CurrencyCode, KindName, OrgName, RoleName, ServiceName};
use crate::tx::{ClientTxId, TransferOrder};
use borsh::{BorshDeserialize, BorshSerialize};

/// A key of the authenticated state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum StateKey {
    /// Chain-wide bookkeeping.
    Chain,
    /// A currency's definition.
    Currency(CurrencyCode),
    /// An organisation.
    Org(OrgName),
    /// A member of an organisation, and its roles.
    Member(OrgName, PublicKey),
    /// An account.
    Account(Address),
    /// An account's balance in one currency.
    Balance(Address, CurrencyCode),
    /// A consumed client transaction id.
    TxId(PublicKey, ClientTxId),
    /// A two-phase transfer.
    Pending(Digest),
    /// How many pending transfers time out in one second of block time.
    TimeoutCount(u64),
    /// The `n`th pending transfer that times out in one second.
    TimeoutEntry(u64, u32),
    /// A kind of obligation of an organisation.
    ObligationKind(OrgName, KindName),
    /// An obligation, by id.
    Obligation(Digest),
    /// Obligation flows of an organisation in one currency on one day
    /// (block time / `DAY_MS`).
    ObligationTotals(OrgName, CurrencyCode, u32),
    /// Obligation flows of an organisation in one currency since genesis.
    ObligationBook(OrgName, CurrencyCode),
    /// The validator set of an epoch (`validator_set::ValidatorSet`),
    /// recorded in the outgoing epoch's state so light clients can follow
    /// the change. Not written by the state machine yet.
    ValidatorSet(u64),
    /// A citizen service of an organisation.
    Service(OrgName, ServiceName),
    /// An application, by id.
    Application(Digest),
    /// The open application of an applicant for a service.
    OpenApplication(OrgName, ServiceName, PublicKey),
    /// A type of credential of an organisation.
    CredentialType(OrgName, CredentialType),
    /// A credential, by id.
    Credential(Digest),
    /// The next free position in an organisation's status lists.
    StatusListCounter(OrgName),
    /// The keys that sign an organisation's exported credentials.
    IssuerKeys(OrgName),
    /// A record (`record::Record`), by id.
    Record(Digest),
    /// A consent grant (`record::GrantRecord`), by id.
    Grant(Digest),
    /// One entry of the access log (`record::AccessRecord`), by id.
    Access(Digest),
    /// A device (`device::DeviceRecord`), by its key.
    Device(PublicKey),
    /// An anchored batch of messages (`device::BatchRecord`), by id.
    Batch(Digest),
    /// The peaks of the history accumulator over the ids of every earlier
    /// block (`history::HistoryRecord`); appended by each block with its
    /// parent's id, absent in the genesis state.
    History,
    /// An alert (`safety::AlertRecord`), by id.
    Alert(Digest),
    /// An incident (`safety::IncidentRecord`), by id.
    Incident(Digest),
    /// The custody of an evidence item (`safety::CustodyRecord`), by the
    /// id of its record.
    Custody(Digest),
    /// A case bundle (`safety::CaseRecord`), by id.
    Case(Digest),
    /// One version of a case bundle (`safety::CaseVersionRecord`), from 1.
    CaseVersion(Digest, u32),
    /// An exam (`education::ExamRecord`), by id.
    Exam(Digest),
    /// A student's entry in an exam (`education::ExamEntry`).
    ExamEntry(Digest, PublicKey),
    /// How many batches of client ids (`TxIdExpiryBatch`) expire in one
    /// second of block time.
    TxIdExpiryCount(u64),
    /// The `n`th batch of client ids that expire in one second: the ids
    /// one block consumed whose transactions expire in that second.
    TxIdExpiryBatch(u64, u32),
}

impl StateKey {
    /// The key bytes in the tree.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::encode(self)
    }
}

/// Chain-wide bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct ChainRecord {
    /// The last second of block time whose pending timeouts were processed.
    pub timeouts_swept_until_s: u64,
    /// Height of the last executed block.
    pub height: Height,
    /// The last second of block time whose consumed client ids were
    /// forgotten: every transaction that used them has expired, so a
    /// replay is refused as expired and the id record is dead weight.
    pub tx_ids_swept_until_s: u64,
}

/// A currency.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct CurrencyRecord {
    /// Its code.
    pub code: CurrencyCode,
    /// Decimals of the major unit.
    pub decimals: u8,
}

/// An organisation of the consortium.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct OrgRecord {
    /// Its name.
    pub name: OrgName,
    /// Number of members.
    pub member_count: u32,
    /// Number of members holding the admin role; never zero.
    pub admin_count: u32,
}

/// A member's roles in one organisation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
pub struct MemberRecord {
    /// Roles held, sorted and deduplicated.
    pub roles: Vec<RoleName>,
}

/// Who controls an account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Owner {
    /// A key: its holder signs for the account.
    Key(PublicKey),
    /// An organisation: its members with the right role sign for it.
    Org(OrgName),
}

/// Account flag: the balance may go negative (the treasury's issuance
/// account; this is how money enters the system).
pub const FLAG_ALLOW_NEGATIVE: u32 = 1 << 0;
/// Account flag: no debits or credits.
pub const FLAG_FROZEN: u32 = 1 << 1;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountRecord {
    /// Who controls it.
    pub owner: Owner,
    /// `FLAG_*` bits.
    pub flags: u32,
}

/// An account's balance in one currency, TigerBeetle style: four monotone
/// sums. The balance is derived, never stored, so a debit and a credit are
/// each one addition and conservation is a sum over accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct BalanceRecord {
    /// Sum of posted debits.
    pub debits_posted: u128,
    /// Sum of posted credits.
    pub credits_posted: u128,
    /// Sum of reserved, not yet posted debits.
    pub debits_pending: u128,
    /// Sum of reserved, not yet posted credits.
    pub credits_pending: u128,
}

impl BalanceRecord {
    /// Posted balance, signed: credits minus debits.
    pub fn posted(&self) -> i128 {
        // Both sums are bounded by the total issued, far below i128::MAX.
        self.credits_posted as i128 - self.debits_posted as i128
    }

    /// What may still be debited, for an account that may not go negative.
    pub fn available(&self) -> Amount {
        Amount(
            self.credits_posted
                .saturating_sub(self.debits_posted)
                .saturating_sub(self.debits_pending),
        )
    }
}

/// A consumed client id: what it was used for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxIdRecord {
    /// The transaction that used it.
    pub tx_hash: Digest,
    /// The block it was included in.
    pub height: Height,
}

/// Client ids consumed by one block whose transactions expire in one second.
///
/// Kept so that the block whose time passes that second can forget them
/// (`StateKey::TxIdExpiryBatch`); without it the ids would stay in the
/// state forever, at ~0.5 KiB of memory each.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct TxIdExpiryBatch {
    /// Signer and client id of each transaction.
    pub ids: Vec<(PublicKey, ClientTxId)>,
}

/// State of a two-phase transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingStatus {
    /// Funds reserved.
    Pending,
    /// Posted (fully or partly).
    Posted,
    /// Released by a void.
    Voided,
    /// Released by timeout.
    TimedOut,
}

/// A two-phase transfer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PendingRecord {
    /// What is reserved.
    pub order: TransferOrder,
    /// Who created it; it may post or void.
    pub creator: PublicKey,
    /// Block time at which it times out.
    pub timeout_at_ms: u64,
    /// Where it stands.
    pub status: PendingStatus,
    /// Amount posted, once posted.
    pub posted: Amount,
}
