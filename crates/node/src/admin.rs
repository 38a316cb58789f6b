//! The admin socket, `DATA/admin.sock`: a Unix socket only the node's own
//! user can reach, through which `cityledger backup` asks a running node
//! for a backup (ADR 0010).
//!
//! It is not a REST route: a backup holds every record's sealed blob and
//! wrapped keys, which the API serves only under a finalized grant, and the
//! API may listen beyond the machine. The socket file's mode (0600) is its
//! access rule, as the data directory's is for the store itself.
//!
//! One request at a time, on one thread of its own: a backup reads a store
//! snapshot and the blob directory and never takes the chain's lock, so
//! consensus and the API go on meanwhile. This is start-up glue like
//! `service`: the one other place in the node that touches `std::fs`.

use crate::backup::{BackupError, write_backup};
use cityledger_storage::{BlobStore, Store};
use std::fs;
use std::io::{self, BufWriter, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// The socket's file name in the data directory.
pub const ADMIN_SOCKET: &str = "admin.sock";
/// The one request: send a backup.
pub const BACKUP_REQUEST: &[u8] = b"backup\n";
/// How long a client may take to send its request.
const REQUEST_WAIT: Duration = Duration::from_secs(5);
/// How long a client may leave the backup unread before it is dropped.
const WRITE_WAIT: Duration = Duration::from_secs(60);

/// Listens on `path`, replacing a dead node's socket file, and answers on
/// a thread of its own until the process exits.
pub fn serve(path: &Path, store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> io::Result<()> {
    // The store's lock admits one node per data directory, so a socket
    // file found here was left by a node that is gone.
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || {
            for connection in listener.incoming() {
                match connection {
                    Ok(stream) => answer(stream, store.as_ref(), blobs.as_ref()),
                    Err(error) => warn!(%error, "admin socket: cannot accept a connection"),
                }
            }
        })?;
    Ok(())
}

fn answer(mut stream: UnixStream, store: &dyn Store, blobs: &dyn BlobStore) {
    let _ = stream.set_read_timeout(Some(REQUEST_WAIT));
    let _ = stream.set_write_timeout(Some(WRITE_WAIT));
    let mut request = [0u8; BACKUP_REQUEST.len()];
    if stream.read_exact(&mut request).is_err() || request != BACKUP_REQUEST {
        warn!("admin socket: not a backup request; closed");
        return;
    }
    info!("backup requested on the admin socket");
    let written = store
        .snapshot()
        .map_err(BackupError::from)
        .and_then(|snapshot| write_backup(snapshot.as_ref(), blobs, BufWriter::new(&stream)));
    match written {
        Ok(summary) => {
            for record in &summary.corrupt_blobs {
                warn!(%record, "backup: the local blob fails its check and was left out");
            }
            info!(
                height = summary.header.tip_height,
                blocks = summary.blocks,
                blobs = summary.blobs,
                bytes = summary.bytes,
                "backup sent"
            );
        }
        Err(error) => error!(%error, "backup failed"),
    }
}
