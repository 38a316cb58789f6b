//! [`FjallStore`]: the embedded store, on fjall.
//!
//! One commit is one fjall write batch across every keyspace, persisted with
//! `fsync` before `commit` returns; the tip is in the same batch, so after a
//! crash the store holds a prefix of the chain and a tip that agrees with it.
//! Every value is sealed by [`crate::envelope`] and checked on every read.
//!
//! This module owns the mapping of [`Store`] onto fjall. It never interprets
//! a payload itself ([`crate::records`] does), and never serves a value
//! whose checksum fails.

use crate::check::{self, Decision};
use crate::envelope::{self, Malformed};
use crate::error::StoreError;
use crate::keys::{self, FORMAT_KEY, Space, TIP_KEY, account_key, height_key};
use crate::limits::{ACCOUNT_PAGE_MAX, INDEX_PAGE_MAX};
use crate::records::{self, FORMAT_VERSION};
use crate::store::{
    BlockCommit, Committed, IndexEntry, ScanOrder, Store, StoreSnapshot, StoredBlock, Tip,
    TxLocation,
};
use cityledger_types::{Address, Digest, Height};
use fjall::{
    Database, Keyspace, KeyspaceCreateOptions, KvSeparationOptions, OwnedWriteBatch, PersistMode,
};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Most bytes of journal fjall keeps before it flushes memtables. A restart
/// replays the unflushed journal, and fjall's replay costs microseconds per
/// item (it resolves each item's keyspace with a lookup): after 50 full
/// blocks, the default of 512 MiB meant an 8 s open; 64 MiB, the engine's
/// minimum, about 3 s, with no measurable change in commit time.
const JOURNAL_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// The embedded store: one fjall database in one data directory.
pub struct FjallStore {
    dir: PathBuf,
    database: Database,
    spaces: Spaces,
    /// The tip, cached. The mutex also serialises commits, so the check
    /// against the tip and the write that moves it cannot interleave.
    tip: Mutex<Option<Tip>>,
}

/// One handle per keyspace.
struct Spaces {
    meta: Keyspace,
    blocks: Keyspace,
    block_ids: Keyspace,
    txs: Keyspace,
    accounts: Keyspace,
    state: Keyspace,
    index: Keyspace,
}

impl Spaces {
    fn open(database: &Database) -> Result<Spaces, fjall::Error> {
        let open = |space: Space| database.keyspace(space.name(), || options(space));
        Ok(Spaces {
            meta: open(Space::Meta)?,
            blocks: open(Space::Blocks)?,
            block_ids: open(Space::BlockIds)?,
            txs: open(Space::Txs)?,
            accounts: open(Space::Accounts)?,
            state: open(Space::State)?,
            index: open(Space::Index)?,
        })
    }

    fn get(&self, space: Space) -> &Keyspace {
        match space {
            Space::Meta => &self.meta,
            Space::Blocks => &self.blocks,
            Space::BlockIds => &self.block_ids,
            Space::Txs => &self.txs,
            Space::Accounts => &self.accounts,
            Space::State => &self.state,
            Space::Index => &self.index,
        }
    }
}

/// Options of a keyspace at creation.
fn options(space: Space) -> KeyspaceCreateOptions {
    let options = KeyspaceCreateOptions::default();
    match space {
        // Block records are megabytes, written once and read rarely: keeping
        // them in blob files spares compaction from rewriting them.
        Space::Blocks => options.with_kv_separation(Some(KvSeparationOptions::default())),
        _ => options,
    }
}

impl FjallStore {
    /// Opens the store in `dir`, creating it if the directory is empty.
    ///
    /// An existing store is checked before it is returned: its format
    /// marker, its tip, and the tip block. A store that fails the check is
    /// refused with [`StoreError::OpenRefused`] (or
    /// [`StoreError::UnsupportedFormat`]) naming `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let open_error = |source: fjall::Error| match source {
            fjall::Error::Locked => StoreError::Locked {
                dir: dir.to_path_buf(),
            },
            source => StoreError::Open {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            },
        };
        let database = Database::builder(dir)
            .max_journaling_size(JOURNAL_BYTES_MAX)
            .open()
            .map_err(open_error)?;
        let spaces = Spaces::open(&database).map_err(open_error)?;
        let store = FjallStore {
            dir: dir.to_path_buf(),
            database,
            spaces,
            tip: Mutex::new(None),
        };
        let tip = store.check_at_open().map_err(|cause| match cause {
            StoreError::UnsupportedFormat { .. } => cause,
            // A failing disk is not a damaged store: no restore hint.
            StoreError::Engine { source, .. } => StoreError::Open {
                dir: dir.to_path_buf(),
                source,
            },
            cause => StoreError::OpenRefused {
                dir: dir.to_path_buf(),
                cause: Box::new(cause),
            },
        })?;
        *store.lock_tip() = tip;
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads and checks every stored value: a full scrub. Returns how many
    /// values were checked. Slow (it reads the whole store); for an operator
    /// command, never for start-up.
    pub fn verify_all(&self) -> Result<u64, StoreError> {
        let mut checked = 0u64;
        for space in Space::ALL {
            for guard in self.spaces.get(space).iter() {
                let (key, value) = guard.into_inner().map_err(StoreError::engine("scan"))?;
                let payload = open_value(space, &key, &value)?;
                if space == Space::Blocks {
                    decode_block(&key, payload)?;
                }
                checked += 1;
            }
        }
        Ok(checked)
    }

    fn lock_tip(&self) -> MutexGuard<'_, Option<Tip>> {
        // Poisoned only if a commit panicked on a broken invariant; the
        // node must stop, not carry on over a cache it cannot trust.
        self.tip
            .lock()
            .expect("store tip lock poisoned by an earlier panic")
    }

    /// The start-up check. Returns the tip.
    fn check_at_open(&self) -> Result<Option<Tip>, StoreError> {
        self.check_format()?;
        let tip = self.read(Space::Meta, TIP_KEY, records::decode_tip)?;
        match tip {
            None => self.check_empty()?,
            Some(tip) => self.check_tip(&tip)?,
        }
        Ok(tip)
    }

    /// Checks the format marker, or writes it into a store that is empty.
    fn check_format(&self) -> Result<(), StoreError> {
        match self.read(Space::Meta, FORMAT_KEY, records::decode_format)? {
            Some(FORMAT_VERSION) => Ok(()),
            Some(found) => Err(StoreError::UnsupportedFormat {
                dir: self.dir.clone(),
                found,
                supported: FORMAT_VERSION,
            }),
            None => {
                self.check_empty()?;
                self.write_format_marker()
            }
        }
    }

    fn write_format_marker(&self) -> Result<(), StoreError> {
        let payload = records::encode_format(FORMAT_VERSION);
        let mut batch = self.new_batch(1);
        batch.insert(
            &self.spaces.meta,
            FORMAT_KEY,
            envelope::seal(Space::Meta, FORMAT_KEY, &payload),
        );
        batch
            .commit()
            .map_err(StoreError::engine("write the format marker"))
    }

    /// Checks that a store without a tip (or without a format marker) holds
    /// nothing else: data without a tip means the tip was lost.
    fn check_empty(&self) -> Result<(), StoreError> {
        for space in [
            Space::Blocks,
            Space::BlockIds,
            Space::Txs,
            Space::Accounts,
            Space::State,
            Space::Index,
        ] {
            if let Some(guard) = self.spaces.get(space).first_key_value() {
                let key = guard.key().map_err(StoreError::engine("scan"))?;
                return Err(corrupt(
                    space,
                    &key,
                    "data present but the store has no tip or no format marker",
                ));
            }
        }
        Ok(())
    }

    /// Checks the tip against the tip block and the block id index, and
    /// that no block lies beyond it.
    fn check_tip(&self, tip: &Tip) -> Result<(), StoreError> {
        let key = height_key(tip.height);
        let block = self
            .read_block(tip.height)?
            .ok_or_else(|| corrupt(Space::Blocks, &key, "the tip block is missing"))?;
        if block.block_id != tip.block_id {
            return Err(corrupt(
                Space::Meta,
                TIP_KEY,
                "tip and tip block disagree on the id",
            ));
        }
        let header = check::decode_header(tip.height, &block.block_bytes)
            .map_err(|error| corrupt(Space::Blocks, &key, &error.to_string()))?;
        if header.state_root != tip.state_root {
            return Err(corrupt(
                Space::Meta,
                TIP_KEY,
                "tip and tip block disagree on the state root",
            ));
        }
        if self.height_of(&tip.block_id)? != Some(tip.height) {
            return Err(corrupt(
                Space::BlockIds,
                &tip.block_id.0,
                "the tip is not indexed at its height",
            ));
        }
        if let Some(guard) = self.spaces.blocks.last_key_value() {
            let last = guard.key().map_err(StoreError::engine("scan"))?;
            if *last != key {
                return Err(corrupt(Space::Blocks, &last, "a block lies beyond the tip"));
            }
        }
        Ok(())
    }

    /// Reads, checks and decodes the value under `key` in `space`.
    fn read<T>(
        &self,
        space: Space,
        key: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, Malformed>,
    ) -> Result<Option<T>, StoreError> {
        let value = self
            .spaces
            .get(space)
            .get(key)
            .map_err(StoreError::engine("read"))?;
        let Some(value) = value else {
            return Ok(None);
        };
        let payload = open_value(space, key, &value)?;
        decode(payload)
            .map(Some)
            .map_err(|malformed| corrupt(space, key, &malformed.0))
    }

    fn read_block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        let key = height_key(height);
        let value = self
            .spaces
            .blocks
            .get(key)
            .map_err(StoreError::engine("read a block"))?;
        let Some(value) = value else {
            return Ok(None);
        };
        let payload = open_value(Space::Blocks, &key, &value)?;
        decode_block(&key, payload).map(Some)
    }

    /// The id of the stored block at `height` (at or below the tip). Looks up
    /// `likely_id` in the id index first, to spare reading a whole block.
    fn block_id_at(
        &self,
        height: Height,
        likely_id: &Digest,
    ) -> Result<Option<Digest>, StoreError> {
        if self.height_of(likely_id)? == Some(height) {
            return Ok(Some(*likely_id));
        }
        Ok(self.read_block(height)?.map(|block| block.block_id))
    }

    fn new_batch(&self, capacity: usize) -> OwnedWriteBatch {
        OwnedWriteBatch::with_capacity(self.database.clone(), capacity)
            .durability(Some(PersistMode::SyncAll))
    }

    /// Builds the one batch that appends a block and moves the tip.
    fn append_batch(&self, commit: &BlockCommit<'_>, new_tip: &Tip) -> OwnedWriteBatch {
        let item_count = 3
            + commit.tx_hashes.len()
            + commit.account_entries.len()
            + commit.state_writes.len()
            + commit.index_changes.len();
        let mut batch = self.new_batch(item_count);
        self.add_block(&mut batch, commit);
        self.add_tx_index(&mut batch, commit);
        self.add_account_index(&mut batch, commit);
        self.add_state_writes(&mut batch, commit);
        self.add_index_changes(&mut batch, commit);
        let tip_value = envelope::seal(Space::Meta, TIP_KEY, &records::encode_tip(new_tip));
        batch.insert(&self.spaces.meta, TIP_KEY, tip_value);
        batch
    }

    fn add_block(&self, batch: &mut OwnedWriteBatch, commit: &BlockCommit<'_>) {
        let sections = [
            commit.block_bytes,
            commit.certificate,
            commit.outcomes_bytes,
            commit.events_bytes,
        ];
        let [p0, p1, p2, p3] = records::section_length_prefixes(&sections);
        let [s0, s1, s2, s3] = sections;
        let key = height_key(commit.height);
        let value = envelope::seal_parts(
            Space::Blocks,
            &key,
            &[&commit.block_id.0, &p0, s0, &p1, s1, &p2, s2, &p3, s3],
        );
        batch.insert(&self.spaces.blocks, key, value);
        let id_value = envelope::seal(
            Space::BlockIds,
            &commit.block_id.0,
            &records::encode_height(commit.height),
        );
        batch.insert(&self.spaces.block_ids, commit.block_id.0, id_value);
    }

    fn add_tx_index(&self, batch: &mut OwnedWriteBatch, commit: &BlockCommit<'_>) {
        for (position, tx_hash) in (0u32..).zip(commit.tx_hashes) {
            let location = TxLocation {
                height: commit.height,
                position,
            };
            let value = envelope::seal(Space::Txs, &tx_hash.0, &records::encode_location(location));
            batch.insert(&self.spaces.txs, tx_hash.0, value);
        }
    }

    fn add_account_index(&self, batch: &mut OwnedWriteBatch, commit: &BlockCommit<'_>) {
        for (account, position) in commit.account_entries {
            let location = TxLocation {
                height: commit.height,
                position: *position,
            };
            let key = account_key(account, location);
            let value = envelope::seal(Space::Accounts, &key, &[]);
            batch.insert(&self.spaces.accounts, key, value);
        }
    }

    fn add_state_writes(&self, batch: &mut OwnedWriteBatch, commit: &BlockCommit<'_>) {
        for (key, value) in commit.state_writes {
            match value {
                Some(value) => {
                    let sealed = envelope::seal(Space::State, key, value);
                    batch.insert(&self.spaces.state, key.as_slice(), sealed);
                }
                None => batch.remove(&self.spaces.state, key.as_slice()),
            }
        }
    }
}

impl FjallStore {
    fn add_index_changes(&self, batch: &mut OwnedWriteBatch, commit: &BlockCommit<'_>) {
        for change in commit.index_changes {
            match &change.value {
                Some(value) => {
                    let sealed = envelope::seal(Space::Index, &change.key, value);
                    batch.insert(&self.spaces.index, change.key.as_slice(), sealed);
                }
                None => batch.remove(&self.spaces.index, change.key.as_slice()),
            }
        }
    }
}

impl Store for FjallStore {
    fn commit(&self, commit: &BlockCommit<'_>) -> Result<Committed, StoreError> {
        let header = check::validate(commit)?;
        let mut tip = self.lock_tip();
        let decision = check::decide(commit, &header, tip.as_ref(), |height| {
            self.block_id_at(height, &commit.block_id)
        })?;
        if decision == Decision::AlreadyPresent {
            return Ok(Committed::AlreadyPresent);
        }
        let new_tip = Tip {
            height: commit.height,
            block_id: commit.block_id,
            state_root: commit.state_root,
        };
        self.append_batch(commit, &new_tip)
            .commit()
            .map_err(StoreError::engine("commit a block"))?;
        *tip = Some(new_tip);
        Ok(Committed::Written)
    }

    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        Ok(*self.lock_tip())
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        self.read_block(height)
    }

    fn height_of(&self, block_id: &Digest) -> Result<Option<Height>, StoreError> {
        self.read(Space::BlockIds, &block_id.0, records::decode_height)
    }

    fn tx_location(&self, tx_hash: &Digest) -> Result<Option<TxLocation>, StoreError> {
        self.read(Space::Txs, &tx_hash.0, records::decode_location)
    }

    fn account_txs(
        &self,
        account: &Address,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<TxLocation>, StoreError> {
        let limit = limit.min(ACCOUNT_PAGE_MAX);
        let scan = match before {
            Some(before) => {
                let end = account_key(account, before);
                self.spaces.accounts.range(&account.0[..]..&end[..])
            }
            None => self.spaces.accounts.prefix(account.0),
        };
        let mut locations = Vec::with_capacity(limit);
        for guard in scan.rev().take(limit) {
            let (key, value) = guard
                .into_inner()
                .map_err(StoreError::engine("scan accounts"))?;
            open_value(Space::Accounts, &key, &value)?;
            let location = keys::parse_account_key(account, &key)
                .ok_or_else(|| corrupt(Space::Accounts, &key, "malformed account index key"))?;
            locations.push(location);
        }
        Ok(locations)
    }

    fn for_each_state_entry(&self, visit: &mut dyn FnMut(&[u8], &[u8])) -> Result<u64, StoreError> {
        let mut count = 0u64;
        for guard in self.spaces.state.iter() {
            let (key, value) = guard
                .into_inner()
                .map_err(StoreError::engine("scan state"))?;
            visit(&key, open_value(Space::State, &key, &value)?);
            count += 1;
        }
        Ok(count)
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(Space::State, key, |payload| Ok(payload.to_vec()))
    }

    fn index_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
        order: ScanOrder,
    ) -> Result<Vec<IndexEntry>, StoreError> {
        let limit = limit.min(INDEX_PAGE_MAX);
        if after.is_some_and(|after| !after.starts_with(prefix)) {
            return Ok(Vec::new());
        }
        let space = &self.spaces.index;
        let scan = match after {
            None => space.prefix(prefix),
            Some(after) => match order {
                ScanOrder::Ascending => space.range::<&[u8], _>((
                    std::ops::Bound::Excluded(after),
                    std::ops::Bound::Unbounded,
                )),
                ScanOrder::Descending => space.range::<&[u8], _>(prefix..after),
            },
        };
        let scan: Box<dyn Iterator<Item = fjall::Guard>> = match order {
            ScanOrder::Ascending => Box::new(scan),
            ScanOrder::Descending => Box::new(scan.rev()),
        };
        let mut entries = Vec::with_capacity(limit);
        for guard in scan {
            if entries.len() >= limit {
                break;
            }
            let (key, value) = guard
                .into_inner()
                .map_err(StoreError::engine("scan the index"))?;
            if !key.starts_with(prefix) {
                break;
            }
            let payload = open_value(Space::Index, &key, &value)?;
            entries.push((key.to_vec(), payload.to_vec()));
        }
        Ok(entries)
    }

    fn snapshot(&self) -> Result<Box<dyn StoreSnapshot>, StoreError> {
        Ok(Box::new(FjallSnapshot {
            snapshot: self.database.snapshot(),
            meta: self.spaces.meta.clone(),
            blocks: self.spaces.blocks.clone(),
            state: self.spaces.state.clone(),
        }))
    }
}

/// Decodes a block record and checks its header against its key and its
/// recorded id: the read-side half of the paired header check.
fn decode_block(key: &[u8], payload: &[u8]) -> Result<StoredBlock, StoreError> {
    let height = keys::parse_height_key(key)
        .ok_or_else(|| corrupt(Space::Blocks, key, "key is not a height"))?;
    let block = records::decode_block(height, payload)
        .map_err(|malformed| corrupt(Space::Blocks, key, &malformed.0))?;
    let header = check::decode_header(height, &block.block_bytes)
        .map_err(|error| corrupt(Space::Blocks, key, &error.to_string()))?;
    if header.height != height || header.id() != block.block_id {
        return Err(corrupt(
            Space::Blocks,
            key,
            "the block's header does not match its height or its recorded id",
        ));
    }
    Ok(block)
}

/// A fjall snapshot with the keyspaces a backup reads: every read is
/// checked as the live store checks it.
struct FjallSnapshot {
    snapshot: fjall::Snapshot,
    meta: Keyspace,
    blocks: Keyspace,
    state: Keyspace,
}

impl FjallSnapshot {
    fn read_raw(
        &self,
        keyspace: &Keyspace,
        key: &[u8],
    ) -> Result<Option<fjall::UserValue>, StoreError> {
        fjall::Readable::get(&self.snapshot, keyspace, key)
            .map_err(StoreError::engine("read from a snapshot"))
    }
}

impl StoreSnapshot for FjallSnapshot {
    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        let Some(value) = self.read_raw(&self.meta, TIP_KEY)? else {
            return Ok(None);
        };
        let payload = open_value(Space::Meta, TIP_KEY, &value)?;
        records::decode_tip(payload)
            .map(Some)
            .map_err(|malformed| corrupt(Space::Meta, TIP_KEY, &malformed.0))
    }

    fn block(&self, height: Height) -> Result<Option<StoredBlock>, StoreError> {
        let key = height_key(height);
        let Some(value) = self.read_raw(&self.blocks, &key)? else {
            return Ok(None);
        };
        decode_block(&key, open_value(Space::Blocks, &key, &value)?).map(Some)
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(value) = self.read_raw(&self.state, key)? else {
            return Ok(None);
        };
        open_value(Space::State, key, &value).map(|payload| Some(payload.to_vec()))
    }
}

/// Checks the envelope of a value read from `space`.
fn open_value<'v>(space: Space, key: &[u8], value: &'v [u8]) -> Result<&'v [u8], StoreError> {
    envelope::open(space, key, value).map_err(|malformed| corrupt(space, key, &malformed.0))
}

fn corrupt(space: Space, key: &[u8], reason: &str) -> StoreError {
    StoreError::Corrupt {
        keyspace: space.name(),
        key_hex: hex::encode(key),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod test_access {
    //! Raw access for tests that damage the store on purpose.

    use super::*;

    impl FjallStore {
        /// Overwrites the raw value under `key` in `space`, bypassing the
        /// envelope.
        pub(crate) fn write_raw(&self, space: Space, key: &[u8], value: Vec<u8>) {
            self.spaces
                .get(space)
                .insert(key, value)
                .expect("raw test write");
            self.database
                .persist(PersistMode::SyncAll)
                .expect("persist");
        }

        /// Removes the value under `key` in `space`.
        pub(crate) fn remove_raw(&self, space: Space, key: &[u8]) {
            self.spaces.get(space).remove(key).expect("raw test remove");
            self.database
                .persist(PersistMode::SyncAll)
                .expect("persist");
        }

        /// The raw value under `key` in `space`.
        pub(crate) fn read_raw(&self, space: Space, key: &[u8]) -> Option<Vec<u8>> {
            self.spaces
                .get(space)
                .get(key)
                .expect("raw test read")
                .map(|value| value.to_vec())
        }
    }
}
