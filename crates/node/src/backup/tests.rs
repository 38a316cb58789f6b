//! Backups written from a chain, refused when damaged in any byte or cut
//! at any length, refused for another chain or a forged certificate, and
//! restored to the same tip and state root through the chain.

use super::format::{BackupReader, BlockFrame, FrameWriter};
use super::*;
use crate::chain::Chain;
use cityledger_state::genesis::dev_genesis;
use cityledger_storage::{FjallStore, MemoryBlobStore, MemoryStore, Store};
use cityledger_types::block::ConsensusRound;
use cityledger_types::genesis::{Genesis, GenesisValidator};
use cityledger_types::{ChainId, Height, OrgName, SecretKey};
use cityledger_verifier::certificate::testing::certify;
use std::sync::Arc;

fn validator_key() -> SecretKey {
    SecretKey::from_seed([9; 32])
}

fn genesis_of(chain_id: &str) -> Genesis {
    let admins =
        [1u8, 2, 3, 4, 5, 6, 7, 8].map(|seed| SecretKey::from_seed([seed; 32]).public_key());
    let validator = GenesisValidator {
        org: OrgName::new("treasury").expect("org"),
        key: validator_key().public_key(),
    };
    dev_genesis(
        ChainId::new(chain_id).expect("chain id"),
        1_800_000_000_000,
        &admins,
        vec![validator],
    )
}

fn genesis() -> Genesis {
    genesis_of("cityledger-backup")
}

/// A chain of `count` empty blocks, each certified by the one validator.
fn chain_of(count: u64) -> Chain {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let chain = Chain::open(store, genesis()).expect("open");
    for _ in 0..count {
        let tip = chain.finalized();
        let view = tip.block.header.height.0 + 1;
        let round = ConsensusRound {
            epoch: 0,
            view,
            parent_view: view - 1,
            leader: None,
        };
        let (built, _) = chain.build(&tip, round, tip.block.header.timestamp_ms + 1, &[]);
        let certificate = certify(&built.block.header, &[validator_key()], &[0]);
        chain
            .commit(built.block.clone(), &certificate)
            .expect("commit");
    }
    chain
}

fn backup_of(chain: &Chain) -> Vec<u8> {
    let snapshot = chain.store().snapshot().expect("snapshot");
    let mut bytes = Vec::new();
    let summary =
        write_backup(snapshot.as_ref(), &MemoryBlobStore::default(), &mut bytes).expect("backup");
    assert_eq!(summary.bytes, bytes.len() as u64);
    bytes
}

#[test]
fn a_backup_restores_to_the_same_tip_and_state_root() {
    let chain = chain_of(5);
    let bytes = backup_of(&chain);
    let checked = check(bytes.as_slice(), &genesis()).expect("check");
    assert_eq!((checked.blocks, checked.blobs), (5, 0));
    let tip = chain.finalized().block.header.clone();
    assert_eq!(checked.header.tip_id, tip.id());

    let dir = tempfile::tempdir().expect("temporary directory");
    let mut seen = Vec::new();
    let restored = restore(bytes.as_slice(), &genesis(), dir.path(), 2, &mut |p| {
        seen.push(p.height.0)
    })
    .expect("restore");
    assert_eq!(restored, checked);
    assert_eq!(seen, vec![2, 4, 5], "a line every 2 blocks and the last");

    let store = FjallStore::open(&dir.path().join("store")).expect("reopen");
    let reopened = Chain::open(Arc::new(store), genesis()).expect("the node's open checks pass");
    let restored_tip = reopened.finalized();
    assert_eq!(restored_tip.block.id(), tip.id());
    assert_eq!(restored_tip.state.root(), tip.state_root);
    assert_eq!(
        reopened.store().block(Height(3)).expect("read"),
        chain.store().block(Height(3)).expect("read"),
        "blocks and certificates are restored byte for byte"
    );
}

#[test]
fn every_flipped_byte_is_refused() {
    let bytes = backup_of(&chain_of(3));
    for index in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[index] ^= 0x01;
        assert!(
            check(damaged.as_slice(), &genesis()).is_err(),
            "a flip at byte {index} of {} was accepted",
            bytes.len()
        );
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = backup_of(&chain_of(3));
    for length in 0..bytes.len() {
        let error = check(&bytes[..length], &genesis()).expect_err("truncated");
        let message = error.to_string();
        assert!(
            message.contains("truncated") || message.contains("not a CityLedger backup"),
            "cut at {length}: {message}"
        );
    }
}

#[test]
fn a_flipped_payload_byte_names_its_frame_and_checksums() {
    let bytes = backup_of(&chain_of(3));
    // Frame 0 is the header; find where frame 2 (block 2) begins.
    let mut offset = 12;
    for _ in 0..2 {
        let length = u32::from_be_bytes(bytes[offset + 1..offset + 5].try_into().expect("4"));
        offset += 5 + length as usize + 32;
    }
    let mut damaged = bytes.clone();
    damaged[offset + 10] ^= 0x80;
    match check(damaged.as_slice(), &genesis()) {
        Err(RestoreError::Format(FormatError::Checksum {
            frame: 2,
            kind: "block",
            offset: at,
            expected,
            computed,
        })) => {
            assert_eq!(at, offset as u64);
            assert_ne!(expected, computed);
        }
        other => panic!("expected a checksum failure of frame 2, got {other:?}"),
    }
}

#[test]
fn a_backup_of_another_chain_is_refused() {
    let bytes = backup_of(&chain_of(2));
    let error = check(bytes.as_slice(), &genesis_of("cityledger-other")).expect_err("other");
    assert!(
        matches!(&error, RestoreError::OtherChain { backup_chain, home_chain, .. }
            if backup_chain == "cityledger-backup" && home_chain == "cityledger-other"),
        "{error}"
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let refused = restore(
        bytes.as_slice(),
        &genesis_of("cityledger-other"),
        dir.path(),
        1,
        &mut |_| {},
    );
    assert!(matches!(refused, Err(RestoreError::OtherChain { .. })));
}

/// Rewrites the backup of `chain` with `certificate` for block `forged`:
/// an intact file whose content is wrong.
fn with_certificate(chain: &Chain, forged: u64, certificate: Vec<u8>) -> Vec<u8> {
    let bytes = backup_of(chain);
    let mut reader = BackupReader::open(bytes.as_slice()).expect("open");
    let mut out = Vec::new();
    let mut writer = FrameWriter::new(&mut out, reader.header()).expect("header");
    while let Some(item) = reader.next_item().expect("item") {
        if let format::Item::Block(mut frame) = item {
            if frame.height == forged {
                frame.certificate = certificate.clone();
            }
            writer.block(&frame).expect("block");
        }
    }
    writer.finish().expect("end");
    out
}

#[test]
fn a_block_certified_by_another_key_is_refused_with_its_height() {
    let chain = chain_of(4);
    let stored = chain.store().block(Height(3)).expect("read").expect("held");
    let block = cityledger_types::Block::from_bytes(&stored.block_bytes).expect("decodes");
    let stranger = certify(&block.header, &[SecretKey::from_seed([42; 32])], &[0]);
    let bytes = with_certificate(&chain, 3, stranger);
    check(bytes.as_slice(), &genesis()).expect("the file itself is intact");
    let dir = tempfile::tempdir().expect("temporary directory");
    match restore(bytes.as_slice(), &genesis(), dir.path(), 1, &mut |_| {}) {
        Err(RestoreError::Certificate { height, .. }) => assert_eq!(height, Height(3)),
        other => panic!("expected a certificate failure at 3, got {other:?}"),
    }
}

#[test]
fn a_block_that_does_not_execute_to_its_header_is_refused() {
    let chain = chain_of(3);
    let bytes = backup_of(&chain);
    let mut reader = BackupReader::open(bytes.as_slice()).expect("open");
    let mut out = Vec::new();
    let mut writer = FrameWriter::new(&mut out, reader.header()).expect("header");
    while let Some(format::Item::Block(frame)) = reader.next_item().expect("item") {
        let frame = if frame.height == 2 {
            // A header whose state root no execution reaches, certified
            // by the real validator: only re-execution can tell.
            let mut block = cityledger_types::Block::from_bytes(&frame.block).expect("decodes");
            block.header.state_root = cityledger_types::Digest::of(b"elsewhere");
            BlockFrame {
                height: 2,
                certificate: certify(&block.header, &[validator_key()], &[0]),
                block: block.to_bytes(),
            }
        } else {
            frame
        };
        writer.block(&frame).expect("block");
    }
    writer.finish().expect("end");
    let dir = tempfile::tempdir().expect("temporary directory");
    match restore(out.as_slice(), &genesis(), dir.path(), 1, &mut |_| {}) {
        Err(RestoreError::InvalidBlock { height, reason }) => {
            assert_eq!(height, Height(2));
            assert!(reason.contains("state_root"), "{reason}");
        }
        other => panic!("expected block 2 to be invalid, got {other:?}"),
    }
}
