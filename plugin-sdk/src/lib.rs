//! hetsync's plugin SDK: the versioned C ABI between the host and adapter
//! plugins, both sides of it.
//!
//! - Plugin side: [`export_adapter!`] turns an ordinary
//!   [`AdapterFactory`] into a `cdylib` plugin. Calls run on the plugin's own
//!   tokio runtime; panics are caught at every entry point and task; logs go
//!   to the host.
//! - Host side: [`Registry`] holds the built-in adapters and the plugins
//!   [`PluginLibrary::load`] accepted, each as an ordinary
//!   [`AdapterFactory`] ([`PluginAdapter`]).
//!
//! No Rust trait object, future or tokio type crosses the boundary: only
//! the `#[repr(C)]` types of [`abi`] and MessagePack bytes ([`wire`]).
//! `docs/plugin-guide.md` explains it for adapter authors.

pub mod abi;
pub mod export;
mod loader;
mod log_forward;
mod registry;
mod remote;
mod serve;
pub mod wire;

pub use hetsync_core::adapter::AdapterFactory;
pub use loader::{LoadError, LoadOptions, PluginLibrary, Refusal};
pub use registry::{Origin, Registered, Registry};
pub use remote::PluginAdapter;
