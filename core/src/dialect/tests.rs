//! Golden files: the SQL each dialect generates for a fixture deployment,
//! kept in `core/tests/golden/<dialect>.sql` so a reviewer reads exactly what
//! `install` creates and what a round runs. `HETSYNC_BLESS=1 cargo test -p
//! hetsync-core golden` rewrites them after an intended change.

use super::mysql::Mysql;
use super::postgres::{KINGBASE, LOGICAL, TRIGGERS};
use super::sqlite;
use super::*;
use crate::code::{CombinedCode, KeyPart};
use crate::schema::{ConflictPolicy, SyncForm, SyncTable};

fn table(name: &str, columns: &[&str], code: &[usize]) -> SyncTable {
    SyncTable {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        code: code.to_vec(),
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

fn fixture() -> Vec<(SyncTable, Vec<ColumnSql>)> {
    let col = |name: &str, sql_type: &str, text: bool| ColumnSql {
        name: name.into(),
        sql_type: sql_type.into(),
        text,
    };
    let substation = table(
        "变电站表",
        &["单位编号", "年份", "ID", "名称", "容量", "备注 \"x\""],
        &[0, 1, 2],
    );
    let long = format!("{}_'quoted'", "高压线路表".repeat(8));
    let lines = table(&long, &["ID", "颜色"], &[0]);
    let codes_only = table("k", &["a"], &[0]);
    vec![
        (
            substation,
            vec![
                col("单位编号", "varchar(20)", true),
                col("年份", "integer", false),
                col("ID", "integer", false),
                col("名称", "varchar(100)", true),
                col("容量", "numeric(12,4)", false),
                col("备注 \"x\"", "text", true),
            ],
        ),
        (
            lines,
            vec![col("ID", "bigint", false), col("颜色", "text", true)],
        ),
        (codes_only, vec![col("a", "bigint", false)]),
    ]
}

/// Appends a titled section of statements to a golden file's text.
fn push_section(out: &mut String, title: &str, statements: Vec<String>) {
    out.push_str(&format!("-- {title}\n"));
    for s in statements {
        out.push_str(&s);
        out.push_str(";\n");
    }
    out.push('\n');
}

fn render(d: &dyn Dialect) -> String {
    let mut out = String::new();
    for (title, statements) in sections(d) {
        push_section(&mut out, &title, statements);
    }
    out
}

/// Every statement a dialect generates for the fixture, by section.
fn sections(d: &dyn Dialect) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut section = |title: &str, statements| out.push((title.to_string(), statements));
    section("bookkeeping tables", d.meta_tables());
    section(
        "install: hetsync's objects to drop",
        d.capture_objects_sql().into_iter().collect(),
    );
    // The kind of object the listing above returns on each database.
    let kind = match d.name() {
        "postgres" | "postgres-logical" | "kingbase" => "FUNCTION",
        _ => "TRIGGER",
    };
    section(
        "install: drop one",
        vec![d.drop_object_sql(kind, "_hetsync_x")],
    );
    section(
        "install: layout version",
        std::iter::once(d.meta_sql())
            .chain(d.meta_set_sql())
            .collect(),
    );
    section(
        "install: columns an older layout lacks",
        d.column_exists_sql()
            .into_iter()
            .chain(d.added_columns().into_iter().map(|(_, _, alter)| alter))
            .collect(),
    );
    section("install: record a table", vec![d.record_installed_sql()]);
    section("is installed", d.table_exists_sql().into_iter().collect());
    for (table, columns) in fixture() {
        section(
            &format!("capture on {}", table.name),
            d.capture_sql(&table, &columns),
        );
        section(
            &format!("staging of {}", table.name),
            d.staging_sql(&table, &columns).into_iter().collect(),
        );
        for phase in [PHASE_DELETE, PHASE_UPSERT] {
            section(
                &format!("apply phase {phase} of {}", table.name),
                d.apply_call_sql(&table, phase),
            );
        }
        let fields: Vec<usize> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .collect();
        if !fields.is_empty() {
            section(
                &format!("row update of {}", table.name),
                vec![d.row_update_sql(&table, &fields)],
            );
        }
        section(
            &format!("row insert and delete of {}", table.name),
            vec![d.row_insert_missing_sql(&table), d.row_delete_sql(&table)],
        );
        section(
            &format!("reading {}", table.name),
            vec![
                d.rows_by_codes_sql(&table, "t.*", 2),
                d.scan_sql(&table, "t.*", false),
                d.scan_sql(&table, "t.*", true),
                d.count_rows_sql(&table),
                d.uncoded_rows_sql(&table),
                d.duplicate_codes_sql(&table),
            ],
        );
        // Each column's canonical type, cycling through those the digest spells.
        let kinds = [
            crate::types::CanonicalType::Int64,
            crate::types::CanonicalType::Text { unicode: true },
            crate::types::CanonicalType::Bool,
            crate::types::CanonicalType::Blob,
            crate::types::CanonicalType::Date,
            crate::types::CanonicalType::Float64,
        ];
        let types: Vec<_> = (0..table.columns.len())
            .map(|i| kinds[i % kinds.len()].clone())
            .collect();
        section(
            &format!("digest of {}", table.name),
            digest::buckets_sql(d, &table, &types, 1024)
                .into_iter()
                .chain(digest::rows_sql(d, &table, &types, 1024, 2))
                .collect(),
        );
        if let Some(lock) = d.lock_table_sql(&table.name) {
            section(&format!("lock {}", table.name), vec![lock]);
        }
        if let Some(lock) = d.lock_rows_sql(&table, 2) {
            section(&format!("lock rows of {}", table.name), vec![lock]);
        }
        if d.snapshot_capture() {
            section(
                &format!("snapshot comparison of {}", table.name),
                vec![
                    snapshot::changed_sql(d, &table, "t.*", false),
                    snapshot::changed_sql(d, &table, "t.*", true),
                    snapshot::gone_sql(d, &table, "t.*", true),
                    snapshot::pending_sql(d, &table),
                    snapshot::forget_sql(d, &table, 2),
                    snapshot::take_sql(d, &table, 2),
                ],
            );
        }
        if let Some(suspend) = d.suspend_capture_sql(&table) {
            section(
                &format!("bulk begin on {}", table.name),
                d.bulk_snapshot_sql(&table)
                    .into_iter()
                    .chain(suspend)
                    .collect(),
            );
            section(
                &format!("bulk end on {}", table.name),
                d.resume_capture_sql(&table, &columns)
                    .into_iter()
                    .chain(d.bulk_changes_sql(&table))
                    .chain([d.drop_bulk_snapshot_sql(&table.name)])
                    .collect(),
            );
        }
    }
    section(
        "read changes",
        vec![d.tracking_sql(false), d.tracking_sql(true)],
    );
    section(
        "capture objects with their definitions",
        d.capture_definitions_sql().into_iter().collect(),
    );
    section(
        "bounded read",
        vec![d.bounded_tracking_sql(false), d.bounded_tracking_sql(true)],
    );
    section(
        "count events",
        vec![d.count_events_sql(false), d.count_events_sql(true)],
    );
    section(
        "peer watermark",
        std::iter::once(d.peer_sql())
            .chain(d.record_peer_sql())
            .collect(),
    );
    section(
        "guard",
        d.position_scan_sql()
            .into_iter()
            .chain([d.guard_sql(false), d.guard_sql(true)])
            .chain(d.position_scan_reset_sql())
            .collect(),
    );
    section(
        "conflicts recorded until the engine logged them",
        vec![
            d.conflict_table_sql(),
            d.conflict_insert_sql(2),
            d.conflicts_pending_sql(),
            d.conflict_forget_sql(2),
        ],
    );
    section(
        "trimming superseded local edits",
        vec![d.tracking_forget_sql(), d.tracking_fields_sql()],
    );
    section(
        "purging integrated tracking rows",
        vec![
            d.tracking_bounds_sql(),
            d.tracking_step_sql(1000),
            d.purge_batch_sql(),
        ],
    );
    section(
        "tracking rows written by the engine",
        d.tracking_reserve_sql(2)
            .into_iter()
            .chain([d.tracking_insert_sql(2)])
            .collect(),
    );
    section(
        "transactions",
        [TxKind::Write, TxKind::ReadSnapshot]
            .into_iter()
            .flat_map(|k| d.begin_sql(k))
            .chain(d.silence_sql())
            .chain(d.unsilence_sql())
            .chain(d.end_silence_sql())
            .collect(),
    );
    out
}

/// What logical decoding adds: install's preparation and release, and a
/// drain of the slot into the tracking table.
fn render_logical() -> String {
    let d = &LOGICAL;
    let mut out = String::new();
    let mut section = |title: &str, statements| push_section(&mut out, title, statements);
    section(
        "logical: before install",
        std::iter::once(d.wal_level_sql().to_string())
            .chain(d.prepare_logical_sql())
            .collect(),
    );
    section("logical: release", d.release_logical_sql());
    section(
        "logical: install drops a published table",
        vec![d.drop_object_sql("PUBLISHED", "变电站表")],
    );
    section(
        "logical: how far a read is final",
        vec![format!("SELECT {}", super::pg_logical::LOGICAL_HORIZON)],
    );
    let fixture = fixture();
    let tables: Vec<_> = fixture.iter().map(|(t, c)| (t, c.clone())).collect();
    section(
        "logical: drain",
        [
            d.drained_lsn_sql(),
            d.slot_state_sql(),
            d.advance_slot_sql(),
            d.flush_lsn_sql().to_string(),
            d.peek_cursor_sql("16/B374D848"),
            d.fetch_cursor_sql(5000),
            d.close_cursor_sql(),
        ]
        .into_iter()
        .chain(d.drained_table_sql())
        .chain([d.drained_copy_sql()])
        .chain(d.drained_insert_sql(&tables))
        .collect(),
    );
    out
}

/// What the SQL Server adapter runs besides the shared statements.
fn mssql_sections() -> Vec<(String, Vec<String>)> {
    use super::mssql;
    vec![
        (
            "mssql: before install".into(),
            vec![mssql::SNAPSHOT_ALLOWED.into(), mssql::INSTALL_LOCK.into()],
        ),
        (
            "mssql: positions".into(),
            vec![mssql::POSITION.into(), mssql::COMMITTED_POSITION.into()],
        ),
        (
            "mssql: the integration lock".into(),
            vec![mssql::INTEGRATION_LOCK.into()],
        ),
    ]
}

#[test]
fn golden_sql() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("HETSYNC_BLESS").is_some();
    let dialects: [&dyn Dialect; 10] = [
        &sqlite::TRIGGERS,
        &sqlite::SNAPSHOT,
        &TRIGGERS,
        &LOGICAL,
        &KINGBASE,
        &Mysql,
        &super::generic::ANSI,
        &super::generic::MYSQL,
        &super::dameng::Dameng,
        &super::mssql::Mssql,
    ];
    for d in dialects {
        let path = dir.join(format!("{}.sql", d.name()));
        let mut got = render(d);
        if d.name() == LOGICAL.name() {
            got.push_str(&render_logical());
        }
        if d.name() == super::dameng::Dameng.name() {
            let mut out = String::new();
            push_section(
                &mut out,
                "dameng: the commit barrier",
                super::dameng::Dameng.barrier_sql().to_vec(),
            );
            got.push_str(&out);
        }
        if d.name() == super::mssql::Mssql.name() {
            for (title, statements) in mssql_sections() {
                push_section(&mut got, &title, statements);
            }
        }
        if bless {
            std::fs::create_dir_all(&dir).expect("golden dir");
            std::fs::write(&path, &got).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (HETSYNC_BLESS=1 writes it)", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map_or(got.lines().count().min(want.lines().count()), |i| i);
            panic!(
                "{} differs from the generated SQL at line {} (HETSYNC_BLESS=1 rewrites it after an intended change):\n  got:  {}\n  want: {}",
                path.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("<end>"),
                want.lines().nth(line).unwrap_or("<end>")
            );
        }
    }
}

#[test]
fn identifiers_and_literals_are_quoted() {
    assert_eq!(TRIGGERS.ident(r#"a"b"#), r#""a""b""#);
    assert_eq!(Mysql.ident("a`b"), "`a``b`");
    assert_eq!(sqlite::TRIGGERS.literal("it's"), "'it''s'");
    assert_eq!(Mysql.literal(r#"it's \"x\""#), r#"'it''s \\"x\\"'"#);
}

#[test]
fn mysql_scan_params_spell_out_the_row_comparison() {
    let code = CombinedCode(vec![KeyPart::Text("a".into()), KeyPart::Int(2)]);
    let params = Mysql.scan_params(Some(&code), 10);
    assert_eq!(
        params,
        vec![
            Value::Text("a".into()),
            Value::Text("a".into()),
            Value::Int(2),
            Value::Int(10)
        ]
    );
}

#[test]
fn newer_layouts_are_refused() {
    assert!(check_schema_version("n", None).is_ok());
    assert!(check_schema_version("n", Some("1")).is_ok());
    let err = check_schema_version("n", Some("99"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("node 'n'") && err.contains("99"), "{err}");
}

#[test]
fn dameng_change_times_read_back_as_written() {
    let d = super::dameng::Dameng;
    for micros in [0, 1_700_000_000_123_456, -86_400_000_001] {
        let Some(Value::Text(text)) = d.stamp_value(micros) else {
            panic!("a change time is text");
        };
        // TO_CHAR(changed_at, 'YYYY-MM-DD HH24:MI:SS.FF6') prints the
        // same form, which sorts as it reads.
        assert_eq!(crate::change::parse_micros(&text), Some(micros), "{text}");
        assert_eq!(text.len(), "1970-01-01 00:00:00.000000".len(), "{text}");
    }
}

/// `sql` with the placeholder after `FETCH NEXT` replaced by a number.
fn literal_fetch_count(sql: &str) -> String {
    let Some((head, tail)) = sql.split_once("FETCH NEXT @P") else {
        return sql.to_string();
    };
    let tail = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    format!("{head}FETCH NEXT 100{tail}")
}

/// Statements of the SQL Server dialect that `sqlparser`'s T-SQL grammar
/// does not know, by how they start: each was read against the T-SQL
/// reference instead. sqlparser has no `EXEC @return = procedure` (the
/// application locks' `sp_getapplock` answer).
const T_SQL_UNKNOWN_TO_SQLPARSER: &[&str] = &["DECLARE @r INT; EXEC @r = sys.sp_getapplock "];

/// The golden T-SQL parses with `sqlparser`'s SQL Server dialect wherever
/// it knows the statement (no SQL Server runs here).
#[test]
fn mssql_statements_parse_as_t_sql() {
    use sqlparser::dialect::MsSqlDialect;
    use sqlparser::parser::Parser;
    let mut parsed = 0;
    let mut refused = Vec::new();
    let all = sections(&super::mssql::Mssql)
        .into_iter()
        .chain(mssql_sections());
    for (title, statements) in all {
        for sql in statements {
            // T-SQL takes a variable as the row count of OFFSET … FETCH;
            // sqlparser takes only a number there.
            let sql = literal_fetch_count(&sql);
            match Parser::parse_sql(&MsSqlDialect {}, &sql) {
                Ok(_) => parsed += 1,
                Err(_)
                    if T_SQL_UNKNOWN_TO_SQLPARSER
                        .iter()
                        .any(|start| sql.starts_with(start)) => {}
                Err(e) => refused.push(format!("{title}: {e}\n  {sql}")),
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
    assert!(parsed >= 40, "only {parsed} statements parsed");
}
