//! Every bound of the protocol, in one place.
//!
//! Input above a limit is rejected with an error that names the limit. Where
//! limits relate, a `const` assertion below says so, so that a change to one
//! cannot silently break another.

/// Longest chain id, in bytes.
pub const CHAIN_ID_BYTES_MAX: usize = 64;
/// Longest client-chosen transaction id, in bytes.
pub const TX_ID_BYTES_MAX: usize = 64;
/// Largest encoded signed transaction, in bytes.
///
/// Only a bulk issuance of obligations comes near it (10,000 charges of
/// ~60 bytes); every other action is bounded field by field to a few KiB.
pub const TX_BYTES_MAX: usize = 1024 * 1024;
/// Most transfers in one linked batch.
pub const LINKED_TRANSFERS_MAX: usize = 16;
/// Longest memo on a transfer, in bytes.
pub const MEMO_BYTES_MAX: usize = 256;
/// Longest organisation name, in bytes.
pub const ORG_NAME_BYTES_MAX: usize = 32;
/// Longest account name inside an organisation, in bytes.
pub const ACCOUNT_NAME_BYTES_MAX: usize = 32;
/// Longest role name, in bytes.
pub const ROLE_NAME_BYTES_MAX: usize = 48;
/// Most roles one member may hold in one organisation.
pub const ROLES_PER_MEMBER_MAX: usize = 16;
/// Most members of one organisation.
pub const MEMBERS_PER_ORG_MAX: usize = 256;
/// Most organisations in the consortium.
pub const ORGS_MAX: usize = 64;
/// Most kinds of obligation one organisation defines at genesis.
pub const GENESIS_KINDS_PER_ORG_MAX: usize = 64;
/// Most validators in one validator set.
pub const VALIDATORS_MAX: usize = 128;
/// Longest currency code, in bytes.
pub const CURRENCY_CODE_BYTES_MAX: usize = 8;
/// Most decimals a currency may declare; 10^38 still fits in u128.
pub const CURRENCY_DECIMALS_MAX: u8 = 18;
/// Most transactions in one block.
pub const TX_PER_BLOCK_MAX: usize = 10_000;
/// Largest encoded block, in bytes.
pub const BLOCK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Furthest a transaction's expiry may lie beyond the time it is checked, in ms.
///
/// Bounding the horizon bounds how long a node must remember ids to deduplicate.
pub const TX_EXPIRY_HORIZON_MS_MAX: u64 = 24 * 60 * 60 * 1000;
/// Longest two-phase transfer timeout, in ms.
pub const PENDING_TIMEOUT_MS_MAX: u64 = 30 * 24 * 60 * 60 * 1000;
/// Most pending transfers voided by timeout at the start of one block; the
/// rest wait for the next block so that a block's work stays bounded.
pub const PENDING_TIMEOUTS_PER_BLOCK_MAX: usize = 10_000;
/// Most consumed client ids forgotten at the start of one block once their
/// transactions expired; a second of ids is never split, so a block may
/// forget one second's worth beyond this. The rest wait for later blocks.
pub const TX_IDS_FORGOTTEN_PER_BLOCK_MAX: usize = 50_000;
/// Longest obligation kind name, in bytes.
pub const KIND_NAME_BYTES_MAX: usize = 32;
/// Most charges (obligations) one issuance transaction creates.
pub const CHARGES_PER_ISSUE_MAX: usize = 10_000;
/// Most charges all the transactions of one block create. A charge costs a
/// state record, an event and five index entries at commit, far more than
/// its ~60 bytes on the wire; this bound, not the block's bytes, keeps a
/// block of bulk issuances within the commit's limits. A block above it is
/// invalid; proposers stop adding issuances before it.
pub const CHARGES_PER_BLOCK_MAX: usize = 5 * CHARGES_PER_ISSUE_MAX;
/// Most fields of an obligation's reference data.
pub const REFERENCE_FIELDS_MAX: usize = 8;
/// Longest reference field name, in bytes.
pub const REFERENCE_KEY_BYTES_MAX: usize = 24;
/// Longest reference field value, in bytes.
pub const REFERENCE_VALUE_BYTES_MAX: usize = 64;
/// Longest reason given for a waiver, an appeal, a decision or a
/// cancellation, in bytes.
pub const REASON_BYTES_MAX: usize = 256;
/// Furthest an obligation's due time may lie beyond block time, in ms
/// (ten years: a multi-year tax instalment plan still fits).
pub const DUE_HORIZON_MS_MAX: u64 = 10 * 366 * 24 * 60 * 60 * 1000;
/// Shortest penalty period, in ms: a minute.
pub const PENALTY_PERIOD_MS_MIN: u64 = 60 * 1000;
/// Longest penalty period, in ms: a leap year.
pub const PENALTY_PERIOD_MS_MAX: u64 = 366 * 24 * 60 * 60 * 1000;
/// Most basis points a penalty may add per period (100 %).
pub const PENALTY_BPS_PER_PERIOD_MAX: u32 = 10_000;
/// Milliseconds in one day of block time, the bucket of obligation totals.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Longest name of a citizen service (a kind of application), of a
/// credential type, of a field or of a piece of evidence, in bytes.
pub const SERVICE_NAME_BYTES_MAX: usize = 32;
/// Longest text value of a field or claim, in bytes.
pub const FIELD_TEXT_BYTES_MAX: usize = 128;
/// Most fields of an application, or claims of a credential.
pub const FIELDS_MAX: usize = 16;
/// Most fields a service declares.
pub const FIELD_SPECS_MAX: usize = 16;
/// Most pieces of evidence a service requires.
pub const EVIDENCE_PER_SERVICE_MAX: usize = 8;
/// Most document commitments one application holds, over all its rounds.
pub const DOCUMENTS_PER_APPLICATION_MAX: usize = 16;
/// Most requests for more information on one application.
pub const INFO_ROUNDS_MAX: usize = 8;
/// Most status changes in a credential's history (issuance, renewals,
/// suspensions, reinstatements, revocation): the history is the proof of
/// status at every earlier time, so it is never truncated.
pub const STATUS_CHANGES_MAX: usize = 64;
/// Longest validity a credential may be given beyond block time, in ms
/// (twenty years: a passport of ten, with room).
pub const VALIDITY_MS_MAX: u64 = 20 * 366 * 24 * 60 * 60 * 1000;
/// Most issuer keys an organisation has had; a VC stays verifiable under
/// the key it was signed with, so old keys are kept.
pub const ISSUER_KEYS_MAX: usize = 16;
/// Most service definitions and credential types one organisation has at
/// genesis.
pub const GENESIS_SERVICES_PER_ORG_MAX: usize = 32;

/// Longest record type name, in bytes.
pub const RECORD_TYPE_BYTES_MAX: usize = 32;
/// Most recipients of one record (and so most acknowledgements it holds).
pub const RECIPIENTS_PER_RECORD_MAX: usize = 16;
/// Largest sealed blob of one record, in bytes: a compressed MRI series
/// fits; larger studies are several records linked by `parent`.
pub const BLOB_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Longest a grant may last beyond block time, in ms (ten years: a
/// patient's standing consent to their family doctor).
pub const GRANT_MS_MAX: u64 = 10 * 366 * 24 * 60 * 60 * 1000;
/// Most wrapped data keys one record has on a node: its owner, author,
/// recipients and the readers its owner granted later.
pub const WRAPPED_KEYS_PER_RECORD_MAX: usize = 64;
/// Longest device label, in bytes (an asset tag, never a person's name).
pub const DEVICE_LABEL_BYTES_MAX: usize = 64;
/// Most messages under one anchored batch root: 2^16, so a message's
/// proof has at most 16 siblings.
pub const BATCH_MESSAGES_MAX: usize = 1 << 16;
/// Largest message of a device stream, in bytes: one line of a stream
/// file, and what a message receipt carries.
pub const STREAM_MESSAGE_BYTES_MAX: usize = 64 * 1024;

/// Longest area code (a district, a grid square), in bytes.
pub const AREA_BYTES_MAX: usize = 32;
/// Longest alert or incident kind, unit name or course name, in bytes.
pub const SAFETY_NAME_BYTES_MAX: usize = 32;
/// Longest note of an incident update or outcome, in bytes (operational
/// words, never a person's name).
pub const NOTE_BYTES_MAX: usize = 256;
/// Most agencies one alert notifies.
pub const ALERT_NOTIFY_MAX: usize = 8;
/// Most updates one incident holds; a longer operation opens a follow-up
/// incident.
pub const INCIDENT_UPDATES_MAX: usize = 64;
/// Most agencies one incident is shared with.
pub const INCIDENT_SHARES_MAX: usize = 16;
/// Most units named in one incident update.
pub const UNITS_PER_UPDATE_MAX: usize = 8;
/// Most entries of one evidence item's custody history.
pub const CUSTODY_EVENTS_MAX: usize = 64;
/// Most evidence items in one case bundle: 2^10, so an item's proof has at
/// most 10 siblings.
pub const CASE_ITEMS_MAX: usize = 1 << 10;
/// Most items one `AddToCase` appends.
pub const CASE_ITEMS_PER_ADD_MAX: usize = 64;
/// Longest an exam may stay open, in ms (a school year).
pub const EXAM_OPEN_MS_MAX: u64 = 366 * 24 * 60 * 60 * 1000;

/// Most Merkle siblings in a transaction inclusion proof (2^32 transactions).
pub const TX_PROOF_DEPTH_MAX: usize = 32;

/// Most peaks of the history accumulator: one per bit of a u64 block count.
pub const HISTORY_PEAKS_MAX: usize = 64;
/// Most siblings in a history (block-id accumulator) inclusion proof: one
/// level per bit of a u64 height.
pub const HISTORY_PROOF_DEPTH_MAX: usize = 64;

/// Deepest possible state-tree path: one level per bit of a key hash.
pub const TREE_DEPTH_MAX: usize = crate::digest::DIGEST_LEN * 8;
/// Largest borsh encoding of a state proof, for decoding one from outside
/// with `encoding::decode_exact`: the depth, a full bitmap, a sibling at every
/// level and the terminal leaf.
pub const STATE_PROOF_BYTES_MAX: usize = 2
    + (4 + TREE_DEPTH_MAX / 8)
    + (4 + TREE_DEPTH_MAX * crate::digest::DIGEST_LEN)
    + (1 + 2 * crate::digest::DIGEST_LEN);

const _: () = assert!(TX_PER_BLOCK_MAX * 64 <= BLOCK_BYTES_MAX);
const _: () = assert!(TX_BYTES_MAX <= BLOCK_BYTES_MAX);
// A full bulk issuance of tolls fits one transaction: each charge holds an
// address, an amount, a plate number (`plate` = 10 characters) and an
// evidence link (a camera record).
const _: () =
    assert!(CHARGES_PER_ISSUE_MAX * (21 + 16 + (4 + 4 + 5 + 4 + 10) + 33) + 2048 <= TX_BYTES_MAX);
// In u64: on wasm32, `usize` has 32 bits and the shift would wrap to 0.
const _: () = assert!((1u64 << TX_PROOF_DEPTH_MAX) >= TX_PER_BLOCK_MAX as u64);
// A credential's whole history, claims and application link stay far below
// a transaction's size, so proving one record never costs more than a
// transaction.
const _: () = assert!(
    STATUS_CHANGES_MAX * (8 + 8 + 32 + ROLE_NAME_BYTES_MAX + 4 + 1 + 16 + 1 + 4 + REASON_BYTES_MAX)
        + FIELDS_MAX * (4 + SERVICE_NAME_BYTES_MAX + 1 + 4 + FIELD_TEXT_BYTES_MAX)
        <= TX_BYTES_MAX
);
const _: () = assert!(DOCUMENTS_PER_APPLICATION_MAX >= EVIDENCE_PER_SERVICE_MAX);
// A batch's message proof is an ordinary inclusion proof: its depth stays
// within what `merkle::InclusionProof::verify` accepts.
const _: () = assert!((1u64 << TX_PROOF_DEPTH_MAX) >= BATCH_MESSAGES_MAX as u64);
// Every party of a record can hold a wrapped key, with room for grants.
const _: () = assert!(WRAPPED_KEYS_PER_RECORD_MAX >= RECIPIENTS_PER_RECORD_MAX + 2);
// A record with every recipient and acknowledgement stays far below a
// transaction's size, so proving one costs less than a transaction.
const _: () = assert!(
    RECIPIENTS_PER_RECORD_MAX * (32 + 32 + 8 + 8)
        + REFERENCE_FIELDS_MAX * (4 + REFERENCE_KEY_BYTES_MAX + 4 + REFERENCE_VALUE_BYTES_MAX)
        + 4 * 1024
        <= TX_BYTES_MAX
);
// A case with every item, and an incident with every update and share,
// stay below a transaction's size, so proving one costs less than a
// transaction.
const _: () = assert!(CASE_ITEMS_MAX * 32 + 1024 <= TX_BYTES_MAX);
const _: () = assert!(
    INCIDENT_UPDATES_MAX
        * (8 + 8
            + 32
            + 2
            + AREA_BYTES_MAX
            + 9
            + UNITS_PER_UPDATE_MAX * (4 + SAFETY_NAME_BYTES_MAX)
            + 4
            + NOTE_BYTES_MAX)
        + INCIDENT_SHARES_MAX * (4 + ORG_NAME_BYTES_MAX + 32 + 16)
        <= TX_BYTES_MAX
);
// A case's bundle proof is an ordinary inclusion proof.
const _: () = assert!((1u64 << TX_PROOF_DEPTH_MAX) >= CASE_ITEMS_MAX as u64);
const _: () = assert!(CASE_ITEMS_PER_ADD_MAX <= CASE_ITEMS_MAX);
