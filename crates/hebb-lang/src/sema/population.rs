//! Populations: neurons of a declared type with overrides of its params and
//! initial values, or a `poisson` or `spike_times` source.

use super::dynamics::Ctx;
use super::expr::{self, Scope, expect_dim};
use super::names::{did_you_mean, suggest};
use super::network::{Types, base_dir, positive_integer, string_value, unique_options, unknown_option, unknown_type};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast;
use crate::units::Dim;

const SOURCES: [&str; 2] = ["poisson", "spike_times"];

/// Checks a population: its size, its options and its kind (neurons of a
/// declared type, or a source).
pub(super) fn population(
    name: &ast::Ident,
    size: &ast::Expr,
    type_name: &ast::Ident,
    options: &[ast::Opt],
    span: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Population> {
    let size = positive_integer(size, "the size of a population", diags);
    unique_options(options, diags);
    let kind_and_overrides = match type_name.name.as_str() {
        "poisson" => poisson(options, type_name.span, types, diags).map(|k| (k, Vec::new())),
        "spike_times" => spike_times(options, type_name.span, types, diags).map(|k| (k, Vec::new())),
        other => match types.neurons.iter().position(|n| n.name == other) {
            Some(k) => {
                let ov = overrides(
                    &types.neurons[k].dynamics,
                    &format!("neuron `{other}`"),
                    options,
                    &[Builtin::I, Builtin::N],
                    types.ctx,
                    diags,
                );
                Some((PopulationKind::Neurons { type_id: k as u32 }, ov))
            }
            None => {
                unknown_type(
                    type_name,
                    "neuron type",
                    types.neurons.iter().map(|n| n.name.as_str()).chain(SOURCES),
                    diags,
                );
                None
            }
        },
    };
    let (kind, overrides) = kind_and_overrides?;
    Some(Population { name: name.name.clone(), size: size?, kind, overrides, span })
}

/// Rule: an override names a param or state of the type, and its value has
/// that variable's dimension.
fn overrides(
    dynamics: &Dynamics,
    what: &str,
    options: &[ast::Opt],
    builtins: &'static [Builtin],
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Override> {
    let mut out = Vec::new();
    for o in options {
        if let Some(ov) = one_override(dynamics, what, o, builtins, ctx, diags) {
            out.push(ov);
        }
    }
    out
}

/// One override, of a population's neuron type or a projection's synapse.
pub(super) fn one_override(
    dynamics: &Dynamics,
    what: &str,
    o: &ast::Opt,
    builtins: &'static [Builtin],
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Override> {
    let (target, ty) = if let Some(k) = dynamics.param(&o.name.name) {
        (VarRef { owner: Owner::Own, kind: VarKind::Param, index: k as u32 }, dynamics.params[k].ty)
    } else if let Some(k) = dynamics.state(&o.name.name) {
        (VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 }, dynamics.states[k].ty)
    } else {
        let cands =
            dynamics.params.iter().map(|p| p.name.as_str()).chain(dynamics.states.iter().map(|s| s.name.as_str()));
        diags.push(
            Diagnostic::error(
                "hebb::network::unknown_override",
                format!("{what} has no param or state `{}`", o.name.name),
            )
            .label(o.name.span, "nothing to override")
            .with_help(did_you_mean(suggest(&o.name.name, cands))),
        );
        return None;
    };
    let Some(value) = &o.value else {
        diags.push(
            Diagnostic::error("hebb::network::override_value", format!("`{}` needs a value", o.name.name))
                .label(o.span, format!("write `{} = ...`", o.name.name)),
        );
        return None;
    };
    // Overrides see the type's params (at their defaults) and the built-ins.
    let scope = Scope {
        what: format!("an override of {what}"),
        own: Some(dynamics),
        lets: &[],
        pre: None,
        post: None,
        signals: ctx.signals,
        builtins,
        allow_dist: true,
        allow_rand: true,
        allow_reduce: false,
    };
    let e = expr::check(&scope, value, diags);
    if let (Ty::Num(want), Ty::Num(_)) = (ty, e.ty) {
        let bare_zero = matches!(value.kind, ast::ExprKind::Number(v) if v == 0.0);
        if !bare_zero {
            expect_dim(&e, want, &format!("the value of `{}`", o.name.name), diags, false);
        }
    }
    if target.kind == VarKind::State && e.any(|x| matches!(x.kind, ExprKind::Var(v) if v.kind == VarKind::State)) {
        diags.push(
            Diagnostic::error("hebb::network::override_state", "an initial value cannot read other states")
                .label(e.span, "reads a state")
                .help("use params, `i`, `N` and distributions"),
        );
        return None;
    }
    Some(Override { target, value: e, span: o.span })
}

/// Rule: a poisson source has a `rate` in Hz, which may use `t` and `i`.
fn poisson(options: &[ast::Opt], at: Span, types: &Types<'_>, diags: &mut Vec<Diagnostic>) -> Option<PopulationKind> {
    let mut rate = None;
    let mut rate_max = None;
    let mut ok = true;
    for o in options {
        match (o.name.name.as_str(), &o.value) {
            ("rate", Some(v)) => {
                let scope = Scope {
                    signals: types.ctx.signals,
                    ..Scope::constant("the rate of a poisson source", &[Builtin::T, Builtin::I, Builtin::N])
                };
                let e = expr::check(&scope, v, diags);
                ok &= expect_dim(&e, Dim::HERTZ, "the rate of a poisson source", diags, true);
                if let Some(r) = crate::hir::const_eval(&e, &[])
                    && !(r >= 0.0 && r.is_finite())
                {
                    diags.push(
                        Diagnostic::error(
                            "hebb::network::rate",
                            "the rate of a poisson source must be a non-negative finite rate",
                        )
                        .label(e.span, format!("this is {r} Hz")),
                    );
                    ok = false;
                }
                rate = Some(e);
            }
            ("rate_max", Some(v)) => {
                let e = expr::check(&Scope::constant("`rate_max`", &[]), v, diags);
                ok &= expect_dim(&e, Dim::HERTZ, "`rate_max`", diags, false);
                match crate::hir::const_eval(&e, &[]) {
                    Some(r) if r > 0.0 && r.is_finite() => rate_max = Some(r),
                    _ => {
                        diags.push(
                            Diagnostic::error("hebb::network::rate", "`rate_max` must be a positive constant rate")
                                .label(e.span, "here"),
                        );
                        ok = false;
                    }
                }
            }
            (other, _) => {
                unknown_option(o, other, &["rate", "rate_max"], "a poisson source", diags);
                ok = false;
            }
        }
    }
    let Some(rate) = rate else {
        diags.push(
            Diagnostic::error("hebb::network::missing_option", "a poisson source needs a `rate`")
                .label(at, "no `rate` given")
                .help("write `poisson { rate = 10 Hz }`"),
        );
        return None;
    };
    ok.then_some(PopulationKind::Poisson { rate, rate_max })
}

/// Rule: a spike_times source has exactly one of `file = "x.csv"` and
/// `times = [...]`.
fn spike_times(
    options: &[ast::Opt],
    at: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PopulationKind> {
    let mut found: Option<PopulationKind> = None;
    for o in options {
        let kind = match (o.name.name.as_str(), &o.value) {
            ("file", Some(v)) => match string_value(v) {
                Some(path) => Some(PopulationKind::SpikeTimes(SpikeTimes::File {
                    path: base_dir(types.sources, v.span).join(path),
                    span: v.span,
                })),
                None => {
                    diags.push(
                        Diagnostic::error("hebb::network::file_option", "`file` must be a path in double quotes")
                            .label(v.span, "not a string")
                            .help("write `file = \"spikes.csv\"`"),
                    );
                    None
                }
            },
            ("times", Some(v)) => inline_spike_times(v, diags),
            (other, _) => {
                unknown_option(o, other, &["file", "times"], "a spike_times source", diags);
                None
            }
        };
        if let Some(k) = kind {
            if found.is_some() {
                diags.push(
                    Diagnostic::error(
                        "hebb::network::spike_times_twice",
                        "a spike_times source takes `file` or `times`, not both",
                    )
                    .label(o.span, "second source of spike times"),
                );
            }
            found = Some(k);
        }
    }
    if found.is_none() && !options.iter().any(|o| o.name.name == "file" || o.name.name == "times") {
        diags.push(
            Diagnostic::error("hebb::network::missing_option", "a spike_times source needs `file` or `times`")
                .label(at, "no spike times given")
                .help("write `spike_times { times = [10 ms, 20 ms] }` or `spike_times { file = \"in.csv\" }`"),
        );
    }
    found
}

/// Rule: the `times = [...]` of a spike_times source are non-negative
/// constant times (one time may be given without brackets).
fn inline_spike_times(v: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<PopulationKind> {
    let items: Vec<&ast::Expr> = match &v.kind {
        ast::ExprKind::List(items) => items.iter().collect(),
        _ => vec![v],
    };
    let mut times = Vec::new();
    let mut ok = true;
    for item in items {
        let e = expr::check(&Scope::constant("spike times", &[]), item, diags);
        if !expect_dim(&e, Dim::TIME, "a spike time", diags, true) {
            ok = false;
            continue;
        }
        match crate::hir::const_eval(&e, &[]) {
            Some(t) if t >= 0.0 && t.is_finite() => times.push(t),
            _ => {
                diags.push(
                    Diagnostic::error("hebb::network::spike_time", "spike times must be non-negative constants")
                        .label(e.span, "here"),
                );
                ok = false;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    ok.then_some(PopulationKind::SpikeTimes(SpikeTimes::Inline(times)))
}
