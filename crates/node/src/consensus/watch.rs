//! Watches the engine's activity for the network view: who votes, how far
//! consensus has moved, and who signs conflicting messages.
//!
//! It sits next to marshal as a second reporter of Simplex, and only
//! records; it never holds the engine up.

use super::app::now_ms;
use super::{ConsensusDigest, ConsensusPublicKey, ConsensusScheme, public_key_bytes};
use crate::core::NodeCore;
use crate::network::{Equivocation, EquivocationKind};
use cityledger_types::PublicKey;
use commonware_actor::Feedback;
use commonware_consensus::simplex::types::{Activity, Attributable};
use commonware_consensus::{Reporter, Viewable};
use commonware_runtime::Clock;
use commonware_utils::Participant;
use std::sync::Arc;
use tracing::warn;

/// The reporter.
pub struct Watch<E> {
    clock: Arc<E>,
    core: Arc<NodeCore>,
    /// Participant index to key, in the engine's (sorted) order.
    participants: Arc<Vec<PublicKey>>,
}

// Derived Clone would require `E: Clone`; runtime contexts are not.
impl<E> Clone for Watch<E> {
    fn clone(&self) -> Self {
        Watch {
            clock: self.clock.clone(),
            core: self.core.clone(),
            participants: self.participants.clone(),
        }
    }
}

impl<E: Clock> Watch<E> {
    /// A watch over `participants`, in the order the engine indexes them.
    pub fn new(
        clock: E,
        core: Arc<NodeCore>,
        participants: impl IntoIterator<Item = ConsensusPublicKey>,
    ) -> Watch<E> {
        let participants = participants
            .into_iter()
            .map(|key| PublicKey(public_key_bytes(&key)))
            .collect();
        Watch {
            clock: Arc::new(clock),
            core,
            participants: Arc::new(participants),
        }
    }

    fn now_ms(&self) -> u64 {
        now_ms(self.clock.as_ref())
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

impl<E: Clock> Reporter for Watch<E> {
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
