//! Binary Merkle trees over a list of leaves, RFC 6962 style, with inclusion
//! proofs. Used for a block's transactions and their outcomes.
//!
//! Leaf and node hashes carry different prefixes (0x00, 0x01), so a node can
//! never be passed off as a leaf. An odd node at the end of a level is carried
//! up unchanged, as in Certificate Transparency.

use crate::digest::Digest;
use crate::limits::TX_PROOF_DEPTH_MAX;
use borsh::{BorshDeserialize, BorshSerialize};

/// Hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Digest {
    Digest::of_parts(&[&[0x00], data])
}

fn node_hash(left: &Digest, right: &Digest) -> Digest {
    Digest::of_parts(&[&[0x01], &left.0, &right.0])
}

/// Root over already-hashed leaves; `Digest::ZERO` for none.
pub fn root(leaves: &[Digest]) -> Digest {
    if leaves.is_empty() {
        return Digest::ZERO;
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

fn next_level(level: &[Digest]) -> Vec<Digest> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => node_hash(left, right),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two items"),
        })
        .collect()
}

/// Proof that a leaf sits at `index` among `leaf_count` leaves.
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
pub struct InclusionProof {
    /// Position of the leaf.
    pub index: u32,
    /// Number of leaves in the tree.
    pub leaf_count: u32,
    /// Sibling hashes from the leaf upwards, skipping carried-up levels.
    pub siblings: Vec<Digest>,
}

/// Why an inclusion proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionError {
    /// Index outside the tree.
    #[error("leaf index {index} is outside a tree of {leaf_count} leaves")]
    IndexOutOfRange {
        /// Claimed index.
        index: u32,
        /// Claimed size.
        leaf_count: u32,
    },
    /// Wrong number of siblings for the tree shape.
    #[error("proof has {found} siblings, the tree shape needs {expected}")]
    WrongSiblingCount {
        /// Needed.
        expected: usize,
        /// Given.
        found: usize,
    },
    /// The recomputed root differs.
    #[error("recomputed root {computed} does not match {expected}")]
    RootMismatch {
        /// The root the proof should reach.
        expected: Digest,
        /// The root it reached.
        computed: Digest,
    },
}

/// Builds the proof for leaf `index`. Panics if `index` is out of range,
/// which is a caller bug: callers prove leaves they hold.
pub fn prove(leaves: &[Digest], index: usize) -> InclusionProof {
    MerkleTree::new(leaves.to_vec()).prove(index)
}

/// Every level of a tree, kept so that proving many leaves of one tree
/// (every message of a batch) hashes the tree once, not once per leaf.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    /// Leaves first, the root's level last.
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// The tree over already-hashed `leaves`.
    pub fn new(leaves: Vec<Digest>) -> MerkleTree {
        let mut levels = vec![leaves];
        while let Some(level) = levels.last().filter(|level| level.len() > 1) {
            let next = next_level(level);
            levels.push(next);
        }
        MerkleTree { levels }
    }

    /// Its root, as [`root`] computes it.
    pub fn root(&self) -> Digest {
        self.levels
            .last()
            .and_then(|level| level.first())
            .copied()
            .unwrap_or(Digest::ZERO)
    }

    /// How many leaves.
    pub fn leaf_count(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The proof of leaf `index`. Panics if `index` is out of range, which
    /// is a caller bug: callers prove leaves they hold.
    pub fn prove(&self, index: usize) -> InclusionProof {
        assert!(
            index < self.leaf_count(),
            "proving a leaf that is not in the tree"
        );
        let mut siblings = Vec::new();
        let mut position = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = position ^ 1;
            if sibling < level.len() {
                siblings.push(level[sibling]);
            }
            position /= 2;
        }
        InclusionProof {
            index: index as u32,
            leaf_count: self.leaf_count() as u32,
            siblings,
        }
    }
}

impl InclusionProof {
    /// Checks that `leaf` (already hashed) is in the tree with `expected` root.
    pub fn verify(&self, leaf: &Digest, expected: &Digest) -> Result<(), InclusionError> {
        if self.index >= self.leaf_count {
            return Err(InclusionError::IndexOutOfRange {
                index: self.index,
                leaf_count: self.leaf_count,
            });
        }
        let needed = self.sibling_count_needed();
        if needed != self.siblings.len() || needed > TX_PROOF_DEPTH_MAX {
            return Err(InclusionError::WrongSiblingCount {
                expected: needed,
                found: self.siblings.len(),
            });
        }
        let computed = self.walk(*leaf);
        if computed != *expected {
            return Err(InclusionError::RootMismatch {
                expected: *expected,
                computed,
            });
        }
        Ok(())
    }

    fn sibling_count_needed(&self) -> usize {
        let (mut position, mut width, mut count) = (self.index, self.leaf_count, 0);
        while width > 1 {
            if position ^ 1 < width {
                count += 1;
            }
            position /= 2;
            width = width.div_ceil(2);
        }
        count
    }

    fn walk(&self, leaf: Digest) -> Digest {
        let (mut position, mut width) = (self.index, self.leaf_count);
        let mut hash = leaf;
        let mut siblings = self.siblings.iter();
        while width > 1 {
            if position ^ 1 < width {
                // The count was checked against the shape, so a sibling exists.
                let Some(sibling) = siblings.next() else {
                    break;
                };
                hash = if position % 2 == 0 {
                    node_hash(&hash, sibling)
                } else {
                    node_hash(sibling, &hash)
                };
            }
            position /= 2;
            width = width.div_ceil(2);
        }
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(count: usize) -> Vec<Digest> {
        (0..count as u32)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    #[test]
    fn small_roots() {
        assert_eq!(root(&[]), Digest::ZERO);
        let one = leaves(1);
        assert_eq!(root(&one), one[0]);
        let three = leaves(3);
        assert_eq!(
            root(&three),
            node_hash(&node_hash(&three[0], &three[1]), &three[2])
        );
    }

    proptest! {
        #[test]
        fn every_leaf_proves(count in 1usize..70, pick in 0usize..70) {
            let all = leaves(count);
            let index = pick % count;
            let top = root(&all);
            let proof = prove(&all, index);
            prop_assert_eq!(proof.verify(&all[index], &top), Ok(()));
            prop_assert_eq!(MerkleTree::new(all.clone()).root(), top);
            let other = leaf_hash(b"not a leaf");
            prop_assert!(proof.verify(&other, &top).is_err());
            let mut moved = proof.clone();
            moved.index = ((index + 1) % count) as u32;
            if count > 1 {
                prop_assert!(moved.verify(&all[index], &top).is_err());
            }
        }
    }

    #[test]
    fn malformed_proofs_fail_cleanly() {
        let all = leaves(5);
        let top = root(&all);
        let mut proof = prove(&all, 4);
        proof.siblings.push(Digest::ZERO);
        assert!(matches!(
            proof.verify(&all[4], &top),
            Err(InclusionError::WrongSiblingCount { .. })
        ));
        proof.index = 9;
        assert!(matches!(
            proof.verify(&all[4], &top),
            Err(InclusionError::IndexOutOfRange { .. })
        ));
    }
}
