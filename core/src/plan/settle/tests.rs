use super::*;
use crate::code::KeyPart;
use crate::schema::ConflictPolicy;

fn table(form: SyncForm) -> SyncTable {
    SyncTable {
        name: "t".into(),
        columns: vec!["k".into(), "a".into(), "b".into()],
        code: vec![0],
        form,
        conflict: ConflictPolicy::Latest,
    }
}

fn code(k: i64) -> CombinedCode {
    CombinedCode(vec![KeyPart::Int(k)])
}

fn stamp(time: i64, origin: &str) -> Stamp {
    Stamp::new(time, origin)
}

fn row(k: i64, a: &str, b: &str) -> Vec<Value> {
    vec![Value::Int(k), Value::Text(a.into()), Value::Text(b.into())]
}

fn names(f: &[&str]) -> Option<Vec<String>> {
    Some(f.iter().map(|s| s.to_string()).collect())
}

/// A local edit at tracking position `seq` (None fields: every column).
fn edit(seq: i64, k: i64, time: i64, deleted: bool, fields: Option<Vec<String>>) -> Event {
    Event {
        seq,
        code: code(k),
        stamp: stamp(time, "hub"),
        deleted,
        fields,
    }
}

fn entry(k: i64, time: i64, deleted: bool, fields: Option<Vec<String>>) -> TrackingEntry {
    TrackingEntry {
        table: "t".into(),
        code: code(k),
        stamp: stamp(time, "s1"),
        deleted,
        fields,
    }
}

/// Settles at the hub, where the local edits are the hub's and the batch
/// comes from spoke `s1`.
fn at_hub(
    form: SyncForm,
    ops: &[RowOp],
    tracking: &[TrackingEntry],
    edited: &[Event],
    locked: &[Vec<Value>],
) -> Settled {
    settle_on(&table(form), Side::Hub, ops, tracking, edited, locked)
}

/// Settles on `side`: at the hub the batch's changes are `tracking`, at the
/// spoke (which records none for downloads) they come as stamps.
fn settle_on(
    t: &SyncTable,
    side: Side,
    ops: &[RowOp],
    tracking: &[TrackingEntry],
    edited: &[Event],
    locked: &[Vec<Value>],
) -> Settled {
    let locked: HashMap<CombinedCode, Vec<Value>> = locked
        .iter()
        .map(|r| (t.code_of(r, "hub").unwrap(), r.clone()))
        .collect();
    let settle = Settle {
        hub: "hub".into(),
        side,
    };
    let (tracking, stamps) = match side {
        Side::Hub => (tracking, &[][..]),
        Side::Spoke => (&[][..], tracking),
    };
    settle_table(
        t,
        &settle,
        "hub",
        Pending {
            ops,
            tracking,
            stamps,
            edited,
            locked: &locked,
        },
    )
    .unwrap()
}

fn upsert(values: Vec<Value>, fields: Option<Vec<usize>>) -> RowOp {
    RowOp::Upsert { values, fields }
}

#[test]
fn rows_nobody_edited_pass_through() {
    let ops = [upsert(row(1, "x", "y"), Some(vec![1]))];
    let tracking = [entry(1, 10, false, names(&["a"]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &tracking,
        &[edit(7, 2, 20, false, names(&["a"]))],
        &[row(2, "p", "q")],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(out.tracking, tracking);
    assert!(out.trims.is_empty() && out.conflicts.is_empty());
}

#[test]
fn a_newer_local_field_keeps_its_value_and_the_other_field_goes_in() {
    let ops = [upsert(row(1, "in-a", "in-b"), Some(vec![1, 2]))];
    let tracking = [entry(1, 10, false, names(&["a", "b"]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &tracking,
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "local-a", "old-b")],
    );
    assert_eq!(out.ops, [upsert(row(1, "in-a", "in-b"), Some(vec![2]))]);
    assert_eq!(
        out.tracking,
        [entry(1, 10, false, names(&["b"]))],
        "the hub records no stamp for the value it kept"
    );
    assert!(
        out.trims.is_empty(),
        "the local edit stays, to go out later"
    );
    assert_eq!(out.conflicts.len(), 1);
    let c = &out.conflicts[0];
    assert_eq!(
        (
            c.field.as_deref(),
            c.winner_side,
            c.winner.time,
            c.loser.time
        ),
        (Some("a"), Side::Hub, 20, 10)
    );
    assert_eq!(
        (c.winner_value.as_str(), c.loser_value.as_str()),
        ("'local-a'", "'in-a'")
    );
}

#[test]
fn a_newer_incoming_field_is_written_and_the_local_edit_trimmed() {
    let ops = [upsert(row(1, "in-a", "x"), Some(vec![1]))];
    let tracking = [entry(1, 30, false, names(&["a"]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &tracking,
        &[
            edit(7, 1, 20, false, names(&["a", "b"])),
            edit(8, 1, 21, false, names(&["a"])),
        ],
        &[row(1, "local-a", "local-b")],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(out.tracking, tracking);
    assert_eq!(
        out.trims,
        [Trim::Fields(7, vec!["b".into()]), Trim::Forget(8)],
        "the local edit of b still goes out; of a nothing is left"
    );
    assert_eq!(out.conflicts.len(), 1);
    assert_eq!(out.conflicts[0].winner_side, Side::Spoke);
    assert_eq!(out.conflicts[0].winner.time, 30);
}

#[test]
fn equal_values_settle_without_a_conflict() {
    let ops = [upsert(row(1, "same", "x"), Some(vec![1]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &[entry(1, 30, false, names(&["a"]))],
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "same", "x")],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(out.trims, [Trim::Forget(7)]);
    assert!(out.conflicts.is_empty());
}

#[test]
fn a_row_deleted_here_later_stays_deleted() {
    let ops = [upsert(row(1, "in-a", "in-b"), Some(vec![1]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &[entry(1, 10, false, names(&["a"]))],
        &[edit(7, 1, 20, true, None)],
        &[],
    );
    assert!(out.ops.is_empty());
    assert!(out.tracking.is_empty());
    assert!(out.trims.is_empty());
    assert_eq!(out.conflicts[0].kind, ConflictKind::DeleteUpdate);
    assert_eq!(out.conflicts[0].winner_value, "deleted");
    assert_eq!(
        out.conflicts[0].loser_row,
        Some(crate::plan::LosingRow::Row(row(1, "in-a", "in-b"))),
        "the incoming row that lost, whole"
    );
}

#[test]
fn a_later_incoming_row_resurrects_one_deleted_here() {
    let ops = [upsert(row(1, "in-a", "in-b"), None)];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &[entry(1, 30, false, None)],
        &[edit(7, 1, 20, true, None)],
        &[],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(
        out.trims,
        [Trim::Forget(7)],
        "the older delete goes nowhere"
    );
    assert_eq!(out.conflicts[0].winner_side, Side::Spoke);
}

#[test]
fn an_incoming_delete_yields_to_a_later_local_edit_and_wins_over_an_earlier_one() {
    let delete = [RowOp::Delete { code: code(1) }];
    let tomb = |time| [entry(1, time, true, None)];
    let edited = [edit(7, 1, 20, false, names(&["b"]))];
    let lost = at_hub(
        SyncForm::Field,
        &delete,
        &tomb(10),
        &edited,
        &[row(1, "a", "b")],
    );
    assert!(lost.ops.is_empty() && lost.tracking.is_empty());
    assert_eq!(lost.conflicts[0].winner_side, Side::Hub);
    let won = at_hub(
        SyncForm::Field,
        &delete,
        &tomb(30),
        &edited,
        &[row(1, "a", "b")],
    );
    assert_eq!(won.ops, delete);
    assert_eq!(won.trims, [Trim::Forget(7)]);
    assert_eq!(won.conflicts[0].kind, ConflictKind::DeleteUpdate);
}

#[test]
fn form_table_settles_whole_rows() {
    let ops = [upsert(row(1, "in-a", "in-b"), None)];
    let tracking = [entry(1, 10, false, None)];
    let edited = [edit(7, 1, 20, false, names(&["b"]))];
    let out = at_hub(
        SyncForm::Table,
        &ops,
        &tracking,
        &edited,
        &[row(1, "a", "local-b")],
    );
    assert!(out.ops.is_empty() && out.tracking.is_empty());
    assert_eq!(out.conflicts[0].kind, ConflictKind::UpdateUpdate);
    assert_eq!(out.conflicts[0].field, None);
}

#[test]
fn an_unstamped_copy_yields_to_any_local_edit_without_a_conflict() {
    let ops = [upsert(row(1, "copy", "copy"), None)];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &[],
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "local", "old")],
    );
    assert_eq!(out.ops, [upsert(row(1, "copy", "copy"), Some(vec![2]))]);
    assert!(out.conflicts.is_empty());
    assert!(out.trims.is_empty());
}

#[test]
fn equal_times_go_to_the_hub() {
    let ops = [upsert(row(1, "in-a", "x"), Some(vec![1]))];
    let out = at_hub(
        SyncForm::Field,
        &ops,
        &[entry(1, 20, false, names(&["a"]))],
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "local-a", "x")],
    );
    assert!(out.ops.is_empty(), "the hub's own edit wins the tie");
    assert_eq!(out.conflicts[0].winner_side, Side::Hub);
}

fn with_policy(form: SyncForm, conflict: ConflictPolicy) -> SyncTable {
    SyncTable {
        conflict,
        ..table(form)
    }
}

#[test]
fn policy_hub_keeps_an_older_hub_edit_against_a_later_incoming_change() {
    let t = with_policy(SyncForm::Field, ConflictPolicy::Hub);
    let ops = [upsert(row(1, "in-a", "x"), Some(vec![1]))];
    let out = settle_on(
        &t,
        Side::Hub,
        &ops,
        &[entry(1, 30, false, names(&["a"]))],
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "local-a", "x")],
    );
    assert!(out.ops.is_empty(), "the hub's own edit stays");
    assert!(out.tracking.is_empty() && out.trims.is_empty());
    let c = &out.conflicts[0];
    assert_eq!(
        (c.winner_side, c.rule, c.winner.time, c.loser.time),
        (Side::Hub, Rule::Hub, 20, 30)
    );
}

#[test]
fn policy_hub_writes_an_older_hub_change_over_a_later_spoke_edit() {
    let t = with_policy(SyncForm::Table, ConflictPolicy::Hub);
    let ops = [upsert(row(1, "hub-a", "hub-b"), None)];
    let spoke_edit = Event {
        stamp: stamp(50, "s1"),
        ..edit(7, 1, 0, false, None)
    };
    let out = settle_on(
        &t,
        Side::Spoke,
        &ops,
        &[TrackingEntry {
            stamp: stamp(10, "hub"),
            ..entry(1, 0, false, None)
        }],
        &[spoke_edit],
        &[row(1, "spoke-a", "spoke-b")],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(
        out.trims,
        [Trim::Forget(7)],
        "the spoke's edit is superseded"
    );
    let c = &out.conflicts[0];
    assert_eq!(
        (c.winner_side, c.rule, c.winner.time),
        (Side::Hub, Rule::Hub, 10)
    );
}

#[test]
fn policy_priority_settles_by_the_nodes_priorities() {
    let t = with_policy(
        SyncForm::Field,
        ConflictPolicy::Priority(std::collections::BTreeMap::from([("s1".to_string(), 7)])),
    );
    // The incoming change of s1 (priority 7) is older than the hub's edit (0).
    let ops = [upsert(row(1, "in-a", "x"), Some(vec![1]))];
    let out = settle_on(
        &t,
        Side::Hub,
        &ops,
        &[entry(1, 10, false, names(&["a"]))],
        &[edit(7, 1, 20, false, names(&["a"]))],
        &[row(1, "local-a", "x")],
    );
    assert_eq!(out.ops, ops);
    assert_eq!(out.trims, [Trim::Forget(7)]);
    let c = &out.conflicts[0];
    assert_eq!((c.winner_side, c.rule), (Side::Spoke, Rule::Priority));
}
