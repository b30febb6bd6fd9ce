//! Surface syntax: the pest grammar, the syntax tree and the parser.

pub mod ast;
mod parser;

pub use parser::parse;
