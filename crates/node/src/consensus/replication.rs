//! The p2p side of blob replication (channel 6): carries the messages of
//! [`crate::replication`] between validators. One task receives and
//! answers; another turns the node's notices into asks and retries them.

use super::app::now_ms;
use super::{ConsensusPublicKey, public_key_bytes, to_engine_public_key};
use crate::replication::{MESSAGE_BYTES_MAX, Message, Notice, Outgoing, Replicator};
use cityledger_types::PublicKey;
use cityledger_types::encoding::{decode_exact, encode};
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::Clock;
use futures::channel::mpsc::{self, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::warn;

/// How often notices are taken up and asks retried.
const TICK: Duration = Duration::from_millis(250);

/// The replicator, shared by the two loops.
pub type SharedReplicator = Arc<Mutex<Replicator>>;

fn lock(replicator: &SharedReplicator) -> std::sync::MutexGuard<'_, Replicator> {
    replicator.lock().unwrap_or_else(|e| e.into_inner())
}

fn send<S: Sender<PublicKey = ConsensusPublicKey>>(sender: &mut S, outgoing: Vec<Outgoing>) {
    for Outgoing { to, message } in outgoing {
        let recipients: Vec<ConsensusPublicKey> =
            to.iter().filter_map(to_engine_public_key).collect();
        if recipients.is_empty() {
            continue;
        }
        let bytes = encode(&message);
        debug_assert!(bytes.len() <= MESSAGE_BYTES_MAX);
        // A message lost here is asked for again by the wanting side.
        sender.send(Recipients::Some(recipients), bytes, false);
    }
}

/// Answers peers' messages until the network stops.
pub async fn receive_loop<S, R>(mut sender: S, mut receiver: R, replicator: SharedReplicator)
where
    S: Sender<PublicKey = ConsensusPublicKey>,
    R: Receiver<PublicKey = ConsensusPublicKey>,
{
    while let Ok((peer, bytes)) = receiver.recv().await {
        let message: Message = match decode_exact(bytes.as_ref(), "replication", MESSAGE_BYTES_MAX)
        {
            Ok(message) => message,
            Err(error) => {
                // As for gossip: a peer on an incompatible build, a bug
                // or an attack, bounded by the channel's quota.
                warn!(?peer, %error, "undecodable replication message");
                continue;
            }
        };
        let peer = PublicKey(public_key_bytes(&peer));
        let replies = lock(&replicator).on_message(peer, message);
        send(&mut sender, replies);
    }
}

/// Takes up the node's notices and sends the asks that are due, until the
/// node drops its notice channel.
pub async fn notice_loop<S, E>(
    clock: E,
    mut sender: S,
    mut notices: mpsc::Receiver<Notice>,
    replicator: SharedReplicator,
) where
    S: Sender<PublicKey = ConsensusPublicKey>,
    E: Clock,
{
    loop {
        clock.sleep(TICK).await;
        let now = now_ms(&clock);
        let mut outgoing = Vec::new();
        loop {
            match notices.try_recv() {
                Ok(notice) => outgoing.extend(lock(&replicator).on_notice(notice, now)),
                Err(TryRecvError::Closed) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
        outgoing.extend(lock(&replicator).due(now));
        send(&mut sender, outgoing);
    }
}
