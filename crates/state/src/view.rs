//! Reading and writing state during execution: a layered, typed view.
//!
//! A block executes over a read-only base (the parent's state) through a
//! block layer, and each transaction through its own layer on top. A
//! transaction's layer merges into the block layer only when it is applied,
//! which is what makes a transaction, and a linked batch, all or nothing.

use borsh::{BorshDeserialize, BorshSerialize};
use cityledger_types::encoding;
use cityledger_types::records::StateKey;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Read access to a state version. Implemented by the node over the
/// authenticated tree; the state machine never sees storage.
pub trait StateRead {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

/// Writes of a block or a transaction: `None` deletes. A `BTreeMap`, so that
/// iteration order, and so everything derived from it, is deterministic.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Values read from a base, including the absence of a value.
type ReadCache = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A layer of writes over a base.
pub struct Layer<'a> {
    base: &'a dyn StateRead,
    writes: WriteSet,
    /// Values read from `base`, when caching: the block layer reads the same
    /// records (the currency, organisation accounts) once per transaction,
    /// and each read from the tree costs a hash and a walk. The base does not
    /// change while a block executes, so a cached read stays true.
    reads: Option<RefCell<ReadCache>>,
}

impl<'a> Layer<'a> {
    /// An empty layer over `base`.
    pub fn new(base: &'a dyn StateRead) -> Self {
        Layer {
            base,
            writes: WriteSet::new(),
            reads: None,
        }
    }

    /// An empty layer over `base` that remembers what it read from it.
    pub fn caching(base: &'a dyn StateRead) -> Self {
        Layer {
            reads: Some(RefCell::new(BTreeMap::new())),
            ..Layer::new(base)
        }
    }

    /// The writes so far.
    pub fn into_writes(self) -> WriteSet {
        self.writes
    }

    /// Merges a child's writes into this layer.
    pub fn absorb(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }

    /// Reads a typed record.
    ///
    /// A stored record that does not decode means the state is corrupt or the
    /// code is wrong; continuing would diverge, so it panics.
    pub fn load<T: BorshDeserialize>(&self, key: &StateKey) -> Option<T> {
        let bytes = self.get(&key.to_bytes())?;
        match borsh::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(error) => panic!("state record under {key:?} does not decode: {error}"),
        }
    }

    /// Writes a typed record.
    pub fn store<T: BorshSerialize>(&mut self, key: &StateKey, value: &T) {
        self.writes
            .insert(key.to_bytes(), Some(encoding::encode(value)));
    }

    /// Deletes a record.
    pub fn delete(&mut self, key: &StateKey) {
        self.writes.insert(key.to_bytes(), None);
    }
}

impl StateRead for Layer<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(value) = self.writes.get(key) {
            return value.clone();
        }
        let Some(reads) = &self.reads else {
            return self.base.get(key);
        };
        if let Some(value) = reads.borrow().get(key) {
            return value.clone();
        }
        let value = self.base.get(key);
        reads.borrow_mut().insert(key.to_vec(), value.clone());
        value
    }
}

/// An in-memory state, for tests and genesis.
#[derive(Default, Clone, Debug)]
pub struct MemoryState(pub BTreeMap<Vec<u8>, Vec<u8>>);

impl MemoryState {
    /// Applies a write set.
    pub fn apply(&mut self, writes: &WriteSet) {
        for (key, value) in writes {
            match value {
                Some(value) => {
                    self.0.insert(key.clone(), value.clone());
                }
                None => {
                    self.0.remove(key);
                }
            }
        }
    }
}

impl StateRead for MemoryState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Counting {
        inner: MemoryState,
        reads: Cell<usize>,
    }

    impl StateRead for Counting {
        fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
            self.reads.set(self.reads.get() + 1);
            self.inner.get(key)
        }
    }

    #[test]
    fn caching_layer_reads_the_base_once_and_writes_win() {
        let mut inner = MemoryState::default();
        inner.0.insert(b"k".to_vec(), b"base".to_vec());
        let base = Counting {
            inner,
            reads: Cell::new(0),
        };
        let mut layer = Layer::caching(&base);
        assert_eq!(layer.get(b"k"), Some(b"base".to_vec()));
        assert_eq!(layer.get(b"k"), Some(b"base".to_vec()));
        assert_eq!(layer.get(b"absent"), None);
        assert_eq!(layer.get(b"absent"), None);
        assert_eq!(base.reads.get(), 2, "one base read per key");
        layer.absorb(BTreeMap::from([(b"k".to_vec(), None)]));
        assert_eq!(layer.get(b"k"), None, "a write shadows the cached read");
        let plain = Layer::new(&base);
        plain.get(b"k");
        plain.get(b"k");
        assert_eq!(base.reads.get(), 4, "a plain layer does not cache");
    }
}
