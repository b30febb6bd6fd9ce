//! hebb as a library: check, compile, simulate and measure spiking
//! networks with plastic synapses and homeostasis.
//!
//! [`session`] is the one pipeline every user of hebb goes through (the
//! command line, studies, tests, benchmarks); [`output`] writes and reads
//! run directories; [`metrics`] computes an experiment's measures;
//! [`explain`] describes how a model was compiled; [`study`] runs many
//! variants or parameter points and tabulates them.
//!
//! The layers below are re-exported for tools that need them: the
//! language (`lang`), the IR (`ir`), lowering (`lower`), the JIT (`jit`),
//! the runtime (`runtime`) and the analyses (`analysis`).

pub mod explain;
pub mod metrics;
pub mod output;
pub mod session;
pub mod study;

pub use hebb_analysis as analysis;
pub use hebb_ir as ir;
pub use hebb_jit as jit;
pub use hebb_lang as lang;
pub use hebb_lower as lower;
pub use hebb_runtime as runtime;
pub use output::Timings;
pub use session::{
    Backend, Checked, Compiled, Diagnostics, Error, ModelSource, Observer, Outcome, Progress, Request, RunSummary,
    Silent, check, compile, run, simulate,
};
