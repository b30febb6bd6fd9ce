//! Name rules: reserved names, unit symbols, duplicates and "did you mean".

use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::Ident;
use crate::units;

/// Built-in names that cannot be declared (LANGUAGE.md section 1).
pub const RESERVED: [&str; 5] = ["t", "dt", "i", "N", "lastspike"];

/// Edit distance between two names, for suggestions: insertions, deletions,
/// substitutions and swaps of neighbours (optimal string alignment).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        d[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate within a distance that scales with the name's
/// length, or one that differs only in case.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = if cand.eq_ignore_ascii_case(name) { 0 } else { levenshtein(name, cand) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c.to_string())
}

pub fn did_you_mean(suggestion: Option<String>) -> Option<String> {
    suggestion.map(|s| format!("a name with a similar spelling exists: `{s}`"))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("v_tresh", ["v_thresh", "v_reset"]), Some("v_thresh".into()));
        assert_eq!(suggest("x", ["completely_different"]), None);
        assert_eq!(suggest("lif", ["LIF"]), Some("LIF".into()));
    }
}
