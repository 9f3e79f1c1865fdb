//! Folding one side's events for one row into the latest stamps that matter.

use crate::change::{Event, Stamp};
use crate::schema::SyncTable;
use std::cmp::Ordering;

/// The latest stamps of one row on one side, after the side's events are
/// folded in tracking order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Latest insert/update stamp per column position.
    pub fields: Vec<Option<Stamp>>,
    /// Latest delete stamp.
    pub tomb: Option<Stamp>,
    /// The change the side's state stands on: under conflict policy
    /// `latest` the latest change of any kind (by [`Stamp::precedence`]);
    /// under the others the last in tracking order, the change that wrote
    /// the side's current state (on the hub it may be an older change that
    /// beat a later one by the policy).
    pub last: Option<Stamp>,
    /// Whether the last event in tracking order was a delete.
    pub ends_deleted: bool,
}

impl Summary {
    /// Folds `events` (one code, tracking order). Per field the last event
    /// wins (it wrote the current value); `last` as its doc says.
    /// Events of unknown columns (dropped since they were captured) are ignored.
    pub fn fold<'a>(
        table: &SyncTable,
        hub: &str,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Self {
        let mut s = Summary {
            fields: vec![None; table.columns.len()],
            ..Summary::default()
        };
        let by_time = matches!(table.conflict, crate::schema::ConflictPolicy::Latest);
        for event in events {
            if event.deleted {
                s.tomb = Some(event.stamp.clone());
            } else {
                match &event.fields {
                    None => s
                        .fields
                        .iter_mut()
                        .for_each(|f| *f = Some(event.stamp.clone())),
                    Some(names) => {
                        for name in names {
                            if let Some(i) = table.column_index(name) {
                                s.fields[i] = Some(event.stamp.clone());
                            }
                        }
                    }
                }
            }
            s.ends_deleted = event.deleted;
            if !by_time
                || s.last
                    .as_ref()
                    .is_none_or(|l| event.stamp.precedence(l, hub) != Ordering::Less)
            {
                s.last = Some(event.stamp.clone());
            }
        }
        s
    }

    /// The summary, or none when it contradicts the row as read: the row is
    /// absent though the last change read was no delete, or present though
    /// it was one. Then the row changed again after the end of a bounded
    /// read, and the round that reads that change decides it: the changes
    /// read now are superseded by it (a delete or an insert writes the whole
    /// row), and deciding them against the later state would record older
    /// stamps for it.
    pub fn unless_changed_later(self, row: Option<&Vec<crate::value::Value>>) -> Self {
        let read_any = self.last.is_some();
        if read_any && self.ends_deleted == row.is_some() {
            Summary {
                fields: vec![None; self.fields.len()],
                ..Summary::default()
            }
        } else {
            self
        }
    }

    /// Forgets every stamp whose origin is `node`: on the hub these are the
    /// spoke's own changes integrated earlier, which the spoke already has.
    pub fn without_origin(mut self, node: &str) -> Self {
        let keep = |s: &mut Option<Stamp>| {
            if s.as_ref().is_some_and(|st| st.origin == node) {
                *s = None;
            }
        };
        self.fields.iter_mut().for_each(keep);
        keep(&mut self.tomb);
        keep(&mut self.last);
        self
    }
}
