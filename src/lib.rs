//! hebb: a compiler and simulator for spiking neural networks with plastic
//! synapses and homeostasis. See ARCHITECTURE.md for the map.

pub mod abi;
pub mod cli;
pub mod diag;
pub mod driver;
pub mod explain;
pub mod hir;
pub mod integrate;
pub mod ir;
pub mod jit;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod rng;
pub mod runtime;
pub mod sema;
pub mod source;
pub mod study;
pub mod syntax;
pub mod units;
