//! Surface syntax: the pest grammar, the syntax tree, the parser and the
//! explanation of parse errors.

pub mod ast;
mod explain;
mod parser;

pub use parser::parse;
