//! The node's configuration file, `config.toml` in the node's home; every
//! option is listed in `docs/configuration.md`.
//!
//! [`NodeConfig::parse`] is the one validation, used at start-up and by
//! `cityledger config check`. It is pure: it takes the file's text and a way
//! to read environment variables, so tests need neither a file nor a
//! process environment. Unknown keys are refused, so a typo in an option
//! name is an error instead of a silently ignored setting, and every
//! refusal names where the bad value came from: the file's line, or the
//! environment variable that overrode it.

pub use crate::mempool::MempoolLimits;
use cityledger_types::{OrgName, PublicKey};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// Default leader timeout for a single validator, in ms.
pub const LEADER_TIMEOUT_MS_DEFAULT: u64 = 1_000;
/// Bounds of the leader timeout, in ms.
pub const LEADER_TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 50..=60_000;
/// Default sustained requests per second from one client address: off,
/// because the limit is per address and a node's own agency clients, bench
/// and audit scripts often share one; operators of a public node set it.
pub const RATE_LIMIT_PER_S_DEFAULT: u32 = 0;
/// Default requests one client address may make at once above the rate.
pub const RATE_LIMIT_BURST_DEFAULT: u32 = 2_000;
/// Above this a rate limit protects nothing; refused as a likely typo.
pub const RATE_LIMIT_PER_S_MAX: u32 = 1_000_000;
/// Bound of the burst, for the same reason.
pub const RATE_LIMIT_BURST_MAX: u32 = 10_000_000;
/// Most origins the API answers cross-origin requests from.
pub const CORS_ORIGINS_MAX: usize = 64;
/// Bounds of `mempool.tx_max`: from one transaction to ten times the
/// default, whose entries cost a few hundred bytes of index each.
pub const MEMPOOL_TX_MAX_RANGE: std::ops::RangeInclusive<u64> = 1..=2_000_000;
/// Bounds of `mempool.bytes_max`: room for one largest transaction, up to
/// 16 GiB of memory.
pub const MEMPOOL_BYTES_MAX_RANGE: std::ops::RangeInclusive<u64> =
    cityledger_types::limits::TX_BYTES_MAX as u64..=16 << 30;
/// Default seconds between checks of the TLS files for a renewed certificate.
pub const TLS_RELOAD_CHECK_S_DEFAULT: u64 = 30;
/// Bounds of `api.tls.reload_check_s`: up to a day.
pub const TLS_RELOAD_CHECK_S_RANGE: std::ops::RangeInclusive<u64> = 1..=86_400;
/// Environment variables that override the file start with this.
pub const ENV_PREFIX: &str = "CITYLEDGER_";

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

/// The public REST API's protections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Sustained requests per second each client address may make; 0 turns
    /// the limit off (for a node behind a proxy that limits instead).
    pub rate_limit_per_s: u32,
    /// Requests a client address may make at once before the rate applies.
    pub rate_limit_burst: u32,
    /// Origins whose web pages may call the API (`https://host[:port]`), or
    /// `["*"]` for any; empty allows none, the browser default.
    pub cors_allowed_origins: Vec<String>,
    /// TLS on the API; off unless both files are given.
    pub tls: TlsConfig,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            rate_limit_per_s: RATE_LIMIT_PER_S_DEFAULT,
            rate_limit_burst: RATE_LIMIT_BURST_DEFAULT,
            cors_allowed_origins: Vec::new(),
            tls: TlsConfig::default(),
        }
    }
}

/// The API's TLS certificate. Paths are the node home's when relative.
/// Whether the files load is checked by the node at start-up and by
/// `config check`, not here: parsing reads no file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The certificate chain, leaf first, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<std::path::PathBuf>,
    /// The leaf's private key, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<std::path::PathBuf>,
    /// Seconds between checks of the files for a renewed certificate.
    pub reload_check_s: u64,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            cert_file: None,
            key_file: None,
            reload_check_s: TLS_RELOAD_CHECK_S_DEFAULT,
        }
    }
}

impl TlsConfig {
    /// Whether the API serves TLS.
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's name: its organisation's.
    pub name: String,
    /// Where the REST API listens.
    pub api_listen: SocketAddr,
    /// Where the p2p network listens.
    pub p2p_listen: SocketAddr,
    /// Leader timeout, in ms.
    #[serde(default = "leader_timeout_default")]
    pub leader_timeout_ms: u64,
    /// The public API's protections.
    #[serde(default)]
    pub api: ApiConfig,
    /// How much the mempool holds before it refuses submissions.
    #[serde(default)]
    pub mempool: MempoolLimits,
    /// Every validator, this one included.
    pub validators: Vec<ValidatorAddress>,
}

impl NodeConfig {
    /// The API's base URL as this node serves it, `https` with TLS on.
    pub fn api_url(&self) -> String {
        let scheme = if self.api.tls.enabled() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.api_listen)
    }
}

fn leader_timeout_default() -> u64 {
    LEADER_TIMEOUT_MS_DEFAULT
}

/// One step of the path to a value in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A key of a table.
    Key(&'static str),
    /// An item of an array.
    Item(usize),
}

/// Where a value sits in the file, such as `validators[2].p2p`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Step>);

impl KeyPath {
    fn of(steps: &[Step]) -> KeyPath {
        KeyPath(steps.to_vec())
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if i == 0 => write!(f, "{key}")?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Item(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A configuration that cannot work, and the key that says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No validators listed.
    #[error("`validators` is empty; list at least this node")]
    NoValidators,
    /// A number outside the range that can work.
    #[error("`{key}` = {value} is outside {min}..={max}")]
    OutOfRange {
        /// The option.
        key: KeyPath,
        /// Given.
        value: u64,
        /// Lower bound.
        min: u64,
        /// Upper bound.
        max: u64,
    },
    /// A rate limit whose burst cannot carry one second of its rate.
    #[error("`api.rate_limit_burst` = {burst} is below `api.rate_limit_per_s` = {per_s}")]
    BurstBelowRate {
        /// The burst.
        burst: u32,
        /// The rate.
        per_s: u32,
    },
    /// A name that is not an organisation name.
    #[error("`{key}` = {value:?} is not an organisation name: {reason}")]
    BadName {
        /// The option.
        key: KeyPath,
        /// Given.
        value: String,
        /// Why not.
        reason: String,
    },
    /// Two validators share a name, a key or an address.
    #[error("validators `{first}` and `{second}` share a {what}")]
    Duplicate {
        /// Index of the second one, whose line is reported.
        index: usize,
        /// First name.
        first: String,
        /// Second name.
        second: String,
        /// "name", "key" or "p2p address".
        what: &'static str,
    },
    /// API and p2p on the same address.
    #[error("`api_listen` and `p2p_listen` are both {address}")]
    SameListen {
        /// The address.
        address: SocketAddr,
    },
    /// A listening port of 0 would be picked at random, where no peer or
    /// client could find it.
    #[error("`{key}` has port 0; give the port peers and clients use")]
    PortZero {
        /// The option.
        key: KeyPath,
    },
    /// A CORS origin that is not `scheme://host[:port]`.
    #[error("`api.cors_allowed_origins[{index}]` = {value:?} {reason}")]
    BadOrigin {
        /// Its index in the list.
        index: usize,
        /// Given.
        value: String,
        /// Why not.
        reason: &'static str,
    },
    /// One of the TLS files given without the other.
    #[error("`api.tls.{given}` is set but `api.tls.{missing}` is not; TLS needs both")]
    TlsHalf {
        /// The one given.
        given: &'static str,
        /// The one missing.
        missing: &'static str,
    },
    /// A TLS file given as an empty path.
    #[error("`api.tls.{key}` is empty")]
    EmptyPath {
        /// `cert_file` or `key_file`.
        key: &'static str,
    },
    /// Too many CORS origins.
    #[error("`api.cors_allowed_origins` lists {count} origins; at most {max}")]
    TooManyOrigins {
        /// Listed.
        count: usize,
        /// Bound.
        max: usize,
    },
}

impl ConfigError {
    /// The key whose value is wrong, to find its line.
    pub fn key(&self) -> KeyPath {
        use Step::{Item, Key};
        match self {
            ConfigError::NoValidators => KeyPath::of(&[Key("validators")]),
            ConfigError::OutOfRange { key, .. }
            | ConfigError::BadName { key, .. }
            | ConfigError::PortZero { key } => key.clone(),
            ConfigError::BurstBelowRate { .. } => {
                KeyPath::of(&[Key("api"), Key("rate_limit_burst")])
            }
            ConfigError::Duplicate { index, .. } => KeyPath::of(&[Key("validators"), Item(*index)]),
            ConfigError::SameListen { .. } => KeyPath::of(&[Key("p2p_listen")]),
            ConfigError::BadOrigin { index, .. } => {
                KeyPath::of(&[Key("api"), Key("cors_allowed_origins"), Item(*index)])
            }
            ConfigError::TooManyOrigins { .. } => {
                KeyPath::of(&[Key("api"), Key("cors_allowed_origins")])
            }
            ConfigError::TlsHalf { given: key, .. } | ConfigError::EmptyPath { key } => {
                KeyPath::of(&[Key("api"), Key("tls"), Key(key)])
            }
        }
    }
}

/// Where a refused value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The file, at this line (from 1) when it is known.
    File {
        /// The line.
        line: Option<usize>,
    },
    /// An environment variable.
    Env {
        /// Its name.
        var: String,
    },
}

/// Why a configuration was refused, and where the bad value came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", self.place())]
pub struct ConfigIssue {
    /// Where.
    pub origin: Origin,
    /// Why, for people.
    pub reason: String,
}

impl ConfigIssue {
    fn place(&self) -> String {
        match &self.origin {
            Origin::File { line: Some(line) } => format!("line {line}: "),
            Origin::File { line: None } => String::new(),
            Origin::Env { var } => format!("environment variable {var}: "),
        }
    }
}

/// An option that an environment variable may override, by its key path.
struct EnvOption {
    key: &'static [Step],
    set: fn(&mut NodeConfig, &str) -> Result<(), String>,
}

fn parsed<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    text.trim()
        .parse()
        .map_err(|error: T::Err| format!("{text:?} does not parse: {error}"))
}

/// The options settable from the environment: the ones a deployment sets
/// per machine (addresses, limits). The validator list is the network's
/// and stays in the file.
const ENV_OPTIONS: &[EnvOption] = &[
    EnvOption {
        key: &[Step::Key("name")],
        set: |config, text| {
            config.name = text.trim().to_owned();
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api_listen")],
        set: |config, text| {
            config.api_listen = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("p2p_listen")],
        set: |config, text| {
            config.p2p_listen = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("leader_timeout_ms")],
        set: |config, text| {
            config.leader_timeout_ms = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api"), Step::Key("rate_limit_per_s")],
        set: |config, text| {
            config.api.rate_limit_per_s = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api"), Step::Key("rate_limit_burst")],
        set: |config, text| {
            config.api.rate_limit_burst = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("mempool"), Step::Key("tx_max")],
        set: |config, text| {
            config.mempool.tx_max = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("mempool"), Step::Key("bytes_max")],
        set: |config, text| {
            config.mempool.bytes_max = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api"), Step::Key("tls"), Step::Key("cert_file")],
        set: |config, text| {
            config.api.tls.cert_file = Some(text.into());
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api"), Step::Key("tls"), Step::Key("key_file")],
        set: |config, text| {
            config.api.tls.key_file = Some(text.into());
            Ok(())
        },
    },
    EnvOption {
        key: &[
            Step::Key("api"),
            Step::Key("tls"),
            Step::Key("reload_check_s"),
        ],
        set: |config, text| {
            config.api.tls.reload_check_s = parsed(text)?;
            Ok(())
        },
    },
    EnvOption {
        key: &[Step::Key("api"), Step::Key("cors_allowed_origins")],
        set: |config, text| {
            config.api.cors_allowed_origins = text
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect();
            Ok(())
        },
    },
];

/// The environment variable that overrides `key`: `CITYLEDGER_` and the
/// key path in capitals, joined by `_` (`CITYLEDGER_API_RATE_LIMIT_PER_S`).
pub fn env_var(key: &[Step]) -> String {
    let mut name = ENV_PREFIX.to_owned();
    for (i, step) in key.iter().enumerate() {
        if let Step::Key(part) = step {
            if i > 0 {
                name.push('_');
            }
            name.push_str(&part.to_uppercase());
        }
    }
    name
}

/// Every environment variable the configuration reads.
pub fn env_vars() -> Vec<String> {
    ENV_OPTIONS
        .iter()
        .map(|option| env_var(option.key))
        .collect()
}

impl NodeConfig {
    /// Parses and validates `text`, with the environment variables that
    /// `env` returns overriding the file.
    pub fn parse(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<NodeConfig, ConfigIssue> {
        let mut config: NodeConfig = toml::from_str(text).map_err(|error| ConfigIssue {
            origin: Origin::File {
                line: error.span().map(|span| line_at(text, span.start)),
            },
            reason: error.message().trim_end().to_owned(),
        })?;
        let mut overridden = Vec::new();
        for option in ENV_OPTIONS {
            let var = env_var(option.key);
            if let Some(value) = env(&var) {
                (option.set)(&mut config, &value).map_err(|reason| ConfigIssue {
                    origin: Origin::Env { var: var.clone() },
                    reason,
                })?;
                overridden.push((KeyPath::of(option.key), var));
            }
        }
        config.validate().map_err(|error| {
            let key = error.key();
            let origin = match overridden
                .iter()
                .find(|(path, _)| key.0.starts_with(&path.0))
            {
                Some((_, var)) => Origin::Env { var: var.clone() },
                None => Origin::File {
                    line: line_of(text, &key),
                },
            };
            ConfigIssue {
                origin,
                reason: error.to_string(),
            }
        })?;
        Ok(config)
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use Step::{Item, Key};
        check_name(&[Key("name")], &self.name)?;
        if self.validators.is_empty() {
            return Err(ConfigError::NoValidators);
        }
        check_range(
            &[Key("leader_timeout_ms")],
            self.leader_timeout_ms,
            LEADER_TIMEOUT_MS_RANGE,
        )?;
        for (address, key) in [
            (self.api_listen, Key("api_listen")),
            (self.p2p_listen, Key("p2p_listen")),
        ] {
            if address.port() == 0 {
                return Err(ConfigError::PortZero {
                    key: KeyPath::of(&[key]),
                });
            }
        }
        if self.api_listen == self.p2p_listen {
            return Err(ConfigError::SameListen {
                address: self.api_listen,
            });
        }
        for (index, validator) in self.validators.iter().enumerate() {
            check_name(
                &[Key("validators"), Item(index), Key("name")],
                &validator.name,
            )?;
            if validator.p2p.port() == 0 {
                return Err(ConfigError::PortZero {
                    key: KeyPath::of(&[Key("validators"), Item(index), Key("p2p")]),
                });
            }
        }
        self.check_distinct_validators()?;
        for (key, value, range) in [
            ("tx_max", self.mempool.tx_max, MEMPOOL_TX_MAX_RANGE),
            ("bytes_max", self.mempool.bytes_max, MEMPOOL_BYTES_MAX_RANGE),
        ] {
            let value = u64::try_from(value).unwrap_or(u64::MAX);
            check_range(&[Key("mempool"), Key(key)], value, range)?;
        }
        self.api.validate()
    }

    fn check_distinct_validators(&self) -> Result<(), ConfigError> {
        for (i, a) in self.validators.iter().enumerate() {
            for (j, b) in self.validators.iter().enumerate().skip(i + 1) {
                let what = if a.name == b.name {
                    "name"
                } else if a.key == b.key {
                    "key"
                } else if a.p2p == b.p2p {
                    "p2p address"
                } else {
                    continue;
                };
                return Err(ConfigError::Duplicate {
                    index: j,
                    first: a.name.clone(),
                    second: b.name.clone(),
                    what,
                });
            }
        }
        Ok(())
    }
}

impl ApiConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        use Step::Key;
        if self.rate_limit_per_s > 0 {
            check_range(
                &[Key("api"), Key("rate_limit_per_s")],
                u64::from(self.rate_limit_per_s),
                1..=u64::from(RATE_LIMIT_PER_S_MAX),
            )?;
            check_range(
                &[Key("api"), Key("rate_limit_burst")],
                u64::from(self.rate_limit_burst),
                1..=u64::from(RATE_LIMIT_BURST_MAX),
            )?;
            if self.rate_limit_burst < self.rate_limit_per_s {
                return Err(ConfigError::BurstBelowRate {
                    burst: self.rate_limit_burst,
                    per_s: self.rate_limit_per_s,
                });
            }
        }
        if self.cors_allowed_origins.len() > CORS_ORIGINS_MAX {
            return Err(ConfigError::TooManyOrigins {
                count: self.cors_allowed_origins.len(),
                max: CORS_ORIGINS_MAX,
            });
        }
        self.tls.validate()?;
        let any = self.cors_allowed_origins.iter().any(|origin| origin == "*");
        for (index, origin) in self.cors_allowed_origins.iter().enumerate() {
            let reason = if origin == "*" {
                (self.cors_allowed_origins.len() > 1)
                    .then_some("allows any origin, so it must be the only entry")
            } else if any {
                Some("is listed beside \"*\", which already allows it")
            } else {
                origin_fault(origin)
            };
            if let Some(reason) = reason {
                return Err(ConfigError::BadOrigin {
                    index,
                    value: origin.clone(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

impl TlsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        use Step::Key;
        check_range(
            &[Key("api"), Key("tls"), Key("reload_check_s")],
            self.reload_check_s,
            TLS_RELOAD_CHECK_S_RANGE,
        )?;
        let files = [("cert_file", &self.cert_file), ("key_file", &self.key_file)];
        for (key, path) in files {
            if path
                .as_ref()
                .is_some_and(|path| path.as_os_str().is_empty())
            {
                return Err(ConfigError::EmptyPath { key });
            }
        }
        match files {
            [(given, Some(_)), (missing, None)] | [(missing, None), (given, Some(_))] => {
                Err(ConfigError::TlsHalf { given, missing })
            }
            _ => Ok(()),
        }
    }
}

/// Why `origin` is not a web origin as browsers send it, if it is not.
fn origin_fault(origin: &str) -> Option<&'static str> {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return Some("is not an origin: it must start with https:// or http://");
    };
    if rest.is_empty() {
        return Some("has no host");
    }
    if rest.contains('/') {
        return Some("has a path; an origin is only scheme://host[:port]");
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Some("holds characters a host name cannot");
    }
    None
}

fn check_name(key: &[Step], value: &str) -> Result<(), ConfigError> {
    OrgName::new(value)
        .map(|_| ())
        .map_err(|error| ConfigError::BadName {
            key: KeyPath::of(key),
            value: value.to_owned(),
            reason: error.to_string(),
        })
}

fn check_range(
    key: &[Step],
    value: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(ConfigError::OutOfRange {
        key: KeyPath::of(key),
        value,
        min: *range.start(),
        max: *range.end(),
    })
}

/// The line (from 1) of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line of the value at `key`, or of its nearest ancestor written in
/// the file (a defaulted option has no line of its own).
fn line_of(text: &str, key: &KeyPath) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for step in &key.0 {
        let next = match (step, table, value) {
            (Step::Key(name), Some(table), _) => table
                .iter()
                .find(|(candidate, _)| candidate.get_ref() == name)
                .map(|(_, found)| found),
            (Step::Item(index), _, Some(current)) => current.get(*index),
            _ => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        value = Some(next.get_ref());
        table = next.get_ref().as_table();
    }
    span.map(|span| line_at(text, span.start))
}

#[cfg(test)]
mod tests;
