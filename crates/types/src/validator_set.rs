//! Validator sets as the chain records them: who finalizes the blocks of
//! one epoch.
//!
//! Simplex runs each epoch with a fixed set. A change of set, approved on
//! chain, is recorded in the state of the outgoing epoch under
//! `StateKey::ValidatorSet(next epoch)`, so that a light client holding the
//! outgoing set can follow the change: a block certified by the outgoing
//! set whose state holds the next set hands trust on (see the verifier's
//! `validators` module). The state machine does not write these entries
//! yet; the format is fixed now so that receipts can carry the path.

use crate::crypto::PublicKey;
use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::genesis::validator_set_hash;
use crate::limits::VALIDATORS_MAX;
use borsh::{BorshDeserialize, BorshSerialize};

/// The validators of one epoch, sorted by key bytes: the order in which
/// the engine numbers signers in a certificate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, serde::Serialize)]
pub struct ValidatorSet {
    /// The epoch this set finalizes.
    pub epoch: u64,
    /// The keys, strictly ascending.
    keys: Vec<PublicKey>,
}

/// Why a list of keys is not a validator set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// Above [`VALIDATORS_MAX`].
    #[error("{count} validators are above the limit of {limit}")]
    TooMany {
        /// Keys given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The encoded keys are not strictly ascending (unsorted or repeated).
    #[error("validator keys must be sorted and distinct")]
    NotSorted,
}

impl ValidatorSet {
    /// The set of `keys` (any order; repeats collapse) for `epoch`.
    pub fn new(
        epoch: u64,
        keys: impl IntoIterator<Item = PublicKey>,
    ) -> Result<ValidatorSet, ValidatorSetError> {
        let mut keys: Vec<PublicKey> = keys.into_iter().collect();
        keys.sort();
        keys.dedup();
        ValidatorSet::from_sorted(epoch, keys)
    }

    fn from_sorted(epoch: u64, keys: Vec<PublicKey>) -> Result<ValidatorSet, ValidatorSetError> {
        if keys.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if keys.len() > VALIDATORS_MAX {
            return Err(ValidatorSetError::TooMany {
                count: keys.len(),
                limit: VALIDATORS_MAX,
            });
        }
        if !keys.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(ValidatorSetError::NotSorted);
        }
        Ok(ValidatorSet { epoch, keys })
    }

    /// The keys, sorted.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The hash block headers carry as `validator_set_hash`.
    pub fn hash(&self) -> Digest {
        validator_set_hash(self.keys.iter().copied())
    }

    /// Position of `key` in the set, which is its signer index.
    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.keys.binary_search(key).ok()
    }
}

impl BorshDeserialize for ValidatorSet {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let epoch = u64::deserialize_reader(reader)?;
        let keys = read_bounded_vec(reader, VALIDATORS_MAX)?;
        ValidatorSet::from_sorted(epoch, keys).map_err(|error| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PublicKey {
        PublicKey([byte; 32])
    }

    #[test]
    fn sorted_distinct_and_hashed_like_genesis() {
        let set = ValidatorSet::new(3, [key(9), key(1), key(5), key(1)]).expect("set");
        assert_eq!(set.keys(), &[key(1), key(5), key(9)]);
        assert_eq!(set.hash(), validator_set_hash([key(5), key(9), key(1)]));
        assert_eq!(set.index_of(&key(5)), Some(1));
        let bytes = crate::encoding::encode(&set);
        assert_eq!(
            borsh::from_slice::<ValidatorSet>(&bytes).expect("decode"),
            set
        );
        assert_eq!(ValidatorSet::new(0, []), Err(ValidatorSetError::Empty));
    }

    #[test]
    fn decoding_refuses_unsorted_keys() {
        let unsorted = (7u64, vec![key(2), key(1)]);
        let bytes = borsh::to_vec(&unsorted).expect("encode");
        assert!(borsh::from_slice::<ValidatorSet>(&bytes).is_err());
        let repeated = (7u64, vec![key(2), key(2)]);
        let bytes = borsh::to_vec(&repeated).expect("encode");
        assert!(borsh::from_slice::<ValidatorSet>(&bytes).is_err());
    }
}
