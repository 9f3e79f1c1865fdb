//! The hub's heartbeat, with a standby configured: checked every interval
//! between rounds; once the hub has missed it for `[sync] failover_after`,
//! the standby is promoted ([`crate::failover`]).

use std::time::Duration;
use tokio::time::Instant;

/// When the next heartbeat is due, and since when the hub misses them.
#[derive(Debug)]
pub(super) struct Heartbeat {
    /// The next check.
    pub next: Instant,
    down_since: Option<Instant>,
}

impl Heartbeat {
    /// The first check due at once.
    pub fn new(now: Instant) -> Heartbeat {
        Heartbeat {
            next: now,
            down_since: None,
        }
    }

    /// The hub answered.
    pub fn answered(&mut self) {
        self.down_since = None;
    }

    /// The hub missed the heartbeat at `now`: whether it has missed them
    /// for `failover_after` (then the count starts again).
    pub fn missed(&mut self, now: Instant, failover_after: Duration) -> bool {
        let since = *self.down_since.get_or_insert(now);
        let over = now.duration_since(since) >= failover_after;
        if over {
            self.down_since = None;
        }
        over
    }

    /// How long the hub has missed its heartbeats.
    pub fn down_for(&self, now: Instant) -> Duration {
        self.down_since
            .map_or(Duration::ZERO, |s| now.duration_since(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_comes_once_the_hub_has_missed_its_heartbeats_that_long() {
        let start = Instant::now();
        let s = |n: u64| Duration::from_secs(n);
        let mut beat = Heartbeat::new(start);
        assert!(!beat.missed(start, s(90)));
        assert!(!beat.missed(start + s(60), s(90)));
        assert_eq!(beat.down_for(start + s(60)), s(60));
        beat.answered();
        assert!(
            !beat.missed(start + s(100), s(90)),
            "an answer starts it again"
        );
        assert!(!beat.missed(start + s(150), s(90)));
        assert!(beat.missed(start + s(190), s(90)));
        assert!(
            !beat.missed(start + s(191), s(90)),
            "counted afresh after a failover"
        );
    }
}
