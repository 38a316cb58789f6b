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
use cityledger_types::encoding::{self, DecodeError};
use cityledger_types::merkle::InclusionProof;
use cityledger_types::obligation::ObligationRecord;
use cityledger_types::records::{BalanceRecord, CurrencyRecord};
use cityledger_types::smt::StateProof;
use cityledger_types::{Address, BlockHeader, CurrencyCode, Digest, SignedTx, TxOutcome};

/// First bytes of every binary receipt.
pub const RECEIPT_MAGIC: [u8; 4] = *b"CLRC";
/// The version this crate writes and reads.
pub const RECEIPT_VERSION: u8 = 1;
/// Bytes before the borsh body.
const HEADER_BYTES: usize = RECEIPT_MAGIC.len() + 1;

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

/// Why bytes or text are not a receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptDecodeError {
    /// Does not start with the magic bytes.
    #[error(
        "not a CityLedger receipt (it does not start with {:?})",
        RECEIPT_MAGIC
    )]
    NotAReceipt,
    /// A version this verifier does not know.
    #[error(
        "receipt format version {found} is not supported (this verifier reads version {supported}); update the verifier"
    )]
    UnsupportedVersion {
        /// The receipt's version.
        found: u8,
        /// Ours.
        supported: u8,
    },
    /// The body does not decode.
    #[error(transparent)]
    Body(#[from] DecodeError),
    /// The text is longer than [`RECEIPT_TEXT_BYTES_MAX`].
    #[error("receipt text is {length} characters, above the limit of {limit}")]
    TextTooLong {
        /// Its length, whitespace excluded.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The text is not base64url.
    #[error("receipt text is not base64url: {reason}")]
    BadText {
        /// From the decoder.
        reason: String,
    },
}

impl Receipt {
    /// The canonical binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = encoding::encode(self);
        let mut bytes = Vec::with_capacity(HEADER_BYTES + body.len());
        bytes.extend_from_slice(&RECEIPT_MAGIC);
        bytes.push(RECEIPT_VERSION);
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Decodes the binary form, refusing oversize input, unknown versions
    /// and trailing bytes. Decoding checks the format only; [`crate::verify`]
    /// checks what it claims.
    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, ReceiptDecodeError> {
        let body = strip_header(bytes, &RECEIPT_MAGIC, RECEIPT_VERSION)?;
        Ok(encoding::decode_exact(
            body,
            "receipt",
            RECEIPT_BYTES_MAX - HEADER_BYTES,
        )?)
    }

    /// The text form: base64url without padding.
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// Decodes the text form; whitespace anywhere is ignored.
    pub fn from_text(text: &str) -> Result<Receipt, ReceiptDecodeError> {
        Receipt::from_bytes(&decode_text(text, RECEIPT_TEXT_BYTES_MAX)?)
    }

    /// The plain-words statement.
    pub fn statement(&self) -> &str {
        &self.statement.0
    }
}

/// The body after `magic ‖ version`, or why there is none.
pub(crate) fn strip_header<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
    version: u8,
) -> Result<&'a [u8], ReceiptDecodeError> {
    let Some(rest) = bytes.strip_prefix(magic) else {
        return Err(ReceiptDecodeError::NotAReceipt);
    };
    match rest.split_first() {
        Some((&found, body)) if found == version => Ok(body),
        Some((&found, _)) => Err(ReceiptDecodeError::UnsupportedVersion {
            found,
            supported: version,
        }),
        None => Err(ReceiptDecodeError::NotAReceipt),
    }
}

/// Base64url text to bytes, ignoring whitespace, bounded before decoding.
pub(crate) fn decode_text(text: &str, limit: usize) -> Result<Vec<u8>, ReceiptDecodeError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() > limit {
        return Err(ReceiptDecodeError::TextTooLong {
            length: compact.len(),
            limit,
        });
    }
    URL_SAFE_NO_PAD
        .decode(compact.as_bytes())
        .map_err(|error| ReceiptDecodeError::BadText {
            reason: error.to_string(),
        })
}
