//! `MappingFile.xml`: which table and field on each
//! spoke (slave node) holds each table and field of the hub (main node).
//!
//! ```xml
//! <MappingFile version="1">
//!   <Node id="mdb" databaseType="mysql">
//!     <Table mainTable="变电站表" slaveTable="substation" addTime="2026-11-22T09:00:00Z" isDeleted="false">
//!       <Field mainField="容量" slaveField="capacity_mva" mainType="numeric(12,4)" slaveType="double"
//!              mainConstraints="" slaveConstraints="" addTime="2026-11-22T09:00:00Z" isDeleted="false"/>
//!     </Table>
//!   </Node>
//! </MappingFile>
//! ```
//!
//! Table 4's columns map to attributes: slave node id → `Node/@id`, database
//! type → `Node/@databaseType`, main/slave table name → `Table/@mainTable`,
//! `@slaveTable`, main/slave field name, type and constraints → `Field/@…`,
//! add time and is-deleted → `@addTime`, `@isDeleted` on tables and fields.
//! A field with `isDeleted="true"` is left out of the sync on every node.
//! Types and constraints record what `discover` saw; the databases' own
//! dictionaries decide at sync time.
//!
//! Parsed with quick-xml's reader (for positions) and serde (for each
//! element's attributes): every error names the file, line and column.

use serde::de::value::MapDeserializer;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where an element starts (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Line.
    pub line: usize,
    /// Column, in characters.
    pub column: usize,
}

/// An error in a mapping file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// Where, when known.
    pub at: Option<Position>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                p.line,
                p.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for FileError {}

impl From<FileError> for crate::Error {
    fn from(e: FileError) -> Self {
        crate::Error::Deployment(e.to_string())
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename = "MappingFile")]
pub struct MappingFile {
    /// Format version; 1.
    #[serde(rename = "@version")]
    pub version: String,
    /// One entry per spoke.
    #[serde(rename = "Node")]
    pub nodes: Vec<NodeMapping>,
    /// The file it was read from (for errors).
    #[serde(skip)]
    pub path: PathBuf,
}

/// The tables of one spoke.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeMapping {
    /// The spoke's node name (Table 4: slave node id).
    #[serde(rename(serialize = "@id", deserialize = "id"))]
    pub id: String,
    /// Its adapter (Table 4: database type).
    #[serde(
        rename(serialize = "@databaseType", deserialize = "databaseType"),
        default
    )]
    pub database_type: String,
    /// Its tables.
    #[serde(rename = "Table", default, skip_deserializing)]
    pub tables: Vec<TableMapping>,
    /// Where the element starts.
    #[serde(skip)]
    pub at: Position,
}

/// One hub table and its counterpart on the spoke.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// The hub's table name.
    #[serde(rename(serialize = "@mainTable", deserialize = "mainTable"))]
    pub main: String,
    /// The spoke's table name.
    #[serde(rename(serialize = "@slaveTable", deserialize = "slaveTable"))]
    pub slave: String,
    /// When the entry was written.
    #[serde(rename(serialize = "@addTime", deserialize = "addTime"), default)]
    pub add_time: String,
    /// Deleted entries are ignored.
    #[serde(
        rename(serialize = "@isDeleted", deserialize = "isDeleted"),
        default,
        serialize_with = "write_flag",
        deserialize_with = "read_flag"
    )]
    pub deleted: bool,
    /// Its fields.
    #[serde(rename = "Field", default, skip_deserializing)]
    pub fields: Vec<FieldMapping>,
    /// Where the element starts.
    #[serde(skip)]
    pub at: Position,
}

/// One hub field and its counterpart on the spoke.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The hub's column name.
    #[serde(rename(serialize = "@mainField", deserialize = "mainField"))]
    pub main: String,
    /// The spoke's column name.
    #[serde(rename(serialize = "@slaveField", deserialize = "slaveField"))]
    pub slave: String,
    /// The hub column's native type, as discovered.
    #[serde(rename(serialize = "@mainType", deserialize = "mainType"), default)]
    pub main_type: String,
    /// The spoke column's native type (or the default rule's proposal when it is missing).
    #[serde(rename(serialize = "@slaveType", deserialize = "slaveType"), default)]
    pub slave_type: String,
    /// The hub column's constraints (`NOT NULL`, `PRIMARY KEY`, …).
    #[serde(
        rename(serialize = "@mainConstraints", deserialize = "mainConstraints"),
        default
    )]
    pub main_constraints: String,
    /// The spoke column's constraints.
    #[serde(
        rename(serialize = "@slaveConstraints", deserialize = "slaveConstraints"),
        default
    )]
    pub slave_constraints: String,
    /// When the entry was written.
    #[serde(rename(serialize = "@addTime", deserialize = "addTime"), default)]
    pub add_time: String,
    /// A deleted field is not synced on any node.
    #[serde(
        rename(serialize = "@isDeleted", deserialize = "isDeleted"),
        default,
        serialize_with = "write_flag",
        deserialize_with = "read_flag"
    )]
    pub deleted: bool,
    /// Where the element starts.
    #[serde(skip)]
    pub at: Position,
}

fn read_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = String::deserialize(d)?;
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "isDeleted must be \"true\" or \"false\", not {other:?}"
        ))),
    }
}

fn write_flag<S: Serializer>(flag: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *flag { "true" } else { "false" })
}

impl MappingFile {
    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<MappingFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            file: path.to_path_buf(),
            at: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a file; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<MappingFile, FileError> {
        use quick_xml::events::Event;
        let err = |offset: u64, message: String| FileError {
            file: path.to_path_buf(),
            at: Some(position(text, offset as usize)),
            message,
        };
        let mut reader = quick_xml::Reader::from_str(text);
        let mut file = MappingFile {
            path: path.to_path_buf(),
            ..MappingFile::default()
        };
        let mut open: Vec<String> = Vec::new();
        let mut seen_root = false;
        loop {
            let before = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| err(reader.error_position(), format!("malformed XML: {e}")))?;
            let start = before + leading_space(&text[before as usize..]) as u64;
            let (element, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => {
                    open.pop();
                    continue;
                }
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => continue,
                Event::Text(_) | Event::CData(_) => {
                    return Err(err(
                        start,
                        "text is not allowed here; everything is in attributes".into(),
                    ))
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
            let mut attributes = Vec::new();
            for attribute in element.attributes() {
                let a = attribute.map_err(|e| err(start, format!("malformed attribute: {e}")))?;
                let value = a
                    .unescape_value()
                    .map_err(|e| err(start, format!("malformed attribute value: {e}")))?;
                attributes.push((
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    value.into_owned(),
                ));
            }
            let at = position(text, start as usize);
            let parent = open.last().map(String::as_str);
            let attrs = || {
                MapDeserializer::<_, serde::de::value::Error>::new(attributes.clone().into_iter())
            };
            match (parent, name.as_str()) {
                (None, "MappingFile") if !seen_root => {
                    seen_root = true;
                    for (key, value) in &attributes {
                        match key.as_str() {
                            "version" if value == "1" => file.version = value.clone(),
                            "version" => {
                                return Err(err(start, format!("version {value:?} is not supported; this hetsync reads version \"1\"")))
                            }
                            other => return Err(err(start, format!("unknown attribute `{other}` on <MappingFile>"))),
                        }
                    }
                }
                (Some("MappingFile"), "Node") => {
                    let mut node = NodeMapping::deserialize(attrs())
                        .map_err(|e| err(start, format!("<Node>: {e}")))?;
                    node.at = at;
                    file.nodes.push(node);
                }
                (Some("Node"), "Table") => {
                    let mut table = TableMapping::deserialize(attrs())
                        .map_err(|e| err(start, format!("<Table>: {e}")))?;
                    table.at = at;
                    file.nodes
                        .last_mut()
                        .expect("inside a node")
                        .tables
                        .push(table);
                }
                (Some("Table"), "Field") => {
                    let mut field = FieldMapping::deserialize(attrs())
                        .map_err(|e| err(start, format!("<Field>: {e}")))?;
                    field.at = at;
                    let node = file.nodes.last_mut().expect("inside a node");
                    node.tables
                        .last_mut()
                        .expect("inside a table")
                        .fields
                        .push(field);
                }
                (parent, other) => {
                    let expected = match parent {
                        None => "<MappingFile>",
                        Some("MappingFile") => "<Node>",
                        Some("Node") => "<Table>",
                        Some("Table") => "<Field>",
                        Some(_) => "nothing",
                    };
                    return Err(err(
                        start,
                        format!("unexpected <{other}>; expected {expected} here"),
                    ));
                }
            }
            if !empty {
                open.push(name);
            }
        }
        if !seen_root {
            return Err(FileError {
                file: path.to_path_buf(),
                at: None,
                message: "no <MappingFile> element".into(),
            });
        }
        Ok(file)
    }

    /// The file as XML, with a comment on top.
    pub fn to_xml(&self, comment: &str) -> String {
        let mut body = String::new();
        let mut ser = quick_xml::se::Serializer::new(&mut body);
        ser.indent(' ', 2);
        self.serialize(ser).expect("a mapping file serializes");
        let comment = comment.replace("--", "- -");
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!--\n{comment}\n-->\n{body}\n")
    }

    /// The entries of one spoke, if any.
    pub fn node(&self, id: &str) -> Option<&NodeMapping> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// An error at an element of this file.
    pub fn error_at(&self, at: Position, message: impl Into<String>) -> crate::Error {
        FileError {
            file: self.path.clone(),
            at: Some(at),
            message: message.into(),
        }
        .into()
    }
}

impl NodeMapping {
    /// The entry of a hub table, if any.
    pub fn table(&self, main: &str) -> Option<&TableMapping> {
        self.tables.iter().find(|t| t.main == main)
    }
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    Position {
        line: before.matches('\n').count() + 1,
        column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
    }
}

#[cfg(test)]
mod tests;
