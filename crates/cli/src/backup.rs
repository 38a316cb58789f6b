//! `cityledger backup` and `cityledger restore` (ADR 0010).
//!
//! A backup is taken from the running node through its admin socket, or,
//! when the node is stopped, from its store opened here; the file appears
//! under its final name only once it is complete, fsynced and checked. A
//! restore checks the whole file before it touches the home, rebuilds the
//! data in a directory beside the home's `data/`, and moves it into place
//! only when every block is verified and re-executed.

use crate::home::Home;
use anyhow::{Context, Result, bail};
use cityledger_node::admin::{ADMIN_SOCKET, BACKUP_REQUEST};
use cityledger_node::backup::{self, BackupSummary, Progress, Restored};
use cityledger_node::service::{BLOBS_DIR, STORE_DIR};
use cityledger_storage::{DirBlobStore, FjallStore, Store, StoreError};
use clap::Args;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Blocks between two progress lines of a restore, by default.
const PROGRESS_EVERY_DEFAULT: u64 = 1_000;
/// Name of the directory a restore fills, beside the home's `data/`.
const STAGING_DIR: &str = "data.restoring";
/// Name the replaced `data/` takes while `--force` swaps it out.
const REPLACED_DIR: &str = "data.replaced";

/// Arguments of `cityledger backup`.
#[derive(Args)]
pub struct BackupArgs {
    /// The node's home.
    #[arg(long)]
    home: PathBuf,
    /// The backup file to write; it must not exist yet.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `cityledger restore`.
#[derive(Args)]
pub struct RestoreArgs {
    /// The home to restore into: set up by `init` (config, genesis, node
    /// key), its `data/` missing or empty.
    #[arg(long)]
    home: PathBuf,
    /// The backup file.
    file: PathBuf,
    /// Replace a `data/` that holds something (the node must be stopped).
    #[arg(long)]
    force: bool,
    /// Blocks between two progress lines on stderr.
    #[arg(long, default_value_t = PROGRESS_EVERY_DEFAULT, value_parser = clap::value_parser!(u64).range(1..))]
    progress_every: u64,
}

/// `cityledger backup`.
pub fn backup(args: BackupArgs, json: bool) -> Result<()> {
    let home = Home::new(&args.home);
    let genesis = home.genesis()?;
    if args.out.exists() {
        bail!(
            "{} already exists; refusing to overwrite a backup (choose another name)",
            args.out.display()
        );
    }
    let partial = PartialFile::create(&args.out)?;
    let source = write_from_node(&home, partial.file()?)?;
    partial.sync()?;
    let checked = backup::check(BufReader::new(File::open(&partial.path)?), &genesis)
        .with_context(|| {
            format!(
                "the backup written to {} fails its check",
                partial.path.display()
            )
        })?;
    partial.persist(&args.out)?;
    report_backup(&args.out, &checked, source, json);
    Ok(())
}

/// Where a backup came from.
#[derive(Clone, Copy)]
enum Source {
    /// The running node, through its admin socket.
    RunningNode,
    /// The store of a stopped node, opened here.
    StoppedNode,
}

/// Writes the backup into `out`: from the store when the node is stopped,
/// else from the node through its admin socket.
fn write_from_node(home: &Home, out: &File) -> Result<Source> {
    let data = home.data_dir();
    let store_dir = data.join(STORE_DIR);
    if !store_dir.exists() {
        bail!("{} holds no store: nothing to back up", data.display());
    }
    match FjallStore::open(&store_dir) {
        Ok(store) => {
            let snapshot = store.snapshot().context("snapshot the store")?;
            let blobs = DirBlobStore::open(&data.join(BLOBS_DIR)).context("open the blob store")?;
            let summary = backup::write_backup(snapshot.as_ref(), &blobs, BufWriter::new(out))
                .context("write the backup")?;
            warn_corrupt(&summary);
            Ok(Source::StoppedNode)
        }
        Err(StoreError::Locked { .. }) => {
            ask_running_node(&data.join(ADMIN_SOCKET), out)?;
            Ok(Source::RunningNode)
        }
        Err(error) => Err(error).context("open the store"),
    }
}

fn warn_corrupt(summary: &BackupSummary) {
    for record in &summary.corrupt_blobs {
        eprintln!("warning: the local blob of record {record} fails its check and was left out");
    }
}

/// Asks the node on `socket` for a backup and copies it into `out`.
fn ask_running_node(socket: &Path, out: &File) -> Result<()> {
    let mut stream = UnixStream::connect(socket).with_context(|| {
        format!(
            "the store is in use, but no node answers on {}; is the node starting or stopping?",
            socket.display()
        )
    })?;
    stream
        .write_all(BACKUP_REQUEST)
        .context("send the backup request")?;
    let mut writer = BufWriter::new(out);
    let copied = io::copy(&mut stream, &mut writer).context("receive the backup")?;
    writer.flush().context("write the backup")?;
    if copied == 0 {
        bail!("the node sent no backup; its log says why");
    }
    Ok(())
}

fn report_backup(out: &Path, checked: &Restored, source: Source, json: bool) {
    let header = &checked.header;
    let bytes = fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    let from = match source {
        Source::RunningNode => "the running node",
        Source::StoppedNode => "the stopped node's store",
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "file": out, "chain_id": header.chain_id, "height": header.tip_height,
                "block_id": header.tip_id.to_string(), "state_root": header.tip_state_root.to_string(),
                "blocks": checked.blocks, "blobs": checked.blobs, "bytes": bytes, "from": from,
            })
        );
    } else {
        println!(
            "backup of chain {} at height {} (state root {}): {} blocks, blobs of {} records, {bytes} bytes, from {from}, checked and written to {}",
            header.chain_id,
            header.tip_height,
            header.tip_state_root,
            checked.blocks,
            checked.blobs,
            out.display()
        );
    }
}

/// A file written under a temporary name beside its final one, removed
/// unless it is persisted: a failed backup leaves nothing under either name.
struct PartialFile {
    path: PathBuf,
    file: Option<File>,
}

impl PartialFile {
    fn create(target: &Path) -> Result<PartialFile> {
        let name = target
            .file_name()
            .with_context(|| format!("{} names no file", target.display()))?;
        let path = target.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(PartialFile {
            path,
            file: Some(file),
        })
    }

    fn file(&self) -> Result<&File> {
        self.file.as_ref().context("the partial file is open")
    }

    fn sync(&self) -> Result<()> {
        self.file()?
            .sync_all()
            .with_context(|| format!("cannot fsync {}", self.path.display()))
    }

    /// Renames the file to `target`, which must still not exist, and
    /// fsyncs the directory so that the name survives a crash.
    fn persist(mut self, target: &Path) -> Result<()> {
        self.file = None;
        if target.exists() {
            bail!(
                "{} appeared meanwhile; refusing to overwrite it",
                target.display()
            );
        }
        fs::rename(&self.path, target)
            .with_context(|| format!("cannot rename the backup to {}", target.display()))?;
        self.path = PathBuf::new();
        sync_parent(target)
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot fsync {}", parent.display()))
}

/// `cityledger restore`.
pub fn restore(args: RestoreArgs, json: bool) -> Result<()> {
    let home = Home::new(&args.home);
    if !home.is_initialised() {
        bail!(
            "{} holds no node configuration; create the home with `cityledger init` (or copy its config.toml, genesis.json and node.key) first",
            home.dir().display()
        );
    }
    let genesis = home.genesis()?;
    let data = home.data_dir();
    check_target(&data, args.force)?;
    let open = || {
        File::open(&args.file)
            .map(BufReader::new)
            .with_context(|| format!("cannot read {}", args.file.display()))
    };
    backup::check(open()?, &genesis).with_context(|| {
        format!(
            "{} is refused; {} was not changed",
            args.file.display(),
            home.dir().display()
        )
    })?;
    let staging = Staging::create(home.dir().join(STAGING_DIR))?;
    let restored = backup::restore(
        open()?,
        &genesis,
        &staging.path,
        args.progress_every,
        &mut |progress: Progress| {
            eprintln!(
                "restore: block {} of {} verified and executed",
                progress.height, progress.tip
            )
        },
    )
    .with_context(|| {
        format!(
            "restoring {} failed; {} was not changed",
            args.file.display(),
            home.dir().display()
        )
    })?;
    staging.swap_into(&data, &home.dir().join(REPLACED_DIR))?;
    report_restore(&home, &restored, json);
    Ok(())
}

/// Refuses a `data/` that holds something, unless `force`; refuses even
/// then while a node holds its store.
fn check_target(data: &Path, force: bool) -> Result<()> {
    let holds_something = fs::read_dir(data).is_ok_and(|mut entries| entries.next().is_some());
    if !holds_something {
        return Ok(());
    }
    if !force {
        bail!(
            "{} is not empty; restore fills only an empty data directory (stop the node and pass --force to replace it)",
            data.display()
        );
    }
    let store_dir = data.join(STORE_DIR);
    if store_dir.exists()
        && let Err(StoreError::Locked { .. }) = FjallStore::open(&store_dir)
    {
        bail!(
            "the node in {} is running; stop it before replacing its data",
            data.display()
        );
    }
    Ok(())
}

/// The directory a restore fills, removed unless it was moved into place.
struct Staging {
    path: PathBuf,
    kept: bool,
}

impl Staging {
    fn create(path: PathBuf) -> Result<Staging> {
        // Left by a restore that was interrupted: never moved into place,
        // so nothing in it counts.
        if path.exists() {
            fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Staging { path, kept: false })
    }

    /// Moves the filled directory to `data`; an old `data` is first moved
    /// to `replaced`, and removed once the new one is in place.
    fn swap_into(mut self, data: &Path, replaced: &Path) -> Result<()> {
        if replaced.exists() {
            fs::remove_dir_all(replaced)
                .with_context(|| format!("cannot remove {}", replaced.display()))?;
        }
        let had_data = data.exists();
        if had_data {
            fs::rename(data, replaced)
                .with_context(|| format!("cannot move {} aside", data.display()))?;
        }
        fs::rename(&self.path, data)
            .with_context(|| format!("cannot move the restored data to {}", data.display()))?;
        self.kept = true;
        sync_parent(data)?;
        if had_data {
            fs::remove_dir_all(replaced)
                .with_context(|| format!("cannot remove the replaced {}", replaced.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn report_restore(home: &Home, restored: &Restored, json: bool) {
    let header = &restored.header;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "home": home.dir(), "chain_id": header.chain_id, "height": header.tip_height,
                "block_id": header.tip_id.to_string(), "state_root": header.tip_state_root.to_string(),
                "blocks": restored.blocks, "blobs": restored.blobs,
            })
        );
    } else {
        println!(
            "restored chain {} to height {} (state root {}): {} blocks verified and re-executed, blobs of {} records; start the node with `cityledger node --home {}` and it catches up from its peers",
            header.chain_id,
            header.tip_height,
            header.tip_state_root,
            restored.blocks,
            restored.blobs,
            home.dir().display()
        );
    }
}
