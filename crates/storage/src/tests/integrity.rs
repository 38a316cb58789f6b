//! Durability and integrity of [`FjallStore`]: what was committed survives a
//! reopen, and damage is reported, never served.

use super::conformance::{assert_holds_chain, commit_all, state_entries};
use super::support::{Contents, TestBlock, TestChain, address, writes};
use crate::keys::{FORMAT_KEY, Space, TIP_KEY, account_key, height_key};
use crate::records::{self, FORMAT_VERSION};
use crate::{Committed, FjallStore, Store, StoreError, TxLocation};
use cityledger_types::Height;
use std::path::Path;

/// A store in `dir` holding three blocks with transactions, account entries
/// and state.
fn populated(dir: &Path) -> (FjallStore, TestChain) {
    let store = FjallStore::open(dir).expect("open");
    let mut chain = TestChain::default();
    for round in 0..3u8 {
        chain.push(Contents {
            tx_count: 4,
            account_entries: vec![(address(1), 0), (address(2), 3)],
            state_writes: writes(&[
                ("balance/alice", Some(["10", "20", "30"][round as usize])),
                ("once", if round == 0 { Some("x") } else { None }),
            ]),
            ..Contents::default()
        });
    }
    commit_all(&store, &chain);
    (store, chain)
}

/// Flips one bit of the raw value under `key` in `space`.
fn flip_bit(store: &FjallStore, space: Space, key: &[u8]) {
    let mut value = store.read_raw(space, key).expect("value to damage");
    let middle = value.len() / 2;
    value[middle] ^= 0x10;
    store.write_raw(space, key, value);
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, keyspace: &str) {
    match result {
        Err(StoreError::Corrupt {
            keyspace: found,
            key_hex,
            reason,
        }) => {
            assert_eq!(found, keyspace);
            assert!(!key_hex.is_empty());
            assert!(!reason.is_empty());
        }
        other => panic!("expected corruption in {keyspace}, got {other:?}"),
    }
}

fn assert_refused(dir: &Path, keyspace: &str) {
    match FjallStore::open(dir) {
        Err(error @ StoreError::OpenRefused { .. }) => {
            assert!(error.is_corrupt(), "{error}");
            let message = error.to_string();
            assert!(message.contains(&dir.display().to_string()), "{message}");
            assert!(message.contains(keyspace), "{message}");
        }
        Err(other) => panic!("expected the open to be refused, got {other}"),
        Ok(_) => panic!("a damaged store was opened"),
    }
}

#[test]
fn reopen_preserves_everything() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, mut chain) = populated(dir.path());
    let state_before = state_entries(&store);
    let alice_before = store.account_txs(&address(1), None, 100).expect("read");
    drop(store);

    let store = FjallStore::open(dir.path()).expect("reopen");
    assert_holds_chain(&store, &chain);
    assert_eq!(state_entries(&store), state_before);
    assert_eq!(
        store.state_get(b"balance/alice").expect("read"),
        Some(b"30".to_vec())
    );
    assert_eq!(store.state_get(b"once").expect("read"), None);
    assert_eq!(
        store.account_txs(&address(1), None, 100).expect("read"),
        alice_before
    );
    assert_eq!(alice_before.len(), 3);

    // The chain goes on where it stopped, and a replay is recognised.
    let last = chain.blocks.last().expect("blocks").clone();
    assert_eq!(
        store.commit(&last.commit()).expect("replay"),
        Committed::AlreadyPresent
    );
    chain.push(Contents {
        tx_count: 1,
        ..Contents::default()
    });
    let next = chain.blocks.last().expect("next");
    assert_eq!(
        store.commit(&next.commit()).expect("next"),
        Committed::Written
    );
    drop(store);
    let store = FjallStore::open(dir.path()).expect("reopen again");
    assert_holds_chain(&store, &chain);
}

#[test]
fn an_empty_store_reopens_empty() {
    let dir = tempfile::tempdir().expect("temporary directory");
    drop(FjallStore::open(dir.path()).expect("create"));
    let store = FjallStore::open(dir.path()).expect("reopen");
    assert_eq!(store.tip().expect("tip"), None);
    assert_eq!(
        store.verify_all().expect("scrub"),
        1,
        "only the format marker"
    );
}

#[test]
fn damage_is_reported_on_every_read_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, chain) = populated(dir.path());
    let block = &chain.blocks[1];
    let tx = block.tx_hashes[0];
    let entry = account_key(
        &address(2),
        TxLocation {
            height: block.height,
            position: 3,
        },
    );

    flip_bit(&store, Space::Blocks, &height_key(block.height));
    assert_corrupt(store.block(block.height), "blocks");
    flip_bit(&store, Space::BlockIds, &block.block_id.0);
    assert_corrupt(store.height_of(&block.block_id), "block_ids");
    flip_bit(&store, Space::Txs, &tx.0);
    assert_corrupt(store.tx_location(&tx), "txs");
    flip_bit(&store, Space::Accounts, &entry);
    assert_corrupt(store.account_txs(&address(2), None, 10), "accounts");
    flip_bit(&store, Space::State, b"balance/alice");
    assert_corrupt(store.state_get(b"balance/alice"), "state");
    assert_corrupt(store.for_each_state_entry(&mut |_, _| {}), "state");
    assert!(
        store
            .verify_all()
            .expect_err("scrub finds damage")
            .is_corrupt()
    );

    // Undamaged values are still served.
    assert_eq!(
        store.block(Height(0)).expect("read").map(|b| b.block_id),
        Some(chain.blocks[0].block_id)
    );
}

#[test]
fn a_valid_value_under_another_key_is_reported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, chain) = populated(dir.path());
    let [first, second] = [chain.blocks[0].tx_hashes[0], chain.blocks[2].tx_hashes[1]];
    // A misdirected write: the first transaction's location, well formed and
    // correctly sealed, lands under the second's key.
    let misplaced = store.read_raw(Space::Txs, &first.0).expect("value");
    store.write_raw(Space::Txs, &second.0, misplaced);
    assert_eq!(
        store.tx_location(&first).expect("untouched"),
        Some(TxLocation {
            height: Height(0),
            position: 0
        })
    );
    assert_corrupt(store.tx_location(&second), "txs");

    // The same for a block record moved to another height: its envelope
    // fails, and were it resealed, its header would not match its key.
    let moved = store
        .read_raw(Space::Blocks, &height_key(Height(0)))
        .expect("value");
    store.write_raw(Space::Blocks, &height_key(Height(1)), moved);
    assert_corrupt(store.block(Height(1)), "blocks");
    let record = store.block(Height(0)).expect("read").expect("block");
    let mut payload = record.block_id.0.to_vec();
    for section in [
        &record.block_bytes,
        &record.certificate,
        &record.outcomes_bytes,
        &record.events_bytes,
    ] {
        payload.extend_from_slice(&(section.len() as u32).to_be_bytes());
        payload.extend_from_slice(section);
    }
    let key = height_key(Height(1));
    store.write_raw(
        Space::Blocks,
        &key,
        crate::envelope::seal(Space::Blocks, &key, &payload),
    );
    match store.block(Height(1)) {
        Err(StoreError::Corrupt { reason, .. }) => assert!(reason.contains("header"), "{reason}"),
        other => panic!("expected a header mismatch, got {other:?}"),
    }
}

#[test]
fn a_damaged_tip_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, _) = populated(dir.path());
    flip_bit(&store, Space::Meta, TIP_KEY);
    drop(store);
    assert_refused(dir.path(), "meta");
}

#[test]
fn a_damaged_tip_block_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, chain) = populated(dir.path());
    let tip_height = chain.blocks.last().expect("blocks").height;
    flip_bit(&store, Space::Blocks, &height_key(tip_height));
    drop(store);
    assert_refused(dir.path(), "blocks");
}

#[test]
fn a_tip_that_disagrees_with_its_block_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, chain) = populated(dir.path());
    // A well-sealed tip that points one block back, as a lost write of the
    // newest block could leave it: a block then lies beyond the tip.
    let block = &chain.blocks[1];
    let tip = crate::Tip {
        height: block.height,
        block_id: block.block_id,
        state_root: block.state_root,
    };
    store.write_raw(
        Space::Meta,
        TIP_KEY,
        crate::envelope::seal(Space::Meta, TIP_KEY, &records::encode_tip(&tip)),
    );
    drop(store);
    assert_refused(dir.path(), "beyond the tip");
}

#[test]
fn data_without_a_tip_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, _) = populated(dir.path());
    store.remove_raw(Space::Meta, TIP_KEY);
    drop(store);
    assert_refused(dir.path(), "no tip");
}

#[test]
fn another_format_version_is_unsupported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, _) = populated(dir.path());
    let marker = records::encode_format(FORMAT_VERSION + 1);
    store.write_raw(
        Space::Meta,
        FORMAT_KEY,
        crate::envelope::seal(Space::Meta, FORMAT_KEY, &marker),
    );
    drop(store);
    match FjallStore::open(dir.path()) {
        Err(
            error @ StoreError::UnsupportedFormat {
                found, supported, ..
            },
        ) => {
            assert_eq!((found, supported), (FORMAT_VERSION + 1, FORMAT_VERSION));
            assert!(
                error
                    .to_string()
                    .contains(&dir.path().display().to_string())
            );
        }
        Err(other) => panic!("expected an unsupported format, got {other}"),
        Ok(_) => panic!("a store of another format was opened"),
    }
}

#[test]
fn a_scrub_checks_every_value() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, chain) = populated(dir.path());
    let blocks = chain.blocks.len() as u64;
    let txs: u64 = chain.blocks.iter().map(|b| b.tx_hashes.len() as u64).sum();
    let accounts = 2 * blocks;
    let state = 1;
    let meta = 2;
    assert_eq!(
        store.verify_all().expect("scrub"),
        meta + 2 * blocks + txs + accounts + state
    );
}

#[test]
fn a_second_open_of_the_same_directory_fails_cleanly() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let _store = FjallStore::open(dir.path()).expect("open");
    let block = TestBlock::new(
        Height(0),
        cityledger_types::Digest::ZERO,
        Contents::default(),
    );
    assert_eq!(
        _store.commit(&block.commit()).expect("commit"),
        Committed::Written
    );
    match FjallStore::open(dir.path()) {
        Err(StoreError::Locked { dir: reported }) => assert_eq!(reported, dir.path()),
        Err(other) => panic!("expected the store to be locked, got {other}"),
        Ok(_) => panic!("two stores on one directory"),
    }
}
