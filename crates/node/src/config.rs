//! The node's configuration file, `config.toml` in the node's home.
//!
//! Unknown keys are refused, so a typo in an option name is an error at
//! start-up instead of a silently ignored setting.

use cityledger_types::PublicKey;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Default leader timeout for a single validator, in ms.
pub const LEADER_TIMEOUT_MS_DEFAULT: u64 = 1_000;
/// Bounds of the leader timeout, in ms.
pub const LEADER_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 50..=60_000;

/// A validator in the address book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorAddress {
    /// The node's name (its organisation).
    pub name: String,
    /// Its consensus and p2p key, hex.
    pub key: PublicKey,
    /// Where it listens for peers.
    pub p2p: SocketAddr,
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's name.
    pub name: String,
    /// Where the REST API listens.
    pub api_listen: SocketAddr,
    /// Where the p2p network listens.
    pub p2p_listen: SocketAddr,
    /// Leader timeout, in ms.
    #[serde(default = "leader_timeout_default")]
    pub leader_timeout_ms: u64,
    /// Every validator, this one included.
    pub validators: Vec<ValidatorAddress>,
}

fn leader_timeout_default() -> u64 {
    LEADER_TIMEOUT_MS_DEFAULT
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No validators listed.
    #[error("`validators` is empty; list at least this node")]
    NoValidators,
    /// Leader timeout out of range.
    #[error("`leader_timeout_ms` = {value} is outside {min}..={max}")]
    LeaderTimeout {
        /// Given.
        value: u64,
        /// Lower bound.
        min: u64,
        /// Upper bound.
        max: u64,
    },
    /// Two validators share a key or an address.
    #[error("validators `{first}` and `{second}` share a {what}")]
    Duplicate {
        /// First name.
        first: String,
        /// Second name.
        second: String,
        /// "key" or "p2p address".
        what: &'static str,
    },
    /// API and p2p on the same address.
    #[error("`api_listen` and `p2p_listen` are both {address}")]
    SameListen {
        /// The address.
        address: SocketAddr,
    },
}

impl NodeConfig {
    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.validators.is_empty() {
            return Err(ConfigError::NoValidators);
        }
        if !LEADER_TIMEOUT_MS_RANGE.contains(&self.leader_timeout_ms) {
            return Err(ConfigError::LeaderTimeout {
                value: self.leader_timeout_ms,
                min: *LEADER_TIMEOUT_MS_RANGE.start(),
                max: *LEADER_TIMEOUT_MS_RANGE.end(),
            });
        }
        if self.api_listen == self.p2p_listen {
            return Err(ConfigError::SameListen {
                address: self.api_listen,
            });
        }
        for (i, a) in self.validators.iter().enumerate() {
            for b in &self.validators[i + 1..] {
                let what = if a.key == b.key {
                    "key"
                } else if a.p2p == b.p2p {
                    "p2p address"
                } else {
                    continue;
                };
                return Err(ConfigError::Duplicate {
                    first: a.name.clone(),
                    second: b.name.clone(),
                    what,
                });
            }
        }
        Ok(())
    }
}
