//! A per-node cache of what an adapter learned from its data dictionary.

use std::collections::HashMap;
use std::sync::Mutex;

/// Column descriptions by table name. A node describes each synced table once
/// per process instead of once per statement; `install` and `uninstall`
/// clear it, since they are where a deployment's tables change.
pub struct ColumnCache<C>(Mutex<HashMap<String, Vec<C>>>);

impl<C: Clone> ColumnCache<C> {
    /// An empty cache.
    pub fn new() -> Self {
        ColumnCache(Mutex::new(HashMap::new()))
    }

    /// The cached columns of `table`.
    pub fn get(&self, table: &str) -> Option<Vec<C>> {
        self.0.lock().expect("cache lock").get(table).cloned()
    }

    /// Remembers the columns of `table` and returns them.
    pub fn put(&self, table: &str, columns: Vec<C>) -> Vec<C> {
        self.0
            .lock()
            .expect("cache lock")
            .insert(table.to_string(), columns.clone());
        columns
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.0.lock().expect("cache lock").clear();
    }
}

impl<C: Clone> Default for ColumnCache<C> {
    fn default() -> Self {
        Self::new()
    }
}
