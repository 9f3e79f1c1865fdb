use super::*;
use crate::code::KeyPart;
use crate::schema::ConflictPolicy;

fn table(form: SyncForm) -> SyncTable {
    SyncTable {
        name: "变电站表".into(),
        columns: vec!["id".into(), "名称".into(), "颜色".into(), "x".into()],
        code: vec![0],
        form,
        conflict: ConflictPolicy::Latest,
    }
}

fn code(i: i64) -> CombinedCode {
    CombinedCode(vec![KeyPart::Int(i)])
}

fn row(i: i64, name: &str, colour: &str, x: i64) -> Vec<Value> {
    vec![
        Value::Int(i),
        Value::Text(name.into()),
        Value::Text(colour.into()),
        Value::Int(x),
    ]
}

fn ev(seq: i64, i: i64, time: i64, origin: &str, deleted: bool, fields: Option<&[&str]>) -> Event {
    Event {
        seq,
        code: code(i),
        stamp: Stamp::new(time, origin),
        deleted,
        fields: fields.map(|f| f.iter().map(|s| s.to_string()).collect()),
    }
}

fn changes(events: Vec<Event>, rows: Vec<Vec<Value>>) -> TableChanges {
    TableChanges {
        events,
        rows: rows
            .into_iter()
            .map(|r| (CombinedCode::from_row(&r, &[0]).unwrap(), r))
            .collect(),
    }
}

const PEERS: Peers<'static> = Peers {
    spoke: "a",
    hub: "hub",
    absent_deletes: false,
};

#[test]
fn insert_on_spoke_goes_up_with_its_stamp() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(1, 1, 100, "a", false, None)],
        vec![row(1, "n", "red", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &TableChanges::default());
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 5),
            fields: None
        }]
    );
    assert!(p.download.is_empty());
    assert_eq!(p.hub_tracking.len(), 1);
    assert_eq!(p.hub_tracking[0].stamp, Stamp::new(100, "a"));
    assert_eq!(p.hub_tracking[0].fields, None);
}

#[test]
fn different_fields_merge_without_conflict() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(
        vec![ev(7, 1, 101, "b", false, Some(&["颜色"]))],
        vec![row(1, "n", "blue", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: Some(vec![3])
        }]
    );
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "n", "blue", 5),
            fields: Some(vec![2])
        }]
    );
    assert!(p.conflicts.is_empty());
    assert_eq!(p.hub_tracking[0].fields, Some(vec!["x".to_string()]));
}

#[test]
fn same_field_latest_wins_and_is_logged() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 200, "a", false, Some(&["颜色"]))],
        vec![row(1, "n", "red", 5)],
    );
    let h = changes(
        vec![ev(7, 1, 100, "b", false, Some(&["颜色"]))],
        vec![row(1, "n", "blue", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(p.upload.len(), 1);
    assert!(p.download.is_empty());
    assert_eq!(p.conflicts.len(), 1);
    let c = &p.conflicts[0];
    assert_eq!(
        (c.winner_side, c.field.as_deref()),
        (Side::Spoke, Some("颜色"))
    );
    assert_eq!(
        (c.winner_value.as_str(), c.loser_value.as_str()),
        ("'red'", "'blue'")
    );
    assert_eq!(
        c.loser_row,
        Some(super::LosingRow::Row(row(1, "n", "blue", 5))),
        "the losing side's whole row, for an undo"
    );
}

#[test]
fn tie_goes_to_hub_origin() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["颜色"]))],
        vec![row(1, "n", "red", 5)],
    );
    let h = changes(
        vec![ev(7, 1, 100, "hub", false, Some(&["颜色"]))],
        vec![row(1, "n", "blue", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty());
    assert_eq!(p.download.len(), 1);
}

#[test]
fn later_update_resurrects_a_deleted_row() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 200, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(vec![ev(7, 1, 100, "b", true, None)], vec![]);
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: None
        }]
    );
    assert_eq!(p.conflicts[0].kind, ConflictKind::DeleteUpdate);
    assert_eq!(p.conflicts[0].loser_row, Some(super::LosingRow::Deleted));
    assert_eq!(p.hub_tracking[0].fields, None);
}

#[test]
fn later_delete_wins_over_update() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(vec![ev(7, 1, 200, "b", true, None)], vec![]);
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty());
    assert_eq!(p.download, vec![RowOp::Delete { code: code(1) }]);
}

#[test]
fn spoke_delete_goes_up_as_delete() {
    let t = table(SyncForm::Table);
    let l = changes(vec![ev(5, 1, 100, "a", true, None)], vec![]);
    let h = changes(vec![], vec![row(1, "n", "red", 9)]);
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(p.upload, vec![RowOp::Delete { code: code(1) }]);
    assert!(p.hub_tracking[0].deleted);
}

#[test]
fn a_delete_of_a_row_neither_side_has_is_sent_across_only_with_a_standby() {
    for form in [SyncForm::Field, SyncForm::Table] {
        let t = table(form);
        // Inserted and deleted on the spoke between two rounds.
        let l = changes(
            vec![
                ev(5, 1, 100, "a", false, None),
                ev(6, 1, 110, "a", true, None),
            ],
            vec![],
        );
        let p = plan_table(&t, PEERS, &l, &TableChanges::default());
        assert!(p.upload.is_empty() && p.hub_tracking.is_empty(), "{form:?}");
        let standby = Peers {
            absent_deletes: true,
            ..PEERS
        };
        let p = plan_table(&t, standby, &l, &TableChanges::default());
        assert_eq!(p.upload, vec![RowOp::Delete { code: code(1) }], "{form:?}");
        assert!(p.hub_tracking[0].deleted);
        assert_eq!(p.hub_tracking[0].stamp, Stamp::new(110, "a"));
        // On the hub: it goes down, with its stamp.
        let h = changes(vec![ev(7, 1, 200, "b", true, None)], vec![]);
        let p = plan_table(&t, standby, &TableChanges::default(), &h);
        assert_eq!(
            p.download,
            vec![RowOp::Delete { code: code(1) }],
            "{form:?}"
        );
        assert_eq!(p.download_stamps[0].stamp, Stamp::new(200, "b"));
        // Deleted on both: nothing.
        let p = plan_table(&t, standby, &l, &h);
        assert!(p.upload.is_empty() && p.download.is_empty(), "{form:?}");
    }
}

#[test]
fn echoes_of_the_spokes_own_changes_are_ignored() {
    let t = table(SyncForm::Field);
    let l = changes(vec![], vec![row(1, "n", "red", 9)]);
    let h = changes(
        vec![
            ev(7, 1, 100, "b", false, Some(&["x"])),
            ev(8, 1, 150, "a", false, Some(&["x"])),
        ],
        vec![row(1, "n", "red", 9)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.download.is_empty() && p.upload.is_empty());
}

#[test]
fn table_form_latest_whole_row_wins() {
    let t = table(SyncForm::Table);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(
        vec![ev(7, 1, 200, "b", false, Some(&["颜色"]))],
        vec![row(1, "n", "blue", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty());
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "n", "blue", 5),
            fields: None
        }]
    );
    assert_eq!(p.conflicts.len(), 1);
}

#[test]
fn identical_values_move_nothing() {
    let t = table(SyncForm::Table);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(
        vec![ev(7, 1, 200, "b", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty() && p.download.is_empty() && p.conflicts.is_empty());
}

#[test]
fn unchanged_fields_of_an_existing_row_are_not_sent() {
    let t = table(SyncForm::Field);
    let l = changes(
        vec![ev(5, 1, 100, "a", false, Some(&["x"]))],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(vec![], vec![row(1, "n", "red", 5)]);
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: Some(vec![3])
        }]
    );
    assert_eq!(p.hub_tracking[0].fields, Some(vec!["x".to_string()]));
}

#[test]
fn a_later_identical_spoke_change_still_records_its_stamp_at_the_hub() {
    for form in [SyncForm::Field, SyncForm::Table] {
        let t = table(form);
        let l = changes(
            vec![ev(5, 1, 300, "a", false, Some(&["颜色"]))],
            vec![row(1, "n", "red", 5)],
        );
        let h = changes(
            vec![ev(7, 1, 200, "b", false, Some(&["颜色"]))],
            vec![row(1, "n", "red", 5)],
        );
        let p = plan_table(&t, PEERS, &l, &h);
        assert!(p.download.is_empty() && p.conflicts.is_empty(), "{form:?}");
        assert_eq!(p.hub_tracking.len(), 1, "{form:?}");
        assert_eq!(p.hub_tracking[0].stamp.time, 300, "{form:?}");
    }
}

#[test]
fn a_row_changed_after_a_bounded_read_waits_for_the_read_of_that_change() {
    for form in [SyncForm::Field, SyncForm::Table] {
        let t = table(form);
        // The spoke's update was read; its later delete was not (the read
        // stopped at its limit), but the row is already gone. Deciding now
        // would delete at the hub with the update's older stamp.
        let l = changes(vec![ev(1, 1, 100, "a", false, Some(&["名称"]))], Vec::new());
        let h = changes(Vec::new(), vec![row(1, "n", "red", 5)]);
        let p = plan_table(&t, PEERS, &l, &h);
        assert!(
            p.upload.is_empty() && p.download.is_empty(),
            "{form:?}: {p:?}"
        );
        assert!(p.conflicts.is_empty(), "{form:?}");
        // The read that takes the delete decides it, with the delete's stamp.
        let l = changes(vec![ev(2, 1, 200, "a", true, None)], Vec::new());
        let p = plan_table(&t, PEERS, &l, &h);
        assert_eq!(p.upload, vec![RowOp::Delete { code: code(1) }], "{form:?}");
        assert_eq!(p.hub_tracking[0].stamp.time, 200, "{form:?}");

        // Deleted and inserted again after the read: the delete read waits.
        let l = changes(
            vec![ev(3, 2, 300, "a", true, None)],
            vec![row(2, "m", "blue", 1)],
        );
        let h = changes(Vec::new(), vec![row(2, "old", "red", 0)]);
        let p = plan_table(&t, PEERS, &l, &h);
        assert!(
            p.upload.is_empty() && p.download.is_empty(),
            "{form:?}: {p:?}"
        );
    }
}

fn with_policy(form: SyncForm, conflict: ConflictPolicy) -> SyncTable {
    SyncTable {
        conflict,
        ..table(form)
    }
}

/// Spoke `a` changed 颜色 later (t 200) than the hub side did (t 100, made
/// on spoke `b`), and `x` alone.
fn both_changed_colour() -> (TableChanges, TableChanges) {
    let l = changes(
        vec![
            ev(5, 1, 200, "a", false, Some(&["颜色"])),
            ev(6, 1, 210, "a", false, Some(&["x"])),
        ],
        vec![row(1, "n", "red", 9)],
    );
    let h = changes(
        vec![ev(7, 1, 100, "b", false, Some(&["颜色"]))],
        vec![row(1, "n", "blue", 5)],
    );
    (l, h)
}

#[test]
fn policy_hub_keeps_the_hub_side_field_and_merges_the_rest() {
    let t = with_policy(SyncForm::Field, ConflictPolicy::Hub);
    let (l, h) = both_changed_colour();
    let p = plan_table(&t, PEERS, &l, &h);
    // The spoke's later colour loses; its x, which nobody else changed, goes up.
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: Some(vec![3])
        }]
    );
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "n", "blue", 5),
            fields: Some(vec![2])
        }]
    );
    assert_eq!(p.conflicts.len(), 1);
    let c = &p.conflicts[0];
    assert_eq!(
        (c.winner_side, c.rule, c.field.as_deref()),
        (Side::Hub, Rule::Hub, Some("颜色"))
    );
    assert_eq!(
        (c.winner_value.as_str(), c.loser_value.as_str()),
        ("'blue'", "'red'")
    );
    assert_eq!((c.winner.time, c.loser.time), (100, 200));
}

#[test]
fn policy_latest_gives_the_same_conflict_to_the_spoke() {
    let t = table(SyncForm::Field);
    let (l, h) = both_changed_colour();
    let p = plan_table(&t, PEERS, &l, &h);
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: Some(vec![2, 3])
        }]
    );
    assert!(p.download.is_empty());
    assert_eq!(
        (p.conflicts[0].winner_side, p.conflicts[0].rule),
        (Side::Spoke, Rule::Latest)
    );
}

#[test]
fn policy_hub_keeps_a_row_the_spoke_deleted_later_and_deletes_one_it_updated() {
    let t = with_policy(SyncForm::Table, ConflictPolicy::Hub);
    // The spoke deleted row 1 after the hub side updated it.
    let l = changes(vec![ev(5, 1, 300, "a", true, None)], vec![]);
    let h = changes(
        vec![ev(7, 1, 100, "hub", false, None)],
        vec![row(1, "n", "blue", 5)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty());
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "n", "blue", 5),
            fields: None
        }]
    );
    assert_eq!(
        (p.conflicts[0].kind, p.conflicts[0].rule),
        (ConflictKind::DeleteUpdate, Rule::Hub)
    );

    // The hub side deleted row 2 before the spoke updated it.
    let t = with_policy(SyncForm::Field, ConflictPolicy::Hub);
    let l = changes(
        vec![ev(5, 2, 300, "a", false, Some(&["x"]))],
        vec![row(2, "n", "red", 9)],
    );
    let h = changes(vec![ev(7, 2, 100, "b", true, None)], vec![]);
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty());
    assert_eq!(p.download, vec![RowOp::Delete { code: code(2) }]);
    assert_eq!(p.conflicts[0].winner_side, Side::Hub);
}

#[test]
fn policy_priority_prefers_the_higher_node_then_the_later_change() {
    let priorities = |a: i64, b: i64| {
        ConflictPolicy::Priority(std::collections::BTreeMap::from([
            ("a".to_string(), a),
            ("b".to_string(), b),
        ]))
    };
    let (l, h) = both_changed_colour();
    // b (the hub side's change) outranks a: b's earlier colour stays.
    let p = plan_table(
        &with_policy(SyncForm::Field, priorities(1, 2)),
        PEERS,
        &l,
        &h,
    );
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "n", "blue", 5),
            fields: Some(vec![2])
        }]
    );
    assert_eq!(
        (p.conflicts[0].winner_side, p.conflicts[0].rule),
        (Side::Hub, Rule::Priority)
    );
    // a outranks b: a's colour goes up.
    let p = plan_table(
        &with_policy(SyncForm::Field, priorities(2, 1)),
        PEERS,
        &l,
        &h,
    );
    assert!(p.download.is_empty());
    assert_eq!(
        (p.conflicts[0].winner_side, p.conflicts[0].rule),
        (Side::Spoke, Rule::Priority)
    );
    // Equal: the later change (a's), decided by time.
    let p = plan_table(
        &with_policy(SyncForm::Table, priorities(3, 3)),
        PEERS,
        &l,
        &h,
    );
    assert_eq!(
        p.upload,
        vec![RowOp::Upsert {
            values: row(1, "n", "red", 9),
            fields: None
        }]
    );
    assert_eq!(
        (p.conflicts[0].winner_side, p.conflicts[0].rule),
        (Side::Spoke, Rule::Latest)
    );
}

#[test]
fn policy_priority_weighs_the_change_that_wrote_the_hub_row_not_its_latest() {
    // On the hub, b's row (priority 2) beat the hub's own later insert
    // (priority 0) and was written after it. Spoke a (priority 1) must
    // weigh its change against b's, which the hub's row stands on.
    let t = with_policy(
        SyncForm::Table,
        ConflictPolicy::Priority(std::collections::BTreeMap::from([
            ("a".to_string(), 1),
            ("b".to_string(), 2),
        ])),
    );
    let l = changes(
        vec![ev(5, 1, 472, "a", false, None)],
        vec![row(1, "from-a", "red", 1)],
    );
    let h = changes(
        vec![
            ev(7, 1, 497, "hub", false, None),
            ev(8, 1, 389, "b", false, None),
        ],
        vec![row(1, "from-b", "blue", 2)],
    );
    let p = plan_table(&t, PEERS, &l, &h);
    assert!(p.upload.is_empty(), "{:?}", p.upload);
    assert_eq!(
        p.download,
        vec![RowOp::Upsert {
            values: row(1, "from-b", "blue", 2),
            fields: None
        }]
    );
    let c = &p.conflicts[0];
    assert_eq!(
        (c.winner_side, c.rule, c.winner.origin.as_str()),
        (Side::Hub, Rule::Priority, "b")
    );
}
