//! The history accumulator: an append-only Merkle tree over the ids of every
//! ancestor of a block, so that each block's state root commits to its
//! whole past.
//!
//! The tree is [`crate::merkle`]'s (RFC 6962: leaf prefix 0x00, node prefix
//! 0x01), over `leaf_hash(block id)` of blocks 0, 1, 2, … in height order.
//! The state holds only its *peaks* ([`HistoryRecord`], under
//! `StateKey::History`): the roots of its perfect subtrees, largest first,
//! one per set bit of the leaf count. The RFC 6962 root is their right
//! fold, so appending one leaf costs one state write and at most 64
//! hashes, and the state machine never reads an old id.
//!
//! Block `h` appends its parent's id, so after block `h` the tree holds the
//! `h` ids of blocks `0..h`, and "block `a` is an ancestor of block `b`" is
//! one inclusion proof ([`HistoryProof`]) of leaf `a` in the tree of `b`
//! leaves: the consistency proof of Certificate Transparency, checked
//! against a root the validators certified.
//!
//! A node that serves proofs keeps every perfect subtree's root
//! ([`NodePosition`]; [`HistoryRecord::append`] returns the ones each
//! append completes, two per block on average) and builds a proof from
//! them with [`prove`], reading O(log² n) of them.

use crate::digest::Digest;
use crate::encoding::read_bounded_vec;
use crate::limits::{HISTORY_PEAKS_MAX, HISTORY_PROOF_DEPTH_MAX};
use crate::merkle::{self, InclusionError, leaf_hash, node_hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// The leaf of a block in the history tree.
pub fn leaf(block_id: &Digest) -> Digest {
    leaf_hash(&block_id.0)
}

/// The peaks of the history tree, as the state holds them.
#[derive(Clone, Debug, PartialEq, Eq, Default, BorshSerialize, serde::Serialize)]
pub struct HistoryRecord {
    /// Number of leaves (block ids) appended.
    leaf_count: u64,
    /// Roots of the perfect subtrees, largest first; one per set bit of
    /// `leaf_count`.
    peaks: Vec<Digest>,
}

/// Why a list of peaks is not the shape of any tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a history of {leaf_count} blocks has {expected} peaks, not {found}")]
pub struct HistoryShapeError {
    /// The claimed number of leaves.
    pub leaf_count: u64,
    /// Peaks that many leaves have.
    pub expected: usize,
    /// Peaks given.
    pub found: usize,
}

/// Where a perfect subtree sits: the `index`th subtree of `2^level` leaves,
/// covering leaves `index·2^level .. (index+1)·2^level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodePosition {
    /// Height above the leaves; 0 is a leaf.
    pub level: u8,
    /// Position among the subtrees of that level.
    pub index: u64,
}

impl HistoryRecord {
    /// A record from its parts, checked for shape.
    pub fn new(leaf_count: u64, peaks: Vec<Digest>) -> Result<HistoryRecord, HistoryShapeError> {
        let expected = leaf_count.count_ones() as usize;
        if peaks.len() != expected {
            return Err(HistoryShapeError {
                leaf_count,
                expected,
                found: peaks.len(),
            });
        }
        Ok(HistoryRecord { leaf_count, peaks })
    }

    /// Number of block ids in the tree.
    pub fn leaf_count(&self) -> u64 {
        self.leaf_count
    }

    /// The peaks, largest subtree first.
    pub fn peaks(&self) -> &[Digest] {
        &self.peaks
    }

    /// The RFC 6962 root: the right fold of the peaks; `Digest::ZERO` for
    /// an empty tree, as in [`merkle::root`].
    pub fn root(&self) -> Digest {
        let mut peaks = self.peaks.iter().rev();
        let Some(smallest) = peaks.next() else {
            return Digest::ZERO;
        };
        peaks.fold(*smallest, |right, left| node_hash(left, &right))
    }

    /// Appends `leaf` (already hashed, see [`leaf`]) and returns the
    /// perfect subtrees it completes, smallest first: the leaf itself, and
    /// one node per peak it merges with.
    pub fn append(&mut self, leaf: Digest) -> Vec<(NodePosition, Digest)> {
        let position = self.leaf_count;
        let leaf_count = position
            .checked_add(1)
            .expect("a history of 2^64 blocks is beyond any chain");
        let mut completed = vec![(
            NodePosition {
                level: 0,
                index: position,
            },
            leaf,
        )];
        let mut carry = leaf;
        // Each trailing one bit of the old count is a peak of the same size
        // as the carry: merge them, as binary addition carries.
        let mut level = 0u8;
        while (position >> level) & 1 == 1 {
            let left = self
                .peaks
                .pop()
                .expect("a set bit of the leaf count has its peak");
            carry = node_hash(&left, &carry);
            level += 1;
            completed.push((
                NodePosition {
                    level,
                    index: (leaf_count >> level) - 1,
                },
                carry,
            ));
        }
        self.peaks.push(carry);
        self.leaf_count = leaf_count;
        debug_assert_eq!(self.peaks.len(), self.leaf_count.count_ones() as usize);
        completed
    }
}

impl BorshDeserialize for HistoryRecord {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let leaf_count = u64::deserialize_reader(reader)?;
        let peaks = read_bounded_vec(reader, HISTORY_PEAKS_MAX)?;
        HistoryRecord::new(leaf_count, peaks)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))
    }
}

/// Proof that a block id is leaf `index` of a history of `leaf_count`
/// blocks: the siblings from the leaf upwards, as [`merkle::InclusionProof`]
/// but with 64-bit positions (heights).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, serde::Serialize)]
pub struct HistoryProof {
    /// Position of the leaf: the height of the block.
    pub index: u64,
    /// Leaves of the tree: the height of the block whose history it is.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf upwards, skipping carried-up levels.
    pub siblings: Vec<Digest>,
}

impl BorshDeserialize for HistoryProof {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        Ok(HistoryProof {
            index: u64::deserialize_reader(reader)?,
            leaf_count: u64::deserialize_reader(reader)?,
            siblings: read_bounded_vec(reader, HISTORY_PROOF_DEPTH_MAX)?,
        })
    }
}

impl HistoryProof {
    /// Checks that `leaf` (already hashed) is leaf `index` of the tree with
    /// `root`.
    pub fn verify(&self, leaf: &Digest, root: &Digest) -> Result<(), InclusionError> {
        merkle::verify_path(
            self.index,
            self.leaf_count,
            &self.siblings,
            HISTORY_PROOF_DEPTH_MAX,
            leaf,
            root,
        )
    }
}

/// Builds the proof of leaf `index` in a tree of `leaf_count` leaves from
/// the roots of its perfect subtrees, read through `node` (at most a few
/// hundred reads, O(log² n)). Panics if `index` is not below `leaf_count`,
/// which is a caller bug: callers check heights before proving.
///
/// It follows RFC 6962's `PATH(m, D[n])`: split at the largest power of two
/// below the size, recurse into the side holding the leaf, and take the
/// other side's root as the sibling. A left side is always one perfect
/// subtree; a right side is the right fold of its perfect parts.
pub fn prove<E>(
    index: u64,
    leaf_count: u64,
    node: &mut dyn FnMut(NodePosition) -> Result<Digest, E>,
) -> Result<HistoryProof, E> {
    assert!(index < leaf_count, "proving a leaf outside the history");
    let mut siblings = Vec::new();
    let (mut start, mut size) = (0u64, leaf_count);
    // Each round at least halves `size`: at most 64 rounds.
    while size > 1 {
        let split = largest_power_of_two_below(size);
        if index - start < split {
            siblings.push(range_root(start + split, size - split, node)?);
            size = split;
        } else {
            siblings.push(range_root(start, split, node)?);
            start += split;
            size -= split;
        }
    }
    siblings.reverse();
    Ok(HistoryProof {
        index,
        leaf_count,
        siblings,
    })
}

/// The largest power of two strictly below `size` (`size` ≥ 2).
fn largest_power_of_two_below(size: u64) -> u64 {
    1 << (63 - (size - 1).leading_zeros())
}

/// The root of leaves `start .. start + size`, where `start` is a multiple
/// of the largest power of two in `size`: the right fold of its perfect
/// parts, largest first.
fn range_root<E>(
    start: u64,
    size: u64,
    node: &mut dyn FnMut(NodePosition) -> Result<Digest, E>,
) -> Result<Digest, E> {
    let mut parts = Vec::new();
    let mut offset = start;
    for level in (0..64u8).rev() {
        if (size >> level) & 1 == 1 {
            parts.push(node(NodePosition {
                level,
                index: offset >> level,
            })?);
            offset += 1 << level;
        }
    }
    let record = HistoryRecord {
        leaf_count: size,
        peaks: parts,
    };
    Ok(record.root())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn ids(count: u64) -> Vec<Digest> {
        (0..count).map(|i| Digest::of(&i.to_be_bytes())).collect()
    }

    /// The history of `count` ids, with every node its appends completed.
    fn grown(count: u64) -> (HistoryRecord, BTreeMap<NodePosition, Digest>) {
        let mut record = HistoryRecord::default();
        let mut nodes = BTreeMap::new();
        for id in ids(count) {
            nodes.extend(record.append(leaf(&id)));
        }
        (record, nodes)
    }

    fn proof_from(nodes: &BTreeMap<NodePosition, Digest>, index: u64, count: u64) -> HistoryProof {
        prove(index, count, &mut |position| {
            nodes.get(&position).copied().ok_or(position)
        })
        .expect("every node is stored")
    }

    proptest! {
        /// The peaks fold to the root of the whole list, and a proof built
        /// from stored nodes is the one built from the leaves.
        #[test]
        fn peaks_and_proofs_agree_with_the_plain_tree(count in 1u64..300, pick in 0u64..300) {
            let (record, nodes) = grown(count);
            let leaves: Vec<Digest> = ids(count).iter().map(leaf).collect();
            prop_assert_eq!(record.root(), merkle::root(&leaves));
            prop_assert_eq!(record.leaf_count(), count);
            let index = pick % count;
            let proof = proof_from(&nodes, index, count);
            let plain = merkle::prove(&leaves, index as usize);
            prop_assert_eq!(&proof.siblings, &plain.siblings);
            prop_assert_eq!(proof.verify(&leaves[index as usize], &record.root()), Ok(()));
            // Another block at that position, or the block at another, fails.
            prop_assert!(proof.verify(&leaf(&Digest::of(b"fork")), &record.root()).is_err());
            if count > 1 {
                let mut moved = proof.clone();
                moved.index = (index + 1) % count;
                prop_assert!(moved.verify(&leaves[index as usize], &record.root()).is_err());
            }
        }
    }

    #[test]
    fn appends_complete_two_nodes_per_block_on_average() {
        let (_, nodes) = grown(1024);
        // 1024 leaves, 512 pairs, … one root: 2047 perfect subtrees.
        assert_eq!(nodes.len(), 2047);
    }

    #[test]
    fn an_old_root_is_the_fold_of_stored_nodes() {
        // The history at 5 blocks is recoverable from the nodes at 9, which
        // is what lets a node prove consistency for any pair of heights.
        let (five, _) = grown(5);
        let (_, nodes) = grown(9);
        let recomputed = range_root(0, 5, &mut |position| {
            nodes.get(&position).copied().ok_or(position)
        });
        assert_eq!(recomputed, Ok(five.root()));
    }

    #[test]
    fn shapes_are_checked_on_decoding() {
        assert_eq!(HistoryRecord::default().root(), Digest::ZERO);
        let (record, _) = grown(6);
        assert_eq!(record.peaks().len(), 2);
        let bytes = borsh::to_vec(&record).expect("encode");
        assert_eq!(
            borsh::from_slice::<HistoryRecord>(&bytes).expect("decode"),
            record
        );
        let lying = HistoryRecord {
            leaf_count: 7,
            peaks: record.peaks().to_vec(),
        };
        let bytes = borsh::to_vec(&lying).expect("encode");
        assert!(borsh::from_slice::<HistoryRecord>(&bytes).is_err());
        assert_eq!(
            HistoryRecord::new(7, Vec::new()),
            Err(HistoryShapeError {
                leaf_count: 7,
                expected: 3,
                found: 0
            })
        );
    }

    #[test]
    fn malformed_proofs_fail_cleanly() {
        let (record, nodes) = grown(11);
        let root = record.root();
        let target = leaf(&ids(11)[3]);
        let mut proof = proof_from(&nodes, 3, 11);
        proof.siblings.push(Digest::ZERO);
        assert!(matches!(
            proof.verify(&target, &root),
            Err(InclusionError::WrongSiblingCount { .. })
        ));
        proof.index = 11;
        assert!(matches!(
            proof.verify(&target, &root),
            Err(InclusionError::IndexOutOfRange { .. })
        ));
        let too_deep = HistoryProof {
            index: 0,
            leaf_count: 1,
            siblings: vec![Digest::ZERO; HISTORY_PROOF_DEPTH_MAX + 1],
        };
        let bytes = borsh::to_vec(&too_deep).expect("encode");
        assert!(borsh::from_slice::<HistoryProof>(&bytes).is_err());
    }

    #[test]
    fn a_proof_deep_in_a_long_history_stays_small() {
        // A million blocks: 20 siblings, 640 bytes of hashes.
        let count = 1 << 20;
        let proof = prove(12_345, count, &mut |position: NodePosition| {
            Ok::<_, ()>(Digest::of(
                &[&[position.level][..], &position.index.to_be_bytes()].concat(),
            ))
        })
        .expect("synthetic nodes");
        assert_eq!(proof.siblings.len(), 20);
    }
}
