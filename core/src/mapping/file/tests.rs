use super::*;

const GOOD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- edited by hand -->
<MappingFile version="1">
  <Node id="mdb" databaseType="mysql">
    <Table mainTable="变电站表" slaveTable="substation" addTime="2026-11-22T09:00:00Z" isDeleted="false">
      <Field mainField="容量" slaveField="capacity_mva" mainType="numeric(12,4)" slaveType="double"/>
      <Field mainField="备注" slaveField="note &amp; &quot;x&quot;" isDeleted="true"/>
    </Table>
  </Node>
</MappingFile>
"#;

fn parse(text: &str) -> Result<MappingFile, FileError> {
    MappingFile::parse(text, Path::new("conf/MappingFile.xml"))
}

#[test]
fn a_hand_edited_file_is_read_with_positions() {
    let file = parse(GOOD).unwrap();
    let node = file.node("mdb").unwrap();
    assert_eq!(node.database_type, "mysql");
    let table = node.table("变电站表").unwrap();
    assert_eq!(table.slave, "substation");
    assert_eq!(table.at, Position { line: 5, column: 5 });
    assert_eq!(table.fields[0].slave, "capacity_mva");
    assert_eq!(table.fields[0].slave_type, "double");
    assert_eq!(table.fields[0].at, Position { line: 6, column: 7 });
    assert_eq!(table.fields[1].slave, "note & \"x\"");
    assert!(table.fields[1].deleted);
}

#[test]
fn written_files_read_back_the_same() {
    let file = parse(GOOD).unwrap();
    let xml = file.to_xml("generated -- by a test");
    assert!(xml.contains("generated - - by a test"), "{xml}");
    let again = parse(&xml).unwrap();
    let strip = |f: &MappingFile| {
        let mut f = f.clone();
        for n in &mut f.nodes {
            n.at = Position::default();
            for t in &mut n.tables {
                t.at = Position::default();
                for c in &mut t.fields {
                    c.at = Position::default();
                }
            }
        }
        f
    };
    assert_eq!(strip(&again), strip(&file));
}

#[test]
fn errors_name_file_line_and_column() {
    let broken = GOOD.replace("</Table>", "</Tabel>");
    let e = parse(&broken).unwrap_err();
    assert!(
        e.to_string().starts_with("conf/MappingFile.xml:8:5:"),
        "{e}"
    );
    assert!(e.message.contains("malformed XML"), "{e}");

    let unknown = GOOD.replace("slaveType=\"double\"", "slaveTyp=\"double\"");
    let e = parse(&unknown).unwrap_err();
    assert_eq!(e.at, Some(Position { line: 6, column: 7 }), "{e}");
    assert!(e.message.contains("unknown field `slaveTyp`"), "{e}");

    let missing = GOOD.replace(" slaveTable=\"substation\"", "");
    let e = parse(&missing).unwrap_err();
    assert_eq!(e.at, Some(Position { line: 5, column: 5 }), "{e}");
    assert!(e.message.contains("missing field `slaveTable`"), "{e}");

    let flag = GOOD.replace("isDeleted=\"true\"", "isDeleted=\"yes\"");
    assert!(parse(&flag)
        .unwrap_err()
        .message
        .contains("isDeleted must be"));

    let misplaced = GOOD.replace("<Node id", "<Table id");
    let e = parse(&misplaced).unwrap_err();
    assert!(
        e.message
            .contains("unexpected <Table>; expected <Node> here"),
        "{e}"
    );
    assert_eq!(e.at.unwrap().line, 4);

    let text = GOOD.replace("</Table>", "oops</Table>");
    assert!(parse(&text)
        .unwrap_err()
        .message
        .contains("text is not allowed"));
    assert!(parse("").unwrap_err().message.contains("no <MappingFile>"));
}
