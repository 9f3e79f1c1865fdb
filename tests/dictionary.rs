//! The data dictionary against real databases: each adapter reports every
//! column's native type and its canonical type (or none), read from the
//! database's own catalog.

mod support;

use hetsync_core::adapter::AdapterFactory;
use hetsync_core::types::CanonicalType as C;
use support::{DatabaseKind, Deploy, TableSpec, Topology, MYSQL, POSTGRES, SQLITE};

const TYPES: TableSpec = TableSpec {
    name: "类型表",
    ddl: &[
        (
            "sqlite",
            r#"CREATE TABLE "类型表" ("k" INTEGER PRIMARY KEY, "b" BOOLEAN, "d" DECIMAL(12,4), "v" VARCHAR(20), "r" REAL, "bl" BLOB, "dt" DATE, "ts" DATETIME, "x")"#,
        ),
        (
            "postgres",
            r#"CREATE TABLE "类型表" ("k" bigint PRIMARY KEY, "b" boolean, "i2" smallint, "i4" integer, "d" numeric(12,4), "n" numeric, "f4" real, "f8" double precision, "m" money, "c" char(2), "v" varchar(20), "t" text, "by" bytea, "dt" date, "tm" time(3), "ts" timestamp, "tz" timestamptz(3), "iv" interval, "u" uuid, "j" jsonb, "p" point)"#,
        ),
        (
            "mysql",
            r#"CREATE TABLE "类型表" ("k" bigint PRIMARY KEY, "b" tinyint(1), "i1" tinyint, "iu" int unsigned, "bu" bigint unsigned, "d" decimal(12,4), "f4" float, "f8" double, "c" char(2), "v" varchar(20) CHARACTER SET latin1, "v4" varchar(20), "t" text, "bn" binary(4), "vb" varbinary(8), "bl" blob, "dt" date, "tm" time(3), "dtm" datetime(6), "ts" timestamp(3) NULL, "y" year, "e" enum('a','b'))"#,
        ),
    ],
    config: "[[table]]\nname = \"类型表\"\ncode = [\"k\"]\n",
};

/// The canonical type of every column (the primary key is checked on the way).
async fn canonical_types(
    kind: DatabaseKind,
    factory: &dyn AdapterFactory,
) -> Vec<(String, Option<C>)> {
    let d = Deploy::with(
        Topology {
            hub: kind,
            spokes: &[],
        },
        &[],
        &[TYPES],
    )
    .await;
    let node = factory.connect(&d.node_spec("hub")).await.unwrap();
    let shape = node.describe(TYPES.name).await.unwrap().expect("described");
    assert_eq!(shape.primary_key, ["k"], "{kind:?}");
    shape
        .columns
        .into_iter()
        .map(|c| (c.name, c.canonical))
        .collect()
}

fn named(pairs: &[(&str, Option<C>)]) -> Vec<(String, Option<C>)> {
    pairs
        .iter()
        .map(|(n, c)| (n.to_string(), c.clone()))
        .collect()
}

#[tokio::test]
async fn sqlite_declarations_map_to_canonical_types() {
    let got = canonical_types(SQLITE, &hetsync_adapter_sqlite::SqliteAdapter).await;
    assert_eq!(
        got,
        named(&[
            ("k", Some(C::Int64)),
            ("b", Some(C::Bool)),
            (
                "d",
                Some(C::Decimal {
                    precision: Some(12),
                    scale: 4
                })
            ),
            (
                "v",
                Some(C::Varchar {
                    length: 20,
                    unicode: true
                })
            ),
            ("r", Some(C::Float64)),
            ("bl", Some(C::Blob)),
            ("dt", Some(C::Date)),
            (
                "ts",
                Some(C::Timestamp {
                    fraction: 6,
                    time_zone: false
                })
            ),
            ("x", Some(C::Blob)),
        ])
    );
}

#[tokio::test]
async fn postgres_catalog_types_map_to_canonical_types() {
    let got = canonical_types(POSTGRES, &hetsync_adapter_postgres::PostgresAdapter).await;
    assert_eq!(
        got,
        named(&[
            ("k", Some(C::Int64)),
            ("b", Some(C::Bool)),
            ("i2", Some(C::Int16)),
            ("i4", Some(C::Int32)),
            (
                "d",
                Some(C::Decimal {
                    precision: Some(12),
                    scale: 4
                })
            ),
            (
                "n",
                Some(C::Decimal {
                    precision: None,
                    scale: 0
                })
            ),
            ("f4", Some(C::Float32)),
            ("f8", Some(C::Float64)),
            ("m", Some(C::Money { scale: 2 })),
            (
                "c",
                Some(C::Char {
                    length: 2,
                    unicode: true
                })
            ),
            (
                "v",
                Some(C::Varchar {
                    length: 20,
                    unicode: true
                })
            ),
            ("t", Some(C::Text { unicode: true })),
            ("by", Some(C::Blob)),
            ("dt", Some(C::Date)),
            ("tm", Some(C::Time { fraction: 3 })),
            (
                "ts",
                Some(C::Timestamp {
                    fraction: 6,
                    time_zone: false
                })
            ),
            (
                "tz",
                Some(C::Timestamp {
                    fraction: 3,
                    time_zone: true
                })
            ),
            ("iv", Some(C::Interval)),
            ("u", Some(C::Uuid)),
            ("j", Some(C::Json)),
            ("p", None),
        ])
    );
}

#[tokio::test]
async fn mariadb_information_schema_maps_to_canonical_types() {
    let got = canonical_types(MYSQL, &hetsync_adapter_mysql::MysqlAdapter).await;
    assert_eq!(
        got,
        named(&[
            ("k", Some(C::Int64)),
            ("b", Some(C::Bool)),
            ("i1", Some(C::Int8)),
            ("iu", Some(C::Int64)),
            (
                "bu",
                Some(C::Decimal {
                    precision: Some(20),
                    scale: 0
                })
            ),
            (
                "d",
                Some(C::Decimal {
                    precision: Some(12),
                    scale: 4
                })
            ),
            ("f4", Some(C::Float32)),
            ("f8", Some(C::Float64)),
            (
                "c",
                Some(C::Char {
                    length: 2,
                    unicode: true
                })
            ),
            (
                "v",
                Some(C::Varchar {
                    length: 20,
                    unicode: false
                })
            ),
            (
                "v4",
                Some(C::Varchar {
                    length: 20,
                    unicode: true
                })
            ),
            ("t", Some(C::Text { unicode: true })),
            ("bn", Some(C::Binary { length: 4 })),
            ("vb", Some(C::Varbinary { length: 8 })),
            ("bl", Some(C::Blob)),
            ("dt", Some(C::Date)),
            ("tm", Some(C::Time { fraction: 3 })),
            (
                "dtm",
                Some(C::Timestamp {
                    fraction: 6,
                    time_zone: false
                })
            ),
            (
                "ts",
                Some(C::Timestamp {
                    fraction: 3,
                    time_zone: true
                })
            ),
            ("y", Some(C::Int16)),
            ("e", None),
        ])
    );
}

const REGIONS: TableSpec = TableSpec {
    name: "地区",
    ddl: &[
        (
            "sqlite",
            r#"CREATE TABLE "地区" ("id" INTEGER PRIMARY KEY, "名称" TEXT)"#,
        ),
        (
            "postgres",
            r#"CREATE TABLE "地区" ("id" bigint PRIMARY KEY, "名称" text)"#,
        ),
        (
            "mysql",
            r#"CREATE TABLE "地区" ("id" bigint PRIMARY KEY, "名称" text)"#,
        ),
    ],
    config: "[[table]]\nname = \"地区\"\ncode = [\"id\"]\n",
};

const STATIONS: TableSpec = TableSpec {
    name: "站",
    ddl: &[
        (
            "sqlite",
            r#"CREATE TABLE "站" ("id" INTEGER PRIMARY KEY, "地区id" INTEGER REFERENCES "地区"("id"),
        "编码" VARCHAR(20) UNIQUE, "a" INTEGER, "b" INTEGER, "状态" VARCHAR(10) NOT NULL DEFAULT 'new', UNIQUE ("a", "b"))"#,
        ),
        (
            "postgres",
            r#"CREATE TABLE "站" ("id" bigint PRIMARY KEY, "地区id" bigint REFERENCES "地区"("id"),
        "编码" varchar(20) UNIQUE, "a" bigint, "b" bigint, "状态" varchar(10) NOT NULL DEFAULT 'new', UNIQUE ("a", "b"))"#,
        ),
        (
            "mysql",
            r#"CREATE TABLE "站" ("id" bigint PRIMARY KEY, "地区id" bigint, "编码" varchar(20) UNIQUE,
        "a" bigint, "b" bigint, "状态" varchar(10) NOT NULL DEFAULT 'new', UNIQUE ("a", "b"),
        FOREIGN KEY ("地区id") REFERENCES "地区"("id"))"#,
        ),
    ],
    config: "[[table]]\nname = \"站\"\ncode = [\"id\"]\n",
};

/// Unique keys, foreign keys, defaults and the table list, on every database.
#[tokio::test]
async fn keys_defaults_and_table_lists_are_harvested() {
    for (kind, factory) in [
        (
            SQLITE,
            &hetsync_adapter_sqlite::SqliteAdapter as &dyn AdapterFactory,
        ),
        (POSTGRES, &hetsync_adapter_postgres::PostgresAdapter),
        (MYSQL, &hetsync_adapter_mysql::MysqlAdapter),
    ] {
        let d = Deploy::with(
            Topology {
                hub: kind,
                spokes: &[SQLITE],
            },
            &["s"],
            &[REGIONS, STATIONS],
        )
        .await;
        d.engine().await.install().await.expect("install");
        let node = factory.connect(&d.node_spec("hub")).await.unwrap();
        assert_eq!(
            node.list_tables().await.unwrap(),
            ["地区", "站"],
            "{kind:?}: hetsync's own tables are left out"
        );
        let shape = node.describe("站").await.unwrap().expect("described");
        let mut unique = shape.unique_keys.clone();
        unique.sort();
        assert_eq!(unique, [vec!["a", "b"], vec!["编码"]], "{kind:?}");
        assert_eq!(shape.foreign_keys.len(), 1, "{kind:?}");
        let fk = &shape.foreign_keys[0];
        assert_eq!(
            (
                fk.columns.as_slice(),
                fk.table.as_str(),
                fk.references.as_slice()
            ),
            (&["地区id".to_string()][..], "地区", &["id".to_string()][..]),
            "{kind:?}"
        );
        let status = shape.columns.iter().find(|c| c.name == "状态").unwrap();
        assert!(
            status
                .default
                .as_deref()
                .is_some_and(|d| d.contains("'new'")),
            "{kind:?}: {:?}",
            status.default
        );
        assert!(!status.nullable);
        let region = shape.columns.iter().find(|c| c.name == "地区id").unwrap();
        assert_eq!(region.default, None, "{kind:?}");
    }
}
