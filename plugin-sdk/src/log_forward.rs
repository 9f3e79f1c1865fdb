//! Forwards the plugin's `tracing` events to the host. A plugin carries its
//! own copy of `tracing`, so the host's subscriber never sees its events;
//! this layer, installed as the plugin's global subscriber at init, formats
//! each event (message and fields) and hands it to the host's log callback.

use crate::abi::{ByteView, LogFn};
use std::fmt::Write;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The layer that calls the host.
pub(crate) struct ForwardLayer {
    log: LogFn,
}

/// The ABI's level number of a `tracing` level (1 error … 5 trace).
pub fn level_number(level: &Level) -> u32 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

impl ForwardLayer {
    /// Makes this layer the plugin's global subscriber (once per process).
    pub(crate) fn install(log: LogFn, max_level: u32) {
        let filter = match max_level {
            0 => LevelFilter::OFF,
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        };
        let subscriber = tracing_subscriber::registry()
            .with(ForwardLayer { log })
            .with(filter);
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
}

/// Collects an event's message and fields into one line.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        line.message.push_str(&line.fields);
        let target = event.metadata().target();
        // SAFETY: both views borrow live strings for the duration of the call.
        unsafe {
            (self.log)(
                level_number(event.metadata().level()),
                ByteView::of(target.as_bytes()),
                ByteView::of(line.message.as_bytes()),
            )
        };
    }
}
