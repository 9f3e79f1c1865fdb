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
    /// The latest change of any kind (by [`Stamp::precedence`]).
    pub last: Option<Stamp>,
}

impl Summary {
    /// Folds `events` (one code, tracking order). Per field the last event
    /// wins (it wrote the current value); `last` is the latest change in time.
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
            if s.last
                .as_ref()
                .is_none_or(|l| event.stamp.precedence(l, hub) != Ordering::Less)
            {
                s.last = Some(event.stamp.clone());
            }
        }
        s
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
