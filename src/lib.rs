//! hebb: a compiler and simulator for spiking neural networks with plastic
//! synapses and homeostasis. See ARCHITECTURE.md for the map.

pub mod diag;
pub mod source;
pub mod syntax;
pub mod hir;
pub mod sema;
pub mod units;
pub mod driver;
