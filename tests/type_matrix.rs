//! The type matrix (issue 5): one column per canonical type, edge values in
//! every column, rows written natively on each of SQLite, PostgreSQL and
//! MariaDB and synced to the other two, with each database as the hub in
//! turn; and through ODBC: PostgreSQL by the kingbase profile, SQLite and
//! MariaDB by the generic profile. Every node must then hold every row, and
//! each value, read through the node's adapter and brought to the canonical
//! form of the node's own column type, must equal the expected canonical
//! value.

mod support;

use hetsync_core::adapter::Node;
use hetsync_core::mapping::convert::normalize;
use hetsync_core::schema::{SyncTable, TableDef};
use hetsync_core::value::Value;
use support::{
    DatabaseKind, Deploy, Servers, TableSpec, Topology, KINGBASE_ODBC, MARIADB_ODBC, MYSQL,
    POSTGRES, SQLITE, SQLITE_ODBC,
};

/// One column: its name, native types and the values of the rows
/// (minimum, maximum, a middle value; a fourth row is all NULL).
struct Column {
    name: &'static str,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
    values: [Value; 3],
    /// An instant: literals need the database's time-zone syntax.
    instant: bool,
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn columns() -> Vec<Column> {
    let c = |name, postgres, mysql, sqlite, values| Column {
        name,
        postgres,
        mysql,
        sqlite,
        values,
        instant: false,
    };
    let long_text: String = "长".repeat(100_000);
    let long_bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 7) as u8).collect();
    vec![
        c(
            "b",
            "boolean",
            "tinyint(1)",
            "BOOLEAN",
            [Value::Bool(false), Value::Bool(true), Value::Bool(true)],
        ),
        c(
            "i8",
            "smallint",
            "tinyint",
            "TINYINT",
            [Value::Int(-128), Value::Int(127), Value::Int(0)],
        ),
        c(
            "i16",
            "smallint",
            "smallint",
            "SMALLINT",
            [Value::Int(-32768), Value::Int(32767), Value::Int(1)],
        ),
        c(
            "i32",
            "integer",
            "int",
            "INT4",
            [
                Value::Int(i32::MIN as i64),
                Value::Int(i32::MAX as i64),
                Value::Int(-1),
            ],
        ),
        c(
            "i64",
            "bigint",
            "bigint",
            "BIGINT",
            [Value::Int(i64::MIN), Value::Int(i64::MAX), Value::Int(42)],
        ),
        c(
            "dec",
            "numeric(15,4)",
            "decimal(15,4)",
            "DECIMAL(15,4)",
            [t("-99999999999.9999"), t("99999999999.9999"), t("0.3000")],
        ),
        c(
            "dec38",
            "numeric(38,10)",
            "decimal(38,10)",
            "TEXT",
            [
                t("-1234567890123456789012345678.1234567890"),
                t("9999999999999999999999999999.9999999999"),
                t("0.0000000001"),
            ],
        ),
        c(
            "f32",
            "real",
            "float",
            "REAL",
            [
                Value::Float(-3.25),
                Value::Float(f32::MAX as f64),
                Value::Float(0.5),
            ],
        ),
        c(
            "f64",
            "double precision",
            "double",
            "REAL",
            [
                Value::Float(f64::MIN),
                Value::Float(f64::MAX),
                Value::Float(0.1 + 0.2),
            ],
        ),
        c(
            "money",
            "money",
            "decimal(19,2)",
            "DECIMAL(15,2)",
            [t("-9999999999999.99"), t("9999999999999.99"), t("0.01")],
        ),
        c(
            "ch",
            "char(4)",
            "char(4)",
            "CHAR(4)",
            [t(""), t("变电站表"), t("ab")],
        ),
        c(
            "vc",
            "varchar(20)",
            "varchar(20)",
            "VARCHAR(20)",
            [t(""), t("quote ' \" \\ tab\t!"), t("😀 four-byte")],
        ),
        c(
            "tx",
            "text",
            "longtext",
            "TEXT",
            [t(""), Value::Text(long_text), t("line\nbreak")],
        ),
        c(
            "bn",
            "bytea",
            "binary(4)",
            "BLOB",
            [
                Value::Bytes(vec![0; 4]),
                Value::Bytes(vec![255; 4]),
                Value::Bytes(vec![0, 1, 0, 255]),
            ],
        ),
        c(
            "vb",
            "bytea",
            "varbinary(16)",
            "BLOB",
            [
                Value::Bytes(vec![]),
                Value::Bytes(vec![255; 16]),
                Value::Bytes(vec![0, 0, 0]),
            ],
        ),
        c(
            "bl",
            "bytea",
            "longblob",
            "BLOB",
            [
                Value::Bytes(vec![0]),
                Value::Bytes(long_bytes),
                Value::Bytes(vec![1, 2, 3]),
            ],
        ),
        c(
            "d",
            "date",
            "date",
            "DATE",
            [t("1000-01-01"), t("9999-12-31"), t("2024-02-29")],
        ),
        c(
            "tm",
            "time(6)",
            "time(6)",
            "TIME",
            [t("00:00:00"), t("23:59:59.999999"), t("12:30:00.5")],
        ),
        c(
            "ts",
            "timestamp(6)",
            "datetime(6)",
            "DATETIME",
            [
                t("1000-01-01 00:00:00"),
                t("9999-12-31 23:59:59.999999"),
                t("1969-07-20 20:17:40.5"),
            ],
        ),
        Column {
            instant: true,
            ..c(
                "tz",
                "timestamptz(6)",
                "timestamp(6) NULL",
                "TIMESTAMPTZ",
                [
                    t("1970-01-01 00:00:01"),
                    t("2038-01-19 03:14:07.999999"),
                    t("2024-02-29 18:30:00"),
                ],
            )
        },
        c(
            "iv",
            "interval",
            "varchar(64)",
            "TEXT",
            [
                t("-00:00:01"),
                t("3 years 2 mons 1 day 04:05:06.789"),
                t("1 day"),
            ],
        ),
        c(
            "u",
            "uuid",
            "char(36)",
            "UUID",
            [
                t("00000000-0000-0000-0000-000000000000"),
                t("ffffffff-ffff-ffff-ffff-ffffffffffff"),
                t("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            ],
        ),
        c(
            "j",
            "jsonb",
            "json",
            "JSON",
            [t("{}"), t(r#"{"a":"变","b":[1,2.50,null,true]}"#), t("[]")],
        ),
    ]
}

const TABLE: &str = "类型矩阵";

fn ddl(kind: DatabaseKind, columns: &[Column]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .map(|c| {
            let native = match kind.family {
                "postgres" => c.postgres,
                "mysql" => c.mysql,
                "sqlite" => c.sqlite,
                other => panic!("no column type for {other}"),
            };
            format!("\"{}\" {native}", c.name)
        })
        .collect();
    let key = match kind.family {
        "sqlite" => "INTEGER",
        _ => "bigint",
    };
    let charset = match kind.family {
        "mysql" => " CHARACTER SET utf8mb4",
        _ => "",
    };
    format!(
        "CREATE TABLE \"{TABLE}\" (\"k\" {key} PRIMARY KEY, {}){charset}",
        cols.join(", ")
    )
}

/// A value as a SQL literal of `kind`.
fn literal(kind: DatabaseKind, value: &Value, instant: bool) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    match value {
        Value::Null => "NULL".into(),
        Value::Bool(b) => match kind.family {
            "postgres" => b.to_string(),
            _ => (*b as i32).to_string(),
        },
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bytes(b) => match kind.family {
            "postgres" => format!("'\\x{}'::bytea", hex(b)),
            _ => format!("X'{}'", hex(b)),
        },
        Value::Text(s) => {
            let mut quoted = s.replace('\'', "''");
            if kind.family == "mysql" {
                quoted = quoted.replace('\\', "\\\\");
            }
            match (kind.family, instant) {
                ("postgres", true) => format!("'{quoted}+00'"),
                ("mysql", true) => {
                    format!("CONVERT_TZ('{quoted}', '+00:00', @@session.time_zone)")
                }
                _ => format!("'{quoted}'"),
            }
        }
    }
}

/// The rows a node writes: keys `base + 1 ..= base + 4`.
fn rows(base: i64, columns: &[Column]) -> Vec<Vec<Value>> {
    (0..4)
        .map(|r| {
            std::iter::once(Value::Int(base + r as i64 + 1))
                .chain(columns.iter().map(|c| match r {
                    3 => Value::Null,
                    r => c.values[r].clone(),
                }))
                .collect()
        })
        .collect()
}

fn insert(kind: DatabaseKind, row: &[Value], columns: &[Column]) -> String {
    let values: Vec<String> = std::iter::once(literal(kind, &row[0], false))
        .chain(
            columns
                .iter()
                .zip(&row[1..])
                .map(|(c, v)| literal(kind, v, c.instant)),
        )
        .collect();
    format!("INSERT INTO \"{TABLE}\" VALUES ({})", values.join(", "))
}

/// Every row of the table on a node, each value in the canonical form of
/// the node's own column type.
async fn canonical_rows(d: &Deploy, node: &str, kind: DatabaseKind) -> Vec<Vec<Value>> {
    let n: Box<dyn Node> = support::built_in_adapter(kind)
        .connect(&d.node_spec(node))
        .await
        .expect("connect");
    let shape = n.describe(TABLE).await.unwrap().expect("table");
    let table = SyncTable::resolve(&TableDef::new(TABLE, &["k"]), &shape).unwrap();
    let rows = n.scan(&table, None, 1000).await.expect("scan");
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&shape.columns)
                .map(|(v, c)| {
                    let t = c
                        .canonical
                        .as_ref()
                        .expect("every matrix type is canonical");
                    normalize(v, t).unwrap_or_else(|e| panic!("{node}: column {}: {e}", c.name))
                })
                .collect()
        })
        .collect()
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}… ({} bytes)",
            &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)],
            s.len()
        )
    } else {
        s
    }
}

async fn matrix(servers: &Servers, hub: DatabaseKind, spokes: &'static [DatabaseKind]) {
    let columns = columns();
    let ddl = |kind| -> &'static str { ddl(kind, &columns).leak() };
    let config =
        format!("[[table]]\nname = \"{TABLE}\"\ncode = [\"k\"]\nallow_lossy = true\n").leak();
    let spec = TableSpec {
        name: TABLE,
        ddl: vec![
            ("sqlite", ddl(SQLITE)),
            ("postgres", ddl(POSTGRES)),
            ("mysql", ddl(MYSQL)),
        ]
        .leak(),
        config,
    };
    let topology = Topology { hub, spokes };
    let d = Deploy::on(
        topology,
        servers.clone(),
        &["s1", "s2"],
        std::slice::from_ref(&spec),
    )
    .await;
    let nodes = [("hub", hub), ("s1", spokes[0]), ("s2", spokes[1])];
    for (i, (node, kind)) in nodes.iter().enumerate() {
        for row in rows(100 * i as i64, &columns) {
            d.exec(node, &insert(*kind, &row, &columns)).await;
        }
    }
    let engine = d.engine().await;
    engine.install().await.expect("install");
    d.sync_passes(&engine, 2).await;

    let mut expected: Vec<Vec<Value>> = (0..3).flat_map(|i| rows(100 * i, &columns)).collect();
    expected.sort_by_key(|r| match r[0] {
        Value::Int(k) => k,
        _ => unreachable!(),
    });
    let names: Vec<&str> = std::iter::once("k")
        .chain(columns.iter().map(|c| c.name))
        .collect();
    let mut wrong = Vec::new();
    for (node, kind) in nodes {
        let got = canonical_rows(&d, node, kind).await;
        assert_eq!(
            got.len(),
            expected.len(),
            "{hub:?} hub, node {node} ({kind:?}): row count"
        );
        for (g, e) in got.iter().zip(&expected) {
            for ((gv, ev), name) in g.iter().zip(e).zip(&names) {
                if !gv.identical(ev) {
                    wrong.push(format!(
                        "{hub:?} hub, node {node} ({kind:?}), k = {}, column {name}: got {}, expected {}",
                        e[0],
                        show(gv),
                        show(ev)
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong value(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let report = engine.verify().await.expect("verify");
    assert!(report.ok, "{report:?}");
}

#[tokio::test]
async fn every_canonical_type_crosses_every_pair_of_databases() {
    let servers = Servers::for_topology(Topology {
        hub: POSTGRES,
        spokes: &[MYSQL, SQLITE],
    });
    matrix(&servers, POSTGRES, &[MYSQL, SQLITE]).await;
    matrix(&servers, MYSQL, &[SQLITE, POSTGRES]).await;
    matrix(&servers, SQLITE, &[POSTGRES, MYSQL]).await;
}

/// The same through ODBC: PostgreSQL's types read and written by the ODBC
/// adapter's kingbase profile over psqlODBC, as the hub and as a spoke.
#[tokio::test]
async fn every_canonical_type_crosses_odbc() {
    let servers = Servers::for_topology(Topology {
        hub: KINGBASE_ODBC,
        spokes: &[MYSQL, SQLITE],
    });
    matrix(&servers, KINGBASE_ODBC, &[MYSQL, SQLITE]).await;
    matrix(&servers, SQLITE, &[KINGBASE_ODBC, MYSQL]).await;
}

/// The same through the generic profile: SQLite's and MariaDB's types read
/// and written through their own ODBC drivers, by the driver's catalog and
/// plain statements, as the hub and as spokes.
#[tokio::test]
async fn every_canonical_type_crosses_generic_odbc() {
    let servers = Servers::for_topology(Topology {
        hub: SQLITE_ODBC,
        spokes: &[MARIADB_ODBC, POSTGRES],
    });
    matrix(&servers, SQLITE_ODBC, &[MARIADB_ODBC, POSTGRES]).await;
    matrix(&servers, POSTGRES, &[SQLITE_ODBC, MARIADB_ODBC]).await;
}
