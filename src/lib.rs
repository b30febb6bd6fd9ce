//! hebb: a compiler and simulator for spiking neural networks with plastic
//! synapses and homeostasis. See ARCHITECTURE.md for the map.

pub mod diag;
pub mod source;
pub mod syntax;
pub mod hir;
pub mod sema;
pub mod units;
pub mod driver;
pub mod integrate;
pub mod ir;
pub mod abi;
pub mod rng;
pub mod runtime;
pub mod output;
pub mod cli;
pub mod explain;
pub mod jit;
pub mod pipeline;
