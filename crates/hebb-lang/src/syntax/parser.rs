//! Builds the syntax tree from pest's pairs, recovering from errors.
//!
//! Parsing never fails: a broken item, member or statement becomes an error
//! node in the tree (the grammar's `*_error` rules) plus one diagnostic, whose
//! wording comes from re-parsing that piece of text with the strict rule.

use super::ast::*;
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};
use pest::Parser;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/hebb.pest"]
struct HebbParser;

/// Bounds pest's backtracking on untrusted input (pathological nesting).
const CALL_LIMIT: usize = 5_000_000;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_plus))
        .op(Op::infix(Rule::op_pow, Assoc::Right))
});

/// Parses one file. Always returns a tree; errors come as diagnostics.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT));
    let mut builder = Builder { file, text, diags: Vec::new() };
    let tree = match HebbParser::parse(Rule::file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => builder.file(pair),
            None => File::default(),
        },
        // The grammar accepts every input except when the call limit is hit.
        Err(err) => {
            builder.diags.push(builder.pest_error(err, 0, None, "this file could not be parsed"));
            File::default()
        }
    };
    (tree, builder.diags)
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    diags: Vec<Diagnostic>,
}

/// Children of a pair, for walking a rule whose shape the grammar fixes.
fn kids(pair: Pair<'_, Rule>) -> Pairs<'_, Rule> {
    pair.into_inner()
}

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
        | kw_let | kw_continuous | continuous | kw_spike | kw_reset | kw_method | kw_on | kw_every | kw_population
        | kw_connect | kw_record | kw_stimuli | kw_phase | kw_measure | kw_variant | kw_abort | kw_plasticity
        | kw_present | kw_set => "a declaration or a statement",
        stmt_strict | if_stmt | kw_if => "a statement",
        kw_when => "`when`",
        kw_pre => "`pre`",
        kw_post => "`post`",
        kw_with => "`with` and a synapse type",
        kw_of => "`of`",
        kw_each => "`each`",
        kw_off => "`off`",
        kw_rate => "`rate`",
        kw_refractory => "`refractory`",
        kw_unless | unless_refractory => "`unless refractory`",
        kw_else => "`else`",
        kw_bin | kw_sample | record_opt | record_every | record_bin | record_sample => "`every`, `bin` or `sample`",
        kw_about | measure_about => "`about`",
        kw_in | measure_in => "`in`",
        EOI => "the end of the file",
        _ => return None,
    })
}

/// The name a broken `param`, `state` or `let` line meant to declare, so
/// that later uses of it are not reported as unknown too.
fn declared_name(file: FileId, start: usize, text: &str) -> Option<Ident> {
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

impl<'t> Builder<'t> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    /// Turns a pest error in text starting at `offset` into a diagnostic.
    /// `line_end` is the end of the re-parsed piece: running into it means
    /// the line ended, not the file.
    fn pest_error(
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
    fn explain(&mut self, pair: &Pair<'_, Rule>, strict: Rule, what: &str) {
        let s = pair.as_span();
        let piece = s.as_str();
        if let Some(d) = self.unbalanced(s.start(), piece) {
            self.diags.push(d);
            return;
        }
        if strict == Rule::item_line
            && let Some(d) = self.unknown_item(s.start(), piece)
        {
            self.diags.push(d);
            return;
        }
        let line_end = (strict != Rule::item_line).then_some(s.start() + piece.trim_end().len());
        let diag = match HebbParser::parse(strict, piece) {
            Err(err) => self.pest_error(err, s.start(), line_end, what),
            Ok(_) => Diagnostic::error("hebb::syntax", format!("this {what} could not be parsed"))
                .label(self.span(pair), "here"),
        };
        self.diags.push(diag);
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

    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for p in kids(pair) {
            match p.as_rule() {
                Rule::import_item => {
                    let span = self.span(&p);
                    let path =
                        kids(p).find(|k| k.as_rule() == Rule::string).map(|s| self.string(s)).unwrap_or_default();
                    items.push(Item::Import { path, span });
                }
                Rule::def_item => items.push(Item::Def(self.def_item(p))),
                Rule::item_error => {
                    self.explain(&p, Rule::item_line, "item");
                    items.push(Item::Error(self.span(&p)));
                }
                _ => {}
            }
        }
        File { items }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> String {
        kids(pair).next().map(|p| p.as_str().to_string()).unwrap_or_default()
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn def_item(&mut self, pair: Pair<'_, Rule>) -> ItemDef {
        let span = self.span(&pair);
        let mut kind = ItemKind::Neuron;
        let mut kind_span = span;
        let mut name = None;
        let mut members = Vec::new();
        for p in kids(pair) {
            match p.as_rule() {
                Rule::item_kind => {
                    kind_span = self.span(&p);
                    kind = match p.as_str() {
                        "neuron" => ItemKind::Neuron,
                        "synapse" => ItemKind::Synapse,
                        "signal" => ItemKind::Signal,
                        "network" => ItemKind::Network,
                        _ => ItemKind::Experiment,
                    };
                }
                Rule::ident => name = Some(self.ident(p)),
                Rule::members => members = self.members(p),
                _ => {}
            }
        }
        ItemDef { kind, kind_span, name, members, span }
    }

    fn members(&mut self, pair: Pair<'_, Rule>) -> Vec<Member> {
        kids(pair).filter_map(|p| self.member(p)).collect()
    }

    fn member(&mut self, pair: Pair<'_, Rule>) -> Option<Member> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::member_error {
            self.explain(&pair, Rule::member_line, "line");
            return Some(Member::Error {
                span,
                declares: declared_name(self.file, pair.as_span().start(), pair.as_str()),
            });
        }
        // Keywords are their own pairs; skip them so the interesting children
        // can be taken in order.
        let mut it = kids(pair).filter(|p| !format!("{:?}", p.as_rule()).starts_with("kw_"));
        let member = match rule {
            Rule::param_decl => {
                let name = self.ident(it.next()?);
                let mut unit = None;
                let mut next = it.next()?;
                if next.as_rule() == Rule::decl_unit {
                    unit = Some(self.decl_unit(next));
                    next = it.next()?;
                }
                Member::Param { name, unit, value: self.expr(next), span }
            }
            Rule::state_decl => {
                let name = self.ident(it.next()?);
                let mut unit = None;
                let mut init = None;
                for p in it {
                    match p.as_rule() {
                        Rule::decl_unit => unit = Some(self.decl_unit(p)),
                        Rule::expr => init = Some(self.expr(p)),
                        _ => {}
                    }
                }
                Member::State { name, unit, init, span }
            }
            Rule::let_decl => Member::Let { name: self.ident(it.next()?), value: self.expr(it.next()?), span },
            Rule::ode => {
                let mut continuous = false;
                let mut unless_refractory = false;
                let mut var = None;
                let mut rhs = None;
                for p in it {
                    match p.as_rule() {
                        Rule::continuous => continuous = true,
                        Rule::unless_refractory => unless_refractory = true,
                        Rule::ode_lhs => var = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k)),
                        Rule::expr => rhs = Some(self.expr(p)),
                        _ => {}
                    }
                }
                Member::Ode { var: var?, rhs: rhs?, unless_refractory, continuous, span }
            }
            Rule::spike_when => Member::SpikeWhen { cond: self.expr(it.next()?), span },
            Rule::reset_block => Member::Reset { body: self.block(it.next()?), span },
            Rule::refractory_decl => Member::Refractory { value: self.expr(it.next()?), span },
            Rule::method_decl => Member::Method { name: self.ident(it.next()?), span },
            Rule::on_pre => Member::OnPre { body: self.block(it.next()?), span },
            Rule::on_post => Member::OnPost { body: self.block(it.next()?), span },
            Rule::every_block => {
                let period = self.expr(it.next()?);
                Member::Every { period, body: self.block(it.next()?), span }
            }
            Rule::population => {
                let name = self.ident(it.next()?);
                let size = self.count(it.next()?);
                let type_name = self.ident(it.next()?);
                let options = it.next().map(|p| self.options(p)).unwrap_or_default();
                Member::Population { name, size, type_name, options, span }
            }
            Rule::connect => {
                let pre = self.pop_ref(it.next()?);
                let post = self.pop_ref(it.next()?);
                let synapse = self.ident(it.next()?);
                let mut type_args = Vec::new();
                let mut options = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::type_args => type_args = kids(p).map(|o| self.option(o)).collect(),
                        Rule::options => options = self.options(p),
                        _ => {}
                    }
                }
                Member::Connect { pre, post, synapse, type_args, options, span }
            }
            Rule::record => {
                let vars = kids(it.next()?).map(|p| self.ident(p)).collect();
                let targets = kids(it.next()?).map(|p| self.target(p)).collect();
                let (mut every, mut bin, mut sample) = (None, None, None);
                for opt in it {
                    let which = kids(opt).next()?;
                    let r = which.as_rule();
                    let value = kids(which).find(|k| k.as_rule() == Rule::expr).map(|e| self.expr(e));
                    match r {
                        Rule::record_every => every = value,
                        Rule::record_bin => bin = value,
                        _ => sample = value,
                    }
                }
                Member::Record { vars, targets, every, bin, sample, span }
            }
            Rule::stimuli => {
                let name = self.ident(it.next()?);
                let count = self.count(it.next()?);
                let kind = self.ident(it.next()?);
                let source = self.ident(it.next()?);
                let options = it.next().map(|p| self.options(p)).unwrap_or_default();
                Member::Stimuli { name, count, kind, source, options, span }
            }
            Rule::phase => {
                let name = self.ident(it.next()?);
                let duration = self.expr(it.next()?);
                let members = self.members(it.next()?);
                Member::Phase { name, duration, members, span }
            }
            Rule::measure => {
                let metrics = kids(it.next()?).map(|p| self.ident(p)).collect();
                let target = self.target(it.next()?);
                let (mut about, mut in_phase, mut options) = (None, None, Vec::new());
                for p in it {
                    match p.as_rule() {
                        Rule::measure_about => {
                            about = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k))
                        }
                        Rule::measure_in => {
                            in_phase = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k))
                        }
                        Rule::options => options = self.options(p),
                        _ => {}
                    }
                }
                Member::Measure { metrics, target, about, in_phase, options, span }
            }
            Rule::variant => {
                let name = self.ident(it.next()?);
                Member::Variant { name, members: self.members(it.next()?), span }
            }
            Rule::abort => {
                let population = self.ident(it.next()?);
                let op = match it.next()?.as_str() {
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    "<" => CmpOp::Lt,
                    _ => CmpOp::Le,
                };
                Member::Abort { population, op, threshold: self.expr(it.next()?), span }
            }
            Rule::plasticity_off => Member::PlasticityOff { span },
            Rule::present => {
                let stimuli = self.ident(it.next()?);
                Member::Present { stimuli, each: self.expr(it.next()?), span }
            }
            Rule::set_member => {
                let target = self.path(it.next()?);
                Member::Set { target, value: self.expr(it.next()?), span }
            }
            Rule::assign => {
                let (target, op, value) = self.assign_parts(it)?;
                Member::Assign { target, op, value, span }
            }
            _ => return None,
        };
        Some(member)
    }

    fn assign_parts<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>) -> Option<(Path, AssignOp, Expr)> {
        let target = self.path(it.next()?);
        let op = match it.next()?.as_str() {
            "+=" => AssignOp::Add,
            "-=" => AssignOp::Sub,
            "*=" => AssignOp::Mul,
            "/=" => AssignOp::Div,
            _ => AssignOp::Set,
        };
        Some((target, op, self.expr(it.next()?)))
    }

    fn count(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        match kids(pair).next() {
            Some(p) if p.as_rule() == Rule::number => self.number(p),
            Some(p) => self.expr(p),
            None => Expr { kind: ExprKind::Number(0.0), span },
        }
    }

    fn options(&self, pair: Pair<'_, Rule>) -> Vec<Opt> {
        kids(pair).filter(|p| p.as_rule() == Rule::option).map(|p| self.option(p)).collect()
    }

    fn option(&self, pair: Pair<'_, Rule>) -> Opt {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let name = match it.next() {
            Some(p) => self.ident(p),
            None => Ident { name: String::new(), span },
        };
        let value = it.next().map(|p| self.expr(p));
        Opt { name, value, span }
    }

    fn pop_ref(&self, pair: Pair<'_, Rule>) -> PopRef {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let name = match it.next() {
            Some(p) => self.ident(p),
            None => Ident { name: String::new(), span },
        };
        let range = match (it.next(), it.next()) {
            (Some(a), Some(b)) => Some((self.expr(a), self.expr(b))),
            _ => None,
        };
        PopRef { name, range, span }
    }

    fn target(&self, pair: Pair<'_, Rule>) -> Target {
        let span = self.span(&pair);
        let mut it = kids(pair);
        let pre = match it.next() {
            Some(p) => self.pop_ref(p),
            None => PopRef { name: Ident { name: String::new(), span }, range: None, span },
        };
        let post = it.next().map(|p| self.pop_ref(p));
        Target { pre, post, span }
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        let span = self.span(&pair);
        Path { parts: kids(pair).map(|p| self.ident(p)).collect(), span }
    }

    fn decl_unit(&self, pair: Pair<'_, Rule>) -> UnitExpr {
        let span = self.span(&pair);
        let mut factors = Vec::new();
        let mut divide = false;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::unit_op => divide = p.as_str() == "/",
                Rule::unit_factor => {
                    let mut symbol = None;
                    let mut power = 1;
                    for k in kids(p) {
                        match k.as_rule() {
                            Rule::ident => symbol = Some(self.ident(k)),
                            Rule::unit_pow => power = self.unit_pow(k),
                            _ => {}
                        }
                    }
                    factors.push(UnitFactor { symbol, power, divide });
                }
                _ => {}
            }
        }
        UnitExpr { factors, span }
    }

    fn unit_pow(&self, pair: Pair<'_, Rule>) -> i32 {
        // Absurd powers saturate; sema reports them as out of range.
        kids(pair).next().and_then(|k| k.as_str().parse::<i64>().ok()).map(|v| v.clamp(-1000, 1000) as i32).unwrap_or(1)
    }

    fn unit_expr(&self, pair: Pair<'_, Rule>) -> UnitExpr {
        let span = self.span(&pair);
        let mut factors = Vec::new();
        let mut divide = false;
        for p in kids(pair) {
            match p.as_rule() {
                Rule::unit_op => divide = p.as_str() == "/",
                Rule::unit_first | Rule::unit_known => {
                    let mut symbol = None;
                    let mut power = 1;
                    for k in kids(p) {
                        match k.as_rule() {
                            Rule::ident | Rule::known_unit => symbol = Some(self.ident(k)),
                            Rule::unit_pow => power = self.unit_pow(k),
                            _ => {}
                        }
                    }
                    factors.push(UnitFactor { symbol, power, divide });
                }
                _ => {}
            }
        }
        UnitExpr { factors, span }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Vec<Stmt> {
        match kids(pair).find(|p| p.as_rule() == Rule::stmts) {
            Some(stmts) => kids(stmts).filter_map(|p| self.stmt(p)).collect(),
            None => Vec::new(),
        }
    }

    fn stmt(&mut self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::stmt_error => {
                self.explain(&pair, Rule::stmt_line, "statement");
                Some(Stmt::Error(span))
            }
            Rule::assign => {
                let (target, op, value) = self.assign_parts(kids(pair))?;
                Some(Stmt::Assign { target, op, value, span })
            }
            Rule::if_stmt => {
                let mut it = kids(pair).filter(|p| !matches!(p.as_rule(), Rule::kw_if | Rule::kw_else));
                let cond = self.expr(it.next()?);
                let then_body = self.block(it.next()?);
                let else_body = it.next().map(|p| match p.as_rule() {
                    Rule::if_stmt => self.stmt(p).into_iter().collect(),
                    _ => self.block(p),
                });
                Some(Stmt::If { cond, then_body, else_body, span })
            }
            _ => None,
        }
    }

    fn number(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        // The grammar only admits valid float syntax; huge literals become inf,
        // which sema reports.
        let value = pair.as_str().parse::<f64>().unwrap_or(f64::NAN);
        Expr { kind: ExprKind::Number(value), span }
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let pairs = kids(pair);
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_not => UnOp::Not,
                    Rule::op_plus => UnOp::Plus,
                    _ => UnOp::Neg,
                };
                Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    _ => BinOp::Pow,
                };
                Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
            })
            .parse(pairs)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => return self.number(pair),
            Rule::quantity => {
                let mut it = kids(pair);
                let value = it.next().and_then(|p| p.as_str().parse::<f64>().ok()).unwrap_or(f64::NAN);
                let unit = match it.next() {
                    Some(u) => self.unit_expr(u),
                    None => UnitExpr { factors: Vec::new(), span },
                };
                ExprKind::Quantity(value, unit)
            }
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::string => ExprKind::Str(self.string(pair)),
            Rule::list => ExprKind::List(kids(pair).map(|p| self.expr(p)).collect()),
            Rule::call => {
                let mut it = kids(pair);
                let name = match it.next() {
                    Some(p) => self.ident(p),
                    None => Ident { name: String::new(), span },
                };
                ExprKind::Call(name, it.map(|p| self.expr(p)).collect())
            }
            Rule::path => ExprKind::Name(self.path(pair)),
            Rule::paren => match kids(pair).next() {
                Some(inner) => {
                    let mut e = self.expr(inner);
                    e.span = span;
                    return e;
                }
                None => ExprKind::Number(f64::NAN),
            },
            _ => ExprKind::Number(f64::NAN),
        };
        Expr { kind, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> File {
        let (file, diags) = parse(FileId(0), text);
        assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
        file
    }

    #[test]
    fn quantity_binds_tighter_than_operators() {
        let file = parse_ok("neuron A {\n param x = 1 / 2 ms\n}\n");
        let Item::Def(def) = &file.items[0] else { panic!() };
        let Member::Param { value, .. } = &def.members[0] else { panic!() };
        let ExprKind::Binary(BinOp::Div, lhs, rhs) = &value.kind else { panic!("{value:?}") };
        assert!(matches!(lhs.kind, ExprKind::Number(v) if v == 1.0));
        assert!(matches!(&rhs.kind, ExprKind::Quantity(v, _) if *v == 2.0));
    }

    #[test]
    fn unary_minus_is_below_power() {
        let file = parse_ok("neuron A {\n param x = -2^2\n}\n");
        let Item::Def(def) = &file.items[0] else { panic!() };
        let Member::Param { value, .. } = &def.members[0] else { panic!() };
        assert!(
            matches!(&value.kind, ExprKind::Unary(UnOp::Neg, inner) if matches!(inner.kind, ExprKind::Binary(BinOp::Pow, ..)))
        );
    }

    #[test]
    fn three_mistakes_give_three_diagnostics() {
        let text = "neuron A {\n param x = = 1\n state v = 3 +\n dv/dt = (v / 1 ms\n}\n";
        let (_, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 3, "{diags:#?}");
    }

    #[test]
    fn spec_example_parses() {
        parse_ok(
            "network balanced {\n    population exc = 3200 LIF { v = uniform(-60 mV, -50 mV) }\n    connect ext -> exc with STDP { p = 0.1; w = uniform(0, 0.01); delay = 1 ms }\n    connect exc -> inh with Static(target = g_e) { p = 0.02; w = 0.5 }\n    record spikes of exc, inh\n    record v, g_e of exc[0..10] every 1 ms\n    record w of ext -> exc every 1 s\n    record rate of exc bin 5 ms\n}\n",
        );
    }
}
