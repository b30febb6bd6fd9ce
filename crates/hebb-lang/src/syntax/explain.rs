//! Explaining parse errors: the grammar's `*_error` rules catch a broken
//! item, member or statement, and this turns it into one diagnostic, from
//! its unbalanced brackets or quotes, an unknown item keyword, or by
//! re-parsing its text with the strict rule and naming what was expected
//! in words.

use super::ast::*;
use super::parser::{Builder, HebbParser, Rule};
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};
use pest::Parser;
use pest::iterators::Pair;

/// Human names for grammar rules, used instead of raw pest rule names.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident | path => "a name",
        number | count => "a number",
        int => "an integer",
        string | string_inner => "a string in double quotes",
        expr | quantity | boolean | list | call | paren | op_neg | op_not | op_plus => "an expression",
        op_or | op_and | op_le | op_ge | op_eq | op_ne | op_lt | op_gt | op_add | op_sub | op_mul | op_div | op_pow => {
            "an operator"
        }
        unit_expr | unit_first | unit_known | known_unit | decl_unit | unit_factor | one => {
            "a unit such as `mV` or `nS/ms`"
        }
        unit_pow => "`^` and an integer power",
        unit_op => "`*` or `/`",
        assign_op => "`=`, `+=`, `-=`, `*=` or `/=`",
        cmp_op => "a comparison such as `>`",
        block | stmts => "a block `{ ... }`",
        options | option => "options `{ name = value }`",
        type_args => "arguments `( ... )`",
        pop_ref | target | targets => "a population name",
        idents => "a list of names",
        ode_lhs => "an equation `dx/dt = ...`",
        item_kind | item_start | kw_neuron | kw_synapse | kw_signal | kw_network | kw_experiment | kw_import => {
            "an item (`neuron`, `synapse`, `signal`, `network`, `experiment` or `import`)"
        }
        member_strict | members | param_decl | state_decl | let_decl | ode | spike_when | reset_block
        | refractory_decl | method_decl | on_pre | on_post | every_block | population | connect | record | stimuli
        | phase | measure | variant | abort | plasticity_off | present | set_member | assign | kw_param | kw_state
        | kw_let | kw_continuous | continuous | kw_plastic | plastic | kw_spike | kw_reset | kw_method | kw_on
        | kw_every | kw_population | kw_connect | kw_record | kw_stimuli | kw_phase | kw_measure | kw_variant
        | kw_abort | kw_plasticity | kw_present | kw_set => "a declaration or a statement",
        stmt_strict | if_stmt | kw_if => "a statement",
        kw_when => "`when`",
        kw_pre => "`pre`",
        kw_post => "`post`",
        kw_with => "`with` and a synapse type",
        kw_of => "`of`",
        kw_each => "`each`",
        kw_off => "`off`",
        kw_cue | present_cue => "`cue` and a fraction",
        kw_all | plasticity_all => "`all`",
        kw_rate => "`rate`",
        kw_refractory => "`refractory`",
        kw_unless | unless_refractory => "`unless refractory`",
        kw_else => "`else`",
        kw_bin | kw_sample | record_opt | record_every | record_bin | record_sample => "`every`, `bin` or `sample`",
        kw_about | measure_about => "`about`",
        kw_in | measure_in => "`in`",
        kw_from | measure_from => "`from`",
        EOI => "the end of the file",
        _ => return None,
    })
}

/// The name a broken `param`, `state` or `let` line meant to declare, so
/// that later uses of it are not reported as unknown too.
pub(super) fn declared_name(file: FileId, start: usize, text: &str) -> Option<Ident> {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    let kw = ["param", "state", "let"]
        .into_iter()
        .find(|k| trimmed.starts_with(k) && trimmed[k.len()..].starts_with([' ', '\t']))?;
    let rest = &trimmed[kw.len()..];
    let rest_trim = rest.trim_start();
    let name: String = rest_trim.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let at = start + lead + kw.len() + (rest.len() - rest_trim.len());
    Some(Ident { span: Span::new(file, at, at + name.len()), name })
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

/// The token at a byte offset, for "found ..." messages.
fn token_at(text: &str, pos: usize) -> String {
    let rest = &text[pos.min(text.len())..];
    let mut chars = rest.chars();
    match chars.next() {
        None => "the end of the file".to_string(),
        Some('\n') | Some('\r') => "the end of the line".to_string(),
        Some(c) if c.is_alphanumeric() || c == '_' || c == '.' => {
            let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
            format!("`{word}`")
        }
        Some(c) => format!("`{c}`"),
    }
}

impl Builder<'_> {
    /// Turns a pest error in text starting at `offset` into a diagnostic.
    /// `line_end` is the end of the re-parsed piece: running into it means
    /// the line ended, not the file.
    pub(super) fn pest_error(
        &self,
        err: pest::error::Error<Rule>,
        offset: usize,
        line_end: Option<usize>,
        fallback: &str,
    ) -> Diagnostic {
        use pest::error::{ErrorVariant, InputLocation};
        let mut pos = offset
            + match err.location {
                InputLocation::Pos(p) => p,
                InputLocation::Span((s, _)) => s,
            };
        // Point at the next token, not at the spaces before it.
        while self.text[pos.min(self.text.len())..].starts_with([' ', '\t']) {
            pos += 1;
        }
        let mut at_end = line_end.is_some_and(|e| pos >= e);
        // A piece cut short by the `}` of its block: that `}` is what was found.
        if at_end && self.text[pos.min(self.text.len())..].starts_with('}') {
            at_end = false;
        }
        let found = if at_end { "the end of the line".to_string() } else { token_at(self.text, pos) };
        let end = (pos + if found.starts_with('`') { found.chars().count() - 2 } else { 0 }).min(self.text.len());
        let span = Span::new(self.file, pos, end.max(pos));
        let message = match &err.variant {
            ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
                let mut names: Vec<&str> = Vec::new();
                for rule in positives {
                    let name = match describe(*rule) {
                        Some("the end of the file") if line_end.is_some() => continue,
                        other => other,
                    };
                    if let Some(name) = name
                        && !names.contains(&name)
                    {
                        names.push(name);
                    }
                }
                // Parts of an expression are summed up as one.
                if names.contains(&"an expression") {
                    names.retain(|n| !matches!(*n, "a name" | "a number" | "a string in double quotes"));
                }
                // Where an operator could continue an expression that is also
                // complete, the operator is rarely what was meant.
                if names.len() > 1 {
                    names.retain(|n| *n != "an operator");
                }
                if names.is_empty() {
                    format!("unexpected {found}")
                } else {
                    format!("expected {}, found {found}", join_or(&names))
                }
            }
            ErrorVariant::CustomError { message } => message.clone(),
            _ => fallback.to_string(),
        };
        let label =
            if found.starts_with('`') { "unexpected here".to_string() } else { "expected more here".to_string() };
        let mut diag = Diagnostic::error("hebb::syntax", message).label(span, label);
        let before = &self.text[..pos.min(self.text.len())];
        if self.text[pos.min(self.text.len())..].starts_with("**")
            || (before.ends_with('*') && self.text[pos..].starts_with('*'))
            || before.trim_end().ends_with("**")
        {
            diag = diag.help("powers are written with `^`, as in `x^2`");
        }
        diag
    }

    /// A message for a piece of text whose brackets or quotes do not match,
    /// which pest would report far away from the cause.
    fn unbalanced(&self, start: usize, piece: &str) -> Option<Diagnostic> {
        let mut stack: Vec<(char, usize)> = Vec::new();
        let mut in_string: Option<usize> = None;
        let mut in_comment = false;
        for (k, c) in piece.char_indices() {
            if in_comment {
                in_comment = c != '\n';
                continue;
            }
            if let Some(q) = in_string {
                if c == '"' {
                    in_string = None;
                } else if c == '\n' {
                    let span = Span::new(self.file, start + q, start + q + 1);
                    return Some(
                        Diagnostic::error("hebb::syntax", "this string is not closed")
                            .label(span, "the string starts here and the line ends first")
                            .help("close it with `\"` on the same line"),
                    );
                }
                continue;
            }
            match c {
                '#' => in_comment = true,
                '"' => in_string = Some(k),
                '(' | '{' | '[' => stack.push((c, k)),
                ')' | '}' | ']' => {
                    let want = match c {
                        ')' => '(',
                        '}' => '{',
                        _ => '[',
                    };
                    if stack.last().map(|x| x.0) == Some(want) {
                        stack.pop();
                    } else if stack.iter().any(|x| x.0 == want) {
                        // An inner bracket was left open.
                        let (open, at) = stack.pop()?;
                        let span = Span::new(self.file, start + at, start + at + 1);
                        return Some(
                            Diagnostic::error("hebb::syntax", format!("this `{open}` is never closed"))
                                .label(span, "opened here")
                                .label(Span::new(self.file, start + k, start + k + 1), format!("`{c}` found first")),
                        );
                    }
                }
                _ => {}
            }
        }
        if let Some(q) = in_string {
            let span = Span::new(self.file, start + q, start + q + 1);
            return Some(
                Diagnostic::error("hebb::syntax", "this string is not closed")
                    .label(span, "starts here")
                    .help("close it with `\"`"),
            );
        }
        let (open, at) = *stack.last()?;
        let close = match open {
            '(' => ')',
            '{' => '}',
            _ => ']',
        };
        let span = Span::new(self.file, start + at, start + at + 1);
        Some(
            Diagnostic::error("hebb::syntax", format!("this `{open}` is never closed"))
                .label(span, "opened here")
                .help(format!("add the matching `{close}`")),
        )
    }

    /// Explains an error node: unbalanced brackets and quotes first, then by
    /// re-parsing its text with the strict rule.
    pub(super) fn explain(&mut self, pair: &Pair<'_, Rule>, strict: Rule, what: &str) {
        let s = pair.as_span();
        let piece = s.as_str();
        if let Some(d) = self.unbalanced(s.start(), piece) {
            self.diags.borrow_mut().push(d);
            return;
        }
        if strict == Rule::item_line
            && let Some(d) = self.unknown_item(s.start(), piece)
        {
            self.diags.borrow_mut().push(d);
            return;
        }
        let line_end = (strict != Rule::item_line).then_some(s.start() + piece.trim_end().len());
        let diag = match HebbParser::parse(strict, piece) {
            Err(err) => self.pest_error(err, s.start(), line_end, what),
            Ok(_) => Diagnostic::error("hebb::syntax", format!("this {what} could not be parsed"))
                .label(self.span(pair), "here"),
        };
        self.diags.borrow_mut().push(diag);
    }

    /// An item that starts with a word that is not an item keyword.
    fn unknown_item(&self, start: usize, piece: &str) -> Option<Diagnostic> {
        const ITEMS: [&str; 6] = ["neuron", "synapse", "signal", "network", "experiment", "import"];
        let trimmed = piece.trim_start();
        let lead = piece.len() - trimmed.len();
        let word: String = trimmed.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if word.is_empty() || ITEMS.contains(&word.as_str()) {
            return None;
        }
        let span = Span::new(self.file, start + lead, start + lead + word.len());
        let help = match crate::suggest::suggest(&word, ITEMS) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                "a file holds `import`, `neuron`, `synapse`, `signal`, `network` and `experiment` items".to_string()
            }
        };
        Some(
            Diagnostic::error("hebb::syntax", format!("unknown item `{word}`"))
                .label(span, "expected an item keyword")
                .help(help),
        )
    }
}
