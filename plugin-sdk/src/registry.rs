//! One registry of adapters: the ones linked into the binary and the
//! plugins loaded from plugin directories, looked up by name.

use crate::loader::{LoadError, LoadOptions, PluginLibrary, Refusal};
use crate::remote::PluginAdapter;
use hetsync_core::adapter::AdapterFactory;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where an adapter comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Linked into this binary.
    BuiltIn,
    /// Loaded from this library.
    Plugin(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::BuiltIn => write!(f, "the built-in adapter"),
            Origin::Plugin(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One adapter in the registry.
#[derive(Clone)]
pub struct Registered {
    /// The adapter.
    pub factory: Arc<dyn AdapterFactory>,
    /// Where it comes from.
    pub origin: Origin,
    /// The SDK version a plugin was built with (`None` for built-ins).
    pub sdk_version: Option<String>,
}

/// The adapters a run can use, and the libraries that were refused.
#[derive(Default)]
pub struct Registry {
    adapters: Vec<Registered>,
    refused: Vec<LoadError>,
}

/// Whether a file looks like a shared library on this platform.
fn is_library(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
}

impl Registry {
    /// A registry of built-in adapters.
    pub fn new(builtins: Vec<Arc<dyn AdapterFactory>>) -> Registry {
        Registry {
            adapters: builtins
                .into_iter()
                .map(|factory| Registered {
                    factory,
                    origin: Origin::BuiltIn,
                    sdk_version: None,
                })
                .collect(),
            refused: Vec::new(),
        }
    }

    /// Loads one library and registers every adapter it offers; returns
    /// them. A refusal is returned (not recorded); a library one of whose
    /// adapters clashes with a registered one is refused whole.
    pub fn load_file(
        &mut self,
        path: &Path,
        options: &LoadOptions,
    ) -> Result<&[Registered], LoadError> {
        let library = PluginLibrary::load(path, options)?;
        for offered in &library.adapters {
            if let Some(existing) = self.find(&offered.name) {
                return Err(LoadError {
                    path: path.to_path_buf(),
                    reason: Refusal::Duplicate {
                        by: existing.origin.to_string(),
                        name: offered.name.clone(),
                    },
                });
            }
        }
        let sdk_version = Some(library.manifest.sdk_version.clone());
        let first = self.adapters.len();
        for adapter in PluginAdapter::all(library) {
            self.adapters.push(Registered {
                factory: Arc::new(adapter),
                origin: Origin::Plugin(path.to_path_buf()),
                sdk_version: sdk_version.clone(),
            });
        }
        Ok(&self.adapters[first..])
    }

    /// Loads every library of a directory in file-name order. Refused
    /// libraries are recorded (see [`Registry::refused`]) and logged; a
    /// directory that cannot be read is an error.
    pub fn load_dir(&mut self, dir: &Path, options: &LoadOptions) -> std::io::Result<()> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("plugin directory {}: {e}", dir.display()))
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_library(p))
            .collect();
        files.sort();
        for file in files {
            if let Err(refused) = self.load_file(&file, options) {
                tracing::warn!("{refused}");
                self.refused.push(refused);
            }
        }
        Ok(())
    }

    /// The adapter of this name.
    pub fn find(&self, name: &str) -> Option<&Registered> {
        self.adapters.iter().find(|a| a.factory.name() == name)
    }

    /// Every usable adapter, built-ins first.
    pub fn adapters(&self) -> &[Registered] {
        &self.adapters
    }

    /// Libraries found in plugin directories and refused.
    pub fn refused(&self) -> &[LoadError] {
        &self.refused
    }
}
