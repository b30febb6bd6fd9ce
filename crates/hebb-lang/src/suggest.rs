//! "Did you mean": the closest known name to a misspelt one, for the help
//! of diagnostics in every phase.

/// Edit distance between two names, for suggestions: insertions, deletions,
/// substitutions and swaps of neighbours (optimal string alignment).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
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
