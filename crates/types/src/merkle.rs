//! Binary Merkle trees over a list of leaves, RFC 6962 style, with inclusion
//! proofs. Used for a block's transactions and their outcomes, and (through
//! [`crate::history`]) for the ids of all of a block's ancestors.
//!
//! Leaf and node hashes carry different prefixes (0x00, 0x01), so a node can
//! never be passed off as a leaf. An odd node at the end of a level is carried
//! up unchanged, as in Certificate Transparency; the tree is then RFC 6962's
//! (the left subtree of every node is the largest perfect one that fits).

use crate::digest::Digest;
use crate::limits::TX_PROOF_DEPTH_MAX;
use borsh::{BorshDeserialize, BorshSerialize};

/// Hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Digest {
    Digest::of_parts(&[&[0x00], data])
}

/// Hash of an inner node over its two children.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
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
        index: u64,
        /// Claimed size.
        leaf_count: u64,
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
        verify_path(
            u64::from(self.index),
            u64::from(self.leaf_count),
            &self.siblings,
            TX_PROOF_DEPTH_MAX,
            leaf,
            expected,
        )
    }
}

/// Checks the path of `leaf` at `index` among `leaf_count` leaves, with
/// `siblings` from the leaf upwards, against `expected`; at most
/// `depth_max` siblings. Shared by every tree of this shape, whatever the
/// width of its proof's fields.
pub(crate) fn verify_path(
    index: u64,
    leaf_count: u64,
    siblings: &[Digest],
    depth_max: usize,
    leaf: &Digest,
    expected: &Digest,
) -> Result<(), InclusionError> {
    if index >= leaf_count {
        return Err(InclusionError::IndexOutOfRange { index, leaf_count });
    }
    let needed = sibling_count_needed(index, leaf_count);
    if needed != siblings.len() || needed > depth_max {
        return Err(InclusionError::WrongSiblingCount {
            expected: needed,
            found: siblings.len(),
        });
    }
    let computed = walk(index, leaf_count, *leaf, siblings);
    if computed != *expected {
        return Err(InclusionError::RootMismatch {
            expected: *expected,
            computed,
        });
    }
    Ok(())
}

/// How many siblings the path of leaf `index` among `leaf_count` has: one
/// per level where the node is not carried up alone.
pub(crate) fn sibling_count_needed(index: u64, leaf_count: u64) -> usize {
    let (mut position, mut width, mut count) = (index, leaf_count, 0);
    while width > 1 {
        if position ^ 1 < width {
            count += 1;
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    count
}

fn walk(index: u64, leaf_count: u64, leaf: Digest, siblings: &[Digest]) -> Digest {
    let (mut position, mut width) = (index, leaf_count);
    let mut hash = leaf;
    let mut siblings = siblings.iter();
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
