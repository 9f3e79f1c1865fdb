//! Push mode (`[sync] push`): the service watches every node for commits,
//! so a change starts its rounds within `[sync] debounce` instead of at
//! the spoke's next interval. Each node tells what it can
//! ([`hetsync_core::adapter::Capture::await_changes`]: PostgreSQL's capture triggers notify,
//! SQLite's file has a data version); a node that cannot tell (MariaDB, a
//! plugin's) has its tracking position polled, every 250 ms after a change
//! and doubling while nothing changes, up to every 2 s (or the longest
//! spoke interval, if shorter).

use hetsync_core::adapter::{ChangeSign, Node};
use hetsync_core::change::Watermark;
use hetsync_core::engine::Engine;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long one wait for a node's sign lasts.
const WAIT: Duration = Duration::from_secs(5);

/// The quickest poll of a node's position.
const MIN_POLL: Duration = Duration::from_millis(250);

/// The slowest poll of a node's position (or the longest spoke interval,
/// if shorter).
pub(super) const MAX_POLL: Duration = Duration::from_secs(2);

/// How long a watcher waits after it could not watch (the node is down:
/// its rounds say so).
const RETRY: Duration = Duration::from_secs(5);

/// The nodes with commits since the service last looked, and its wake-up.
#[derive(Clone, Default)]
pub(super) struct Commits {
    nodes: Arc<Mutex<BTreeSet<String>>>,
    notify: Arc<Notify>,
}

impl Commits {
    /// `node` had a commit.
    fn seen(&self, node: &str) {
        self.lock().insert(node.to_string());
        self.notify.notify_one();
    }

    /// Waits until a node had a commit since the last [`Commits::take`].
    pub(super) async fn wait(&self) {
        self.notify.notified().await
    }

    /// The nodes that had commits, forgotten here.
    pub(super) fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The watchers of an engine's nodes, stopped when dropped.
pub(super) struct Watchers(Vec<JoinHandle<()>>);

impl Drop for Watchers {
    fn drop(&mut self) {
        for watcher in &self.0 {
            watcher.abort();
        }
    }
}

/// Watches the hub and every connected spoke of `engine`, telling
/// `commits` of theirs.
pub(super) fn watch(engine: &Arc<Engine>, commits: &Commits, max_poll: Duration) -> Watchers {
    let names: Vec<String> = engine.nodes().map(|n| n.name().to_string()).collect();
    Watchers(
        names
            .into_iter()
            .map(|name| {
                let (engine, commits) = (Arc::clone(engine), commits.clone());
                tokio::spawn(async move { watch_node(&engine, &name, &commits, max_poll).await })
            })
            .collect(),
    )
}

async fn watch_node(engine: &Engine, name: &str, commits: &Commits, max_poll: Duration) {
    let Some(node) = engine.nodes().find(|n| n.name() == name) else {
        return;
    };
    let mut poll = Poll::new(max_poll);
    loop {
        match node.await_changes(WAIT).await {
            Ok(ChangeSign::Changed) => commits.seen(name),
            Ok(ChangeSign::Quiet) => {}
            Ok(ChangeSign::Unsupported) => {
                if poll.moved(node).await {
                    commits.seen(name);
                }
            }
            Err(e) => {
                tracing::debug!(node = name, error = %e, "watching for commits");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Polling a node's tracking position, slower while it does not move.
struct Poll {
    every: Duration,
    max: Duration,
    seen: Option<Watermark>,
}

impl Poll {
    fn new(max: Duration) -> Poll {
        Poll {
            every: MIN_POLL,
            max: max.max(MIN_POLL),
            seen: None,
        }
    }

    /// Waits its turn, then whether the position moved since the last
    /// look ([`Poll::look`]).
    async fn moved(&mut self, node: &dyn Node) -> bool {
        tokio::time::sleep(self.every).await;
        let position = node.position().await;
        if let Err(e) = &position {
            tracing::debug!(node = node.name(), error = %e, "polling the tracking position");
        }
        self.look(position.ok())
    }

    /// Whether `position` (`None`: it could not be read) is a move since
    /// the last look; the wait before the next look follows. The first
    /// position read tells of a move: what was committed before it is not
    /// known (a commit between the watcher's start and its first look
    /// would be missed otherwise), as when a PostgreSQL listener or a
    /// SQLite watch starts.
    fn look(&mut self, position: Option<Watermark>) -> bool {
        match position {
            Some(position) if self.seen != Some(position) => {
                self.seen = Some(position);
                self.every = MIN_POLL;
                true
            }
            Some(_) => {
                self.every = (self.every * 2).min(self.max);
                false
            }
            None => {
                self.every = self.max;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_look_and_every_move_tell_of_commits() {
        let mut poll = Poll::new(Duration::from_secs(1));
        let (p1, p2) = (Watermark::at(7), Watermark::at(9));
        assert!(poll.look(Some(p1)), "the first look");
        assert_eq!(poll.every, MIN_POLL);
        assert!(!poll.look(Some(p1)));
        assert_eq!(poll.every, MIN_POLL * 2);
        assert!(!poll.look(Some(p1)));
        assert!(!poll.look(Some(p1)));
        assert_eq!(poll.every, Duration::from_secs(1), "slower up to the most");
        assert!(!poll.look(None), "an unreadable position is no move");
        assert!(poll.look(Some(p2)));
        assert_eq!(poll.every, MIN_POLL, "quick again after a move");
        assert!(!poll.look(Some(p2)));
    }

    #[test]
    fn a_watcher_that_never_read_the_position_tells_of_the_first_one_it_reads() {
        let mut poll = Poll::new(Duration::from_secs(2));
        assert!(!poll.look(None));
        assert_eq!(poll.every, Duration::from_secs(2));
        assert!(poll.look(Some(Watermark::at(3))));
    }
}
