//! The signals the service obeys: SIGTERM or SIGINT asks for a stop after
//! the round under way, a second one ends the process at once; SIGHUP asks
//! for the configuration to be read again between rounds.

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What the signals asked for, and a wake-up for the service's waits.
#[derive(Clone, Default)]
pub(super) struct Control {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Control {
    /// Listens for SIGTERM and SIGINT (Ctrl-C where there is no SIGTERM),
    /// and SIGHUP.
    pub(super) fn listen() -> Result<Control> {
        let control = Control::default();
        let mut stops = Stops::new()?;
        let on_stop = control.clone();
        tokio::spawn(async move {
            stops.next().await;
            on_stop.stop.store(true, Ordering::SeqCst);
            on_stop.notify.notify_waiters();
            crate::say!(
                "hetsync run: stopping after the round under way (a second signal stops at once)"
            );
            stops.next().await;
            eprintln!("hetsync run: stopped at once; the round under way is left to crash safety");
            std::process::exit(130);
        });
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut hangups = signal(SignalKind::hangup())?;
            let on_hangup = control.clone();
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    on_hangup.reload.store(true, Ordering::SeqCst);
                    on_hangup.notify.notify_waiters();
                }
            });
        }
        Ok(control)
    }

    /// A stop was asked for.
    pub(super) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A reload was asked for (since the last call).
    pub(super) fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }

    /// Waits until `until`, or less when a stop or a reload is asked for.
    pub(super) async fn sleep_until(&self, until: Instant) {
        // Made before the checks: it takes a signal from here on.
        let notified = self.notify.notified();
        if self.stop_requested() || self.reload.load(Ordering::SeqCst) {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until) => {}
            _ = notified => {}
        }
    }
}

/// SIGTERM and SIGINT; Ctrl-C where there is no SIGTERM.
struct Stops {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Stops {
    fn new() -> std::io::Result<Stops> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Stops {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stops {})
    }

    /// The next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
