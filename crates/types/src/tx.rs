//! Transactions: what an actor signs, its one hash, and its bounded actions.
//!
//! The signed payload is `TX_DOMAIN || chain id || borsh(body)`: the chain id
//! sits inside the body, so a transaction for one chain cannot be replayed on
//! another, and the domain tag keeps a transaction signature apart from every
//! other signature the same key makes.
//!
//! The transaction hash covers the signed payload, not the signature, so one
//! transaction has exactly one hash whatever signature encoding is presented.

use crate::address::Address;
use crate::amount::Amount;
use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::digest::Digest;
use crate::encoding::{self, DecodeError, read_bounded_vec};
use crate::limits::{
    CHAIN_ID_BYTES_MAX, LINKED_TRANSFERS_MAX, MEMO_BYTES_MAX, ROLES_PER_MEMBER_MAX, TX_BYTES_MAX,
    TX_ID_BYTES_MAX,
};
use crate::names::{CurrencyCode, OrgName, RoleName};
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain tag of transaction signatures.
pub const TX_DOMAIN: &[u8] = b"cityledger/tx/v1";
const PENDING_DOMAIN: &[u8] = b"cityledger/pending/v1";

/// Why a text field of a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty where a value is required.
    #[error("{field} must not be empty")]
    Empty {
        /// Field name.
        field: &'static str,
    },
    /// Above its limit.
    #[error("{field} is {length} bytes, above the limit of {limit}")]
    TooLong {
        /// Field name.
        field: &'static str,
        /// Length.
        length: usize,
        /// Limit.
        limit: usize,
    },
    /// Not printable ASCII.
    #[error("{field} may only contain printable ASCII characters")]
    NotPrintable {
        /// Field name.
        field: &'static str,
    },
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $limit:expr, $allow_empty:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, BorshSerialize)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `text`.
            pub fn new(text: impl Into<String>) -> Result<Self, $crate::tx::TextError> {
                let text = text.into();
                if text.is_empty() && !$allow_empty {
                    return Err($crate::tx::TextError::Empty { field: $field });
                }
                if text.len() > $limit {
                    return Err($crate::tx::TextError::TooLong { field: $field, length: text.len(), limit: $limit });
                }
                if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    return Err($crate::tx::TextError::NotPrintable { field: $field });
                }
                Ok($name(text))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                let text = $crate::encoding::read_bounded_string(reader, $limit)?;
                $name::new(text).map_err(|error| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $name::new(text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use bounded_text;

bounded_text!(
    /// The chain's identity, e.g. `cityledger-dev`.
    ChainId, "chain_id", CHAIN_ID_BYTES_MAX, false
);
bounded_text!(
    /// A client-chosen id, unique per signer, that makes submission idempotent.
    ClientTxId, "id", TX_ID_BYTES_MAX, false
);
bounded_text!(
    /// A free-text note on a transfer, shown in statements.
    Memo, "memo", MEMO_BYTES_MAX, true
);

/// A movement of `amount` of `currency` from one account to another.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TransferOrder {
    /// Debited account.
    pub from: Address,
    /// Credited account.
    pub to: Address,
    /// Currency of the amount.
    pub currency: CurrencyCode,
    /// Amount in minor units.
    pub amount: Amount,
    /// Note for both parties.
    pub memo: Memo,
}

impl TransferOrder {
    /// A transfer with no memo.
    pub fn new(
        from: Address,
        to: Address,
        currency: CurrencyCode,
        amount: Amount,
    ) -> TransferOrder {
        TransferOrder {
            from,
            to,
            currency,
            amount,
            memo: Memo::new("").expect("the empty memo is within every bound"),
        }
    }
}

/// A ledger operation: one step of value movement.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LedgerOp {
    /// Move the amount now.
    Transfer(TransferOrder),
    /// Reserve the amount; it moves when posted and returns when voided or
    /// when `timeout_ms` passes (measured in block time).
    CreatePending {
        /// What would move.
        order: TransferOrder,
        /// How long the reservation holds, in ms of block time.
        timeout_ms: u64,
    },
    /// Move (part of) a reserved amount.
    PostPending {
        /// The pending transfer's id.
        pending: Digest,
        /// How much to move; the whole reservation if `None`. The rest is
        /// released.
        amount: Option<Amount>,
    },
    /// Release a reservation.
    VoidPending {
        /// The pending transfer's id.
        pending: Digest,
    },
}

/// A change to an organisation's membership.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GovernanceOp {
    /// Add a member, or replace an existing member's roles.
    SetMember {
        /// The organisation.
        org: OrgName,
        /// The member's key.
        member: PublicKey,
        /// The roles granted; replaces previous roles.
        roles: Roles,
    },
    /// Remove a member.
    RemoveMember {
        /// The organisation.
        org: OrgName,
        /// The member's key.
        member: PublicKey,
    },
}

/// A bounded list of roles.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize)]
pub struct Roles(pub Vec<RoleName>);

impl BorshDeserialize for Roles {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, ROLES_PER_MEMBER_MAX).map(Roles)
    }
}

/// A bounded list of ledger operations that commit or fail together.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize)]
pub struct LinkedOps(pub Vec<LedgerOp>);

impl BorshDeserialize for LinkedOps {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        read_bounded_vec(reader, LINKED_TRANSFERS_MAX).map(LinkedOps)
    }
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Action {
    /// One ledger operation.
    Ledger(LedgerOp),
    /// Ledger operations that all apply, or none does.
    Linked(LinkedOps),
    /// A membership change.
    Governance(GovernanceOp),
    /// An operation on obligations.
    Obligation(crate::obligation::ObligationOp),
    /// An operation on applications for citizen services.
    Application(crate::application::ApplicationOp),
    /// An operation on credentials.
    Credential(crate::credential::CredentialOp),
    /// An operation on records, grants and accesses.
    Record(crate::record::RecordOp),
    /// An operation on devices and their batches.
    Device(crate::device::DeviceOp),
    /// An operation of public safety: alerts, incidents, evidence, cases.
    Safety(crate::safety::SafetyOp),
    /// An operation of education: exams.
    Education(crate::education::EducationOp),
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxBody {
    /// The chain this transaction is for.
    pub chain_id: ChainId,
    /// The actor: its key signs, and its roles are checked.
    pub signer: PublicKey,
    /// Client-chosen id, unique per signer.
    pub id: ClientTxId,
    /// Block time (ms since the Unix epoch) after which the transaction may
    /// no longer be included.
    pub expires_at_ms: u64,
    /// What to do.
    pub action: Action,
}

/// A transaction with its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTx {
    /// What was signed.
    pub body: TxBody,
    /// The signer's signature over [`TxBody::signing_payload`].
    pub signature: Signature,
}

impl Action {
    /// How many obligations the action creates: the charges of an
    /// issuance, none for anything else. Blocks are bounded by the sum
    /// (`CHARGES_PER_BLOCK_MAX`).
    pub fn charge_count(&self) -> usize {
        match self {
            Action::Obligation(crate::obligation::ObligationOp::Issue(issuance)) => {
                issuance.charges.0.len()
            }
            _ => 0,
        }
    }
}

impl TxBody {
    /// A body whose action is the single transfer `order`.
    pub fn transfer(
        chain_id: ChainId,
        signer: PublicKey,
        id: ClientTxId,
        expires_at_ms: u64,
        order: TransferOrder,
    ) -> TxBody {
        TxBody {
            chain_id,
            signer,
            id,
            expires_at_ms,
            action: Action::Ledger(LedgerOp::Transfer(order)),
        }
    }

    /// The exact bytes the signer signs.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(TX_DOMAIN.len() + 160);
        payload.extend_from_slice(TX_DOMAIN);
        // Infallible for a Vec writer.
        self.serialize(&mut payload)
            .expect("borsh encoding into a Vec is infallible");
        payload
    }

    /// The one definition of the transaction hash.
    pub fn hash(&self) -> Digest {
        Digest::of(&self.signing_payload())
    }

    /// Signs the body with `key`. The caller makes sure `key` is the signer.
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        debug_assert_eq!(key.public_key(), self.signer);
        let signature = key.sign(&self.signing_payload());
        SignedTx {
            body: self,
            signature,
        }
    }
}

impl SignedTx {
    /// The transaction hash (of the body).
    pub fn hash(&self) -> Digest {
        self.body.hash()
    }

    /// Canonical bytes, as submitted and stored in blocks.
    pub fn to_bytes(&self) -> Vec<u8> {
        encoding::encode(self)
    }

    /// Decodes a transaction received from outside.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTx, DecodeError> {
        encoding::decode_exact(bytes, "transaction", TX_BYTES_MAX)
    }
}

/// The id of a pending transfer: the creating transaction's hash and the
/// operation's position in it.
pub fn pending_id(tx_hash: &Digest, op_index: u32) -> Digest {
    Digest::of_parts(&[PENDING_DOMAIN, &tx_hash.0, &op_index.to_be_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::CurrencyCode;
    use proptest::prelude::*;

    fn sample(amount: u128, id: &str, memo: &str) -> SignedTx {
        let key = SecretKey::from_seed([3; 32]);
        let order = TransferOrder {
            from: Address::of_key(&key.public_key()),
            to: Address([0; 21]),
            currency: CurrencyCode::new("CITY").unwrap(),
            amount: Amount(amount),
            memo: Memo::new(memo).unwrap(),
        };
        TxBody {
            chain_id: ChainId::new("cityledger-dev").unwrap(),
            signer: key.public_key(),
            id: ClientTxId::new(id).unwrap(),
            expires_at_ms: 1_700_000_000_000,
            action: Action::Ledger(LedgerOp::Transfer(order)),
        }
        .sign(&key)
    }

    proptest! {
        #[test]
        fn round_trip(amount in any::<u128>(), id in "[a-z0-9]{1,64}", memo in "[ -~]{0,40}") {
            let tx = sample(amount, &id, &memo);
            let bytes = tx.to_bytes();
            let decoded = SignedTx::from_bytes(&bytes).unwrap();
            prop_assert_eq!(&decoded, &tx);
            prop_assert_eq!(decoded.to_bytes(), bytes);
            prop_assert_eq!(decoded.hash(), tx.hash());
        }
    }

    #[test]
    fn signature_covers_the_body() {
        let tx = sample(5, "a", "");
        let payload = tx.body.signing_payload();
        assert!(tx.body.signer.verify(&payload, &tx.signature).is_ok());
        let mut changed = tx.body.clone();
        changed.expires_at_ms += 1;
        assert!(
            tx.body
                .signer
                .verify(&changed.signing_payload(), &tx.signature)
                .is_err()
        );
    }

    #[test]
    fn rejects_trailing_and_oversize_bytes() {
        let mut bytes = sample(5, "a", "").to_bytes();
        bytes.push(0);
        assert!(SignedTx::from_bytes(&bytes).is_err());
        let huge = vec![0u8; TX_BYTES_MAX + 1];
        assert!(matches!(
            SignedTx::from_bytes(&huge),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    /// Pins the encoding: a change here is a format change, to be made on purpose.
    #[test]
    fn encoding_fixture() {
        let tx = sample(1250, "fixture-1", "lunch");
        assert_eq!(
            tx.hash().to_hex(),
            FIXTURE_HASH,
            "transaction encoding changed; if deliberate, update the fixture and the ADR"
        );
    }

    const FIXTURE_HASH: &str = "02ad99a88d6466d6cf9c2229beca93a5d4d3b99727435a9006e0f237301e4cfa";
}
