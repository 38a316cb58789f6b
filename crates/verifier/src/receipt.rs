//! The receipt: a claim about the chain, with everything needed to check it
//! offline, in one canonical binary form and one text form.
//!
//! ```text
//! binary = "CLRC" ‖ version (1 byte) ‖ borsh(Receipt)
//! text   = base64url(binary), no padding; whitespace is ignored on input
//! ```
//!
//! A receipt holds:
//! - the claim, in structured form ([`Claim`]) with its proofs, and in plain
//!   words ([`Receipt::statement`]); the verifier renders the words from the
//!   structured claim and refuses a receipt whose words differ, so the words
//!   a person reads are as proven as the data;
//! - the block header the claim is about, and why that block is final
//!   ([`Finality`]): its own certificate, or a certified descendant;
//! - the validator sets from an anchor to the set that signed
//!   ([`ValidatorPath`]).
//!
//! Adding a kind of claim (obligation status, credential status, a record's
//! commitment) is one [`Claim`] variant holding the record and its state
//! proof, one `StateKey`, and one arm in the statement; the rest of the
//! path (header, finality, validator sets) is shared. Variants are only ever
//! appended, so older receipts keep decoding; a change of meaning takes a
//! new version byte.

use crate::bounded::{BoundedBytes, BoundedText, BoundedVec};
use crate::limits::{
    CERTIFICATE_BYTES_MAX, DESCENDANT_HEADERS_MAX, RECEIPT_BYTES_MAX, RECEIPT_CURRENCIES_MAX,
    RECEIPT_TEXT_BYTES_MAX, STATEMENT_BYTES_MAX,
};
use crate::validators::ValidatorPath;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::credential::CredentialRecord;
use cityledger_types::device::BatchRecord;
use cityledger_types::encoding::{self, DecodeError};
use cityledger_types::limits::STREAM_MESSAGE_BYTES_MAX;
use cityledger_types::merkle::InclusionProof;
use cityledger_types::obligation::ObligationRecord;
use cityledger_types::record::Record;
use cityledger_types::records::{BalanceRecord, CurrencyRecord};
use cityledger_types::safety::{CaseVersionRecord, CustodyRecord};
use cityledger_types::smt::StateProof;
use cityledger_types::{Address, BlockHeader, CurrencyCode, Digest, SignedTx, TxOutcome};

/// First bytes of every binary receipt.
pub const RECEIPT_MAGIC: [u8; 4] = *b"CLRC";
/// The version this crate writes and reads.
pub const RECEIPT_VERSION: u8 = 1;

/// A claim about the chain, with everything needed to check it offline.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// What the receipt asserts, with its proofs.
    pub claim: Claim,
    /// The claim in plain words, as the verifier renders it.
    pub statement: BoundedText<STATEMENT_BYTES_MAX>,
    /// The block the claim is about, and why it is final.
    pub block: FinalizedBlock,
    /// The validator sets from the anchor to the set that finalized.
    pub validators: ValidatorPath,
}

/// A header and the evidence that its block is final.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct FinalizedBlock {
    /// The header the claim's proofs reach.
    pub header: BlockHeader,
    /// Why it is final.
    pub finality: Finality,
}

/// Why a block is final.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Finality {
    /// Its own finalization certificate (Commonware's bytes).
    Certified(BoundedBytes<CERTIFICATE_BYTES_MAX>),
    /// A certified descendant: Simplex finalizes a block's ancestors with
    /// it, and a block without a certificate of its own is final this way.
    ByDescendant {
        /// The headers after the block, in height order; each names the one
        /// before as its parent, and the last is certified.
        descendants: BoundedVec<BlockHeader, DESCENDANT_HEADERS_MAX>,
        /// The last descendant's certificate.
        certificate: BoundedBytes<CERTIFICATE_BYTES_MAX>,
    },
}

/// What a receipt asserts.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Claim {
    /// A transaction was included in the block with this outcome.
    Transaction(TxClaim),
    /// An account's balance in one currency, at the block.
    Balance(BalanceClaim),
    /// An obligation's terms and where it stands, at the block (boxed: the
    /// record is large next to the other claims).
    Obligation(Box<ObligationClaim>),
    /// A credential's record, present or proven absent, and where it stood
    /// at a moment: the record carries its whole status history, so one
    /// proof at the block answers for any earlier height.
    Credential(Box<CredentialClaim>),
    /// A record's commitment, parties, acknowledgements and erasure, or its
    /// absence; never its content.
    Record(Box<RecordClaim>),
    /// A device's anchored batch of messages: its root and count.
    Batch(Box<BatchClaim>),
    /// One message of an anchored batch, at its position.
    Message(Box<MessageClaim>),
    /// An evidence item's custody, present or proven absent: the record
    /// holds the whole custody history, so one proof shows the chain of
    /// custody up to the block (ADR 0008).
    Custody(Box<CustodyClaim>),
    /// An evidence item's place in one version of a case bundle: the
    /// version's root, proven in the state, and the item's inclusion proof
    /// under it, whose index is the item's position (ADR 0008).
    CaseItem(Box<CaseItemClaim>),
}

/// An evidence item's custody record, present or proven absent.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CustodyClaim {
    /// The evidence item (its record's id).
    pub id: Digest,
    /// The custody record; `None` when no evidence item has this id.
    pub record: Option<CustodyRecord>,
    /// Proof of `StateKey::Custody(id)` against the state root.
    pub proof: StateProof,
}

/// An evidence item at a position of a version of a case bundle.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CaseItemClaim {
    /// The case.
    pub case: Digest,
    /// The version, from 1.
    pub version: u32,
    /// The version's record: its item count and root.
    pub record: CaseVersionRecord,
    /// Proof of `StateKey::CaseVersion(case, version)` against the state
    /// root.
    pub proof: StateProof,
    /// The evidence item.
    pub item: Digest,
    /// Inclusion of the item's leaf under the version's root; its index is
    /// the item's position (from 0) and its leaf count the version's size.
    pub inclusion: InclusionProof,
}

/// A transaction, where it sits in the block, and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxClaim {
    /// The signed transaction; its hash is the leaf of `tx_proof`.
    pub tx: SignedTx,
    /// What executing it did: applied, or rejected and why.
    pub outcome: TxOutcome,
    /// Inclusion of the transaction under the header's `tx_root`; its index
    /// is the transaction's position in the block.
    pub tx_proof: InclusionProof,
    /// Inclusion of `(hash, outcome)` under the header's `outcomes_root`,
    /// at the same position.
    pub outcome_proof: InclusionProof,
    /// The currencies its amounts are in, proven against the header's
    /// state root, so amounts read in major units.
    pub currencies: BoundedVec<CurrencyFact, RECEIPT_CURRENCIES_MAX>,
}

/// An account's balance entry in one currency, present or proven absent.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BalanceClaim {
    /// The account.
    pub address: Address,
    /// The currency, with its decimals, proven.
    pub currency: CurrencyFact,
    /// The balance entry; `None` when the account has none (a zero balance).
    pub balance: Option<BalanceRecord>,
    /// Proof of `StateKey::Balance(address, code)` against the state root.
    pub proof: StateProof,
}

/// An obligation, present or proven absent, against the state root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ObligationClaim {
    /// The obligation's id.
    pub id: Digest,
    /// The record; `None` when no obligation has this id.
    pub record: Option<ObligationRecord>,
    /// The record's currency, proven, so amounts read in major units;
    /// present exactly when the record is.
    pub currency: Option<CurrencyFact>,
    /// Proof of `StateKey::Obligation(id)` against the state root.
    pub proof: StateProof,
}

/// A credential, present or proven absent, against the state root, and
/// the moment its status is judged at.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CredentialClaim {
    /// The credential's id.
    pub id: Digest,
    /// The record; `None` when no credential has this id.
    pub record: Option<CredentialRecord>,
    /// Proof of `StateKey::Credential(id)` against the state root.
    pub proof: StateProof,
    /// An earlier block, final in its own right, whose height and block
    /// time the status is judged at; `None` judges it at the receipt's
    /// block. Its header is what makes the block time of that height
    /// proven rather than asserted, which expiry depends on.
    pub moment: Option<FinalizedBlock>,
}

impl Claim {
    /// The kind of claim, as verdicts and the REST API name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Claim::Transaction(_) => "transaction",
            Claim::Balance(_) => "balance",
            Claim::Obligation(_) => "obligation",
            Claim::Credential(_) => "credential",
            Claim::Record(_) => "record",
            Claim::Batch(_) => "batch",
            Claim::Message(_) => "message",
            Claim::Custody(_) => "custody",
            Claim::CaseItem(_) => "case_item",
        }
    }
}

/// A record, present or proven absent, against the state root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RecordClaim {
    /// The record's id.
    pub id: Digest,
    /// The record; `None` when no record has this id.
    pub record: Option<Record>,
    /// Proof of `StateKey::Record(id)` against the state root.
    pub proof: StateProof,
}

/// A device's batch, present or proven absent, against the state root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchClaim {
    /// The batch's id.
    pub id: Digest,
    /// The record; `None` when no batch has this id.
    pub record: Option<BatchRecord>,
    /// Proof of `StateKey::Batch(id)` against the state root.
    pub proof: StateProof,
}

/// One message of a batch: the batch, proven present, and the message's
/// inclusion at its position under the batch's root. The node cannot build
/// it (it never sees messages); the device's side adds the message and its
/// inclusion to a batch receipt.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MessageClaim {
    /// The batch.
    pub batch: BatchClaim,
    /// The message's bytes.
    pub message: BoundedBytes<STREAM_MESSAGE_BYTES_MAX>,
    /// Its leaf's inclusion under the batch's root; the index is its
    /// position in the batch, from 0.
    pub inclusion: InclusionProof,
}

/// A currency's definition, proven against a state root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CurrencyFact {
    /// The record under `StateKey::Currency(code)`.
    pub record: CurrencyRecord,
    /// Its proof.
    pub proof: StateProof,
}

impl CurrencyFact {
    /// The currency's code.
    pub fn code(&self) -> &CurrencyCode {
        &self.record.code
    }
}

/// Why bytes or text are not a receipt, a checkpoint or a consistency
/// proof: the three share one framing (`magic ‖ version ‖ borsh body`, and
/// base64url for text), and `what` names which was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramedDecodeError {
    /// Does not start with the magic bytes.
    #[error("not a CityLedger {what} (it does not start with {magic:?})")]
    WrongMagic {
        /// What was expected.
        what: &'static str,
        /// Its magic bytes.
        magic: [u8; 4],
    },
    /// A version this verifier does not know.
    #[error(
        "{what} format version {found} is not supported (this verifier reads version {supported}); update the verifier"
    )]
    UnsupportedVersion {
        /// What was expected.
        what: &'static str,
        /// The input's version.
        found: u8,
        /// Ours.
        supported: u8,
    },
    /// The body does not decode.
    #[error(transparent)]
    Body(#[from] DecodeError),
    /// The text is longer than its limit.
    #[error("{what} text is {length} characters, above the limit of {limit}")]
    TextTooLong {
        /// What was expected.
        what: &'static str,
        /// Its length, whitespace excluded.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The text is not base64url.
    #[error("{what} text is not base64url: {reason}")]
    BadText {
        /// What was expected.
        what: &'static str,
        /// From the decoder.
        reason: String,
    },
}

/// The framing of one kind of document: its name, magic bytes, version and
/// bounds.
pub(crate) struct Framing {
    /// What it is, for errors.
    pub(crate) what: &'static str,
    /// First bytes of its binary form.
    pub(crate) magic: [u8; 4],
    /// The version this crate writes and reads.
    pub(crate) version: u8,
    /// Largest binary form, in bytes.
    pub(crate) bytes_max: usize,
    /// Longest text form, in characters, whitespace excluded.
    pub(crate) text_max: usize,
}

/// Bytes before the borsh body.
const FRAME_HEADER_BYTES: usize = 4 + 1;

impl Framing {
    /// `magic ‖ version ‖ borsh(value)`.
    pub(crate) fn encode<T: BorshSerialize>(&self, value: &T) -> Vec<u8> {
        let body = encoding::encode(value);
        let mut bytes = Vec::with_capacity(FRAME_HEADER_BYTES + body.len());
        bytes.extend_from_slice(&self.magic);
        bytes.push(self.version);
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Decodes the binary form, refusing oversize input, another magic, an
    /// unknown version and trailing bytes.
    pub(crate) fn decode<T: BorshDeserialize>(&self, bytes: &[u8]) -> Result<T, FramedDecodeError> {
        let Some(rest) = bytes.strip_prefix(&self.magic) else {
            return Err(self.wrong_magic());
        };
        let body = match rest.split_first() {
            Some((&found, body)) if found == self.version => body,
            Some((&found, _)) => {
                return Err(FramedDecodeError::UnsupportedVersion {
                    what: self.what,
                    found,
                    supported: self.version,
                });
            }
            None => return Err(self.wrong_magic()),
        };
        Ok(encoding::decode_exact(
            body,
            self.what,
            self.bytes_max - FRAME_HEADER_BYTES,
        )?)
    }

    /// The text form: base64url without padding.
    pub(crate) fn encode_text<T: BorshSerialize>(&self, value: &T) -> String {
        URL_SAFE_NO_PAD.encode(self.encode(value))
    }

    /// Decodes the text form; whitespace anywhere is ignored, and the
    /// length is bounded before decoding.
    pub(crate) fn decode_text<T: BorshDeserialize>(
        &self,
        text: &str,
    ) -> Result<T, FramedDecodeError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() > self.text_max {
            return Err(FramedDecodeError::TextTooLong {
                what: self.what,
                length: compact.len(),
                limit: self.text_max,
            });
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(compact.as_bytes())
            .map_err(|error| FramedDecodeError::BadText {
                what: self.what,
                reason: error.to_string(),
            })?;
        self.decode(&bytes)
    }

    fn wrong_magic(&self) -> FramedDecodeError {
        FramedDecodeError::WrongMagic {
            what: self.what,
            magic: self.magic,
        }
    }
}

/// The framing of receipts.
const RECEIPT_FRAMING: Framing = Framing {
    what: "receipt",
    magic: RECEIPT_MAGIC,
    version: RECEIPT_VERSION,
    bytes_max: RECEIPT_BYTES_MAX,
    text_max: RECEIPT_TEXT_BYTES_MAX,
};

impl Receipt {
    /// The canonical binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        RECEIPT_FRAMING.encode(self)
    }

    /// Decodes the binary form, refusing oversize input, unknown versions
    /// and trailing bytes. Decoding checks the format only; [`crate::verify`]
    /// checks what it claims.
    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, FramedDecodeError> {
        RECEIPT_FRAMING.decode(bytes)
    }

    /// The text form: base64url without padding.
    pub fn to_text(&self) -> String {
        RECEIPT_FRAMING.encode_text(self)
    }

    /// Decodes the text form; whitespace anywhere is ignored.
    pub fn from_text(text: &str) -> Result<Receipt, FramedDecodeError> {
        RECEIPT_FRAMING.decode_text(text)
    }

    /// The plain-words statement.
    pub fn statement(&self) -> &str {
        &self.statement.0
    }
}
