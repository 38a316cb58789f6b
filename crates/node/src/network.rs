//! What this node sees of the network: which validators vote, how far
//! consensus has moved, how far this node lags behind it, and which
//! validators were caught equivocating.
//!
//! The consensus adapter feeds it from the engine's activity reports; the
//! status API and metrics read it. Everything here is bounded.

use cityledger_types::PublicKey;
use std::collections::VecDeque;

/// A validator counts as live when it voted within this window.
pub const LIVENESS_WINDOW_MS: u64 = 10_000;
/// Most equivocations remembered.
pub const EQUIVOCATIONS_REMEMBERED_MAX: usize = 64;
/// Lag, in views, from which a node reports itself as catching up.
pub const SYNCING_VIEWS_MIN: u64 = 8;

/// What kind of conflicting messages a validator signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EquivocationKind {
    /// Two notarize votes for different blocks in one view.
    ConflictingNotarize,
    /// Two finalize votes for different blocks in one view.
    ConflictingFinalize,
    /// A nullify and a finalize vote in one view.
    NullifyFinalize,
}

impl EquivocationKind {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EquivocationKind::ConflictingNotarize => "conflicting_notarize",
            EquivocationKind::ConflictingFinalize => "conflicting_finalize",
            EquivocationKind::NullifyFinalize => "nullify_finalize",
        }
    }
}

/// One detected equivocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    /// The offender.
    pub validator: PublicKey,
    /// The view.
    pub view: u64,
    /// What it signed.
    pub kind: EquivocationKind,
    /// When it was detected, ms since the Unix epoch.
    pub detected_ms: u64,
}

/// The latest vote seen from one validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorLiveness {
    /// Its key.
    pub key: PublicKey,
    /// Highest view it voted in, with the time the vote was seen.
    pub last_vote: Option<(u64, u64)>,
}

/// The whole view.
#[derive(Clone, Debug)]
pub struct NetworkView {
    me: PublicKey,
    validators: Vec<ValidatorLiveness>,
    highest_view: u64,
    highest_finalized_view: u64,
    committed_view: u64,
    equivocations: VecDeque<Equivocation>,
}

impl NetworkView {
    /// A view of `validators`, seen from `me`.
    pub fn new(me: PublicKey, validators: &[PublicKey]) -> NetworkView {
        NetworkView {
            me,
            validators: validators
                .iter()
                .map(|key| ValidatorLiveness {
                    key: *key,
                    last_vote: None,
                })
                .collect(),
            highest_view: 0,
            highest_finalized_view: 0,
            committed_view: 0,
            equivocations: VecDeque::new(),
        }
    }

    /// Records a vote by `key` in `view`, seen at `now_ms`. Votes of keys
    /// outside the set are ignored (the engine verified the signer).
    pub fn on_vote(&mut self, key: &PublicKey, view: u64, now_ms: u64) {
        self.highest_view = self.highest_view.max(view);
        if let Some(validator) = self.validators.iter_mut().find(|v| v.key == *key) {
            let last_view = validator.last_vote.map_or(0, |(v, _)| v);
            validator.last_vote = Some((last_view.max(view), now_ms));
        }
    }

    /// Records a finalization certificate for `view`.
    pub fn on_finalization(&mut self, view: u64) {
        self.highest_view = self.highest_view.max(view);
        self.highest_finalized_view = self.highest_finalized_view.max(view);
    }

    /// Records that this node committed a block proposed in `view`.
    pub fn on_commit(&mut self, view: u64) {
        self.committed_view = self.committed_view.max(view);
    }

    /// Records an equivocation; keeps the newest ones.
    pub fn on_equivocation(&mut self, equivocation: Equivocation) {
        if self.equivocations.len() == EQUIVOCATIONS_REMEMBERED_MAX {
            self.equivocations.pop_front();
        }
        self.equivocations.push_back(equivocation);
    }

    /// Highest consensus view seen.
    pub fn highest_view(&self) -> u64 {
        self.highest_view
    }

    /// Finalized views not yet committed here.
    pub fn views_behind(&self) -> u64 {
        self.highest_finalized_view
            .saturating_sub(self.committed_view)
    }

    /// Whether this node is catching up.
    pub fn syncing(&self) -> bool {
        self.views_behind() >= SYNCING_VIEWS_MIN
    }

    /// Each validator with whether it is live at `now_ms`.
    pub fn validators(&self, now_ms: u64) -> impl Iterator<Item = (&ValidatorLiveness, bool)> {
        self.validators.iter().map(move |v| {
            let live = v.key == self.me
                || v.last_vote
                    .is_some_and(|(_, seen)| now_ms.saturating_sub(seen) <= LIVENESS_WINDOW_MS);
            (v, live)
        })
    }

    /// Number of live validators at `now_ms`.
    pub fn live_count(&self, now_ms: u64) -> usize {
        self.validators(now_ms).filter(|(_, live)| *live).count()
    }

    /// Equivocations, oldest first.
    pub fn equivocations(&self) -> impl Iterator<Item = &Equivocation> {
        self.equivocations.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PublicKey {
        cityledger_types::SecretKey::from_seed([byte; 32]).public_key()
    }

    #[test]
    fn liveness_follows_the_window() {
        let (me, other, silent) = (key(1), key(2), key(3));
        let mut view = NetworkView::new(me, &[me, other, silent]);
        view.on_vote(&other, 5, 1_000);
        assert_eq!(view.live_count(1_000 + LIVENESS_WINDOW_MS), 2);
        assert_eq!(
            view.live_count(1_001 + LIVENESS_WINDOW_MS),
            1,
            "only self once the vote ages out"
        );
        view.on_vote(&key(9), 50, 1_000);
        assert_eq!(view.highest_view(), 50);
        assert_eq!(
            view.live_count(1_000),
            2,
            "a key outside the set never counts"
        );
    }

    #[test]
    fn lag_is_finalized_views_not_committed() {
        let me = key(1);
        let mut view = NetworkView::new(me, &[me]);
        view.on_finalization(100);
        view.on_commit(90);
        assert_eq!(view.views_behind(), 10);
        assert!(view.syncing());
        view.on_commit(100);
        assert_eq!(view.views_behind(), 0);
        assert!(!view.syncing());
    }

    #[test]
    fn equivocations_are_bounded_and_keep_the_newest() {
        let me = key(1);
        let mut view = NetworkView::new(me, &[me]);
        for v in 0..(EQUIVOCATIONS_REMEMBERED_MAX as u64 + 5) {
            view.on_equivocation(Equivocation {
                validator: me,
                view: v,
                kind: EquivocationKind::ConflictingNotarize,
                detected_ms: v,
            });
        }
        let kept: Vec<u64> = view.equivocations().map(|e| e.view).collect();
        assert_eq!(kept.len(), EQUIVOCATIONS_REMEMBERED_MAX);
        assert_eq!(kept[0], 5);
    }
}
