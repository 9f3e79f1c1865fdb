//! `pgoutput`'s binary messages, protocol version 1: the part logical
//! capture reads (transactions, their origin, relations and row changes).
//! Every other message is passed over.

use std::fmt;

/// One column's value in a decoded row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Datum<'a> {
    /// SQL NULL.
    Null,
    /// A TOASTed value the change left as it was (not sent).
    Unchanged,
    /// The value in the type's text output.
    Text(&'a [u8]),
}

/// A relation's columns as the log describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    /// Its id, which later changes name.
    pub id: u32,
    /// Schema.
    pub namespace: String,
    /// Table name.
    pub name: String,
    /// Column names, in the order of every row's values.
    pub columns: Vec<String>,
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A transaction begins: where its commit is, and when it committed
    /// (microseconds since 2000-01-01 UTC).
    Begin { final_lsn: u64, commit_time: i64 },
    /// The transaction's changes came from this replication origin.
    Origin { name: String },
    /// A relation's description, sent before its first change.
    Relation(Relation),
    /// A row arrived.
    Insert { relation: u32, new: Vec<Datum<'a>> },
    /// A row changed; `old` is the whole old row (replica identity full)
    /// or its key, when the log has it.
    Update {
        relation: u32,
        old: Option<Vec<Datum<'a>>>,
        new: Vec<Datum<'a>>,
    },
    /// A row left; `old` is the whole old row or its key.
    Delete { relation: u32, old: Vec<Datum<'a>> },
    /// The transaction committed; `end_lsn` is where the next one may start.
    Commit { end_lsn: u64 },
    /// A message logical capture does not need (types, truncates, …).
    Other(u8),
}

impl Message<'_> {
    /// The relation a row change is of; `None` for other messages.
    pub fn relation(&self) -> Option<u32> {
        match self {
            Message::Insert { relation, .. }
            | Message::Update { relation, .. }
            | Message::Delete { relation, .. } => Some(*relation),
            _ => None,
        }
    }
}

/// A message that does not parse.
#[derive(Debug, PartialEq, Eq)]
pub struct BadMessage(pub String);

impl fmt::Display for BadMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable pgoutput message: {}", self.0)
    }
}

/// Reads big-endian fields off a message.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadMessage> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| {
            BadMessage(format!(
                "{n} bytes wanted at offset {} of {}",
                self.at,
                self.data.len()
            ))
        })?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, BadMessage> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, BadMessage> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, BadMessage> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, BadMessage> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A NUL-terminated string.
    fn string(&mut self) -> Result<String, BadMessage> {
        let rest = &self.data[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| BadMessage("unterminated string".into()))?;
        let text = String::from_utf8(rest[..len].to_vec())
            .map_err(|_| BadMessage("a name is not UTF-8".into()))?;
        self.at += len + 1;
        Ok(text)
    }

    fn tuple(&mut self) -> Result<Vec<Datum<'a>>, BadMessage> {
        let n = self.u16()?;
        (0..n)
            .map(|_| match self.u8()? {
                b'n' => Ok(Datum::Null),
                b'u' => Ok(Datum::Unchanged),
                b't' => {
                    let len = self.u32()? as usize;
                    Ok(Datum::Text(self.take(len)?))
                }
                other => Err(BadMessage(format!(
                    "column kind {:?} (binary values are not asked for)",
                    other as char
                ))),
            })
            .collect()
    }
}

/// Parses one message.
pub fn parse(data: &[u8]) -> Result<Message<'_>, BadMessage> {
    let mut r = Reader { data, at: 0 };
    let tag = r.u8()?;
    Ok(match tag {
        b'B' => {
            let final_lsn = r.u64()?;
            let commit_time = r.u64()? as i64;
            let _xid = r.u32()?;
            Message::Begin {
                final_lsn,
                commit_time,
            }
        }
        b'O' => {
            let _origin_lsn = r.u64()?;
            Message::Origin { name: r.string()? }
        }
        b'R' => {
            let id = r.u32()?;
            let namespace = r.string()?;
            let name = r.string()?;
            let _identity = r.u8()?;
            let n = r.u16()?;
            let mut columns = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let _flags = r.u8()?;
                columns.push(r.string()?);
                let _type = r.u32()?;
                let _typmod = r.u32()?;
            }
            Message::Relation(Relation {
                id,
                namespace,
                name,
                columns,
            })
        }
        b'I' => {
            let relation = r.u32()?;
            expect(&mut r, b'N')?;
            Message::Insert {
                relation,
                new: r.tuple()?,
            }
        }
        b'U' => {
            let relation = r.u32()?;
            let mut old = None;
            let mut kind = r.u8()?;
            if kind == b'K' || kind == b'O' {
                old = Some(r.tuple()?);
                kind = r.u8()?;
            }
            if kind != b'N' {
                return Err(BadMessage(format!(
                    "update with tuple kind {:?}",
                    kind as char
                )));
            }
            Message::Update {
                relation,
                old,
                new: r.tuple()?,
            }
        }
        b'D' => {
            let relation = r.u32()?;
            let kind = r.u8()?;
            if kind != b'K' && kind != b'O' {
                return Err(BadMessage(format!(
                    "delete with tuple kind {:?}",
                    kind as char
                )));
            }
            Message::Delete {
                relation,
                old: r.tuple()?,
            }
        }
        b'C' => {
            let _flags = r.u8()?;
            let _commit_lsn = r.u64()?;
            Message::Commit { end_lsn: r.u64()? }
        }
        other => Message::Other(other),
    })
}

fn expect(r: &mut Reader<'_>, want: u8) -> Result<(), BadMessage> {
    let got = r.u8()?;
    if got == want {
        Ok(())
    } else {
        Err(BadMessage(format!(
            "expected tuple kind {:?}, got {:?}",
            want as char, got as char
        )))
    }
}

/// An LSN as PostgreSQL writes it (`16/B374D848`).
pub fn lsn_text(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// Reads an LSN PostgreSQL wrote.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u32::MAX as u64 && low <= u32::MAX as u64).then_some(high << 32 | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages as the server sent them for `INSERT INTO t VALUES (1, 'x',
    /// 1.50)` and an update of `a` on a table with replica identity full.
    #[test]
    fn messages_parse() {
        let relation = b"R\0\0@\0public\0t\0f\0\x03\x01id\0\0\0\0\x17\xff\xff\xff\xff\x01a\0\0\0\0\x19\xff\xff\xff\xff\x01b\0\0\0\x06\xa4\xff\xff\xff\xff";
        assert_eq!(
            parse(relation).unwrap(),
            Message::Relation(Relation {
                id: 0x4000,
                namespace: "public".into(),
                name: "t".into(),
                columns: vec!["id".into(), "a".into(), "b".into()],
            })
        );
        let insert = b"I\0\0@\0N\0\x03t\0\0\0\x011t\0\0\0\x01xt\0\0\0\x041.50";
        assert_eq!(
            parse(insert).unwrap(),
            Message::Insert {
                relation: 0x4000,
                new: vec![Datum::Text(b"1"), Datum::Text(b"x"), Datum::Text(b"1.50")],
            }
        );
        let update = b"U\0\0@\0O\0\x02t\0\0\0\x011nN\0\x02t\0\0\0\x011u";
        assert_eq!(
            parse(update).unwrap(),
            Message::Update {
                relation: 0x4000,
                old: Some(vec![Datum::Text(b"1"), Datum::Null]),
                new: vec![Datum::Text(b"1"), Datum::Unchanged],
            }
        );
        let origin = b"O\0\0\0\0\0\0\0\0o\0";
        assert_eq!(parse(origin).unwrap(), Message::Origin { name: "o".into() });
        let commit = b"C\0\0\0\0\0\x01R\x89\xb8\0\0\0\0\x01R\x89\xe8\0\x03\x04m\x0e+m\xa7";
        assert_eq!(
            parse(commit).unwrap(),
            Message::Commit { end_lsn: 0x15289e8 }
        );
        assert!(parse(b"I\0\0@\0N\0\x01t\0\0\0\x05ab").is_err());
        assert_eq!(parse(b"Y\0").unwrap(), Message::Other(b'Y'));
    }

    #[test]
    fn lsns_read_back() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(lsn_text(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("x"), None);
    }
}
