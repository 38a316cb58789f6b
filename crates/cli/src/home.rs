//! A node's home directory: configuration, genesis, keys and data.
//!
//! ```text
//! HOME/config.toml      node configuration (see node::config)
//! HOME/genesis.json     the chain's genesis document
//! HOME/node.key         the node's consensus and p2p key (hex seed, mode 0600)
//! HOME/keys/NAME.json   named signing keys (mode 0600)
//! HOME/data/            the store and the consensus journals
//! ```

use anyhow::{Context, Result, anyhow, bail};
use cityledger_node::config::{NodeConfig, Origin};
use cityledger_types::genesis::Genesis;
use cityledger_types::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A key file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    name: String,
    public_key: PublicKey,
    secret_seed: String,
}

/// Paths of a home directory.
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// The home at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Home {
        Home { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    fn genesis_path(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }

    fn node_key_path(&self) -> PathBuf {
        self.dir.join("node.key")
    }

    fn key_path(&self, name: &str) -> PathBuf {
        self.dir.join("keys").join(format!("{name}.json"))
    }

    /// Where the node keeps its data.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether a node was set up here.
    pub fn is_initialised(&self) -> bool {
        self.config_path().exists()
    }

    /// Reads and validates the configuration, with the environment's
    /// `CITYLEDGER_*` variables overriding the file (docs/configuration.md).
    /// Relative TLS file paths become paths under the home.
    pub fn config(&self) -> Result<NodeConfig> {
        let mut config = self.parse_config()?;
        let tls = &mut config.api.tls;
        for path in [&mut tls.cert_file, &mut tls.key_file]
            .into_iter()
            .flatten()
        {
            *path = self.dir.join(&*path);
        }
        Ok(config)
    }

    fn parse_config(&self) -> Result<NodeConfig> {
        let path = self.config_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        NodeConfig::parse(&text, &|name| std::env::var(name).ok()).map_err(|issue| {
            let file = path.display();
            match &issue.origin {
                Origin::File { line: Some(line) } => anyhow!("{file}:{line}: {}", issue.reason),
                Origin::File { line: None } => anyhow!("{file}: {}", issue.reason),
                Origin::Env { var } => {
                    anyhow!("environment variable {var} (over {file}): {}", issue.reason)
                }
            }
        })
    }

    /// Writes the configuration.
    pub fn write_config(&self, config: &NodeConfig) -> Result<()> {
        let text = toml::to_string_pretty(config).context("encode the configuration")?;
        write_new(&self.config_path(), text.as_bytes(), false)
    }

    /// Reads the genesis document.
    pub fn genesis(&self) -> Result<Genesis> {
        let path = self.genesis_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let genesis: Genesis = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid genesis document", path.display()))?;
        cityledger_state::genesis::validate(&genesis)
            .with_context(|| format!("{} is invalid", path.display()))?;
        Ok(genesis)
    }

    /// Writes the genesis document.
    pub fn write_genesis(&self, genesis: &Genesis) -> Result<()> {
        let text = serde_json::to_string_pretty(genesis).context("encode the genesis")?;
        write_new(&self.genesis_path(), text.as_bytes(), false)
    }

    /// Reads the node key seed.
    pub fn node_key(&self) -> Result<[u8; 32]> {
        let path = self.node_key_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        parse_seed(text.trim())
            .with_context(|| format!("{} does not hold a 64-hex-character key", path.display()))
    }

    /// Writes the node key.
    pub fn write_node_key(&self, key: &SecretKey) -> Result<()> {
        write_new(
            &self.node_key_path(),
            hex::encode(key.seed()).as_bytes(),
            true,
        )
    }

    /// Reads the named key.
    pub fn key(&self, name: &str) -> Result<SecretKey> {
        check_key_name(name)?;
        let path = self.key_path(name);
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "no key named `{name}` in {} (create one with `cityledger keys new {name} --home {}`)",
                self.dir.display(),
                self.dir.display()
            )
        })?;
        let file: KeyFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a key file", path.display()))?;
        let key = SecretKey::from_seed(
            parse_seed(&file.secret_seed)
                .with_context(|| format!("{} has a bad seed", path.display()))?,
        );
        if key.public_key() != file.public_key {
            bail!("{}: public_key does not match secret_seed", path.display());
        }
        Ok(key)
    }

    /// Writes a new named key; refuses to overwrite one.
    pub fn write_key(&self, name: &str, key: &SecretKey) -> Result<()> {
        check_key_name(name)?;
        let file = KeyFile {
            name: name.to_owned(),
            public_key: key.public_key(),
            secret_seed: hex::encode(key.seed()),
        };
        let text = serde_json::to_string_pretty(&file).context("encode the key file")?;
        write_new(&self.key_path(name), text.as_bytes(), true)
    }
}

fn check_key_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        bail!("key name `{name}` must be 1 to 64 letters, digits, '-' or '_'");
    }
    Ok(())
}

fn parse_seed(text: &str) -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text, &mut seed).context("expected 64 hex characters")?;
    Ok(seed)
}

/// A fresh key from the operating system's randomness.
pub fn random_key() -> SecretKey {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    SecretKey::from_seed(seed)
}

/// Writes a file that must not exist yet, atomically (temp file + rename),
/// readable only by the owner when `secret`.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; refusing to overwrite it",
            path.display()
        );
    }
    let parent = path.parent().context("path has a parent")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let temporary = path.with_extension("tmp");
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
