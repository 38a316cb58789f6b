//! One body per behaviour of the [`Store`] contract, run against every
//! implementation: the in-memory store, the fjall store on a temporary
//! directory, and both behind a [`FaultyStore`] with no fault armed.

use super::support::{Contents, TestBlock, TestChain, address, index_changes, tx_hash, writes};
use crate::limits::{
    ACCOUNT_PAGE_MAX, CERTIFICATE_BYTES_MAX, INDEX_KEY_BYTES_MAX, INDEX_PAGE_MAX,
    STATE_KEY_BYTES_MAX,
};
use crate::{
    Committed, FaultyStore, FjallStore, MemoryStore, ScanOrder, Store, StoreError, Tip, TxLocation,
};
use cityledger_state::{MemoryState, WriteSet};
use cityledger_types::block::{Block, BlockTxs, tx_leaf};
use cityledger_types::{Digest, Height, merkle};
use std::collections::BTreeMap;

/// Commits every block of `chain`, asserting each is written.
pub(crate) fn commit_all<S: Store>(store: &S, chain: &TestChain) {
    for block in &chain.blocks {
        assert_eq!(
            store.commit(&block.commit()).expect("commit"),
            Committed::Written
        );
    }
}

/// Every state entry, through `for_each_state_entry`, checking its count.
pub(crate) fn state_entries<S: Store>(store: &S) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut entries = BTreeMap::new();
    let count = store
        .for_each_state_entry(&mut |key, value| {
            assert!(
                entries.insert(key.to_vec(), value.to_vec()).is_none(),
                "key visited twice"
            );
        })
        .expect("scan state");
    assert_eq!(count, entries.len() as u64);
    entries
}

fn tip_of(block: &TestBlock) -> Tip {
    Tip {
        height: block.height,
        block_id: block.block_id,
        state_root: block.state_root,
    }
}

/// Checks every read of `store` against the blocks of `chain`.
pub(crate) fn assert_holds_chain<S: Store>(store: &S, chain: &TestChain) {
    assert_eq!(store.tip().expect("tip"), chain.blocks.last().map(tip_of));
    for block in &chain.blocks {
        let stored = store
            .block(block.height)
            .expect("read")
            .expect("block present");
        assert_eq!(stored.height, block.height);
        assert_eq!(stored.block_id, block.block_id);
        assert_eq!(stored.block_bytes, block.block_bytes);
        assert_eq!(stored.certificate, block.certificate);
        assert_eq!(stored.outcomes_bytes, block.outcomes);
        assert_eq!(stored.events_bytes, block.events);
        assert_eq!(
            store.height_of(&block.block_id).expect("read"),
            Some(block.height)
        );
        for (position, hash) in (0u32..).zip(&block.tx_hashes) {
            let expected = TxLocation {
                height: block.height,
                position,
            };
            assert_eq!(store.tx_location(hash).expect("read"), Some(expected));
        }
    }
    assert_eq!(store.block(chain.next_height()).expect("read"), None);
}

pub(crate) fn round_trip<S: Store>(store: &S) {
    assert_eq!(store.tip().expect("tip"), None);
    assert_eq!(store.block(Height(0)).expect("read"), None);
    let mut chain = TestChain::default();
    chain.extend(3, 5);
    commit_all(store, &chain);
    assert_holds_chain(store, &chain);
    assert_eq!(
        store.height_of(&Digest::of(b"unknown")).expect("read"),
        None
    );
    assert_eq!(
        store.tx_location(&tx_hash(Height(9), 0, 0)).expect("read"),
        None
    );
}

pub(crate) fn empty_block_round_trips<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.extend(2, 0);
    commit_all(store, &chain);
    assert_holds_chain(store, &chain);
}

pub(crate) fn recommit_is_idempotent<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.push(Contents {
        tx_count: 2,
        state_writes: writes(&[("a", Some("1"))]),
        ..Contents::default()
    });
    chain.push(Contents {
        tx_count: 2,
        state_writes: writes(&[("a", None)]),
        ..Contents::default()
    });
    commit_all(store, &chain);
    for block in &chain.blocks {
        assert_eq!(
            store.commit(&block.commit()).expect("recommit"),
            Committed::AlreadyPresent
        );
    }
    // Re-applying block 0's writes would have resurrected `a`.
    assert_eq!(store.state_get(b"a").expect("read"), None);
    assert_holds_chain(store, &chain);
}

pub(crate) fn a_different_block_at_a_stored_height_is_divergence<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.extend(3, 1);
    commit_all(store, &chain);
    for stored in &chain.blocks {
        let parent = chain
            .blocks
            .get(stored.height.0.wrapping_sub(1) as usize)
            .map_or(Digest::ZERO, |b| b.block_id);
        let other = TestBlock::new(
            stored.height,
            parent,
            Contents {
                tx_count: 1,
                variant: 7,
                ..Contents::default()
            },
        );
        match store.commit(&other.commit()) {
            Err(StoreError::Divergence {
                height,
                stored: stored_id,
                offered,
            }) => {
                assert_eq!(height, stored.height);
                assert_eq!(stored_id, stored.block_id);
                assert_eq!(offered, other.block_id);
            }
            result => panic!("expected divergence, got {result:?}"),
        }
    }
    assert_holds_chain(store, &chain);
}

pub(crate) fn a_height_that_is_not_next_is_a_gap<S: Store>(store: &S) {
    let orphan = TestBlock::new(Height(1), Digest::ZERO, Contents::default());
    assert!(matches!(
        store.commit(&orphan.commit()),
        Err(StoreError::HeightGap {
            expected: Height(0),
            found: Height(1)
        })
    ));
    let mut chain = TestChain::default();
    chain.extend(2, 1);
    commit_all(store, &chain);
    let ahead = TestBlock::new(Height(5), chain.tip_id(), Contents::default());
    assert!(matches!(
        store.commit(&ahead.commit()),
        Err(StoreError::HeightGap {
            expected: Height(2),
            found: Height(5)
        })
    ));
    assert_holds_chain(store, &chain);
}

pub(crate) fn a_block_on_another_parent_is_refused<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.extend(2, 1);
    commit_all(store, &chain);
    let stray = TestBlock::new(Height(2), Digest::of(b"elsewhere"), Contents::default());
    assert!(matches!(
        store.commit(&stray.commit()),
        Err(StoreError::ParentMismatch { height: Height(2), expected, found })
            if expected == chain.tip_id() && found == Digest::of(b"elsewhere")
    ));
    let genesis_with_parent = TestBlock::new(Height(0), Digest::of(b"x"), Contents::default());
    let fresh = MemoryStore::new();
    assert!(matches!(
        fresh.commit(&genesis_with_parent.commit()),
        Err(StoreError::ParentMismatch {
            height: Height(0),
            ..
        })
    ));
    assert_holds_chain(store, &chain);
}

/// Commits that contradict their own header or break a limit.
pub(crate) fn inconsistent_commits_are_refused_and_change_nothing<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.extend(1, 2);
    commit_all(store, &chain);
    let good = TestBlock::new(
        chain.next_height(),
        chain.tip_id(),
        Contents {
            tx_count: 3,
            state_writes: writes(&[("k", Some("v"))]),
            ..Contents::default()
        },
    );
    let mut cases: Vec<(&str, TestBlock)> = Vec::new();
    let mut bad = good.clone();
    bad.block_id = Digest::of(b"not the header");
    cases.push(("block id", bad));
    let mut bad = good.clone();
    bad.state_root = Digest::of(b"not the root");
    cases.push(("state root", bad));
    let mut bad = good.clone();
    bad.tx_hashes.swap(0, 1);
    cases.push(("tx root", bad));
    let mut bad = good.clone();
    bad.tx_hashes.pop();
    cases.push(("tx count", bad));
    let mut bad = good.clone();
    bad.account_entries.push((address(1), 3));
    cases.push(("account position", bad));
    let mut bad = good.clone();
    bad.block_bytes.truncate(10);
    cases.push(("truncated block", bad));
    let mut bad = good.clone();
    bad.height = Height(99);
    cases.push(("header height", bad));
    for (name, bad) in &cases {
        assert!(
            matches!(
                store.commit(&bad.commit()),
                Err(StoreError::InvalidCommit { .. })
            ),
            "{name}"
        );
    }
    let mut big = good.clone();
    big.certificate = vec![0; CERTIFICATE_BYTES_MAX + 1];
    assert!(matches!(
        store.commit(&big.commit()),
        Err(StoreError::LimitExceeded {
            limit_name: "CERTIFICATE_BYTES_MAX",
            ..
        })
    ));
    let mut big = good.clone();
    big.state_writes
        .insert(vec![1; STATE_KEY_BYTES_MAX + 1], None);
    assert!(matches!(
        store.commit(&big.commit()),
        Err(StoreError::LimitExceeded {
            limit_name: "STATE_KEY_BYTES_MAX",
            ..
        })
    ));
    assert_eq!(store.state_get(b"k").expect("read"), None);
    assert_holds_chain(store, &chain);
    assert_eq!(
        store.commit(&good.commit()).expect("the good one"),
        Committed::Written
    );
}

pub(crate) fn duplicate_tx_hashes_are_refused<S: Store>(store: &S) {
    let mut block = TestBlock::new(
        Height(0),
        Digest::ZERO,
        Contents {
            tx_count: 2,
            ..Contents::default()
        },
    );
    block.tx_hashes[1] = block.tx_hashes[0];
    // Recommit the header to the hashes, so that only the duplicate is wrong.
    let mut header =
        crate::check::decode_header(block.height, &block.block_bytes).expect("test header");
    let leaves: Vec<Digest> = block.tx_hashes.iter().map(tx_leaf).collect();
    header.tx_root = merkle::root(&leaves);
    block.block_id = header.id();
    block.block_bytes = Block {
        header,
        txs: BlockTxs(Vec::new()),
    }
    .to_bytes();
    assert!(matches!(
        store.commit(&block.commit()),
        Err(StoreError::InvalidCommit { reason, .. }) if reason.contains("appears twice")
    ));
    assert_eq!(store.tip().expect("tip"), None);
}

pub(crate) fn account_txs_pages_newest_first<S: Store>(store: &S) {
    let alice = address(1);
    let bob = address(2);
    let mut chain = TestChain::default();
    let mut expected = Vec::new();
    for height in 0..4u64 {
        // Alice at positions 0, 2 and 4 (listed twice at 2: a transaction
        // touching her from two of its transfers), Bob at 1.
        let entries = vec![(alice, 0), (bob, 1), (alice, 2), (alice, 2), (alice, 4)];
        for position in [0, 2, 4] {
            expected.push(TxLocation {
                height: Height(height),
                position,
            });
        }
        chain.push(Contents {
            tx_count: 5,
            account_entries: entries,
            ..Contents::default()
        });
    }
    commit_all(store, &chain);
    expected.reverse();

    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = store.account_txs(&alice, before, 5).expect("page");
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        before = Some(*last);
        pages.extend(page);
    }
    assert_eq!(pages, expected);
    assert_eq!(
        store.account_txs(&bob, None, 100).expect("bob"),
        (0..4)
            .rev()
            .map(|h| TxLocation {
                height: Height(h),
                position: 1
            })
            .collect::<Vec<_>>()
    );
    let start = TxLocation {
        height: Height(2),
        position: 2,
    };
    assert_eq!(
        store.account_txs(&alice, Some(start), 2).expect("mid"),
        vec![
            TxLocation {
                height: Height(2),
                position: 0
            },
            TxLocation {
                height: Height(1),
                position: 4
            }
        ]
    );
    assert_eq!(store.account_txs(&alice, None, 0).expect("zero"), vec![]);
    assert_eq!(
        store.account_txs(&address(3), None, 10).expect("nobody"),
        vec![]
    );
    let first = TxLocation {
        height: Height(0),
        position: 0,
    };
    assert_eq!(
        store
            .account_txs(&alice, Some(first), 10)
            .expect("before first"),
        vec![]
    );
}

pub(crate) fn account_page_is_capped<S: Store>(store: &S) {
    let alice = address(1);
    let tx_count = (ACCOUNT_PAGE_MAX + 500) as u32;
    let entries = (0..tx_count).map(|position| (alice, position)).collect();
    let mut chain = TestChain::default();
    chain.push(Contents {
        tx_count,
        account_entries: entries,
        ..Contents::default()
    });
    commit_all(store, &chain);
    let page = store.account_txs(&alice, None, usize::MAX).expect("page");
    assert_eq!(page.len(), ACCOUNT_PAGE_MAX);
    assert_eq!(page[0].position, tx_count - 1);
}

pub(crate) fn state_writes_and_deletes_are_visible<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.push(Contents {
        state_writes: writes(&[("a", Some("1")), ("b", Some("2")), ("c", Some("3"))]),
        ..Contents::default()
    });
    chain.push(Contents {
        state_writes: writes(&[
            ("a", Some("10")),
            ("b", None),
            ("d", Some("")),
            ("zz", None),
        ]),
        ..Contents::default()
    });
    commit_all(store, &chain);
    assert_eq!(store.state_get(b"a").expect("read"), Some(b"10".to_vec()));
    assert_eq!(store.state_get(b"b").expect("read"), None);
    assert_eq!(store.state_get(b"c").expect("read"), Some(b"3".to_vec()));
    assert_eq!(store.state_get(b"d").expect("read"), Some(Vec::new()));
    assert_eq!(store.state_get(b"zz").expect("read"), None);
    let expected: BTreeMap<Vec<u8>, Vec<u8>> = [("a", "10"), ("c", "3"), ("d", "")]
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    assert_eq!(state_entries(store), expected);
}

fn keys_of(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<String> {
    entries
        .iter()
        .map(|(key, _)| String::from_utf8(key.clone()).expect("test keys are text"))
        .collect()
}

pub(crate) fn index_scans_by_prefix_in_both_orders<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.push(Contents {
        index_changes: index_changes(&[
            ("a/1", Some("one")),
            ("a/2", Some("two")),
            ("a/3", Some("three")),
            ("b/1", Some("other")),
            ("a", Some("the prefix itself")),
        ]),
        ..Contents::default()
    });
    chain.push(Contents {
        index_changes: index_changes(&[("a/2", None), ("a/4", Some("four")), ("a/1", Some("uno"))]),
        ..Contents::default()
    });
    commit_all(store, &chain);
    let scan = |after: Option<&str>, limit, order| {
        let entries = store
            .index_scan(b"a/", after.map(str::as_bytes), limit, order)
            .expect("scan");
        keys_of(&entries)
    };
    assert_eq!(scan(None, 10, ScanOrder::Ascending), ["a/1", "a/3", "a/4"]);
    assert_eq!(scan(None, 10, ScanOrder::Descending), ["a/4", "a/3", "a/1"]);
    assert_eq!(scan(Some("a/1"), 10, ScanOrder::Ascending), ["a/3", "a/4"]);
    assert_eq!(scan(Some("a/4"), 1, ScanOrder::Descending), ["a/3"]);
    assert_eq!(scan(Some("a/3"), 10, ScanOrder::Descending), ["a/1"]);
    assert_eq!(
        scan(Some("a/4"), 10, ScanOrder::Ascending),
        Vec::<String>::new()
    );
    // A cursor from another prefix gives nothing, never another prefix's keys.
    assert_eq!(
        scan(Some("b/1"), 10, ScanOrder::Ascending),
        Vec::<String>::new()
    );
    let values = store
        .index_scan(b"a/1", None, 10, ScanOrder::Ascending)
        .expect("scan");
    assert_eq!(values, vec![(b"a/1".to_vec(), b"uno".to_vec())]);
}

pub(crate) fn index_page_is_capped_and_bad_index_changes_are_refused<S: Store>(store: &S) {
    let keys: Vec<String> = (0..INDEX_PAGE_MAX + 10)
        .map(|i| format!("k/{i:06}"))
        .collect();
    let entries: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), Some(""))).collect();
    let mut chain = TestChain::default();
    chain.push(Contents {
        index_changes: index_changes(&entries),
        ..Contents::default()
    });
    commit_all(store, &chain);
    let page = store
        .index_scan(b"k/", None, usize::MAX, ScanOrder::Ascending)
        .expect("scan");
    assert_eq!(page.len(), INDEX_PAGE_MAX);
    let long_key = "x".repeat(INDEX_KEY_BYTES_MAX + 1);
    for bad in [
        index_changes(&[("", Some("v"))]),
        index_changes(&[(&long_key, Some("v"))]),
    ] {
        let block = TestBlock::new(
            chain.next_height(),
            chain.tip_id(),
            Contents {
                index_changes: bad,
                ..Contents::default()
            },
        );
        assert!(store.commit(&block.commit()).is_err());
        assert_eq!(store.tip().expect("tip").map(|t| t.height), Some(Height(0)));
    }
}

/// A failed commit leaves the store as it was, and a retry succeeds.
pub(crate) fn failed_commit_changes_nothing<S: Store>(inner: S) {
    let store = FaultyStore::new(inner);
    let mut chain = TestChain::default();
    chain.push(Contents {
        tx_count: 2,
        state_writes: writes(&[("a", Some("1"))]),
        ..Contents::default()
    });
    commit_all(&store, &chain);
    let next = TestBlock::new(
        chain.next_height(),
        chain.tip_id(),
        Contents {
            tx_count: 2,
            account_entries: vec![(address(1), 0)],
            state_writes: writes(&[("a", None), ("b", Some("2"))]),
            index_changes: index_changes(&[("i/1", Some("x"))]),
            ..Contents::default()
        },
    );
    store.fail_next_commit();
    assert!(matches!(
        store.commit(&next.commit()),
        Err(StoreError::Io { .. })
    ));
    assert_holds_chain(&store, &chain);
    assert_eq!(store.state_get(b"a").expect("read"), Some(b"1".to_vec()));
    assert_eq!(store.state_get(b"b").expect("read"), None);
    assert_eq!(store.tx_location(&next.tx_hashes[0]).expect("read"), None);
    assert_eq!(
        store.account_txs(&address(1), None, 10).expect("read"),
        vec![]
    );
    assert!(
        store
            .index_scan(b"i/", None, 10, ScanOrder::Ascending)
            .expect("scan")
            .is_empty()
    );
    // The fault fires once.
    assert_eq!(
        store.commit(&next.commit()).expect("retry"),
        Committed::Written
    );
    chain.blocks.push(next);
    assert_holds_chain(&store, &chain);

    // Written, then reported as failed: the retry finds it present.
    let after = TestBlock::new(chain.next_height(), chain.tip_id(), Contents::default());
    store.fail_next_commit_after_write();
    assert!(matches!(
        store.commit(&after.commit()),
        Err(StoreError::Io { .. })
    ));
    assert_eq!(
        store.commit(&after.commit()).expect("retry"),
        Committed::AlreadyPresent
    );
    chain.blocks.push(after);
    assert_holds_chain(&store, &chain);
}

/// A generated block: transaction count, `(account seed, position)`
/// entries (those past the count are dropped), state writes.
pub(crate) type GeneratedBlock = (u32, Vec<(u8, u32)>, WriteSet);

/// Random chains: the store's state, indexes and tip match a model.
pub(crate) fn matches_model<S: Store>(store: &S, blocks: &[GeneratedBlock]) {
    let mut chain = TestChain::default();
    let mut model = MemoryState::default();
    let mut account_model: BTreeMap<u8, Vec<TxLocation>> = BTreeMap::new();
    for (tx_count, entries, state_writes) in blocks {
        let height = chain.next_height();
        let account_entries: Vec<_> = entries
            .iter()
            .filter(|(_, position)| position < tx_count)
            .map(|(seed, position)| (address(*seed), *position))
            .collect();
        for (seed, position) in entries.iter().filter(|(_, p)| p < tx_count) {
            let location = TxLocation {
                height,
                position: *position,
            };
            let list = account_model.entry(*seed).or_default();
            if !list.contains(&location) {
                list.push(location);
            }
        }
        chain.push(Contents {
            tx_count: *tx_count,
            account_entries,
            state_writes: state_writes.clone(),
            ..Contents::default()
        });
        model.apply(state_writes);
    }
    commit_all(store, &chain);
    assert_holds_chain(store, &chain);
    assert_eq!(state_entries(store), model.0);
    for (key, value) in &model.0 {
        assert_eq!(store.state_get(key).expect("read").as_ref(), Some(value));
    }
    for (seed, mut locations) in account_model {
        locations.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(
            store
                .account_txs(&address(seed), None, ACCOUNT_PAGE_MAX)
                .expect("read"),
            locations
        );
    }
}

/// Runs each named body against every implementation.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&crate::MemoryStore::new()); })*
        }
        mod fjall {
            $(#[test] fn $name() {
                let dir = tempfile::tempdir().expect("temporary directory");
                super::$name(&crate::FjallStore::open(dir.path()).expect("open"));
            })*
        }
        mod faulty_without_fault {
            $(#[test] fn $name() {
                super::$name(&crate::FaultyStore::new(crate::MemoryStore::new()));
            })*
        }
    };
}

/// A snapshot keeps the tip, blocks and state of the moment it was taken
/// while the store commits on: what a backup of a running node relies on.
pub(crate) fn a_snapshot_stays_at_its_tip_while_the_store_moves_on<S: Store>(store: &S) {
    let mut chain = TestChain::default();
    chain.push(Contents {
        tx_count: 1,
        state_writes: writes(&[("a", Some("1")), ("b", Some("2"))]),
        ..Contents::default()
    });
    chain.push(Contents {
        state_writes: writes(&[("a", Some("10"))]),
        ..Contents::default()
    });
    commit_all(store, &chain);
    let snapshot = store.snapshot().expect("snapshot");
    let later = chain.push(Contents {
        state_writes: writes(&[("a", None), ("c", Some("3"))]),
        ..Contents::default()
    });
    assert_eq!(
        store.commit(&later.commit()).expect("commit"),
        Committed::Written
    );

    assert_eq!(snapshot.tip().expect("tip"), Some(tip_of(&chain.blocks[1])));
    for block in &chain.blocks[..2] {
        let stored = snapshot.block(block.height).expect("read").expect("held");
        assert_eq!(
            stored,
            store.block(block.height).expect("read").expect("held")
        );
    }
    assert_eq!(snapshot.block(Height(2)).expect("read"), None);
    assert_eq!(
        snapshot.state_get(b"a").expect("read"),
        Some(b"10".to_vec())
    );
    assert_eq!(snapshot.state_get(b"b").expect("read"), Some(b"2".to_vec()));
    assert_eq!(snapshot.state_get(b"c").expect("read"), None);
    // The store itself has moved on.
    assert_eq!(store.tip().expect("tip"), Some(tip_of(&chain.blocks[2])));
    assert_eq!(store.state_get(b"a").expect("read"), None);
}

/// A snapshot of an empty store has no tip and no blocks.
pub(crate) fn a_snapshot_of_an_empty_store_is_empty<S: Store>(store: &S) {
    let snapshot = store.snapshot().expect("snapshot");
    assert_eq!(snapshot.tip().expect("tip"), None);
    assert_eq!(snapshot.block(Height(0)).expect("read"), None);
}

conformance!(
    a_snapshot_stays_at_its_tip_while_the_store_moves_on,
    a_snapshot_of_an_empty_store_is_empty,
    round_trip,
    empty_block_round_trips,
    recommit_is_idempotent,
    a_different_block_at_a_stored_height_is_divergence,
    a_height_that_is_not_next_is_a_gap,
    a_block_on_another_parent_is_refused,
    inconsistent_commits_are_refused_and_change_nothing,
    duplicate_tx_hashes_are_refused,
    account_txs_pages_newest_first,
    account_page_is_capped,
    state_writes_and_deletes_are_visible,
    index_scans_by_prefix_in_both_orders,
    index_page_is_capped_and_bad_index_changes_are_refused,
);

#[test]
fn failed_commit_changes_nothing_in_memory() {
    failed_commit_changes_nothing(MemoryStore::new());
}

#[test]
fn failed_commit_changes_nothing_on_disk() {
    let dir = tempfile::tempdir().expect("temporary directory");
    failed_commit_changes_nothing(FjallStore::open(dir.path()).expect("open"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn write_set() -> impl Strategy<Value = WriteSet> {
        proptest::collection::btree_map(
            proptest::collection::vec(0u8..4, 1..3),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
            0..6,
        )
    }

    fn blocks() -> impl Strategy<Value = Vec<GeneratedBlock>> {
        proptest::collection::vec(
            (
                0u32..6,
                proptest::collection::vec((0u8..3, 0u32..6), 0..6),
                write_set(),
            ),
            1..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn memory_store_matches_model(blocks in blocks()) {
            matches_model(&MemoryStore::new(), &blocks);
        }
    }

    proptest! {
        // Each case creates a database and fsyncs every block.
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn fjall_store_matches_model(blocks in blocks()) {
            let dir = tempfile::tempdir().expect("temporary directory");
            matches_model(&FjallStore::open(dir.path()).expect("open"), &blocks);
        }
    }
}
