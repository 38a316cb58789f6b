//! The authenticated state of the ledger: a persistent binary Sparse Merkle
//! Tree over SHA-256 key hashes, held in memory, with proofs of presence and
//! absence.
//!
//! This module owns the tree shape, the node and leaf hashes, batched updates
//! and [`StateProof`]. It never does I/O and never reads a clock, and its root
//! depends only on the set of entries, never on the order or batching of the
//! writes that produced it: every version is kept in one canonical shape.
//!
//! # Scheme (Diem/JMT style, binary)
//!
//! - The path of a key is the bits of `Digest::of(key)`, most significant bit
//!   of byte 0 first; bit 0 goes left. Paths are at most [`TREE_DEPTH_MAX`]
//!   levels deep.
//! - Leaf hash: `Digest::of_parts(&[&[0x00], key_hash, Digest::of(value)])`.
//! - Internal node hash: `Digest::of_parts(&[&[0x01], left, right])`.
//! - An empty subtree hashes to [`Digest::ZERO`]; so does the empty tree.
//! - A subtree holding exactly one leaf is that leaf, at whatever depth, so a
//!   path is only as deep as needed to separate its key from the others.
//!
//! # Persistence
//!
//! Versions are immutable and share subtrees through `Arc`; cloning one is
//! O(1). [`SparseMerkleTree::apply`] returns a new version that copies only
//! the nodes on the written paths, and the old version stays valid.
//! [`SparseMerkleTree::apply_in_place`] gives the same result but changes in
//! place the nodes that no other version shares, which is what a node wants
//! when it commits a block and keeps no older version.
//!
//! A node's hash is stored in its parent, beside the pointer to it, so that
//! rehashing a path never visits the siblings it did not change.
//!
//! # Cost sketch (one core, SHA-NI, 1M entries, batches of 20,000 writes)
//!
//! A random key sits about log2(1M) + 1.3 = 21 levels deep. A sorted batch of
//! 20,000 writes touches every node of the top log2(20,000) = 14 levels once;
//! below that the paths are disjoint. That is about 7.3 internal rehashes per
//! write, plus the key, value and leaf hashes: about 19 SHA-256 compression
//! blocks, 1.2 µs at ~65 ns a block. The rest is memory: the private part of a
//! path is ~8 nodes, each a cache miss on a tree of ~300 MB.
//!
//! - `apply_in_place` only reads and rewrites those nodes: 3 to 5 µs a write.
//! - `apply` also allocates ~9 nodes per write, bumps the reference count of
//!   each untouched sibling (another miss), and the old version later frees
//!   as many: 6 to 8 µs a write, plus ~3.5 µs to free it later. With glibc's
//!   allocator, freeing the old version between batches doubles that, as the
//!   allocator consolidates the freed chunks and then serves the next batch
//!   from its slow path; a node binary should use another global allocator,
//!   or set `GLIBC_TUNABLES=glibc.malloc.tcache_count=65535`.
//!
//! `examples/smt_bench.rs` measures these and records the results.

use crate::digest::{DIGEST_LEN, Digest};
use borsh::{BorshDeserialize, BorshSerialize};
use std::fmt;
use std::sync::Arc;

pub use crate::limits::{STATE_PROOF_BYTES_MAX, TREE_DEPTH_MAX};

const _: () = assert!(
    TREE_DEPTH_MAX <= u16::MAX as usize,
    "StateProof stores depth as u16"
);

/// Domain prefix of a leaf hash, so that a leaf can never pass for a node.
const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of an internal node hash.
const INTERNAL_PREFIX: u8 = 0x01;

/// A persistent Sparse Merkle Tree mapping byte keys to byte values.
///
/// Each value of this type is one version of the state; versions share
/// unchanged subtrees, and `clone` is O(1).
#[derive(Clone, Default)]
pub struct SparseMerkleTree {
    root: Subtree,
    len: usize,
}

/// A subtree and its hash. A node's hash is kept beside the pointer to it,
/// in the parent, so that rehashing a parent never has to visit the child it
/// did not change: on a large tree that visit is a cache miss.
#[derive(Clone, Default)]
struct Subtree {
    /// [`Digest::ZERO`] exactly when `node` is `None`.
    hash: Digest,
    node: Option<Node>,
}

/// A non-empty subtree.
#[derive(Clone)]
enum Node {
    Leaf(Arc<Leaf>),
    Internal(Arc<Internal>),
}

/// One entry. Key and value share one allocation: a million entries are a
/// million fewer allocations.
struct Leaf {
    key_hash: Digest,
    key_len: usize,
    key_value: Box<[u8]>,
}

/// A node whose subtree holds at least two leaves; `children[bit]` follows the
/// path bit.
struct Internal {
    children: [Subtree; 2],
}

impl Leaf {
    fn new(key_hash: Digest, key: &[u8], value: &[u8]) -> Leaf {
        Leaf {
            key_hash,
            key_len: key.len(),
            key_value: [key, value].concat().into_boxed_slice(),
        }
    }

    /// Replaces the value, reusing the allocation when the length is the same,
    /// as it is for balances and counters.
    fn set_value(&mut self, value: &[u8]) {
        if self.value().len() == value.len() {
            self.key_value[self.key_len..].copy_from_slice(value);
        } else {
            self.key_value = [self.key(), value].concat().into_boxed_slice();
        }
    }

    fn key(&self) -> &[u8] {
        &self.key_value[..self.key_len]
    }

    fn value(&self) -> &[u8] {
        &self.key_value[self.key_len..]
    }
}

fn leaf_hash(key_hash: &Digest, value_hash: &Digest) -> Digest {
    prefixed_pair_hash(LEAF_PREFIX, key_hash, value_hash)
}

fn internal_hash(left: &Digest, right: &Digest) -> Digest {
    prefixed_pair_hash(INTERNAL_PREFIX, left, right)
}

/// `Digest::of_parts(&[&[prefix], first, second])`, from one contiguous
/// buffer: about 15% faster than three pieces, in the loop that bounds
/// throughput.
fn prefixed_pair_hash(prefix: u8, first: &Digest, second: &Digest) -> Digest {
    let mut bytes = [0u8; 1 + 2 * DIGEST_LEN];
    bytes[0] = prefix;
    bytes[1..=DIGEST_LEN].copy_from_slice(&first.0);
    bytes[1 + DIGEST_LEN..].copy_from_slice(&second.0);
    Digest::of(&bytes)
}

/// Bit `index` of `bytes`, most significant bit of byte 0 first; false past
/// the end, so that reading a bitmap from outside can never panic.
fn bit_at(bytes: &[u8], index: usize) -> bool {
    bytes
        .get(index / 8)
        .is_some_and(|byte| (byte >> (7 - index % 8)) & 1 == 1)
}

/// The child index (0 = left, 1 = right) that `key_hash` takes at `depth`.
fn path_bit(key_hash: &Digest, depth: usize) -> usize {
    usize::from(bit_at(&key_hash.0, depth))
}

/// Whether the first `bits` bits of `a` and `b` are equal (`bits` <= 256).
fn shares_prefix(a: &Digest, b: &Digest, bits: usize) -> bool {
    let whole_bytes = bits / 8;
    if a.0[..whole_bytes] != b.0[..whole_bytes] {
        return false;
    }
    let rest_bits = bits % 8;
    if rest_bits == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rest_bits);
    (a.0[whole_bytes] ^ b.0[whole_bytes]) & mask == 0
}

/// The order of key hashes, which is the order of paths. Same result as
/// `Ord for Digest`, but compares the first eight bytes as one integer, which
/// almost always decides: sorting a batch was a tenth of `apply`.
fn path_order(a: &Digest, b: &Digest) -> std::cmp::Ordering {
    let head = |digest: &Digest| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest.0[..8]);
        u64::from_be_bytes(bytes)
    };
    head(a).cmp(&head(b)).then_with(|| a.0.cmp(&b.0))
}

/// Joins two canonical subtrees under one parent, keeping the result
/// canonical: a subtree with a single leaf is that leaf.
fn join(children: [Subtree; 2]) -> Subtree {
    if holds_two_leaves(&children) {
        Subtree {
            hash: internal_hash(&children[0].hash, &children[1].hash),
            node: Some(Node::Internal(Arc::new(Internal { children }))),
        }
    } else {
        children
            .into_iter()
            .find(|child| child.node.is_some())
            .unwrap_or_default()
    }
}

/// Whether canonical `children` hold at least two leaves between them, and so
/// need an internal node above them.
fn holds_two_leaves(children: &[Subtree; 2]) -> bool {
    !matches!(
        (&children[0].node, &children[1].node),
        (None, None) | (Some(Node::Leaf(_)), None) | (None, Some(Node::Leaf(_)))
    )
}

/// One write of a batch, after hashing.
struct Write {
    key_hash: Digest,
    /// `None` for a delete.
    put: Option<Put>,
}

/// The new entry of a write, and the hash of its leaf.
struct Put {
    leaf_hash: Digest,
    entry: Entry,
}

enum Entry {
    /// From [`SparseMerkleTree::apply_in_place`]: the leaf is allocated only
    /// where the entry is placed, so that a rewrite of an entry that no other
    /// version shares reuses the old leaf and allocates nothing.
    Bytes { key: Vec<u8>, value: Vec<u8> },
    /// From [`SparseMerkleTree::from_entries`]: built at once, so that each
    /// input is freed as it is read rather than holding memory until the end.
    Leaf(Arc<Leaf>),
}

impl Write {
    fn new(key: Vec<u8>, value: Option<Vec<u8>>) -> Write {
        let key_hash = Digest::of(&key);
        let put = value.map(|value| Put {
            leaf_hash: leaf_hash(&key_hash, &Digest::of(&value)),
            entry: Entry::Bytes { key, value },
        });
        Write { key_hash, put }
    }

    fn with_leaf(key: &[u8], value: &[u8]) -> Write {
        let key_hash = Digest::of(key);
        let put = Put {
            leaf_hash: leaf_hash(&key_hash, &Digest::of(value)),
            entry: Entry::Leaf(Arc::new(Leaf::new(key_hash, key, value))),
        };
        Write {
            key_hash,
            put: Some(put),
        }
    }
}

impl Put {
    fn value(&self) -> &[u8] {
        match &self.entry {
            Entry::Bytes { value, .. } => value,
            Entry::Leaf(leaf) => leaf.value(),
        }
    }

    /// The leaf subtree of the entry, allocated now if it was not yet.
    fn to_subtree(&self, key_hash: Digest) -> Subtree {
        let leaf = match &self.entry {
            Entry::Bytes { key, value } => Arc::new(Leaf::new(key_hash, key, value)),
            Entry::Leaf(leaf) => Arc::clone(leaf),
        };
        Subtree {
            hash: self.leaf_hash,
            node: Some(Node::Leaf(leaf)),
        }
    }
}

/// Entries added and removed by one batch, to keep `len` without a recount.
#[derive(Default)]
struct LenChange {
    inserted: usize,
    removed: usize,
}

/// Sorts hashed writes by key hash and keeps the last write to each key. Two
/// keys with the same SHA-256 hash are taken to be the same key.
fn prepare_writes(writes: impl Iterator<Item = Write>) -> Vec<Write> {
    let mut staged: Vec<Write> = writes.collect();
    // A stable sort keeps the batch order among writes to one key, so that
    // the last of them can win.
    staged.sort_by(|a, b| path_order(&a.key_hash, &b.key_hash));
    // `dedup_by` keeps the first of a run; swapping each later write into the
    // kept slot makes the last one win instead.
    staged.dedup_by(|later, kept| {
        let same_key = later.key_hash == kept.key_hash;
        if same_key {
            std::mem::swap(later, kept);
        }
        same_key
    });
    staged
}

/// Number of writes in `writes` (sorted, all under one prefix of `depth`
/// bits) that go left at `depth`.
fn left_count(writes: &[Write], depth: usize) -> usize {
    writes.partition_point(|write| path_bit(&write.key_hash, depth) == 0)
}

/// Applies sorted, deduplicated `writes`, all under the path prefix of
/// `subtree`, to `subtree` at `depth`. Nodes that no other version shares are
/// changed in place, without allocating; shared ones are copied.
fn update_owned(
    mut subtree: Subtree,
    depth: usize,
    writes: &[Write],
    change: &mut LenChange,
) -> Subtree {
    if writes.is_empty() {
        return subtree;
    }
    match &mut subtree.node {
        Some(Node::Internal(internal)) => {
            if let Some(unique) = Arc::get_mut(internal) {
                update_children_in_place(unique, depth, writes, change);
                if !holds_two_leaves(&unique.children) {
                    return join(std::mem::take(&mut unique.children));
                }
                subtree.hash = internal_hash(&unique.children[0].hash, &unique.children[1].hash);
                return subtree;
            }
        }
        Some(Node::Leaf(leaf)) => {
            if let Some(hash) = rewrite_in_place(leaf, writes) {
                subtree.hash = hash;
                return subtree;
            }
        }
        None => {}
    }
    update_shared(&subtree, depth, writes, change)
}

fn update_children_in_place(
    internal: &mut Internal,
    depth: usize,
    writes: &[Write],
    change: &mut LenChange,
) {
    let (left_writes, right_writes) = writes.split_at(left_count(writes, depth));
    let [left, right] = &mut internal.children;
    *left = update_owned(std::mem::take(left), depth + 1, left_writes, change);
    *right = update_owned(std::mem::take(right), depth + 1, right_writes, change);
}

/// The common case of a transfer: `writes` is only a new value for the key of
/// `leaf`, which no other version shares. Sets the value in place and returns
/// the new leaf hash; otherwise changes nothing and returns `None`.
fn rewrite_in_place(leaf: &mut Arc<Leaf>, writes: &[Write]) -> Option<Digest> {
    let [write] = writes else {
        return None;
    };
    let put = write.put.as_ref()?;
    if write.key_hash != leaf.key_hash {
        return None;
    }
    Arc::get_mut(leaf)?.set_value(put.value());
    Some(put.leaf_hash)
}

/// Like [`update_owned`], for a subtree that another version may share: it
/// is left as it is, and changed nodes are copied.
fn update_shared(
    subtree: &Subtree,
    depth: usize,
    writes: &[Write],
    change: &mut LenChange,
) -> Subtree {
    if writes.is_empty() {
        return subtree.clone();
    }
    match &subtree.node {
        None => build(depth, writes, None, change),
        Some(Node::Leaf(leaf)) => update_leaf(subtree, leaf, depth, writes, change),
        Some(Node::Internal(internal)) => update_internal(subtree, internal, depth, writes, change),
    }
}

/// Applies `writes` to a subtree that is one leaf, by rebuilding the subtree
/// from the writes and the leaf, unless the writes replace or delete it.
fn update_leaf(
    subtree: &Subtree,
    leaf: &Leaf,
    depth: usize,
    writes: &[Write],
    change: &mut LenChange,
) -> Subtree {
    let rewritten = writes
        .binary_search_by(|write| path_order(&write.key_hash, &leaf.key_hash))
        .is_ok();
    if rewritten {
        // The batch replaces or deletes this entry; a replacement is counted
        // again as inserted when `build` places it.
        change.removed += 1;
        build(depth, writes, None, change)
    } else {
        build(
            depth,
            writes,
            Some((leaf.key_hash, subtree.clone())),
            change,
        )
    }
}

/// Applies `writes` to an internal node by copying it, sharing the children
/// that no write reaches.
fn update_internal(
    subtree: &Subtree,
    internal: &Internal,
    depth: usize,
    writes: &[Write],
    change: &mut LenChange,
) -> Subtree {
    let (left_writes, right_writes) = writes.split_at(left_count(writes, depth));
    let [left, right] = &internal.children;
    let children = [
        update_shared(left, depth + 1, left_writes, change),
        update_shared(right, depth + 1, right_writes, change),
    ];
    if children[0].hash == left.hash && children[1].hash == right.hash {
        // Rewrites with equal values and deletes of absent keys keep the old
        // node, so that versions keep sharing it.
        return subtree.clone();
    }
    join(children)
}

/// Builds the canonical subtree at `depth` holding the puts of `writes` and
/// `carried`, an existing leaf (with its key hash) that none of `writes`
/// touches. Deletes in `writes` are of absent keys and change nothing.
fn build(
    depth: usize,
    writes: &[Write],
    carried: Option<(Digest, Subtree)>,
    change: &mut LenChange,
) -> Subtree {
    let mut puts = writes
        .iter()
        .filter_map(|write| Some((write.key_hash, write.put.as_ref()?)));
    match (carried, puts.next(), puts.next()) {
        (None, None, _) => Subtree::default(),
        (Some((_, carried)), None, _) => carried,
        (None, Some((key_hash, only)), None) => {
            change.inserted += 1;
            only.to_subtree(key_hash)
        }
        (carried, _, _) => split(depth, writes, carried, change),
    }
}

/// Builds an internal level for at least two leaves, which must differ within
/// the remaining bits because their key hashes are distinct.
fn split(
    depth: usize,
    writes: &[Write],
    carried: Option<(Digest, Subtree)>,
    change: &mut LenChange,
) -> Subtree {
    assert!(
        depth < TREE_DEPTH_MAX,
        "two distinct key hashes cannot share all {TREE_DEPTH_MAX} bits"
    );
    let (left_writes, right_writes) = writes.split_at(left_count(writes, depth));
    let (left_carried, right_carried) = match carried {
        Some((key_hash, leaf)) if path_bit(&key_hash, depth) == 1 => (None, Some((key_hash, leaf))),
        carried => (carried, None),
    };
    join([
        build(depth + 1, left_writes, left_carried, change),
        build(depth + 1, right_writes, right_carried, change),
    ])
}

impl SparseMerkleTree {
    /// The empty tree, whose root is [`Digest::ZERO`].
    pub fn new() -> Self {
        SparseMerkleTree::default()
    }

    /// The root hash that commits to every entry.
    pub fn root(&self) -> Digest {
        self.root.hash
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let key_hash = Digest::of(key);
        let mut subtree = &self.root;
        for depth in 0..=TREE_DEPTH_MAX {
            match subtree.node.as_ref()? {
                Node::Leaf(leaf) => return (leaf.key() == key).then(|| leaf.value()),
                Node::Internal(internal) => {
                    subtree = &internal.children[path_bit(&key_hash, depth)];
                }
            }
        }
        unreachable!("a path has at most {TREE_DEPTH_MAX} internal nodes")
    }

    /// Applies a batch of writes (None = delete) and returns the new version;
    /// self is unchanged.
    ///
    /// Later writes to the same key in the batch win. Deleting an absent key
    /// is a no-op. The writes are sorted by key hash and applied in one
    /// descent, so a node shared by several written paths is rehashed once.
    #[must_use = "apply returns the new version and leaves self unchanged"]
    pub fn apply<I: IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>>(
        &self,
        writes: I,
    ) -> SparseMerkleTree {
        // The clone shares every node with self, so the descent copies each
        // node it changes and self stays as it was.
        let mut next = self.clone();
        next.apply_in_place(writes);
        next
    }

    /// Same result as `*self = self.apply(writes)`, but nodes that no other
    /// version shares are changed in place instead of being copied and then
    /// freed with the old version: two to four times as fast. Nodes shared
    /// with a clone are copied, so clones never change.
    ///
    /// Use it on the commit path, where the old version is not kept. If it
    /// panics (a broken invariant), `self` is left empty.
    pub fn apply_in_place<I: IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>>(
        &mut self,
        writes: I,
    ) {
        let writes = writes
            .into_iter()
            .map(|(key, value)| Write::new(key, value));
        self.apply_writes(prepare_writes(writes));
    }

    fn apply_writes(&mut self, writes: Vec<Write>) {
        let mut change = LenChange::default();
        self.root = update_owned(std::mem::take(&mut self.root), 0, &writes, &mut change);
        self.len = (self.len + change.inserted)
            .checked_sub(change.removed)
            .expect("a batch cannot remove more entries than the tree holds");
    }

    /// Builds a tree from `entries` in one pass, O(n log n); later entries
    /// with the same key win. Same result as applying them to an empty tree.
    pub fn from_entries<I: IntoIterator<Item = (Vec<u8>, Vec<u8>)>>(entries: I) -> Self {
        let writes = entries
            .into_iter()
            .map(|(key, value)| Write::with_leaf(&key, &value));
        let mut tree = SparseMerkleTree::new();
        tree.apply_writes(prepare_writes(writes));
        tree
    }

    /// A proof of the value of `key`, or of its absence, against
    /// [`Self::root`].
    pub fn prove(&self, key: &[u8]) -> StateProof {
        let key_hash = Digest::of(key);
        let mut proof = StateProof::default();
        let mut subtree = &self.root;
        while let Some(Node::Internal(internal)) = &subtree.node {
            let bit = path_bit(&key_hash, proof.depth());
            proof.push_sibling(internal.children[1 - bit].hash);
            subtree = &internal.children[bit];
        }
        if let Some(Node::Leaf(leaf)) = &subtree.node {
            proof.leaf = Some(ProofLeaf {
                key_hash: leaf.key_hash,
                value_hash: Digest::of(leaf.value()),
            });
        }
        proof
    }

    /// All entries as (key, value), in the order of their key hashes.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        Iter {
            stack: self.root.node.iter().collect(),
        }
    }
}

impl fmt::Debug for SparseMerkleTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparseMerkleTree")
            .field("root", &self.root())
            .field("len", &self.len)
            .finish()
    }
}

/// Depth-first, left before right; the stack never holds more than one
/// pending right child per level, so at most `TREE_DEPTH_MAX + 1` nodes.
struct Iter<'a> {
    stack: Vec<&'a Node>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(node) = self.stack.pop() {
            match node {
                Node::Leaf(leaf) => return Some((leaf.key(), leaf.value())),
                Node::Internal(internal) => {
                    let children = internal.children.iter().rev();
                    self.stack
                        .extend(children.filter_map(|child| child.node.as_ref()));
                }
            }
        }
        None
    }
}

/// A proof that a key maps to a value, or is absent, in the tree with a given
/// root.
///
/// It lists the path's siblings from the root down to the terminal, the
/// subtree where the path ends: a leaf, or an empty subtree. Empty siblings
/// are common on sparse paths, so they are not stored: bit `d` of
/// `sibling_bitmap` (most significant bit of byte 0 first) says whether the
/// sibling at depth `d` is non-empty and stored in `siblings`.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct StateProof {
    /// Number of internal levels from the root to the terminal.
    depth: u16,
    /// `depth.div_ceil(8)` bytes; unused trailing bits are zero.
    sibling_bitmap: Vec<u8>,
    /// The non-empty siblings, root first.
    siblings: Vec<Digest>,
    /// The leaf where the path ends, or `None` if it ends at an empty subtree.
    leaf: Option<ProofLeaf>,
}

/// The leaf that ends a proof's path; its key may differ from the proven key
/// in a proof of absence.
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
struct ProofLeaf {
    key_hash: Digest,
    value_hash: Digest,
}

/// Why a [`StateProof`] does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The path is deeper than a key hash has bits.
    #[error("proof path has {depth} levels, above the limit of {max}")]
    TooDeep {
        /// Claimed depth.
        depth: usize,
        /// [`TREE_DEPTH_MAX`].
        max: usize,
    },
    /// The sibling bitmap has the wrong length for the depth, or marks
    /// siblings below the depth.
    #[error("sibling bitmap of {found} bytes is malformed for depth {depth}")]
    MalformedBitmap {
        /// Claimed depth.
        depth: usize,
        /// Bitmap length in bytes.
        found: usize,
    },
    /// The number of stored siblings differs from the bitmap's count.
    #[error("proof stores {found} siblings, its bitmap marks {expected}")]
    MalformedSiblings {
        /// Siblings marked non-empty in the bitmap.
        expected: usize,
        /// Siblings stored.
        found: usize,
    },
    /// A stored sibling is the empty digest, which must be marked in the
    /// bitmap instead; rejected so that each proof has one encoding.
    #[error("sibling at depth {depth} is stored but empty")]
    EmptySiblingStored {
        /// Depth of the sibling.
        depth: usize,
    },
    /// A value was claimed, but the path ends at an empty subtree.
    #[error("proof shows the key is absent")]
    KeyAbsent,
    /// A value was claimed, but the path ends at another key's leaf.
    #[error("proof ends at the leaf of key hash {found}, not {expected}")]
    LeafKeyMismatch {
        /// Hash of the proven key.
        expected: Digest,
        /// Key hash in the proof's leaf.
        found: Digest,
    },
    /// Absence was claimed, but the path ends at the key's own leaf.
    #[error("proof shows the key is present")]
    KeyPresent,
    /// The claimed value is not the one in the proof's leaf.
    #[error("value hash {found} in the proof differs from the claimed value's hash {expected}")]
    ValueMismatch {
        /// Hash of the claimed value.
        expected: Digest,
        /// Value hash in the proof's leaf.
        found: Digest,
    },
    /// Absence was claimed through another key's leaf that does not lie on
    /// the key's path.
    #[error("leaf key hash does not share the first {depth} path bits of the key")]
    LeafOffPath {
        /// Depth of the leaf.
        depth: usize,
    },
    /// The recomputed root is not the expected one.
    #[error("recomputed root {computed} does not match {expected}")]
    RootMismatch {
        /// The root the proof should reach.
        expected: Digest,
        /// The root it reached.
        computed: Digest,
    },
}

impl StateProof {
    /// Verifies against `root` that `key` maps to `value` (Some) or is absent
    /// (None).
    ///
    /// The proof may come from outside: its shape is checked before any
    /// hashing, and no input makes this panic.
    pub fn verify(
        &self,
        root: &Digest,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), ProofError> {
        self.check_shape()?;
        let key_hash = Digest::of(key);
        let terminal = self.terminal_hash(&key_hash, value)?;
        let computed = self.computed_root(&key_hash, terminal)?;
        if computed != *root {
            return Err(ProofError::RootMismatch {
                expected: *root,
                computed,
            });
        }
        Ok(())
    }

    /// Number of internal levels from the root to where the path ends.
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }

    fn push_sibling(&mut self, sibling: Digest) {
        let depth = self.depth();
        assert!(
            depth < TREE_DEPTH_MAX,
            "tree deeper than a key hash has bits"
        );
        if depth.is_multiple_of(8) {
            self.sibling_bitmap.push(0);
        }
        if sibling != Digest::ZERO {
            let last = self.sibling_bitmap.len() - 1;
            self.sibling_bitmap[last] |= 0x80 >> (depth % 8);
            self.siblings.push(sibling);
        }
        self.depth += 1;
    }

    fn check_shape(&self) -> Result<(), ProofError> {
        let depth = self.depth();
        if depth > TREE_DEPTH_MAX {
            return Err(ProofError::TooDeep {
                depth,
                max: TREE_DEPTH_MAX,
            });
        }
        // The length is checked first, so that at most 7 bits are scanned.
        let malformed = self.sibling_bitmap.len() != depth.div_ceil(8)
            || (depth..self.sibling_bitmap.len() * 8)
                .any(|index| bit_at(&self.sibling_bitmap, index));
        if malformed {
            return Err(ProofError::MalformedBitmap {
                depth,
                found: self.sibling_bitmap.len(),
            });
        }
        let marked: usize = self
            .sibling_bitmap
            .iter()
            .map(|byte| byte.count_ones() as usize)
            .sum();
        if self.siblings.len() != marked {
            return Err(ProofError::MalformedSiblings {
                expected: marked,
                found: self.siblings.len(),
            });
        }
        Ok(())
    }

    /// The hash of the subtree where the path ends, after checking that it
    /// supports the claim about `key_hash`.
    fn terminal_hash(&self, key_hash: &Digest, value: Option<&[u8]>) -> Result<Digest, ProofError> {
        match (&self.leaf, value) {
            (None, None) => Ok(Digest::ZERO),
            (None, Some(_)) => Err(ProofError::KeyAbsent),
            (Some(leaf), Some(value)) => {
                if leaf.key_hash != *key_hash {
                    return Err(ProofError::LeafKeyMismatch {
                        expected: *key_hash,
                        found: leaf.key_hash,
                    });
                }
                let value_hash = Digest::of(value);
                if leaf.value_hash != value_hash {
                    return Err(ProofError::ValueMismatch {
                        expected: value_hash,
                        found: leaf.value_hash,
                    });
                }
                Ok(leaf_hash(&leaf.key_hash, &leaf.value_hash))
            }
            (Some(leaf), None) => {
                if leaf.key_hash == *key_hash {
                    return Err(ProofError::KeyPresent);
                }
                // Another key's leaf proves absence only where it stands for
                // the whole subtree on the key's path.
                if !shares_prefix(&leaf.key_hash, key_hash, self.depth()) {
                    return Err(ProofError::LeafOffPath {
                        depth: self.depth(),
                    });
                }
                Ok(leaf_hash(&leaf.key_hash, &leaf.value_hash))
            }
        }
    }

    /// Hashes from the terminal up to the root along the path of `key_hash`.
    /// Expects a checked shape.
    fn computed_root(&self, key_hash: &Digest, terminal: Digest) -> Result<Digest, ProofError> {
        let mut stored = self.siblings.iter().rev();
        let mut hash = terminal;
        for depth in (0..self.depth()).rev() {
            let sibling = if bit_at(&self.sibling_bitmap, depth) {
                match stored.next() {
                    Some(&Digest::ZERO) => return Err(ProofError::EmptySiblingStored { depth }),
                    Some(sibling) => *sibling,
                    None => {
                        return Err(ProofError::MalformedSiblings {
                            expected: self.siblings.len() + 1,
                            found: self.siblings.len(),
                        });
                    }
                }
            } else {
                Digest::ZERO
            };
            hash = match path_bit(key_hash, depth) {
                0 => internal_hash(&hash, &sibling),
                _ => internal_hash(&sibling, &hash),
            };
        }
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Model = BTreeMap<Vec<u8>, Vec<u8>>;
    type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

    fn put(key: &[u8], value: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
        (key.to_vec(), Some(value.to_vec()))
    }

    fn delete(key: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
        (key.to_vec(), None)
    }

    /// The leaf hash as the scheme states it, independent of the tree code.
    fn entry_hash(key: &[u8], value: &[u8]) -> Digest {
        Digest::of_parts(&[&[0x00], &Digest::of(key).0, &Digest::of(value).0])
    }

    /// The internal node hash as the scheme states it.
    fn node_hash(left: &Digest, right: &Digest) -> Digest {
        Digest::of_parts(&[&[0x01], &left.0, &right.0])
    }

    /// The scheme written out plainly, independent of the tree's nodes:
    /// split the sorted (key hash, leaf hash) list by bit until one is left.
    fn reference_root(model: &Model) -> Digest {
        let mut leaves: Vec<(Digest, Digest)> = model
            .iter()
            .map(|(key, value)| (Digest::of(key), entry_hash(key, value)))
            .collect();
        leaves.sort();
        reference_subtree(&leaves, 0)
    }

    fn reference_subtree(leaves: &[(Digest, Digest)], depth: usize) -> Digest {
        match leaves {
            [] => Digest::ZERO,
            [(_, only)] => *only,
            _ => {
                let (left, right): (Vec<_>, Vec<_>) = leaves
                    .iter()
                    .partition(|(key_hash, _)| !bit_at(&key_hash.0, depth));
                node_hash(
                    &reference_subtree(&left, depth + 1),
                    &reference_subtree(&right, depth + 1),
                )
            }
        }
    }

    /// Recomputes every hash and checks the canonical shape and `len`.
    fn assert_well_formed(tree: &SparseMerkleTree) {
        fn visit(subtree: &Subtree, prefix: &Digest, depth: usize) -> usize {
            match &subtree.node {
                None => {
                    assert_eq!(subtree.hash, Digest::ZERO);
                    0
                }
                Some(Node::Leaf(leaf)) => {
                    assert!(shares_prefix(&leaf.key_hash, prefix, depth));
                    assert_eq!(leaf.key_hash, Digest::of(leaf.key()));
                    assert_eq!(subtree.hash, entry_hash(leaf.key(), leaf.value()));
                    1
                }
                Some(Node::Internal(internal)) => {
                    let [left, right] = &internal.children;
                    assert!(
                        holds_two_leaves(&internal.children),
                        "internal node with fewer than two leaves"
                    );
                    assert_eq!(subtree.hash, node_hash(&left.hash, &right.hash));
                    let mut right_prefix = *prefix;
                    right_prefix.0[depth / 8] |= 0x80 >> (depth % 8);
                    visit(left, prefix, depth + 1) + visit(right, &right_prefix, depth + 1)
                }
            }
        }
        assert_eq!(visit(&tree.root, &Digest::ZERO, 0), tree.len());
    }

    fn apply_all(batches: &[Batch]) -> SparseMerkleTree {
        batches.iter().fold(SparseMerkleTree::new(), |tree, batch| {
            tree.apply(batch.clone())
        })
    }

    /// Root of the two-entry tree, hashed by hand along the shared prefix.
    fn two_entry_root(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> Digest {
        let (hash_a, hash_b) = (Digest::of(a.0), Digest::of(b.0));
        let split_depth = (0..TREE_DEPTH_MAX)
            .find(|&depth| path_bit(&hash_a, depth) != path_bit(&hash_b, depth))
            .expect("distinct hashes");
        let (leaf_a, leaf_b) = (entry_hash(a.0, a.1), entry_hash(b.0, b.1));
        let mut hash = match path_bit(&hash_a, split_depth) {
            0 => node_hash(&leaf_a, &leaf_b),
            _ => node_hash(&leaf_b, &leaf_a),
        };
        for depth in (0..split_depth).rev() {
            hash = match path_bit(&hash_a, depth) {
                0 => node_hash(&hash, &Digest::ZERO),
                _ => node_hash(&Digest::ZERO, &hash),
            };
        }
        hash
    }

    #[test]
    fn roots_of_small_trees() {
        let check = |name: &str, batches: Vec<Batch>, expected: Digest, len: usize| {
            let tree = apply_all(&batches);
            assert_eq!(tree.root(), expected, "{name}");
            assert_eq!(tree.len(), len, "{name}");
            assert_eq!(tree.is_empty(), len == 0, "{name}");
            assert_well_formed(&tree);
            let mut in_place = SparseMerkleTree::new();
            for batch in &batches {
                in_place.apply_in_place(batch.clone());
            }
            assert_eq!(in_place.root(), expected, "{name}, in place");
            assert_eq!(in_place.len(), len, "{name}, in place");
        };
        let two = two_entry_root((b"alice", b"10"), (b"bob", b"20"));
        // Two keys whose paths share the first 8 bits: the root is a chain of
        // internal nodes with one empty child each.
        let near = (1u32..)
            .map(|i| format!("k{i}").into_bytes())
            .find(|key| shares_prefix(&Digest::of(key), &Digest::of(b"k0"), 8))
            .expect("one key in 256 shares 8 bits");
        check(
            "two keys sharing 8 path bits",
            vec![vec![put(b"k0", b"1"), put(&near, b"2")]],
            two_entry_root((b"k0", b"1"), (&near, b"2")),
            2,
        );
        check("empty", vec![], Digest::ZERO, 0);
        check("empty batch", vec![vec![]], Digest::ZERO, 0);
        check(
            "delete absent",
            vec![vec![delete(b"alice")]],
            Digest::ZERO,
            0,
        );
        check(
            "one entry",
            vec![vec![put(b"alice", b"10")]],
            entry_hash(b"alice", b"10"),
            1,
        );
        check(
            "empty value",
            vec![vec![put(b"alice", b"")]],
            entry_hash(b"alice", b""),
            1,
        );
        check(
            "two keys",
            vec![vec![put(b"alice", b"10"), put(b"bob", b"20")]],
            two,
            2,
        );
        check(
            "two keys, two batches",
            vec![vec![put(b"bob", b"20")], vec![put(b"alice", b"10")]],
            two,
            2,
        );
        check(
            "last write wins",
            vec![vec![
                put(b"alice", b"1"),
                put(b"alice", b"10"),
                put(b"bob", b"20"),
            ]],
            two,
            2,
        );
        check(
            "overwrite",
            vec![
                vec![put(b"alice", b"1"), put(b"bob", b"20")],
                vec![put(b"alice", b"10")],
            ],
            two,
            2,
        );
        check(
            "put then delete in one batch",
            vec![vec![put(b"alice", b"1"), delete(b"alice")]],
            Digest::ZERO,
            0,
        );
        check(
            "delete then put in one batch",
            vec![vec![delete(b"alice"), put(b"alice", b"10")]],
            entry_hash(b"alice", b"10"),
            1,
        );
        check(
            "delete back to empty",
            vec![
                vec![put(b"alice", b"10"), put(b"bob", b"20")],
                vec![delete(b"alice"), delete(b"bob")],
            ],
            Digest::ZERO,
            0,
        );
        check(
            "delete collapses to one leaf",
            vec![
                vec![
                    put(b"alice", b"10"),
                    put(b"bob", b"20"),
                    put(b"carol", b"30"),
                ],
                vec![delete(b"carol"), delete(b"bob")],
            ],
            entry_hash(b"alice", b"10"),
            1,
        );
    }

    /// Pins the scheme: a change here is a change of every state root.
    #[test]
    fn pinned_root() {
        let tree = SparseMerkleTree::from_entries([
            (b"alice".to_vec(), b"10".to_vec()),
            (b"bob".to_vec(), b"20".to_vec()),
            (b"carol".to_vec(), b"30".to_vec()),
        ]);
        // Cross-checked against an independent Python implementation of the scheme.
        assert_eq!(
            tree.root().to_hex(),
            "f20577cd5250749d0ad240102da3a5d64c47789e5f382bc8c3b563ceef1e6864"
        );
    }

    #[test]
    fn get_and_iter() {
        let tree = SparseMerkleTree::from_entries(
            (0u32..100).map(|i| (i.to_be_bytes().to_vec(), (i * 7).to_be_bytes().to_vec())),
        );
        for i in 0u32..100 {
            assert_eq!(tree.get(&i.to_be_bytes()), Some(&(i * 7).to_be_bytes()[..]));
        }
        assert_eq!(tree.get(&100u32.to_be_bytes()), None);
        let key_hashes: Vec<Digest> = tree.iter().map(|(key, _)| Digest::of(key)).collect();
        assert_eq!(key_hashes.len(), 100);
        assert!(key_hashes.windows(2).all(|pair| pair[0] < pair[1]));
    }

    /// A tree of two keys and an absent key whose path ends at one of them.
    fn absent_key_ending_at_leaf() -> (SparseMerkleTree, Vec<u8>) {
        let tree = SparseMerkleTree::from_entries([
            (b"alice".to_vec(), b"10".to_vec()),
            (b"bob".to_vec(), b"20".to_vec()),
        ]);
        let absent = (0u32..)
            .map(|i| format!("absent-{i}").into_bytes())
            .find(|key| tree.prove(key).leaf.is_some())
            .expect("half of all keys end at a leaf");
        (tree, absent)
    }

    #[test]
    fn absence_through_another_leaf() {
        let (tree, absent) = absent_key_ending_at_leaf();
        let proof = tree.prove(&absent);
        assert!(proof.depth() >= 1);
        assert_eq!(proof.verify(&tree.root(), &absent, None), Ok(()));
        assert!(matches!(
            proof.verify(&tree.root(), &absent, Some(b"10")),
            Err(ProofError::LeafKeyMismatch { .. })
        ));
        // The same leaf, moved off the key's path: it no longer speaks for
        // the subtree the key would live in.
        let mut moved = proof.clone();
        if let Some(leaf) = moved.leaf.as_mut() {
            leaf.key_hash.0[0] ^= 0x80;
        }
        assert_eq!(
            moved.verify(&tree.root(), &absent, None),
            Err(ProofError::LeafOffPath {
                depth: proof.depth()
            })
        );
    }

    #[test]
    fn presence_proof_is_no_absence_proof_for_a_key_off_its_path() {
        let tree =
            SparseMerkleTree::from_entries((0u32..64).map(|i| (i.to_be_bytes().to_vec(), vec![1])));
        let proof = tree.prove(&7u32.to_be_bytes());
        let key_hash = Digest::of(&7u32.to_be_bytes());
        let elsewhere = (1000u32..)
            .map(|i| i.to_be_bytes())
            .find(|key| !shares_prefix(&Digest::of(key), &key_hash, proof.depth()))
            .expect("most keys leave the path early");
        assert_eq!(
            proof.verify(&tree.root(), &elsewhere, None),
            Err(ProofError::LeafOffPath {
                depth: proof.depth()
            })
        );
    }

    #[test]
    fn borsh_round_trip() {
        let (tree, absent) = absent_key_ending_at_leaf();
        for (key, value) in [(&b"alice"[..], Some(&b"10"[..])), (&absent[..], None)] {
            let proof = tree.prove(key);
            let bytes = borsh::to_vec(&proof).expect("encode");
            let decoded = StateProof::try_from_slice(&bytes).expect("decode");
            assert_eq!(decoded, proof);
            assert_eq!(decoded.verify(&tree.root(), key, value), Ok(()));
        }
    }

    fn decoded(proof: &StateProof) -> StateProof {
        StateProof::try_from_slice(&borsh::to_vec(proof).expect("encode")).expect("decode")
    }

    #[test]
    fn largest_proof_fits_the_byte_limit() {
        let largest = StateProof {
            depth: TREE_DEPTH_MAX as u16,
            sibling_bitmap: vec![0xFF; TREE_DEPTH_MAX / 8],
            siblings: vec![Digest::of(b"sibling"); TREE_DEPTH_MAX],
            leaf: Some(ProofLeaf {
                key_hash: Digest::of(b"key"),
                value_hash: Digest::of(b"value"),
            }),
        };
        let bytes = crate::encoding::encode(&largest);
        assert_eq!(bytes.len(), STATE_PROOF_BYTES_MAX);
        let decoded: StateProof =
            crate::encoding::decode_exact(&bytes, "state proof", STATE_PROOF_BYTES_MAX)
                .expect("the largest proof decodes");
        assert_eq!(decoded, largest);
    }

    #[test]
    fn oversized_proofs_are_rejected() {
        let root = Digest::of(b"any root");
        let siblings = vec![Digest::of(b"sibling"); 300];
        let too_deep = decoded(&StateProof {
            depth: 300,
            sibling_bitmap: vec![0xFF; 38],
            siblings: siblings.clone(),
            leaf: None,
        });
        assert_eq!(
            too_deep.verify(&root, b"key", None),
            Err(ProofError::TooDeep {
                depth: 300,
                max: 256
            })
        );
        let too_many = decoded(&StateProof {
            depth: 256,
            sibling_bitmap: vec![0xFF; 32],
            siblings,
            leaf: None,
        });
        assert_eq!(
            too_many.verify(&root, b"key", None),
            Err(ProofError::MalformedSiblings {
                expected: 256,
                found: 300
            })
        );
    }

    #[test]
    fn malformed_proofs_are_rejected() {
        let tree =
            SparseMerkleTree::from_entries((0u32..64).map(|i| (i.to_be_bytes().to_vec(), vec![1])));
        let key = 5u32.to_be_bytes();
        let proof = tree.prove(&key);
        let root = tree.root();
        let check = |name: &str, edit: &dyn Fn(&mut StateProof), expected: ProofError| {
            let mut bad = proof.clone();
            edit(&mut bad);
            assert_eq!(bad.verify(&root, &key, Some(&[1])), Err(expected), "{name}");
        };
        let depth = proof.depth();
        let bitmap_len = proof.sibling_bitmap.len();
        check(
            "short bitmap",
            &|p| {
                p.sibling_bitmap.pop();
            },
            ProofError::MalformedBitmap {
                depth,
                found: bitmap_len - 1,
            },
        );
        check(
            "bit past depth",
            &|p| p.sibling_bitmap.push(0x80),
            ProofError::MalformedBitmap {
                depth,
                found: bitmap_len + 1,
            },
        );
        check(
            "extra sibling",
            &|p| p.siblings.push(Digest::of(b"x")),
            ProofError::MalformedSiblings {
                expected: proof.siblings.len(),
                found: proof.siblings.len() + 1,
            },
        );
        check(
            "empty sibling stored",
            &|p| p.siblings[0] = Digest::ZERO,
            ProofError::EmptySiblingStored { depth: 0 },
        );
        check("no leaf", &|p| p.leaf = None, ProofError::KeyAbsent);
    }

    /// Keys from a small space, so that batches overwrite and delete.
    fn key(index: u16) -> Vec<u8> {
        format!("key-{index}").into_bytes()
    }

    fn write_strategy() -> impl Strategy<Value = (Vec<u8>, Option<Vec<u8>>)> {
        (
            0u16..120,
            prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..6)),
        )
            .prop_map(|(index, value)| (key(index), value))
    }

    fn apply_to_model(model: &mut Model, batch: &[(Vec<u8>, Option<Vec<u8>>)]) {
        for (key, value) in batch {
            match value {
                Some(value) => model.insert(key.clone(), value.clone()),
                None => model.remove(key),
            };
        }
    }

    fn assert_matches_model(tree: &SparseMerkleTree, model: &Model) {
        assert_eq!(tree.root(), reference_root(model));
        assert_eq!(tree.len(), model.len());
        for index in 0..130 {
            let key = key(index);
            assert_eq!(tree.get(&key), model.get(&key).map(Vec::as_slice));
        }
    }

    proptest! {
        #[test]
        fn matches_model_in_any_batching(
            writes in prop::collection::vec(write_strategy(), 0..200),
            batch_len in 1usize..40,
        ) {
            let mut tree = SparseMerkleTree::new();
            let mut model = Model::new();
            let mut versions = vec![(tree.clone(), model.clone())];
            for batch in writes.chunks(batch_len) {
                tree = tree.apply(batch.to_vec());
                apply_to_model(&mut model, batch);
                assert_well_formed(&tree);
                versions.push((tree.clone(), model.clone()));
            }
            // In place, keeping a clone after every other batch, so that the
            // descent meets both nodes it owns alone and nodes a clone shares.
            let mut in_place = SparseMerkleTree::new();
            let mut in_place_model = Model::new();
            for (index, batch) in writes.chunks(batch_len).enumerate() {
                in_place.apply_in_place(batch.to_vec());
                apply_to_model(&mut in_place_model, batch);
                assert_well_formed(&in_place);
                if index % 2 == 0 {
                    versions.push((in_place.clone(), in_place_model.clone()));
                }
            }
            prop_assert_eq!(in_place.root(), tree.root());
            prop_assert_eq!(in_place.len(), tree.len());
            let one_batch = SparseMerkleTree::new().apply(writes.clone());
            let built = SparseMerkleTree::from_entries(model.clone().into_iter().rev());
            prop_assert_eq!(one_batch.root(), tree.root());
            prop_assert_eq!(built.root(), tree.root());
            assert_well_formed(&built);
            // Every version, old ones included, still reads as its model did.
            for (version, snapshot) in &versions {
                assert_matches_model(version, snapshot);
            }
            let listed: Model = tree.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(&listed, &model);
        }

        #[test]
        fn proofs_verify_and_catch_lies(
            writes in prop::collection::vec(write_strategy(), 0..200),
            tamper_byte in any::<prop::sample::Index>(),
        ) {
            let tree = SparseMerkleTree::new().apply(writes);
            let root = tree.root();
            for index in 0..140 {
                let key = key(index);
                let proof = tree.prove(&key);
                match tree.get(&key) {
                    Some(value) => {
                        prop_assert_eq!(proof.verify(&root, &key, Some(value)), Ok(()));
                        prop_assert_eq!(proof.verify(&root, &key, None), Err(ProofError::KeyPresent));
                        let wrong = [value, b"!"].concat();
                        let is_value_mismatch = matches!(proof.verify(&root, &key, Some(&wrong)), Err(ProofError::ValueMismatch { .. }));
                        prop_assert!(is_value_mismatch);
                    }
                    None => {
                        prop_assert_eq!(proof.verify(&root, &key, None), Ok(()));
                        prop_assert!(proof.verify(&root, &key, Some(b"")).is_err());
                    }
                }
                if !proof.siblings.is_empty() {
                    let mut tampered = proof.clone();
                    let position = tamper_byte.index(tampered.siblings.len() * DIGEST_LEN);
                    tampered.siblings[position / DIGEST_LEN].0[position % DIGEST_LEN] ^= 1;
                    let value = tree.get(&key);
                    let is_root_mismatch = matches!(tampered.verify(&root, &key, value), Err(ProofError::RootMismatch { .. }));
                    prop_assert!(is_root_mismatch);
                }
            }
        }

        #[test]
        fn decoded_garbage_never_panics(
            depth in any::<u16>(),
            sibling_bitmap in prop::collection::vec(any::<u8>(), 0..40),
            sibling_count in 0usize..300,
            leaf in prop::option::of((any::<[u8; 32]>(), any::<[u8; 32]>())),
        ) {
            let proof = StateProof {
                depth,
                sibling_bitmap,
                siblings: vec![Digest::of(b"sibling"); sibling_count],
                leaf: leaf.map(|(key_hash, value_hash)| ProofLeaf {
                    key_hash: Digest(key_hash),
                    value_hash: Digest(value_hash),
                }),
            };
            let root = Digest::of(b"root");
            let _ = decoded(&proof).verify(&root, b"key", None);
            let _ = decoded(&proof).verify(&root, b"key", Some(b"value"));
        }
    }
}
