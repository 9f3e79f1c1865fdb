//! hetsync-plugin-sdk: the versioned C ABI between the `hetsync` host and
//! adapter plugins loaded from `.so`/`.dll` files (ARCHITECTURE.md, "Plugin
//! boundary"). This crate is the agreed home of that boundary; it holds no
//! items yet. Adapters are linked into the binary until the ABI lands here.
