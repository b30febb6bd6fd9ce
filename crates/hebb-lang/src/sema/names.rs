//! Name rules: reserved names, unit symbols, duplicates and "did you mean".

use crate::diag::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::Ident;
use crate::units;

pub use crate::suggest::{did_you_mean, suggest};

/// Built-in names that cannot be declared (LANGUAGE.md section 1).
pub const RESERVED: [&str; 5] = ["t", "dt", "i", "N", "lastspike"];

/// Rule: a declared name must not be a built-in name (`t`, `dt`, `i`, `N`,
/// `lastspike`) nor a unit symbol (`ms`, `mV`, ...), which the language
/// reserves (LANGUAGE.md section 1).
pub fn check_declarable(name: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
    if RESERVED.contains(&name.name.as_str()) {
        diags.push(
            Diagnostic::error(
                "hebb::names::reserved",
                format!("`{}` is a built-in name and cannot be declared", name.name),
            )
            .label(name.span, "reserved by the language")
            .help("choose another name"),
        );
        return false;
    }
    if units::is_unit_symbol(&name.name) {
        diags.push(
            Diagnostic::error(
                "hebb::names::unit_symbol",
                format!("`{}` is a unit symbol and cannot be used as a name", name.name),
            )
            .label(name.span, "this is a unit")
            .help(format!("choose another name, such as `{}_`", name.name)),
        );
        return false;
    }
    true
}

/// Rule: names declared in one scope (members of an item, items of a model,
/// populations of a network) are unique.
pub fn check_unique(what: &str, name: &Ident, previous: Option<Span>, diags: &mut Vec<Diagnostic>) -> bool {
    match previous {
        Some(first) => {
            let mut d =
                Diagnostic::error("hebb::names::duplicate", format!("{what} `{}` is declared twice", name.name))
                    .label(name.span, "declared again here");
            if first != name.span {
                d = d.label(first, "first declared here");
            }
            diags.push(d.help("rename or remove one of them"));
            false
        }
        None => true,
    }
}
