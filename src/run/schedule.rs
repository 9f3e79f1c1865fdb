//! When each spoke's rounds are due: its interval, backed off while it
//! fails, brought forward by push mode.

use std::time::Duration;
use tokio::time::Instant;

/// The longest a failing spoke waits between tries.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// When each spoke's next rounds are due.
#[derive(Debug)]
pub struct Schedule {
    spokes: Vec<SpokeClock>,
}

#[derive(Debug)]
struct SpokeClock {
    name: String,
    interval: Duration,
    next: Instant,
    failures: u32,
}

impl Schedule {
    /// Every spoke due at `now`, each with its interval.
    pub fn new(spokes: Vec<(String, Duration)>, now: Instant) -> Schedule {
        Schedule {
            spokes: spokes
                .into_iter()
                .map(|(name, interval)| SpokeClock {
                    name,
                    interval,
                    next: now,
                    failures: 0,
                })
                .collect(),
        }
    }

    /// The spoke due first and when; `None` without spokes.
    pub fn next_due(&self) -> Option<(&str, Instant)> {
        self.spokes
            .iter()
            .min_by_key(|s| s.next)
            .map(|s| (s.name.as_str(), s.next))
    }

    fn clock(&mut self, spoke: &str) -> &mut SpokeClock {
        self.spokes
            .iter_mut()
            .find(|s| s.name == spoke)
            .expect("a scheduled spoke")
    }

    /// A spoke's rounds succeeded at `now`: due again an interval later.
    pub fn succeeded(&mut self, spoke: &str, now: Instant) {
        let clock = self.clock(spoke);
        clock.failures = 0;
        clock.next = now + clock.interval;
    }

    /// Push mode: a change for `spoke` was committed; due at `at` unless
    /// due sooner. A failing spoke keeps its backoff.
    pub fn hurry(&mut self, spoke: &str, at: Instant) {
        if let Some(clock) = self.spokes.iter_mut().find(|s| s.name == spoke) {
            if clock.failures == 0 && clock.next > at {
                clock.next = at;
            }
        }
    }

    /// Every spoke due at `now`, failures forgotten (the hub changed).
    pub fn all_due(&mut self, now: Instant) {
        for clock in &mut self.spokes {
            clock.failures = 0;
            clock.next = now;
        }
    }

    /// The scheduled spokes.
    pub fn names(&self) -> Vec<String> {
        self.spokes.iter().map(|s| s.name.clone()).collect()
    }

    /// A spoke's rounds failed at `now`: due again after its interval
    /// doubled once per failure in a row (the interval itself after the
    /// first), at most [`MAX_BACKOFF`] or the interval if that is longer.
    /// Returns the delay.
    pub fn failed(&mut self, spoke: &str, now: Instant) -> Duration {
        let clock = self.clock(spoke);
        let doublings = clock.failures.min(16);
        clock.failures += 1;
        let delay = clock
            .interval
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF.max(clock.interval));
        clock.next = now + delay;
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spokes_keep_their_own_clocks_and_failures_back_off_to_a_cap() {
        let start = Instant::now();
        let s = |n: u64| Duration::from_secs(n);
        let mut schedule = Schedule::new(vec![("a".into(), s(30)), ("b".into(), s(60))], start);
        assert_eq!(schedule.next_due().map(|d| d.1), Some(start));
        schedule.succeeded("a", start);
        assert_eq!(schedule.next_due(), Some(("b", start)));
        let delays: Vec<Duration> = (0..8).map(|_| schedule.failed("b", start)).collect();
        assert_eq!(
            delays,
            [60, 120, 240, 480, 600, 600, 600, 600].map(s),
            "doubled per failure in a row, at most ten minutes"
        );
        // b's failures leave a's clock alone.
        assert_eq!(schedule.next_due(), Some(("a", start + s(30))));
        schedule.succeeded("b", start);
        assert_eq!(schedule.failed("b", start), s(60), "a success resets it");
        // An interval longer than the cap is the cap.
        let mut slow = Schedule::new(vec![("c".into(), s(3600))], start);
        assert_eq!(slow.failed("c", start), s(3600));
        assert_eq!(slow.failed("c", start), s(3600));
    }

    #[test]
    fn a_commit_brings_a_spoke_forward_but_not_a_failing_one() {
        let start = Instant::now();
        let s = |n: u64| Duration::from_secs(n);
        let mut schedule = Schedule::new(vec![("a".into(), s(30)), ("b".into(), s(30))], start);
        schedule.succeeded("a", start);
        schedule.failed("b", start);
        schedule.hurry("a", start + s(1));
        schedule.hurry("b", start + s(1));
        assert_eq!(schedule.next_due(), Some(("a", start + s(1))));
        schedule.succeeded("a", start + s(1));
        assert_eq!(
            schedule.next_due(),
            Some(("b", start + s(30))),
            "b keeps its backoff"
        );
        // Never later than it was due.
        schedule.hurry("a", start + s(40));
        assert_eq!(schedule.next_due(), Some(("b", start + s(30))));
    }
}
