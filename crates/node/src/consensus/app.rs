//! The application side of marshal: build and verify blocks, and commit the
//! finalized ones in order.

use super::block::EngineBlockBox;
use super::{ConsensusContext, ConsensusScheme, MarshalMailbox};
use crate::chain::{ExecutedBlock, Verdict};
use crate::core::NodeCore;
use crate::limits::{
    BLOCK_TIME_SKEW_MS_MAX, PROPOSAL_TX_BYTES_MAX, PROPOSAL_TX_MAX, SPECULATIVE_BLOCKS_MAX,
};
use cityledger_types::block::ConsensusRound;
use cityledger_types::{Block, Height, PublicKey};
use commonware_actor::Feedback;
use commonware_codec::Encode;
use commonware_consensus::marshal::Update;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::types::Height as EngineHeight;
use commonware_consensus::{Application, Epochable, Reporter, Viewable};
use commonware_cryptography::Digested;
use commonware_runtime::{Clock, Metrics, Spawner};
use commonware_utils::Acknowledgement;
use futures::StreamExt;
use futures::channel::mpsc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use tracing::{debug, info, warn};

/// Milliseconds since the Unix epoch on the runtime's clock.
pub fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The application handed to marshal.
#[derive(Clone)]
pub struct App {
    core: Arc<NodeCore>,
    empty_block_wait: Duration,
}

/// How often a leader with nothing to propose looks at the mempool again.
const MEMPOOL_POLL_MS: u64 = 5;

impl App {
    /// An application over `core`. A leader with an empty mempool waits up
    /// to `empty_block_wait` for transactions before proposing an empty
    /// block; it must stay well below the leader timeout.
    pub fn new(core: Arc<NodeCore>, empty_block_wait: Duration) -> App {
        App {
            core,
            empty_block_wait,
        }
    }

    /// Waits, bounded, until the mempool holds a transaction not already in
    /// a block on the way to finalization. An idle chain then makes a few
    /// empty blocks per second instead of hundreds, and a busy one is not
    /// slowed at all.
    async fn wait_for_transactions(&self, clock: &impl Clock, parent: &ExecutedBlock) {
        let deadline = clock.current() + self.empty_block_wait;
        let parent_id = parent.block.id();
        loop {
            let in_flight = self.core.chain.in_flight(&parent_id);
            let waiting = self.core.mempool().take(1, usize::MAX, &in_flight);
            if !waiting.is_empty() || clock.current() >= deadline {
                return;
            }
            clock.sleep(Duration::from_millis(MEMPOOL_POLL_MS)).await;
        }
    }

    /// The executed state of the first block `ancestry` yields, executing
    /// unknown ancestors first (after a restart, or for blocks that reached
    /// us before their parents were verified here).
    async fn executed_head(
        &self,
        mut ancestry: impl Ancestry<EngineBlockBox>,
    ) -> Option<ExecutedBlock> {
        let mut unknown: Vec<Arc<Block>> = Vec::new();
        let finalized_height = self.core.chain.finalized().block.header.height;
        while unknown.len() <= SPECULATIVE_BLOCKS_MAX {
            let next = ancestry.next().await?;
            let block = next.inner().block().clone();
            if let Some(executed) = self.core.chain.executed(&block.id()) {
                return self.execute_forward(executed, unknown);
            }
            if block.header.height <= finalized_height {
                warn!(height = %block.header.height, "ancestry forks below the finalized tip");
                return None;
            }
            unknown.push(block);
        }
        warn!("ancestry deeper than the speculative window; abstaining");
        None
    }

    fn execute_forward(
        &self,
        mut executed: ExecutedBlock,
        mut unknown: Vec<Arc<Block>>,
    ) -> Option<ExecutedBlock> {
        while let Some(block) = unknown.pop() {
            let id = block.id();
            match self.core.verify_block(block) {
                Verdict::Valid => executed = self.core.chain.executed(&id)?,
                verdict => {
                    warn!(?verdict, "an ancestor failed verification");
                    return None;
                }
            }
        }
        Some(executed)
    }
}

fn round_of(context: &ConsensusContext) -> ConsensusRound {
    ConsensusRound {
        epoch: context.epoch().get(),
        view: context.view().get(),
        parent_view: context.parent.0.get(),
        leader: Some(PublicKey(super::public_key_bytes(&context.leader))),
    }
}

impl<E> Application<E> for App
where
    E: Clock + Spawner + Metrics,
{
    type SigningScheme = ConsensusScheme;
    type Context = ConsensusContext;
    type Block = EngineBlockBox;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        ancestry: impl Ancestry<EngineBlockBox>,
        _input: (),
    ) -> Option<Digested<EngineBlockBox>> {
        let parent = self.executed_head(ancestry).await?;
        self.wait_for_transactions(&runtime, &parent).await;
        let core = self.core.clone();
        let round = round_of(&context);
        let timestamp_ms = now_ms(&runtime);
        let built = runtime
            .child("build")
            .shared(true)
            .spawn(move |_| async move {
                let exclude = core.chain.in_flight(&parent.block.id());
                let candidates =
                    core.mempool()
                        .take(PROPOSAL_TX_MAX, PROPOSAL_TX_BYTES_MAX, &exclude);
                let (block, dropped) = core.chain.build(&parent, round, timestamp_ms, &candidates);
                let mut mempool = core.mempool();
                for (hash, reason) in dropped {
                    mempool.drop_tx(&hash, reason);
                }
                block
            })
            .await
            .ok()?;
        let boxed = EngineBlockBox::new(built.block.clone());
        let digest = commonware_cryptography::Digestible::digest(&boxed);
        Some(Digested::precomputed(boxed, digest))
    }

    async fn verify(
        &mut self,
        (runtime, _context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<EngineBlockBox>,
    ) -> bool {
        let Some(candidate) = ancestry.next().await else {
            return futures::future::pending().await;
        };
        let block = candidate.inner().block().clone();
        // A block from the future is not invalid, only early: wait until it
        // is within the allowed skew instead of voting against it.
        let ahead_ms = block
            .header
            .timestamp_ms
            .saturating_sub(now_ms(&runtime) + BLOCK_TIME_SKEW_MS_MAX);
        if ahead_ms > 0 {
            runtime.sleep(Duration::from_millis(ahead_ms)).await;
        }
        if self.core.chain.executed(&block.id()).is_some() {
            return true;
        }
        if self.executed_head(ancestry).await.is_none() {
            return futures::future::pending().await;
        }
        let core = self.core.clone();
        let verdict = runtime
            .child("verify")
            .shared(true)
            .spawn(move |_| async move { core.verify_block(block) })
            .await;
        match verdict {
            Ok(Verdict::Valid) => true,
            Ok(Verdict::Invalid(reason)) => {
                warn!(%reason, "rejected a proposed block");
                false
            }
            Ok(Verdict::UnknownParent) | Err(_) => futures::future::pending().await,
        }
    }
}

/// Receives finalized blocks from marshal, in height order, at least once.
#[derive(Clone)]
pub struct Finalizer {
    updates: mpsc::UnboundedSender<Update<EngineBlockBox>>,
}

impl Finalizer {
    /// A finalizer and the receiving end its task drains.
    pub fn new() -> (Finalizer, mpsc::UnboundedReceiver<Update<EngineBlockBox>>) {
        // Unbounded is safe: marshal delivers at most `max_pending_acks`
        // blocks before it waits for an acknowledgement.
        let (updates, receiver) = mpsc::unbounded();
        (Finalizer { updates }, receiver)
    }
}

impl Reporter for Finalizer {
    type Activity = Update<EngineBlockBox>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        if self.updates.unbounded_send(activity).is_err() {
            return Feedback::Closed;
        }
        Feedback::Ok
    }
}

/// Commits finalized blocks with their certificates, then acknowledges
/// them to marshal. A commit that fails stops the node: marshal re-delivers
/// the block after the restart.
pub async fn run_finalizer<E: Clock + Spawner + Metrics>(
    runtime: E,
    core: Arc<NodeCore>,
    marshal: MarshalMailbox,
    mut updates: mpsc::UnboundedReceiver<Update<EngineBlockBox>>,
) {
    while let Some(update) = updates.next().await {
        let Update::Block(block, acknowledgement) = update else {
            continue;
        };
        let block = block.inner().block().clone();
        let height = block.header.height;
        let certificate = marshal
            .get_finalization(EngineHeight::new(height.0))
            .await
            .map(|finalization| finalization.encode().to_vec())
            .unwrap_or_default();
        let commit_core = core.clone();
        let committed = runtime
            .child("commit")
            .shared(true)
            .spawn(move |_| async move { commit_core.chain.commit(block, &certificate) })
            .await;
        match committed {
            Ok(Ok(Some(executed))) => {
                core.finalized(&executed, now_ms(&runtime));
                log_finalized(&core, &executed);
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => panic!("cannot commit finalized block {height}: {error}"),
            Err(error) => panic!("commit task for block {height} failed: {error}"),
        }
        acknowledgement.acknowledge();
    }
}

/// Blocks between two info lines of progress, in step or catching up. One
/// line per block would drown the log: at a block a second that is 86,400
/// lines a day, and a catch-up replays thousands a minute. Every block is
/// a debug line.
const PROGRESS_LOG_EVERY: u64 = 100;

fn log_finalized(core: &NodeCore, executed: &ExecutedBlock) {
    let header = &executed.block.header;
    let height: Height = header.height;
    let (syncing, views_behind) = {
        let network = core.network();
        (network.syncing(), network.views_behind())
    };
    if !height.0.is_multiple_of(PROGRESS_LOG_EVERY) {
        debug!(%height, txs = header.tx_count, state_root = %header.state_root, "finalized");
    } else if syncing {
        info!(%height, views_behind, "catching up");
    } else {
        info!(%height, txs = header.tx_count, state_root = %header.state_root, "finalized");
    }
}
