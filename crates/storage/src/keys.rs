//! The on-disk key layout: which keyspace holds what, under which key.
//!
//! Heights and positions are big-endian so that byte order is chain order:
//! a forward scan walks the chain from genesis, a reverse scan from the tip.
//! This module owns key bytes only; it never reads or writes a value.
//!
//! | keyspace    | key                                   | value                      |
//! |-------------|---------------------------------------|----------------------------|
//! | `meta`      | `format`, `tip`                        | format marker, tip         |
//! | `blocks`    | height (8, BE)                        | block record               |
//! | `block_ids` | block id (32)                         | height                     |
//! | `txs`       | tx hash (32)                          | height, position           |
//! | `accounts`  | address (21) ‖ height (8) ‖ position (4) | nothing but the checksum |
//! | `state`     | state key                             | state value                |
//! | `index`     | derived-index key (the node's layout) | derived-index value        |

use crate::store::TxLocation;
use cityledger_types::address::ADDRESS_LEN;
use cityledger_types::{Address, Height};

/// A keyspace of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    /// Format marker and tip.
    Meta,
    /// Block records by height.
    Blocks,
    /// Heights by block id.
    BlockIds,
    /// Transaction locations by hash.
    Txs,
    /// The per-account index.
    Accounts,
    /// State entries.
    State,
    /// The derived indexes.
    Index,
}

impl Space {
    /// Every keyspace, in the order they are opened.
    pub(crate) const ALL: [Space; 7] = [
        Space::Meta,
        Space::Blocks,
        Space::BlockIds,
        Space::Txs,
        Space::Accounts,
        Space::State,
        Space::Index,
    ];

    /// The keyspace's name on disk; also bound into every value's checksum.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Space::Meta => "meta",
            Space::Blocks => "blocks",
            Space::BlockIds => "block_ids",
            Space::Txs => "txs",
            Space::Accounts => "accounts",
            Space::State => "state",
            Space::Index => "index",
        }
    }
}

/// Key of the format marker in [`Space::Meta`].
pub(crate) const FORMAT_KEY: &[u8] = b"format";
/// Key of the tip in [`Space::Meta`].
pub(crate) const TIP_KEY: &[u8] = b"tip";

/// Length of a height key.
pub(crate) const HEIGHT_KEY_LEN: usize = 8;
/// Length of an account index key.
pub(crate) const ACCOUNT_KEY_LEN: usize = ADDRESS_LEN + HEIGHT_KEY_LEN + 4;

/// Key of a block in [`Space::Blocks`].
pub(crate) fn height_key(height: Height) -> [u8; HEIGHT_KEY_LEN] {
    height.0.to_be_bytes()
}

/// Parses a key of [`Space::Blocks`].
pub(crate) fn parse_height_key(key: &[u8]) -> Option<Height> {
    let bytes: [u8; HEIGHT_KEY_LEN] = key.try_into().ok()?;
    Some(Height(u64::from_be_bytes(bytes)))
}

/// Key of one entry of the per-account index.
pub(crate) fn account_key(account: &Address, location: TxLocation) -> [u8; ACCOUNT_KEY_LEN] {
    let mut key = [0u8; ACCOUNT_KEY_LEN];
    let (address, rest) = key.split_at_mut(ADDRESS_LEN);
    let (height, position) = rest.split_at_mut(HEIGHT_KEY_LEN);
    address.copy_from_slice(&account.0);
    height.copy_from_slice(&location.height.0.to_be_bytes());
    position.copy_from_slice(&location.position.to_be_bytes());
    key
}

/// Parses a key of [`Space::Accounts`] that must belong to `account`.
pub(crate) fn parse_account_key(account: &Address, key: &[u8]) -> Option<TxLocation> {
    let key: &[u8; ACCOUNT_KEY_LEN] = key.try_into().ok()?;
    let (address, rest) = key.split_at(ADDRESS_LEN);
    if address != account.0 {
        return None;
    }
    let (height, position) = rest.split_at(HEIGHT_KEY_LEN);
    Some(TxLocation {
        height: Height(u64::from_be_bytes(height.try_into().ok()?)),
        position: u32::from_be_bytes(position.try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_keys_sort_in_chain_order_and_round_trip() {
        let account = Address([7; ADDRESS_LEN]);
        let locations = [
            TxLocation {
                height: Height(1),
                position: 5,
            },
            TxLocation {
                height: Height(1),
                position: 256,
            },
            TxLocation {
                height: Height(256),
                position: 0,
            },
            TxLocation {
                height: Height(u64::MAX),
                position: u32::MAX,
            },
        ];
        let keys: Vec<_> = locations
            .iter()
            .map(|l| account_key(&account, *l))
            .collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        for (key, location) in keys.iter().zip(locations) {
            assert_eq!(parse_account_key(&account, key), Some(location));
        }
        assert_eq!(
            parse_account_key(&Address([8; ADDRESS_LEN]), &keys[0]),
            None
        );
        assert_eq!(parse_account_key(&account, &keys[0][1..]), None);
    }

    #[test]
    fn height_keys_sort_in_chain_order() {
        assert!(height_key(Height(255)) < height_key(Height(256)));
        assert_eq!(parse_height_key(&height_key(Height(42))), Some(Height(42)));
        assert_eq!(parse_height_key(&[0; 7]), None);
    }
}
