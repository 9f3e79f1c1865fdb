//! A plugin's `tracing` events reach the host's subscriber (its own copy of
//! `tracing` is invisible to the host), filtered by the host's level. A test
//! binary of its own: it installs the process-wide subscriber.

use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Keeps every event as `target: message fields`.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(format!(
            "{} {}:{}",
            event.metadata().level(),
            event.metadata().target(),
            fields.0
        ));
    }
}

#[tokio::test]
async fn plugin_logs_reach_the_host_at_its_level() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry()
        .with(Capture(seen.clone()))
        .with(tracing::level_filters::LevelFilter::INFO);
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let path = hetsync_testkit::plugins::test_plugin("panicking");
    let adapter = PluginAdapter::new(PluginLibrary::load(&path, &LoadOptions::default()).unwrap());
    adapter
        .connect(&NodeSpec {
            name: "节点".into(),
            url: "unused".into(),
            base_dir: ".".into(),
            options: Default::default(),
        })
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    let from_plugin: Vec<&String> = seen
        .iter()
        .filter(|l| l.contains("hetsync::plugin"))
        .collect();
    assert_eq!(from_plugin.len(), 1, "{seen:#?}");
    let line = from_plugin[0];
    assert!(line.starts_with("INFO hetsync::plugin:"), "{line}");
    assert!(line.contains("plugin_target=panicking"), "{line}");
    assert!(
        line.contains("connected a node that will panic node=节点"),
        "{line}"
    );
}
