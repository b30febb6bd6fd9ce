//! Builds the syntax tree from pest's pairs, recovering from errors.
//!
//! Parsing never fails: a broken item, member or statement becomes an error
//! node in the tree (the grammar's `*_error` rules) plus one diagnostic, whose
//! wording comes from re-parsing that piece of text with the strict rule
//! (see `explain`).

use super::ast::*;
use super::explain::declared_name;
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};
use pest::Parser;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/hebb.pest"]
pub(super) struct HebbParser;

/// Bounds pest's backtracking on untrusted input: calls per byte of text
/// (an ordinary model needs a few dozen), so that a long file is limited
/// only by memory while pathological backtracking still stops.
const CALLS_PER_BYTE: usize = 2_000;

/// Brackets (`(`, `[`, `{`) may nest this deep. The parser and every pass
/// after it recurse on nesting, so deeper text would overflow the stack.
pub const MAX_NESTING: usize = 64;

/// Operators in one expression without brackets (`1 + 2 + ...`, `- - x`).
pub const MAX_OPERATORS: usize = 256;

/// Depth of an expression's tree, brackets included.
pub const MAX_DEPTH: usize = 256;

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
    set_call_limit(CALLS_PER_BYTE.saturating_mul(text.len()).max(1_000_000));
    let mut builder = Builder { file, text, diags: std::cell::RefCell::new(Vec::new()) };
    let defused = defuse_deep(text);
    for &(start, end) in &defused.regions {
        builder.diags.borrow_mut().push(
            Diagnostic::error("hebb::syntax::too_deep", format!("brackets nest more than {MAX_NESTING} levels deep"))
                .label(Span::new(file, start, end), "this is too deep")
                .help("write the expression in steps, with `let`"),
        );
    }
    let text = defused.text.as_deref().unwrap_or(text);
    builder.text = text;
    let tree = match HebbParser::parse(Rule::file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => builder.file(pair),
            None => File::default(),
        },
        // The grammar accepts every input except when the call limit is hit.
        Err(err) => {
            let d = builder.pest_error(err, 0, None, "this file could not be parsed");
            builder.diags.borrow_mut().push(d);
            File::default()
        }
    };
    (tree, builder.diags.into_inner())
}

/// Raises pest's call limit to at least `calls`. The limit is one global
/// value for every thread, so it never goes down: a parse of a short text
/// must not cut short a long one parsed at the same time.
fn set_call_limit(calls: usize) {
    static HIGHEST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let highest = HIGHEST.fetch_max(calls, std::sync::atomic::Ordering::Relaxed).max(calls);
    pest::set_call_limit(std::num::NonZeroUsize::new(highest));
}

/// Text whose brackets nest too deep, made parseable.
struct Defused {
    /// The text with every region that was too deep replaced (`None` when
    /// nothing was).
    text: Option<String>,
    /// Byte ranges of those regions.
    regions: Vec<(usize, usize)>,
}

/// Rule: brackets nest at most `MAX_NESTING` deep (outside comments and
/// strings). A region deeper — from the first bracket too deep to its
/// match — becomes `0` and spaces (newlines kept, so positions stay), and
/// the rest of the file parses and checks as usual.
fn defuse_deep(text: &str) -> Defused {
    let (mut depth, mut comment, mut string) = (0usize, false, false);
    let mut regions = Vec::new();
    let mut open: Option<usize> = None;
    for (k, c) in text.char_indices() {
        match c {
            '\n' => (comment, string) = (false, false),
            _ if comment => {}
            '"' => string = !string,
            _ if string => {}
            '#' => comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING && open.is_none() {
                    open = Some(k);
                }
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == MAX_NESTING
                    && let Some(start) = open.take()
                {
                    regions.push((start, k + 1));
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        regions.push((start, text.len()));
    }
    if regions.is_empty() {
        return Defused { text: None, regions };
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for &(start, end) in &regions {
        out.push_str(&text[last..start]);
        // Byte for byte, so that every position after it stays.
        let blank: String = text[start..end]
            .chars()
            .flat_map(|c| {
                std::iter::repeat_n(if c == '\n' { '\n' } else { ' ' }, if c == '\n' { 1 } else { c.len_utf8() })
            })
            .collect();
        out.push('0');
        out.push_str(&blank[1..]);
        last = end;
    }
    out.push_str(&text[last..]);
    Defused { text: Some(out), regions }
}

/// The operator rules of the expression grammar.
fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::op_or
            | Rule::op_and
            | Rule::op_not
            | Rule::op_lt
            | Rule::op_le
            | Rule::op_gt
            | Rule::op_ge
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_neg
            | Rule::op_plus
            | Rule::op_pow
    )
}

/// The depth of an expression's tree, measured without recursion.
fn depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        match &e.kind {
            ExprKind::Unary(_, a) => stack.push((a, d + 1)),
            ExprKind::Binary(_, a, b) => stack.extend([(&**a, d + 1), (&**b, d + 1)]),
            ExprKind::Call(_, args) | ExprKind::List(args) => stack.extend(args.iter().map(|a| (a, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// Builds the tree of one file, collecting the diagnostics of its error
/// nodes (explained in `explain`).
pub(super) struct Builder<'t> {
    pub(super) file: FileId,
    pub(super) text: &'t str,
    /// Diagnostics of error nodes; a cell, because the tree is built
    /// through shared references (the Pratt parser's closures).
    pub(super) diags: std::cell::RefCell<Vec<Diagnostic>>,
}

/// Children of a pair, for walking a rule whose shape the grammar fixes.
fn kids(pair: Pair<'_, Rule>) -> Pairs<'_, Rule> {
    pair.into_inner()
}

impl<'t> Builder<'t> {
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
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

    /// One member of an item: each rule's children, keywords skipped, in
    /// the order the grammar fixes.
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
            Rule::param_decl => self.param_member(it, span)?,
            Rule::state_decl => self.state_member(it, span)?,
            Rule::let_decl => Member::Let { name: self.ident(it.next()?), value: self.expr(it.next()?), span },
            Rule::ode => self.ode_member(it, span)?,
            Rule::spike_when => Member::SpikeWhen { cond: self.expr(it.next()?), span },
            Rule::reset_block => Member::Reset { body: self.block(it.next()?), span },
            Rule::refractory_decl => Member::Refractory { value: self.expr(it.next()?), span },
            Rule::method_decl => Member::Method { name: self.ident(it.next()?), span },
            Rule::on_pre => Member::OnPre { body: self.block(it.next()?), span },
            Rule::on_post => Member::OnPost { body: self.block(it.next()?), span },
            Rule::every_block => {
                let mut first = it.next()?;
                let plastic = first.as_rule() == Rule::plastic;
                if plastic {
                    first = it.next()?;
                }
                // `kw_every` is silent only if it is an atomic rule inside; skip it when present.
                if first.as_rule() == Rule::kw_every {
                    first = it.next()?;
                }
                let period = self.expr(first);
                Member::Every { period, body: self.block(it.next()?), plastic, span }
            }
            Rule::population => self.population_member(it, span)?,
            Rule::connect => self.connect_member(it, span)?,
            Rule::record => self.record_member(it, span)?,
            Rule::stimuli => self.stimuli_member(it, span)?,
            Rule::phase => self.phase_member(it, span)?,
            Rule::measure => self.measure_member(it, span)?,
            Rule::variant => {
                let name = self.ident(it.next()?);
                Member::Variant { name, members: self.members(it.next()?), span }
            }
            Rule::abort => self.abort_member(it, span)?,
            Rule::plasticity_off => {
                Member::PlasticityOff { all: it.any(|p| p.as_rule() == Rule::plasticity_all), span }
            }
            Rule::present => {
                let stimuli = self.ident(it.next()?);
                let mut next = it.next()?;
                if next.as_rule() == Rule::kw_each {
                    next = it.next()?;
                }
                let each = self.expr(next);
                let cue = it
                    .find(|p| p.as_rule() == Rule::present_cue)
                    .and_then(|p| kids(p).find(|k| k.as_rule() == Rule::expr))
                    .map(|e| self.expr(e));
                Member::Present { stimuli, each, cue, span }
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

    /// `param name [: unit] = value`.
    fn param_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let name = self.ident(it.next()?);
        let mut unit = None;
        let mut next = it.next()?;
        if next.as_rule() == Rule::decl_unit {
            unit = Some(self.decl_unit(next));
            next = it.next()?;
        }
        Some(Member::Param { name, unit, value: self.expr(next), span })
    }

    /// `state name [: unit] [= init]`.
    fn state_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
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
        Some(Member::State { name, unit, init, span })
    }

    /// `[continuous] dx/dt = rhs [unless refractory]`.
    fn ode_member<'a>(&mut self, it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let mut continuous = false;
        let mut plastic = false;
        let mut unless_refractory = false;
        let mut var = None;
        let mut rhs = None;
        for p in it {
            match p.as_rule() {
                Rule::continuous => continuous = true,
                Rule::plastic => plastic = true,
                Rule::unless_refractory => unless_refractory = true,
                Rule::ode_lhs => var = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k)),
                Rule::expr => rhs = Some(self.expr(p)),
                _ => {}
            }
        }
        Some(Member::Ode { var: var?, rhs: rhs?, unless_refractory, continuous, plastic, span })
    }

    /// `population name = size Type [{ options }]`.
    fn population_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let name = self.ident(it.next()?);
        let size = self.count(it.next()?);
        let type_name = self.ident(it.next()?);
        let options = it.next().map(|p| self.options(p)).unwrap_or_default();
        Some(Member::Population { name, size, type_name, options, span })
    }

    /// `connect pre -> post with Synapse[(args)] [{ options }]`.
    fn connect_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
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
        Some(Member::Connect { pre, post, synapse, type_args, options, span })
    }

    /// `record vars of targets [every D] [bin B] [sample K]`.
    fn record_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
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
        Some(Member::Record { vars, targets, every, bin, sample, span })
    }

    /// `stimuli name = count kind of source [{ options }]`.
    fn stimuli_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let name = self.ident(it.next()?);
        let count = self.count(it.next()?);
        let kind = self.ident(it.next()?);
        let source = self.ident(it.next()?);
        let options = it.next().map(|p| self.options(p)).unwrap_or_default();
        Some(Member::Stimuli { name, count, kind, source, options, span })
    }

    /// `phase name duration { members }`.
    fn phase_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let name = self.ident(it.next()?);
        let duration = self.expr(it.next()?);
        let members = self.members(it.next()?);
        Some(Member::Phase { name, duration, members, span })
    }

    /// `measure metrics of target [about S] [from PHASE] [in PHASE] [{ options }]`.
    fn measure_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let metrics = kids(it.next()?).map(|p| self.ident(p)).collect();
        let target = self.target(it.next()?);
        let (mut about, mut from_phase, mut in_phase, mut options) = (None, None, None, Vec::new());
        for p in it {
            match p.as_rule() {
                Rule::measure_about => about = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k)),
                Rule::measure_from => from_phase = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k)),
                Rule::measure_in => in_phase = kids(p).find(|k| k.as_rule() == Rule::ident).map(|k| self.ident(k)),
                Rule::options => options = self.options(p),
                _ => {}
            }
        }
        Some(Member::Measure { metrics, target, about, from_phase, in_phase, options, span })
    }

    /// `abort when rate of P op threshold`.
    fn abort_member<'a>(&mut self, mut it: impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Option<Member> {
        let population = self.ident(it.next()?);
        let op = match it.next()?.as_str() {
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            "<" => CmpOp::Lt,
            _ => CmpOp::Le,
        };
        Some(Member::Abort { population, op, threshold: self.expr(it.next()?), span })
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

    /// Rule: an expression has at most `MAX_OPERATORS` operators between
    /// brackets and a tree at most `MAX_DEPTH` deep. Both are checked
    /// before anything recurses over it.
    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let operators = kids(pair.clone()).filter(|p| is_operator(p.as_rule())).count();
        if operators > MAX_OPERATORS {
            return self
                .too_complex(span, format!("this expression has {operators} operators, more than {MAX_OPERATORS}"));
        }
        let e = self.pratt(pair);
        let d = depth(&e);
        if d > MAX_DEPTH {
            return self.too_complex(span, format!("this expression nests {d} levels deep, more than {MAX_DEPTH}"));
        }
        e
    }

    fn too_complex(&self, span: Span, what: String) -> Expr {
        self.diags.borrow_mut().push(
            Diagnostic::error("hebb::syntax::too_complex", "the expression is too long or too deep to compile")
                .label(span, what)
                .help("split it into steps with `let`, or into params"),
        );
        Expr { kind: ExprKind::Error, span }
    }

    fn pratt(&self, pair: Pair<'_, Rule>) -> Expr {
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
