//! Heterogeneity (SPEC §3): how a table's columns on one node correspond to
//! the hub's, what crossing each mapping can lose, and the value conversion
//! that carries rows across.

pub mod convert;
pub mod loss;
pub mod file;
