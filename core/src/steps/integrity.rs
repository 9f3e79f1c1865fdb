//! Capture integrity: what install made is still there, unaltered. Install
//! records a digest of each capture object's definition; a round checks them
//! before it reads a node, so that a dropped or disabled trigger, or a
//! replaced function, stops the node with an error naming the object
//! instead of losing edits without a word.

use super::install::{meta_set, Settings};
use super::{into_text, CatalogQuestion, Session};
use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The meta row holding the digests install recorded, by object.
const CAPTURE_OBJECTS: &str = "capture_objects";

/// The capture objects on the node now, each with the digest of its
/// definition.
async fn current<S: Session + ?Sized>(s: &mut S) -> Result<BTreeMap<String, String>> {
    let rows = s
        .catalog(
            CatalogQuestion::CaptureDefinitions,
            "reading hetsync's capture objects",
        )
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let mut values = row.into_iter();
        let (Some(name), Some(definition)) = (values.next(), values.next()) else {
            continue;
        };
        let name = into_text(s.node(), name, "a capture object's name")?.unwrap_or_default();
        let definition =
            into_text(s.node(), definition, "a capture object's definition")?.unwrap_or_default();
        out.insert(name, digest(&definition));
    }
    Ok(out)
}

/// A short digest of a definition (hex of SHA-256's first 16 bytes).
fn digest(text: &str) -> String {
    crate::digest::to_hex(&Sha256::digest(text.as_bytes())[..16])
}

/// Records the capture objects as they are now (the end of install).
pub(super) async fn record<S: Session + ?Sized>(s: &mut S) -> Result<()> {
    let objects = current(s).await?;
    let json = serde_json::to_string(&objects).expect("a map of strings serializes");
    meta_set(s, CAPTURE_OBJECTS, &json).await
}

/// Refuses a node whose capture objects are missing, or differ from what
/// install recorded (`settings`: the node's meta rows). A node installed
/// by a version that recorded none is checked after its next install.
pub(super) async fn require_intact<S: Session + ?Sized>(
    s: &mut S,
    settings: &Settings,
) -> Result<()> {
    let Some(json) = settings.get(CAPTURE_OBJECTS) else {
        return Ok(());
    };
    let recorded: BTreeMap<String, String> =
        serde_json::from_str(json).map_err(|e| Error::Database {
            node: s.node().to_string(),
            context: format!("reading {CAPTURE_OBJECTS} in {}", crate::dialect::META),
            message: format!("unreadable ({e})"),
        })?;
    let now = current(s).await?;
    let problems: Vec<String> = recorded
        .iter()
        .filter_map(|(object, digest)| match now.get(object) {
            None => Some(format!("{object} is missing")),
            Some(d) if d != digest => Some(format!("{object} was altered or disabled")),
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Setup(format!(
        "node '{}': hetsync's capture is broken ({}): changes made there since were not \
         captured. Run `hetsync install` to repair it, then `hetsync verify` to list the rows \
         that differ (docs/operator-guide.md, \"Recovering\")",
        s.node(),
        problems.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_digest_changes_with_the_definition() {
        let a = super::digest("CREATE TRIGGER t AFTER UPDATE ON x BEGIN SELECT 1; END");
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            super::digest("CREATE TRIGGER t AFTER UPDATE ON x BEGIN SELECT 1; END")
        );
        assert_ne!(
            a,
            super::digest("CREATE TRIGGER t AFTER UPDATE ON x BEGIN SELECT 2; END")
        );
    }
}
