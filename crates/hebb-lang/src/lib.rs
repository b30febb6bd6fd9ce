//! The hebb language: everything from model text to the checked model.
//!
//! Layers, each using only those before it: `span` (files and byte
//! ranges), `diag` (diagnostics as data, rendered with miette), `suggest`
//! ("did you mean"), `units` (dimensions), `syntax` (grammar, syntax tree,
//! parser), `hir` (the checked model), `sema` (the semantic rules) and
//! `load` (a model and its imports through an injected file reader). This
//! crate does no IO.

pub mod diag;
pub mod hir;
pub mod load;
pub mod sema;
pub mod span;
pub mod suggest;
pub mod syntax;
pub mod units;

pub use diag::{Diagnostic, Severity, Style};
pub use load::{Files, Loaded, MainFile, NoFiles, load};
pub use span::{FileId, SourceMap, Span};
