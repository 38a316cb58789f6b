//! Writing a backup from a store snapshot and the blob store.
//!
//! The blocks and the state the blobs are judged by come from one
//! snapshot, so the backup is of one tip however far the node has moved
//! on meanwhile. The blob store is a directory, not under the snapshot: a
//! blob is taken if its record is in the snapshot's state and not erased
//! there, and is checked against the digest the record names. A blob of a
//! later record is left out (its anchoring is not in the backup), and one
//! erased since the snapshot is simply no longer there.

use super::format::{BackupHeader, BlobFrame, BlockFrame, FrameWriter};
use crate::limits::BACKUP_RECORDS_MAX;
use cityledger_storage::{BlobError, BlobStore, StoreError, StoreSnapshot};
use cityledger_types::record::Record;
use cityledger_types::records::StateKey;
use cityledger_types::{BlockHeader, Digest, Height};
use std::io::{self, Write};

/// Why a backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store failed or holds damage.
    #[error("cannot read the store: {0}")]
    Store(#[from] StoreError),
    /// The blob store failed.
    #[error("cannot read the blob store: {0}")]
    Blobs(#[from] BlobError),
    /// The output failed.
    #[error("cannot write the backup: {0}")]
    Io(#[from] io::Error),
    /// Nothing to back up.
    #[error("the store holds no chain yet")]
    Empty,
    /// A block below the tip is missing.
    #[error("the store has no block at height {height}, below its tip {tip}")]
    MissingBlock {
        /// The height.
        height: Height,
        /// The tip.
        tip: Height,
    },
    /// A stored block does not decode.
    #[error("the stored block at height {height} does not decode: {reason}")]
    CorruptBlock {
        /// The height.
        height: Height,
        /// Why.
        reason: String,
    },
    /// Above `BACKUP_RECORDS_MAX`.
    #[error("the blob store holds more than BACKUP_RECORDS_MAX ({BACKUP_RECORDS_MAX}) records")]
    TooManyRecords,
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    /// Its header: chain and tip.
    pub header: BackupHeader,
    /// Blocks written (heights 1 to the tip).
    pub blocks: u64,
    /// Records whose blob or keys were written.
    pub blobs: u64,
    /// Records left out because the local copy failed its check; the
    /// node logs them, and replication can bring them back.
    pub corrupt_blobs: Vec<Digest>,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes a backup of `snapshot` and `blobs` to `out`. On an error after
/// the header, an abort frame tells the reader why, if `out` still takes it.
pub fn write_backup<W: Write>(
    snapshot: &dyn StoreSnapshot,
    blobs: &dyn BlobStore,
    out: W,
) -> Result<BackupSummary, BackupError> {
    let header = header_of(snapshot)?;
    let mut writer = FrameWriter::new(out, &header)?;
    let written = write_body(snapshot, blobs, &header, &mut writer);
    match written {
        Ok((blobs, corrupt_blobs)) => {
            let (_, bytes) = writer.finish()?;
            Ok(BackupSummary {
                blocks: header.tip_height,
                header,
                blobs,
                corrupt_blobs,
                bytes,
            })
        }
        Err(error) => {
            // Best effort: the reader names the frame and the reason
            // instead of a bare truncation.
            let _ = writer.abort(&error.to_string());
            Err(error)
        }
    }
}

fn header_of(snapshot: &dyn StoreSnapshot) -> Result<BackupHeader, BackupError> {
    let tip = snapshot.tip()?.ok_or(BackupError::Empty)?;
    let genesis = stored_header(snapshot, Height(0), tip.height)?;
    Ok(BackupHeader {
        chain_id: genesis.chain_id.to_string(),
        genesis_id: genesis.id(),
        validator_set_hash: genesis.validator_set_hash,
        tip_height: tip.height.0,
        tip_id: tip.block_id,
        tip_state_root: tip.state_root,
    })
}

fn stored_header(
    snapshot: &dyn StoreSnapshot,
    height: Height,
    tip: Height,
) -> Result<BlockHeader, BackupError> {
    let stored = snapshot
        .block(height)?
        .ok_or(BackupError::MissingBlock { height, tip })?;
    cityledger_types::Block::from_bytes(&stored.block_bytes)
        .map(|block| block.header)
        .map_err(|error| BackupError::CorruptBlock {
            height,
            reason: error.to_string(),
        })
}

/// Writes the blocks and blobs; returns the blobs written and those left
/// out as corrupt.
fn write_body<W: Write>(
    snapshot: &dyn StoreSnapshot,
    blobs: &dyn BlobStore,
    header: &BackupHeader,
    writer: &mut FrameWriter<W>,
) -> Result<(u64, Vec<Digest>), BackupError> {
    let tip = Height(header.tip_height);
    for height in 1..=header.tip_height {
        let stored = snapshot
            .block(Height(height))?
            .ok_or(BackupError::MissingBlock {
                height: Height(height),
                tip,
            })?;
        writer.block(&BlockFrame {
            height,
            block: stored.block_bytes,
            certificate: stored.certificate,
        })?;
    }
    let records = blobs.records(BACKUP_RECORDS_MAX + 1)?;
    if records.len() > BACKUP_RECORDS_MAX {
        return Err(BackupError::TooManyRecords);
    }
    let mut written = 0;
    let mut corrupt = Vec::new();
    for record in records {
        match blob_frame(snapshot, blobs, record) {
            Ok(Some(frame)) => {
                writer.blob(&frame)?;
                written += 1;
            }
            Ok(None) => {}
            Err(BackupError::Blobs(BlobError::Corrupt { .. })) => corrupt.push(record),
            Err(error) => return Err(error),
        }
    }
    Ok((written, corrupt))
}

/// The frame of `record`, if its record is live in the snapshot and
/// anything of it is still held.
fn blob_frame(
    snapshot: &dyn StoreSnapshot,
    blobs: &dyn BlobStore,
    record: Digest,
) -> Result<Option<BlobFrame>, BackupError> {
    let key = StateKey::Record(record).to_bytes();
    let Some(bytes) = snapshot.state_get(&key)? else {
        return Ok(None);
    };
    let live: Record = borsh::from_slice(&bytes).map_err(|error| {
        BackupError::Store(StoreError::Corrupt {
            keyspace: "state",
            key_hex: hex::encode(&key),
            reason: format!("record {record} does not decode: {error}"),
        })
    })?;
    if live.erasure.is_some() {
        return Ok(None);
    }
    let blob = blobs.blob(&record, &live.blob_digest)?;
    let keys = blobs
        .keys(&record)?
        .map(|keys| cityledger_types::encoding::encode(&keys));
    if blob.is_none() && keys.is_none() {
        return Ok(None);
    }
    Ok(Some(BlobFrame { record, blob, keys }))
}
