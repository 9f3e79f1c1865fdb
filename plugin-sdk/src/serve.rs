//! The plugin side's dispatcher: decodes a request, calls the adapter it
//! names and encodes its answer. Connected nodes and held locks live here,
//! behind ids.

use crate::abi::Status;
use crate::export::SDK_VERSION;
use crate::wire::{decode, encode, op_name, LockId, NodeId, PluginStats, Request};
use hetsync_core::adapter::{AdapterFactory, IntegrationLock, Node, NodeSpec};
use hetsync_core::change::ReadRange;
use hetsync_core::{Error, Result};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One plugin's adapters and what its calls have opened.
pub(crate) struct Server {
    /// The adapters offered, the default (first) one first.
    factories: Vec<Box<dyn AdapterFactory>>,
    nodes: Mutex<HashMap<NodeId, Arc<dyn Node>>>,
    locks: Mutex<HashMap<LockId, IntegrationLock>>,
    next_id: AtomicU64,
}

/// Encodes an answer as the call's outcome.
fn answer<T: Serialize>(result: Result<T>) -> (Status, Vec<u8>) {
    match result {
        Ok(value) => (Status::OK, encode(&value)),
        Err(error) => (Status::ERROR, encode(&error)),
    }
}

impl Server {
    /// Serves `factories` (at least one).
    pub(crate) fn new(factories: Vec<Box<dyn AdapterFactory>>) -> Server {
        assert!(
            !factories.is_empty(),
            "a plugin offers at least one adapter"
        );
        Server {
            factories,
            nodes: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// An error about this plugin (named by its adapters).
    fn fail(&self, message: String) -> Error {
        let names: Vec<&str> = self.factories.iter().map(|f| f.name()).collect();
        Error::Plugin {
            plugin: names.join(", "),
            message,
        }
    }

    fn node(&self, id: NodeId) -> Result<Arc<dyn Node>> {
        self.nodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| self.fail(format!("no connected node with id {id}")))
    }

    /// The adapter a connect request names (the first when it names none).
    fn factory(&self, name: Option<&str>) -> Result<&dyn AdapterFactory> {
        let Some(name) = name else {
            return Ok(self.factories[0].as_ref());
        };
        self.factories
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.as_ref())
            .ok_or_else(|| self.fail(format!("offers no adapter '{name}'")))
    }

    /// Connected nodes and held locks (the caller counts running calls).
    pub(crate) fn stats(&self) -> PluginStats {
        PluginStats {
            nodes: self.nodes.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            locks: self.locks.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            calls: 0,
        }
    }

    /// Runs one encoded request to its encoded outcome. A request for an
    /// operation this SDK does not know is answered
    /// [`Status::UNSUPPORTED`], one it cannot read otherwise
    /// [`Status::BAD_REQUEST`].
    pub(crate) async fn handle(&self, request: Vec<u8>) -> (Status, Vec<u8>) {
        let request: Request<'static> = match decode(&request) {
            Ok(r) => r,
            Err(e) => {
                return match op_name(&request) {
                    Some(op) if !Request::knows(&op) => (
                        Status::UNSUPPORTED,
                        format!(
                            "unknown operation '{op}'; built with hetsync-plugin-sdk {SDK_VERSION}"
                        )
                        .into_bytes(),
                    ),
                    _ => (
                        Status::BAD_REQUEST,
                        format!("unreadable request: {e}").into_bytes(),
                    ),
                };
            }
        };
        match request {
            Request::Connect {
                name,
                url,
                base_dir,
                adapter,
                options,
            } => {
                let spec = NodeSpec {
                    name: name.into_owned(),
                    url: url.into_owned(),
                    base_dir: base_dir.into_owned(),
                    options: options.into_owned(),
                };
                let connected = match self.factory(adapter.as_deref()) {
                    Ok(factory) => factory.connect(&spec).await,
                    Err(e) => Err(e),
                };
                answer(connected.map(|node| {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    self.nodes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, Arc::from(node));
                    id
                }))
            }
            Request::Close { node } => {
                let removed = self
                    .nodes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&node);
                drop(removed);
                answer(Ok(()))
            }
            Request::Install { node, tables } => answer(
                self.run(node, |n| async move { n.install(&tables).await })
                    .await,
            ),
            Request::Uninstall { node } => {
                answer(self.run(node, |n| async move { n.uninstall().await }).await)
            }
            Request::IsInstalled { node } => answer(
                self.run(node, |n| async move { n.is_installed().await })
                    .await,
            ),
            Request::ReadChanges {
                node,
                tables,
                since,
                exclude_origin,
                until,
                limit,
                only_local,
            } => {
                let range = ReadRange {
                    since,
                    until,
                    limit,
                    exclude_origin: exclude_origin.map(Cow::into_owned),
                    only_local,
                };
                answer(
                    self.run(
                        node,
                        |n| async move { n.read_changes(&tables, &range).await },
                    )
                    .await,
                )
            }
            Request::Position { node } => {
                answer(self.run(node, |n| async move { n.position().await }).await)
            }
            Request::CommittedPosition { node } => answer(
                self.run(node, |n| async move { n.committed_position().await })
                    .await,
            ),
            Request::CountEvents {
                node,
                since,
                exclude_origin,
            } => answer(
                self.run(node, |n| async move {
                    n.count_events(since, exclude_origin.as_deref()).await
                })
                .await,
            ),
            Request::PeerWatermark { node, peer } => answer(
                self.run(node, |n| async move { n.peer_watermark(&peer).await })
                    .await,
            ),
            Request::Describe { node, table } => answer(
                self.run(node, |n| async move { n.describe(&table).await })
                    .await,
            ),
            Request::ListTables { node } => answer(
                self.run(node, |n| async move { n.list_tables().await })
                    .await,
            ),
            Request::Apply {
                node,
                tables,
                batch,
            } => answer(
                self.run(node, |n| async move { n.apply(&tables, &batch).await })
                    .await,
            ),
            Request::Fetch { node, table, codes } => answer(
                self.run(node, |n| async move { n.fetch(&table, &codes).await })
                    .await,
            ),
            Request::Scan {
                node,
                table,
                after,
                limit,
            } => answer(
                self.run(node, |n| async move {
                    n.scan(&table, after.as_deref(), limit).await
                })
                .await,
            ),
            Request::CountRows { node, table } => answer(
                self.run(node, |n| async move { n.count_rows(&table).await })
                    .await,
            ),
            Request::LockIntegration { node } => {
                let lock = self
                    .run(node, |n| async move { n.lock_integration().await })
                    .await;
                answer(lock.map(|lock| {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    self.locks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, lock);
                    id
                }))
            }
            Request::PendingConflicts { node } => answer(
                self.run(node, |n| async move { n.pending_conflicts().await })
                    .await,
            ),
            Request::ForgetConflicts { node, uids } => answer(
                self.run(node, |n| async move { n.forget_conflicts(&uids).await })
                    .await,
            ),
            Request::PurgeTracking {
                node,
                integrated,
                before_micros,
            } => answer(
                self.run(node, |n| async move {
                    n.purge_tracking(integrated, before_micros).await
                })
                .await,
            ),
            Request::PurgedHistory { node } => answer(
                self.run(node, |n| async move { n.purged_history().await })
                    .await,
            ),
            Request::BulkBegin {
                node,
                tables,
                since,
            } => answer(
                self.run(node, |n| async move { n.bulk_begin(&tables, since).await })
                    .await,
            ),
            Request::BulkEnd {
                node,
                tables,
                stamp,
                user,
            } => answer(
                self.run(node, |n| async move {
                    n.bulk_end(&tables, stamp, user.as_deref()).await
                })
                .await,
            ),
            Request::BackupFile { node, suffix, keep } => answer(
                self.run(node, |n| async move { n.backup_file(&suffix, keep).await })
                    .await,
            ),
            Request::BulkTables { node } => answer(
                self.run(node, |n| async move { n.bulk_tables().await })
                    .await,
            ),
            Request::AwaitChanges { node, timeout_ms } => answer(
                self.run(node, |n| async move {
                    n.await_changes(std::time::Duration::from_millis(timeout_ms))
                        .await
                })
                .await,
            ),
            Request::SyncedTables { node, peer } => answer(
                self.run(node, |n| async move { n.synced_tables(&peer).await })
                    .await,
            ),
            Request::Digest {
                node,
                table,
                types,
                buckets,
            } => answer(
                self.run(
                    node,
                    |n| async move { n.digest(&table, &types, buckets).await },
                )
                .await,
            ),
            Request::DigestRows {
                node,
                table,
                types,
                buckets,
                which,
            } => answer(
                self.run(node, |n| async move {
                    n.digest_rows(&table, &types, buckets, &which).await
                })
                .await,
            ),
            Request::DefaultTypeRules { node } => answer(
                self.node(node)
                    .map(|n| n.default_type_rules().map(str::to_string)),
            ),
            Request::Unlock { lock } => {
                let removed = self
                    .locks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&lock);
                drop(removed);
                answer(Ok(()))
            }
        }
    }

    /// Runs `f` on a connected node.
    async fn run<T, F, Fut>(&self, node: NodeId, f: F) -> Result<T>
    where
        F: FnOnce(Arc<dyn Node>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        f(self.node(node)?).await
    }
}
