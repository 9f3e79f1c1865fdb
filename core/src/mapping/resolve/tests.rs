use super::*;
use crate::mapping::file::MappingFile;
use std::path::Path;
use CanonicalType as C;

fn col(name: &str, native: &str, canonical: Option<C>) -> ColumnShape {
    ColumnShape {
        name: name.into(),
        native_type: native.into(),
        canonical,
        nullable: true,
        default: None,
    }
}

fn shape(name: &str, columns: Vec<ColumnShape>) -> TableShape {
    TableShape {
        name: name.into(),
        columns,
        ..TableShape::default()
    }
}

fn hub() -> TableShape {
    shape(
        "变电站表",
        vec![
            col("ID", "integer", Some(C::Int32)),
            col("名称", "text", Some(C::Text { unicode: true })),
            col(
                "容量",
                "numeric(12,4)",
                Some(C::Decimal {
                    precision: Some(12),
                    scale: 4,
                }),
            ),
            col("备注", "text", Some(C::Text { unicode: true })),
        ],
    )
}

fn spoke() -> TableShape {
    shape(
        "substation",
        vec![
            col("id", "bigint(20)", Some(C::Int64)),
            col(
                "name",
                "varchar(100)",
                Some(C::Varchar {
                    length: 100,
                    unicode: true,
                }),
            ),
            col("capacity_mva", "double", Some(C::Float64)),
        ],
    )
}

const FILE: &str = r#"<MappingFile version="1">
  <Node id="mdb" databaseType="mysql">
    <Table mainTable="变电站表" slaveTable="substation">
      <Field mainField="ID" slaveField="id"/>
      <Field mainField="名称" slaveField="name"/>
      <Field mainField="容量" slaveField="capacity_mva"/>
      <Field mainField="备注" slaveField="" isDeleted="true"/>
    </Table>
  </Node>
</MappingFile>"#;

fn file(text: &str) -> MappingFile {
    MappingFile::parse(text, Path::new("MappingFile.xml")).unwrap()
}

fn resolve(def: &TableDef, spoke_shape: &TableShape, f: &MappingFile) -> Result<ResolvedTable> {
    let entry = f.node("mdb").and_then(|n| n.table(&def.name));
    resolve_table(
        def,
        &hub(),
        &[SpokeTable {
            node: "mdb",
            entry,
            shape: Some(spoke_shape),
        }],
        Some(f),
    )
}

#[test]
fn renamed_tables_and_fields_line_up_with_the_hub() {
    let def = TableDef::new("变电站表", &["ID"]);
    let r = resolve(&def, &spoke(), &file(FILE)).unwrap();
    assert_eq!(
        r.table.columns,
        ["ID", "名称", "容量"],
        "备注 is left out everywhere"
    );
    let m = &r.spokes[0];
    assert_eq!(m.local.name, "substation");
    assert_eq!(m.local.columns, ["id", "name", "capacity_mva"]);
    assert_eq!(
        m.columns[0].inbound,
        Conversion::Pass,
        "code columns cross unchanged"
    );
    assert_eq!(m.columns[2].fidelity_out, Fidelity::Widening);
    assert_eq!(
        m.columns[2].fidelity_in,
        Fidelity::Lossy(vec![Loss::Scale, Loss::Range])
    );
    assert!(
        matches!(m.columns[1].fidelity_out, Fidelity::Lossy(_)),
        "text → varchar(100) on the way out is lossy"
    );
    assert_eq!(m.columns[1].fidelity_in, Fidelity::Widening);

    let refusal = r.refusal().unwrap().to_string();
    assert!(refusal.contains("column '容量' ('capacity_mva' on node 'mdb'), to hub double → numeric(12,4): loses scale, range"), "{refusal}");
    assert!(refusal.contains("allow_lossy = true"), "{refusal}");

    let allowed = TableDef {
        allow_lossy: true,
        ..def
    };
    assert!(resolve(&allowed, &spoke(), &file(FILE))
        .unwrap()
        .refusal()
        .is_none());
}

#[test]
fn entries_naming_missing_things_are_errors_at_their_line() {
    let def = TableDef::new("变电站表", &["ID"]);
    let bad = file(&FILE.replace("slaveField=\"name\"", "slaveField=\"nmae\""));
    let e = resolve(&def, &spoke(), &bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "MappingFile.xml:5:7: table 'substation' on node 'mdb' has no column 'nmae'"
    );

    let bad = file(&FILE.replace("mainField=\"名称\"", "mainField=\"名字\""));
    let e = resolve(&def, &spoke(), &bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "MappingFile.xml:5:7: table '变电站表' has no column '名字' on the hub"
    );

    let e = resolve_table(
        &def,
        &hub(),
        &[SpokeTable {
            node: "mdb",
            entry: file(FILE).node("mdb").unwrap().table("变电站表"),
            shape: None,
        }],
        Some(&file(FILE)),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("MappingFile.xml:3:5: table 'substation' (for hub table '变电站表') does not exist on node 'mdb'"), "{e}");

    let code_left_out = file(&FILE.replace(
        "<Field mainField=\"ID\" slaveField=\"id\"/>",
        "<Field mainField=\"ID\" slaveField=\"id\" isDeleted=\"true\"/>",
    ));
    let e = resolve(&def, &spoke(), &code_left_out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("part of the combined code"), "{e}");
}

#[test]
fn unmapped_columns_and_incompatible_codes_are_refused() {
    let def = TableDef::new("变电站表", &["ID"]);
    let mut extra = spoke();
    extra
        .columns
        .push(col("remark", "text", Some(C::Text { unicode: true })));
    let e = resolve(&def, &extra, &file(FILE)).unwrap_err().to_string();
    assert!(e.contains("missing there [], only there [remark]"), "{e}");

    let mut text_code = spoke();
    text_code.columns[0] = col(
        "id",
        "varchar(10)",
        Some(C::Varchar {
            length: 10,
            unicode: true,
        }),
    );
    let e = resolve(&def, &text_code, &file(FILE))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("code columns must be integers on both or text on both"),
        "{e}"
    );

    let mut no_way = spoke();
    no_way.columns[2] = col("capacity_mva", "date", Some(C::Date));
    let allowed = TableDef {
        allow_lossy: true,
        ..def
    };
    let r = resolve(&allowed, &no_way, &file(FILE)).unwrap();
    assert_eq!(
        r.spokes[0].columns[2].fidelity_in,
        Fidelity::Lossy(vec![Loss::Kind])
    );
}

#[test]
fn the_hub_normalizes_only_types_databases_print_differently() {
    let def = TableDef::new("变电站表", &["ID"]);
    let r = resolve(&def, &spoke(), &file(FILE)).unwrap();
    let inbound: Vec<&Conversion> = r.hub.columns.iter().map(|c| &c.inbound).collect();
    assert_eq!(inbound[0], &Conversion::Pass);
    assert_eq!(inbound[1], &Conversion::Pass);
    assert!(matches!(inbound[2], Conversion::Convert { .. }));
    assert!(!r.hub.is_identity());
}
