//! The polling schedule of `wait_for_finality`: doubling pauses between a
//! floor and a ceiling, never past the deadline.

use crate::limits::{POLL_INTERVAL_MS_MAX, POLL_INTERVAL_MS_MIN};

/// Pauses between polls.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next_ms: u64,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            next_ms: POLL_INTERVAL_MS_MIN,
        }
    }

    /// The next pause, at most `remaining_ms` so that the last poll happens
    /// at the deadline rather than after it.
    pub(crate) fn next_pause_ms(&mut self, remaining_ms: u64) -> u64 {
        let pause_ms = self.next_ms.min(remaining_ms);
        self.next_ms = self.next_ms.saturating_mul(2).min(POLL_INTERVAL_MS_MAX);
        pause_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling_and_stops_at_the_deadline() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u64> = (0..8).map(|_| backoff.next_pause_ms(u64::MAX)).collect();
        assert_eq!(pauses, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(backoff.next_pause_ms(30), 30);
        assert_eq!(backoff.next_pause_ms(0), 0);
    }
}
