//! Checking a backup, and rebuilding a node's data from one.
//!
//! [`check`] reads a backup end to end: every frame's checksum, the order
//! of frames, the counts and the whole-file digest, and that it is of the
//! chain the genesis describes. It writes nothing, so a damaged backup is
//! refused before anything is touched.
//!
//! [`restore`] builds a store and a blob store from a backup in an empty
//! directory, through the node's own [`Chain`]: each block's finality
//! certificate is checked against the genesis validator set, then the block
//! is verified (re-executed against its parent's state, every root compared
//! with its header, the state root included) and committed as the node
//! commits a finalized block, indexes and all. There is no second executor.
//! A blob is stored only for a live record of the restored state, checked
//! against the digest the record names. The caller moves the directory into
//! place only after `restore` returns `Ok`.

use super::format::{BackupHeader, BackupReader, BlobFrame, BlockFrame, FormatError, Item};
use crate::chain::{Chain, ChainError, Verdict, genesis_block_of};
use crate::service::{BLOBS_DIR, STORE_DIR};
use cityledger_storage::{BlobError, BlobStore, DirBlobStore, FjallStore, StoreError};
use cityledger_types::genesis::Genesis;
use cityledger_types::record::Record;
use cityledger_types::records::StateKey;
use cityledger_types::sealed::WrappedKeys;
use cityledger_types::validator_set::{ValidatorSet, ValidatorSetError};
use cityledger_types::{Block, Digest, Height};
use cityledger_verifier::certificate::{CertificateError, verify_certificate};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Why a backup was refused or could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The bytes are not a whole, intact backup.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The backup is of another chain than the home's genesis.
    #[error(
        "the backup is of chain {backup_chain} (genesis {backup_genesis}), this home's genesis is chain {home_chain} (genesis {home_genesis}): a backup of another chain"
    )]
    OtherChain {
        /// In the backup.
        backup_chain: String,
        /// In the backup.
        backup_genesis: Digest,
        /// From the home.
        home_chain: String,
        /// From the home.
        home_genesis: Digest,
    },
    /// The genesis is unusable.
    #[error("the genesis cannot be used: {0}")]
    Genesis(String),
    /// A block's certificate does not hold.
    #[error("block {height} is not certified by the genesis validators: {source}")]
    Certificate {
        /// The block's height.
        height: Height,
        /// Why.
        source: CertificateError,
    },
    /// A block does not decode or does not re-execute to its header.
    #[error("block {height} is invalid: {reason}")]
    InvalidBlock {
        /// Its height.
        height: Height,
        /// Why.
        reason: String,
    },
    /// The restored tip is not the one the header names.
    #[error("the blocks lead to a tip with {what} {found}, the header names {expected}")]
    TipMismatch {
        /// `block id` or `state root`.
        what: &'static str,
        /// From the header.
        expected: Digest,
        /// Restored.
        found: Digest,
    },
    /// A blob whose record is not live in the restored state.
    #[error("the backup holds a blob of record {record}, which the restored state {why}")]
    UnexpectedBlob {
        /// The record.
        record: Digest,
        /// `does not hold` or `holds as erased`.
        why: &'static str,
    },
    /// A blob frame's keys do not decode.
    #[error("the keys of record {record} do not decode: {reason}")]
    InvalidBlob {
        /// The record.
        record: Digest,
        /// Why.
        reason: String,
    },
    /// The new blob store could not be opened.
    #[error("cannot open the new blob store: {0}")]
    BlobStore(BlobError),
    /// A blob or its keys could not be stored or are not the record's.
    #[error("record {record}: {source}")]
    Blob {
        /// The record.
        record: Digest,
        /// Why.
        source: BlobError,
    },
    /// The new store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain could not be opened or a block not committed.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl From<ValidatorSetError> for RestoreError {
    fn from(error: ValidatorSetError) -> RestoreError {
        RestoreError::Genesis(error.to_string())
    }
}

/// What a checked or restored backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The backup's header.
    pub header: BackupHeader,
    /// Blocks read (and, by [`restore`], verified and committed).
    pub blocks: u64,
    /// Records whose blob or keys were read (and stored).
    pub blobs: u64,
}

/// Where a restore stands, for progress lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The block just committed.
    pub height: Height,
    /// The backup's tip.
    pub tip: Height,
}

/// Reads the whole backup and checks its integrity and its chain; writes
/// nothing.
pub fn check<R: Read>(input: R, genesis: &Genesis) -> Result<Restored, RestoreError> {
    let mut reader = BackupReader::open(input)?;
    check_chain(reader.header(), genesis)?;
    let (mut blocks, mut blobs) = (0, 0);
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Block(_) => blocks += 1,
            Item::Blob(_) => blobs += 1,
        }
    }
    Ok(Restored {
        header: reader.header().clone(),
        blocks,
        blobs,
    })
}

/// Rebuilds the store and the blob store in `dir` (empty) from the backup,
/// calling `progress` after every `progress_every`th block and the last.
pub fn restore<R: Read>(
    input: R,
    genesis: &Genesis,
    dir: &Path,
    progress_every: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Restored, RestoreError> {
    let mut reader = BackupReader::open(input)?;
    check_chain(reader.header(), genesis)?;
    let header = reader.header().clone();
    let store = FjallStore::open(&dir.join(STORE_DIR))?;
    let chain = Chain::open(Arc::new(store), genesis.clone())?;
    let blobs = DirBlobStore::open(&dir.join(BLOBS_DIR)).map_err(RestoreError::BlobStore)?;
    let validators = ValidatorSet::new(0, genesis.validators.iter().map(|v| v.key))?;
    let tip = Height(header.tip_height);
    let mut restored = Restored {
        header,
        blocks: 0,
        blobs: 0,
    };
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Block(frame) => {
                let height = replay_block(&chain, &validators, frame)?;
                restored.blocks += 1;
                if height.0.is_multiple_of(progress_every.max(1)) || height == tip {
                    progress(Progress { height, tip });
                }
            }
            Item::Blob(frame) => {
                if restored.blobs == 0 {
                    check_tip(&chain, &restored.header)?;
                }
                restore_blob(&chain, &blobs, frame)?;
                restored.blobs += 1;
            }
        }
    }
    check_tip(&chain, &restored.header)?;
    Ok(restored)
}

/// Refuses a backup of another chain than `genesis`'s.
fn check_chain(header: &BackupHeader, genesis: &Genesis) -> Result<(), RestoreError> {
    let home_genesis = genesis_block_of(genesis)
        .map_err(|error| RestoreError::Genesis(error.to_string()))?
        .id();
    let home_chain = genesis.chain_id.to_string();
    if header.chain_id != home_chain || header.genesis_id != home_genesis {
        return Err(RestoreError::OtherChain {
            backup_chain: header.chain_id.clone(),
            backup_genesis: header.genesis_id,
            home_chain,
            home_genesis,
        });
    }
    Ok(())
}

/// Checks, verifies and commits one block; returns its height.
fn replay_block(
    chain: &Chain,
    validators: &ValidatorSet,
    frame: BlockFrame,
) -> Result<Height, RestoreError> {
    let height = Height(frame.height);
    let invalid = |reason: String| RestoreError::InvalidBlock { height, reason };
    let block = Block::from_bytes(&frame.block).map_err(|error| invalid(error.to_string()))?;
    if block.header.height != height {
        return Err(invalid(format!(
            "its header says height {}",
            block.header.height
        )));
    }
    verify_certificate(&frame.certificate, validators, &block.header)
        .map_err(|source| RestoreError::Certificate { height, source })?;
    let block = Arc::new(block);
    match chain.verify(block.clone()) {
        Verdict::Valid => {}
        Verdict::Invalid(reason) => return Err(invalid(reason)),
        Verdict::UnknownParent => {
            return Err(invalid(format!(
                "it does not extend the restored block {}",
                chain.finalized().block.header.height
            )));
        }
    }
    // Verified just above, so committing does not execute it again.
    chain.commit(block, &frame.certificate)?;
    Ok(height)
}

fn check_tip(chain: &Chain, header: &BackupHeader) -> Result<(), RestoreError> {
    let tip = chain.finalized().block.header.clone();
    let compared = [
        ("block id", header.tip_id, tip.id()),
        ("state root", header.tip_state_root, tip.state_root),
    ];
    match compared
        .into_iter()
        .find(|(_, expected, found)| expected != found)
    {
        Some((what, expected, found)) => Err(RestoreError::TipMismatch {
            what,
            expected,
            found,
        }),
        None => Ok(()),
    }
}

/// Stores a record's blob and keys, if its record is live in the restored
/// state; the blob store checks the blob against the record's digest.
fn restore_blob(chain: &Chain, blobs: &DirBlobStore, frame: BlobFrame) -> Result<(), RestoreError> {
    let record = frame.record;
    let blob_error = |source| RestoreError::Blob { record, source };
    let state = chain.finalized().state;
    let live: Record = state
        .get(&StateKey::Record(record).to_bytes())
        .and_then(|bytes| borsh::from_slice(bytes).ok())
        .ok_or(RestoreError::UnexpectedBlob {
            record,
            why: "does not hold",
        })?;
    if live.erasure.is_some() {
        return Err(RestoreError::UnexpectedBlob {
            record,
            why: "holds as erased",
        });
    }
    let keys: WrappedKeys = match &frame.keys {
        Some(bytes) => cityledger_types::encoding::decode_exact(
            bytes,
            "wrapped keys",
            crate::limits::BACKUP_KEYS_BYTES_MAX,
        )
        .map_err(|error| RestoreError::InvalidBlob {
            record,
            reason: error.to_string(),
        })?,
        None => WrappedKeys::default(),
    };
    match &frame.blob {
        Some(blob) => blobs
            .put(&record, blob, &live.blob_digest, live.blob_bytes, &keys)
            .map_err(blob_error),
        None => blobs
            .add_keys(&record, &keys)
            .map(|_| ())
            .map_err(blob_error),
    }
}
