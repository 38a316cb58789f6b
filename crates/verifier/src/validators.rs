//! Whom to trust: a trust anchor, and the path of validator sets from it to
//! the set that signed a receipt.
//!
//! Trust starts at an anchor the holder already has: the chain's genesis
//! document (epoch 0) or a checkpoint they trusted before. From there, a
//! receipt carries one [`SetTransition`] per change of validator set: a
//! block of the outgoing epoch, certified by the outgoing set, whose state
//! holds the next set under `StateKey::ValidatorSet(next epoch)`. Each step
//! is checked with the set trusted so far, so a set is believed only if the
//! set before it finalized it.
//!
//! What a path cannot defend against is a quorum of an old set whose keys
//! leak after they retired: it could sign a different history of its own
//! epoch. Anchoring on a recent checkpoint shortens the window, as in every
//! light client (see ADR 0004).

use crate::bounded::{BoundedBytes, BoundedVec};
use crate::certificate::{CertificateError, verify_certificate};
use crate::limits::{CERTIFICATE_BYTES_MAX, VALIDATOR_TRANSITIONS_MAX};
use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::genesis::Genesis;
use cityledger_types::records::StateKey;
use cityledger_types::smt::{ProofError, StateProof};
use cityledger_types::tx::ChainId;
use cityledger_types::validator_set::ValidatorSetError;
use cityledger_types::{BlockHeader, Digest, Height, PublicKey};

pub use cityledger_types::validator_set::ValidatorSet;

/// The encoded bytes of a Commonware finalization certificate.
pub type CertificateBytes = BoundedBytes<CERTIFICATE_BYTES_MAX>;

/// One change of validator set, proven by the outgoing set.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SetTransition {
    /// A block of the outgoing epoch whose state records the next set.
    pub header: BlockHeader,
    /// Its certificate, by the outgoing set.
    pub certificate: CertificateBytes,
    /// The incoming set; its epoch is the outgoing epoch plus one.
    pub next: ValidatorSet,
    /// Proof of `StateKey::ValidatorSet(next.epoch)` = `next` against the
    /// header's state root.
    pub proof: StateProof,
}

/// The validator sets from an anchor's epoch to a receipt's.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorPath {
    /// The first set: genesis's, or a checkpoint's.
    pub base: ValidatorSet,
    /// The changes after it, in epoch order.
    pub transitions: BoundedVec<SetTransition, VALIDATOR_TRANSITIONS_MAX>,
}

/// What a verifier trusts to begin with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The chain.
    pub chain_id: ChainId,
    /// The trusted set and its epoch.
    pub set: ValidatorSet,
    /// Names of validators, where the anchor knows them (genesis does).
    pub names: Vec<(PublicKey, String)>,
    /// Where the trust comes from, for people.
    pub source: String,
}

impl TrustAnchor {
    /// Trust in the validators of a genesis document.
    pub fn from_genesis(genesis: &Genesis) -> Result<TrustAnchor, ValidatorSetError> {
        let set = ValidatorSet::new(0, genesis.validators.iter().map(|v| v.key))?;
        Ok(TrustAnchor {
            chain_id: genesis.chain_id.clone(),
            set,
            names: genesis
                .validators
                .iter()
                .map(|v| (v.key, v.org.to_string()))
                .collect(),
            source: format!(
                "genesis of {} ({})",
                genesis.chain_id,
                genesis.hash().to_hex()
            ),
        })
    }

    /// The organisation name of a validator, if known.
    pub fn name_of(&self, key: &PublicKey) -> Option<&str> {
        self.names
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, name)| name.as_str())
    }
}

/// Why a validator-set path was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    /// The anchor's set is nowhere on the path.
    #[error(
        "the receipt's validator sets never reach the trusted set (epoch {epoch}, hash {hash}); trust a checkpoint on its path or the right genesis"
    )]
    AnchorNotOnPath {
        /// The anchor's epoch.
        epoch: u64,
        /// The anchor's set hash.
        hash: Digest,
    },
    /// A transition does not follow the epoch before it.
    #[error("validator-set change {index} goes to epoch {found}, expected {expected}")]
    EpochGap {
        /// Position in the path.
        index: usize,
        /// The epoch that should follow.
        expected: u64,
        /// The epoch found.
        found: u64,
    },
    /// A transition's header is for another chain.
    #[error("validator-set change {index} is a block of chain {found}")]
    WrongChain {
        /// Position in the path.
        index: usize,
        /// Its chain.
        found: String,
    },
    /// A transition's header is not of the outgoing set.
    #[error(
        "validator-set change {index} is at block {height} of epoch {epoch}, which the outgoing set (epoch {set_epoch}) did not finalize"
    )]
    HeaderNotOfSet {
        /// Position in the path.
        index: usize,
        /// Its height.
        height: Height,
        /// Its epoch.
        epoch: u64,
        /// The outgoing set's epoch.
        set_epoch: u64,
    },
    /// A transition's certificate fails.
    #[error("validator-set change {index}: {source}")]
    Certificate {
        /// Position in the path.
        index: usize,
        /// Why.
        source: CertificateError,
    },
    /// A transition's state proof fails.
    #[error("validator-set change {index}: the next set is not in the block's state: {source}")]
    State {
        /// Position in the path.
        index: usize,
        /// Why.
        source: ProofError,
    },
}

/// The sets of a path that the anchor vouches for.
#[derive(Clone, Debug)]
pub struct TrustedPath {
    /// The set that finalizes the receipt's epoch.
    pub last: ValidatorSet,
    /// Validator-set changes followed after the anchor.
    pub changes_followed: usize,
}

impl ValidatorPath {
    /// A path of one set and no change.
    pub fn single(set: ValidatorSet) -> ValidatorPath {
        ValidatorPath {
            base: set,
            transitions: BoundedVec(Vec::new()),
        }
    }

    /// The last set of the path.
    pub fn last(&self) -> &ValidatorSet {
        self.transitions.0.last().map_or(&self.base, |t| &t.next)
    }

    /// Checks every change from the base on, each with the set before it,
    /// and that the anchor's set is on the path. Sets before the anchor's
    /// are checked too (every byte of a receipt must count) but vouch for
    /// nothing: trust flows only forward from the anchor.
    pub fn verify(&self, anchor: &TrustAnchor) -> Result<TrustedPath, PathError> {
        let anchor_hash = anchor.set.hash();
        let is_anchor =
            |set: &ValidatorSet| set.epoch == anchor.set.epoch && set.hash() == anchor_hash;
        let mut anchored_at = is_anchor(&self.base).then_some(0usize);
        let mut current = &self.base;
        for (index, transition) in self.transitions.0.iter().enumerate() {
            transition.verify(index, current, &anchor.chain_id)?;
            current = &transition.next;
            if anchored_at.is_none() && is_anchor(current) {
                anchored_at = Some(index + 1);
            }
        }
        match anchored_at {
            Some(position) => Ok(TrustedPath {
                last: current.clone(),
                changes_followed: self.transitions.0.len() - position,
            }),
            None => Err(PathError::AnchorNotOnPath {
                epoch: anchor.set.epoch,
                hash: anchor_hash,
            }),
        }
    }
}

impl SetTransition {
    fn verify(
        &self,
        index: usize,
        outgoing: &ValidatorSet,
        chain_id: &ChainId,
    ) -> Result<(), PathError> {
        let expected = outgoing.epoch.checked_add(1).ok_or(PathError::EpochGap {
            index,
            expected: u64::MAX,
            found: self.next.epoch,
        })?;
        if self.next.epoch != expected {
            return Err(PathError::EpochGap {
                index,
                expected,
                found: self.next.epoch,
            });
        }
        if self.header.chain_id != *chain_id {
            return Err(PathError::WrongChain {
                index,
                found: self.header.chain_id.to_string(),
            });
        }
        if self.header.round.epoch != outgoing.epoch
            || self.header.validator_set_hash != outgoing.hash()
        {
            return Err(PathError::HeaderNotOfSet {
                index,
                height: self.header.height,
                epoch: self.header.round.epoch,
                set_epoch: outgoing.epoch,
            });
        }
        verify_certificate(&self.certificate.0, outgoing, &self.header)
            .map_err(|source| PathError::Certificate { index, source })?;
        let key = StateKey::ValidatorSet(self.next.epoch).to_bytes();
        let value = cityledger_types::encoding::encode(&self.next);
        self.proof
            .verify(&self.header.state_root, &key, Some(&value))
            .map_err(|source| PathError::State { index, source })
    }
}
