//! The checks every implementation runs on a commit before writing it.
//!
//! [`validate`] checks a commit against the limits and against its own block
//! header; [`decide`] checks it against the tip. Both are pure: they never
//! write, so a refused commit leaves every store unchanged. Sharing them is
//! what gives [`FjallStore`](crate::FjallStore) and
//! [`MemoryStore`](crate::MemoryStore) the same semantics.

use crate::error::StoreError;
use crate::limits::{
    ACCOUNT_ENTRIES_PER_BLOCK_MAX, BLOCK_BYTES_MAX, CERTIFICATE_BYTES_MAX, EVENTS_BYTES_MAX,
    INDEX_CHANGES_PER_BLOCK_MAX, INDEX_KEY_BYTES_MAX, INDEX_VALUE_BYTES_MAX, OUTCOMES_BYTES_MAX,
    STATE_KEY_BYTES_MAX, STATE_VALUE_BYTES_MAX, STATE_WRITES_PER_BLOCK_MAX, TX_PER_BLOCK_MAX,
};
use crate::store::{BlockCommit, Tip};
use borsh::BorshDeserialize;
use cityledger_types::block::{BlockHeader, tx_leaf};
use cityledger_types::merkle;
use cityledger_types::{Digest, Height};

/// What a valid commit does to the store.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Append it as the new tip.
    Append,
    /// The same block is already stored; do nothing.
    AlreadyPresent,
}

/// Checks `commit` against the limits and its own header. Returns the
/// decoded header.
pub(crate) fn validate(commit: &BlockCommit<'_>) -> Result<BlockHeader, StoreError> {
    check_limits(commit)?;
    let header = decode_header(commit.height, commit.block_bytes)?;
    check_header(commit, &header)?;
    check_indexes(commit)?;
    Ok(header)
}

/// Checks `commit` against the tip. `stored_id_at` returns the id of the
/// stored block at a height at or below the tip.
pub(crate) fn decide(
    commit: &BlockCommit<'_>,
    header: &BlockHeader,
    tip: Option<&Tip>,
    stored_id_at: impl FnOnce(Height) -> Result<Option<Digest>, StoreError>,
) -> Result<Decision, StoreError> {
    let (expected_height, expected_parent) = match tip {
        None => (Height(0), Digest::ZERO),
        Some(tip) if commit.height <= tip.height => {
            return already_present_or_divergence(commit, stored_id_at);
        }
        Some(tip) => (tip.height.next(), tip.block_id),
    };
    if commit.height != expected_height {
        return Err(StoreError::HeightGap {
            expected: expected_height,
            found: commit.height,
        });
    }
    if header.parent != expected_parent {
        return Err(StoreError::ParentMismatch {
            height: commit.height,
            expected: expected_parent,
            found: header.parent,
        });
    }
    Ok(Decision::Append)
}

/// Decodes the header at the front of a canonical encoded block, without
/// decoding the transactions behind it.
pub(crate) fn decode_header(height: Height, block_bytes: &[u8]) -> Result<BlockHeader, StoreError> {
    let mut reader = block_bytes;
    BlockHeader::deserialize(&mut reader).map_err(|error| StoreError::InvalidCommit {
        height,
        reason: format!("block header does not decode: {error}"),
    })
}

fn already_present_or_divergence(
    commit: &BlockCommit<'_>,
    stored_id_at: impl FnOnce(Height) -> Result<Option<Digest>, StoreError>,
) -> Result<Decision, StoreError> {
    let stored = stored_id_at(commit.height)?;
    // Every height up to the tip is stored; a hole is damage, not a gap.
    let stored = stored.ok_or_else(|| StoreError::Corrupt {
        keyspace: "blocks",
        key_hex: hex::encode(commit.height.0.to_be_bytes()),
        reason: "no block at a height at or below the tip".into(),
    })?;
    if stored == commit.block_id {
        Ok(Decision::AlreadyPresent)
    } else {
        Err(StoreError::Divergence {
            height: commit.height,
            stored,
            offered: commit.block_id,
        })
    }
}

fn check_limits(commit: &BlockCommit<'_>) -> Result<(), StoreError> {
    let sizes = [
        (
            "block",
            commit.block_bytes.len(),
            "BLOCK_BYTES_MAX",
            BLOCK_BYTES_MAX,
        ),
        (
            "certificate",
            commit.certificate.len(),
            "CERTIFICATE_BYTES_MAX",
            CERTIFICATE_BYTES_MAX,
        ),
        (
            "outcomes",
            commit.outcomes_bytes.len(),
            "OUTCOMES_BYTES_MAX",
            OUTCOMES_BYTES_MAX,
        ),
        (
            "events",
            commit.events_bytes.len(),
            "EVENTS_BYTES_MAX",
            EVENTS_BYTES_MAX,
        ),
        (
            "transaction count",
            commit.tx_hashes.len(),
            "TX_PER_BLOCK_MAX",
            TX_PER_BLOCK_MAX,
        ),
        (
            "account index entry count",
            commit.account_entries.len(),
            "ACCOUNT_ENTRIES_PER_BLOCK_MAX",
            ACCOUNT_ENTRIES_PER_BLOCK_MAX,
        ),
        (
            "state write count",
            commit.state_writes.len(),
            "STATE_WRITES_PER_BLOCK_MAX",
            STATE_WRITES_PER_BLOCK_MAX,
        ),
        (
            "index change count",
            commit.index_changes.len(),
            "INDEX_CHANGES_PER_BLOCK_MAX",
            INDEX_CHANGES_PER_BLOCK_MAX,
        ),
    ];
    for (what, length, limit_name, limit) in sizes {
        check_limit(what, length, limit_name, limit)?;
    }
    for (key, value) in commit.state_writes {
        check_limit(
            "state key",
            key.len(),
            "STATE_KEY_BYTES_MAX",
            STATE_KEY_BYTES_MAX,
        )?;
        let value_len = value.as_ref().map_or(0, Vec::len);
        check_limit(
            "state value",
            value_len,
            "STATE_VALUE_BYTES_MAX",
            STATE_VALUE_BYTES_MAX,
        )?;
    }
    for change in commit.index_changes {
        check_limit(
            "index key",
            change.key.len(),
            "INDEX_KEY_BYTES_MAX",
            INDEX_KEY_BYTES_MAX,
        )?;
        check_limit(
            "index value",
            change.value.as_ref().map_or(0, Vec::len),
            "INDEX_VALUE_BYTES_MAX",
            INDEX_VALUE_BYTES_MAX,
        )?;
    }
    Ok(())
}

fn check_limit(
    what: &'static str,
    length: usize,
    limit_name: &'static str,
    limit: usize,
) -> Result<(), StoreError> {
    if length > limit {
        return Err(StoreError::LimitExceeded {
            what,
            length,
            limit_name,
            limit,
        });
    }
    Ok(())
}

fn check_header(commit: &BlockCommit<'_>, header: &BlockHeader) -> Result<(), StoreError> {
    let invalid = |reason: String| {
        Err(StoreError::InvalidCommit {
            height: commit.height,
            reason,
        })
    };
    if header.height != commit.height {
        return invalid(format!("the header is for height {}", header.height));
    }
    let header_id = header.id();
    if header_id != commit.block_id {
        return invalid(format!(
            "block id {} is not the header's id {header_id}",
            commit.block_id
        ));
    }
    if header.state_root != commit.state_root {
        return invalid(format!(
            "state root {} is not the header's state root {}",
            commit.state_root, header.state_root
        ));
    }
    if header.tx_count as usize != commit.tx_hashes.len() {
        return invalid(format!(
            "{} transaction hashes for a header that counts {}",
            commit.tx_hashes.len(),
            header.tx_count
        ));
    }
    let leaves: Vec<Digest> = commit.tx_hashes.iter().map(tx_leaf).collect();
    if merkle::root(&leaves) != header.tx_root {
        return invalid("the transaction hashes do not match the header's tx root".into());
    }
    Ok(())
}

fn check_indexes(commit: &BlockCommit<'_>) -> Result<(), StoreError> {
    let tx_count = commit.tx_hashes.len();
    if let Some((account, position)) = commit
        .account_entries
        .iter()
        .find(|(_, position)| *position as usize >= tx_count)
    {
        return Err(StoreError::InvalidCommit {
            height: commit.height,
            reason: format!(
                "account index entry for {account} points at position {position} \
                 of a block with {tx_count} transactions"
            ),
        });
    }
    if commit
        .index_changes
        .iter()
        .any(|change| change.key.is_empty())
    {
        return Err(StoreError::InvalidCommit {
            height: commit.height,
            reason: "an index change has an empty key".into(),
        });
    }
    // Two transactions with one hash would make the tx index point at only
    // one of them.
    let mut hashes: Vec<&Digest> = commit.tx_hashes.iter().collect();
    hashes.sort_unstable();
    if let Some(pair) = hashes.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(StoreError::InvalidCommit {
            height: commit.height,
            reason: format!("transaction {} appears twice in the block", pair[0]),
        });
    }
    Ok(())
}
