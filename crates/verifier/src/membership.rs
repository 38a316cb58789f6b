//! Membership of an item in an ordered collection, with its position: the
//! proof behind "message 17 of this sensor batch" and "evidence item 3 of
//! this case bundle".
//!
//! Device batches and case bundles do not exist on the chain yet. When they
//! land, each commits its items as the leaves of a Merkle tree (the RFC 6962
//! shape of `cityledger_types::merkle`, the one transactions use), and its
//! root is in a state entry or a transaction. A receipt for one item then is
//! this proof, plus the state or transaction proof of the root, on the same
//! header and finality path as every other receipt. The position is part of
//! what is proven: the same bytes at another index do not verify.

use cityledger_types::Digest;
use cityledger_types::merkle::{InclusionError, InclusionProof, leaf_hash};

/// Checks that `item` is the `proof.index`th of `proof.leaf_count` items
/// committed by `root`, where each leaf is `leaf_hash(item)`.
pub fn verify_member(
    item: &[u8],
    proof: &InclusionProof,
    root: &Digest,
) -> Result<(), InclusionError> {
    proof.verify(&leaf_hash(item), root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityledger_types::merkle::{prove, root};

    #[test]
    fn position_and_content_are_both_proven() {
        let items: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 3]).collect();
        let leaves: Vec<Digest> = items.iter().map(|item| leaf_hash(item)).collect();
        let top = root(&leaves);
        for (index, item) in items.iter().enumerate() {
            let proof = prove(&leaves, index);
            assert_eq!(verify_member(item, &proof, &top), Ok(()));
            let mut moved = proof.clone();
            moved.index = ((index + 1) % items.len()) as u32;
            assert!(verify_member(item, &moved, &top).is_err());
            assert!(verify_member(b"another item", &proof, &top).is_err());
        }
    }
}
