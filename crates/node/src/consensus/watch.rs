//! Watches the engine's activity for the network view: who votes, how far
//! consensus has moved, and who signs conflicting messages.
//!
//! It sits next to marshal as a second reporter of Simplex, and only
//! records; it never holds the engine up.

use super::{ConsensusDigest, ConsensusPublicKey, ConsensusScheme, public_key_bytes};
use crate::core::NodeCore;
use crate::network::{Equivocation, EquivocationKind};
use cityledger_types::PublicKey;
use commonware_actor::Feedback;
use commonware_consensus::simplex::types::{Activity, Attributable};
use commonware_consensus::{Reporter, Viewable};
use commonware_utils::Participant;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::warn;

/// The reporter.
#[derive(Clone)]
pub struct Watch {
    core: Arc<NodeCore>,
    /// Participant index to key, in the engine's (sorted) order.
    participants: Arc<Vec<PublicKey>>,
}

impl Watch {
    /// A watch over `participants`, in the order the engine indexes them.
    pub fn new(
        core: Arc<NodeCore>,
        participants: impl IntoIterator<Item = ConsensusPublicKey>,
    ) -> Watch {
        let participants = participants
            .into_iter()
            .map(|key| PublicKey(public_key_bytes(&key)))
            .collect();
        Watch {
            core,
            participants: Arc::new(participants),
        }
    }

    /// Wall-clock time: liveness is shown to operators, who read wall
    /// clocks; nothing consensus decides depends on it.
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn key(&self, participant: Participant) -> Option<&PublicKey> {
        self.participants.get(participant.get() as usize)
    }

    fn vote(&self, signer: Participant, view: u64) {
        if let Some(key) = self.key(signer) {
            let now_ms = self.now_ms();
            let mut network = self.core.network();
            network.on_vote(key, view, now_ms);
            self.core
                .metrics
                .consensus_view
                .set(network.highest_view() as i64);
            self.core
                .metrics
                .validators_live
                .set(network.live_count(now_ms) as i64);
        }
    }

    fn equivocation(&self, signer: Participant, view: u64, kind: EquivocationKind) {
        let Some(key) = self.key(signer).copied() else {
            return;
        };
        warn!(validator = %key, view, kind = kind.as_str(), "validator equivocated");
        self.core.metrics.equivocations.inc();
        self.core.network().on_equivocation(Equivocation {
            validator: key,
            view,
            kind,
            detected_ms: self.now_ms(),
        });
    }
}

impl Reporter for Watch {
    type Activity = Activity<ConsensusScheme, ConsensusDigest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match &activity {
            Activity::Notarize(vote) => self.vote(vote.signer(), vote.view().get()),
            Activity::Nullify(vote) => self.vote(vote.signer(), vote.view().get()),
            Activity::Finalize(vote) => self.vote(vote.signer(), vote.view().get()),
            Activity::Finalization(certificate) => {
                self.core
                    .network()
                    .on_finalization(certificate.view().get());
            }
            Activity::ConflictingNotarize(evidence) => self.equivocation(
                evidence.signer(),
                evidence.view().get(),
                EquivocationKind::ConflictingNotarize,
            ),
            Activity::ConflictingFinalize(evidence) => self.equivocation(
                evidence.signer(),
                evidence.view().get(),
                EquivocationKind::ConflictingFinalize,
            ),
            Activity::NullifyFinalize(evidence) => self.equivocation(
                evidence.signer(),
                evidence.view().get(),
                EquivocationKind::NullifyFinalize,
            ),
            Activity::Notarization(_) | Activity::Certification(_) | Activity::Nullification(_) => {
            }
        }
        Feedback::Ok
    }
}
