//! Which members each item kind admits (a `population` belongs in a
//! `network`, `spike when` in a `neuron`, ...).

use crate::diag::Diagnostic;
use crate::syntax::ast::{ItemDef, ItemKind, Member};

/// Which members an item kind may have.
fn member_allowed(kind: ItemKind, m: &Member) -> bool {
    use Member as M;
    match kind {
        ItemKind::Neuron => matches!(
            m,
            M::Param { .. }
                | M::State { .. }
                | M::Let { .. }
                | M::Ode { .. }
                | M::SpikeWhen { .. }
                | M::Reset { .. }
                | M::Refractory { .. }
                | M::Method { .. }
                | M::Every { .. }
                | M::Error { .. }
        ),
        ItemKind::Synapse => matches!(
            m,
            M::Param { .. }
                | M::State { .. }
                | M::Let { .. }
                | M::Ode { .. }
                | M::OnPre { .. }
                | M::OnPost { .. }
                | M::Method { .. }
                | M::Every { .. }
                | M::Error { .. }
        ),
        ItemKind::Signal => {
            matches!(
                m,
                M::Param { .. }
                    | M::State { .. }
                    | M::Let { .. }
                    | M::Ode { .. }
                    | M::Method { .. }
                    | M::Every { .. }
                    | M::Error { .. }
            )
        }
        ItemKind::Network => matches!(m, M::Population { .. } | M::Connect { .. } | M::Record { .. } | M::Error { .. }),
        ItemKind::Experiment => matches!(
            m,
            M::Assign { .. }
                | M::Stimuli { .. }
                | M::Phase { .. }
                | M::Measure { .. }
                | M::Variant { .. }
                | M::Abort { .. }
                | M::Error { .. }
        ),
    }
}

/// Rule: each item kind admits only its own members (a `population` belongs
/// in a `network`, `spike when` in a `neuron`, ...).
pub fn check_members_allowed(def: &ItemDef, diags: &mut Vec<Diagnostic>) {
    for m in &def.members {
        // `param = 1` parses as an assignment to a variable named `param`.
        if let Member::Assign { target, .. } = m
            && let [kw] = target.parts.as_slice()
            && matches!(kw.name.as_str(), "param" | "state" | "let")
        {
            diags.push(
                Diagnostic::error("hebb::syntax", format!("expected a name after `{}`", kw.name))
                    .label(kw.span, "a name must follow this keyword")
                    .help(format!("write `{} name = value`", kw.name)),
            );
            continue;
        }
        if !member_allowed(def.kind, m) {
            let home = match m {
                Member::SpikeWhen { .. } | Member::Reset { .. } | Member::Refractory { .. } => "a `neuron`",
                Member::OnPre { .. } | Member::OnPost { .. } => "a `synapse`",
                Member::Param { .. }
                | Member::State { .. }
                | Member::Let { .. }
                | Member::Ode { .. }
                | Member::Method { .. } => "a `neuron`, `synapse` or `signal`",
                Member::Every { .. } => "a `neuron`, `synapse` or `signal`",
                Member::Population { .. } | Member::Connect { .. } | Member::Record { .. } => "a `network`",
                Member::Assign { .. } if def.kind != ItemKind::Experiment => "an event block such as `reset { ... }`",
                Member::Stimuli { .. }
                | Member::Phase { .. }
                | Member::Measure { .. }
                | Member::Variant { .. }
                | Member::Abort { .. } => "an `experiment`",
                Member::PlasticityOff { .. } | Member::Present { .. } | Member::Set { .. } => "a `phase`",
                _ => "another kind of item",
            };
            let article = if def.kind == ItemKind::Experiment { "an" } else { "a" };
            diags.push(
                Diagnostic::error(
                    "hebb::member::not_allowed",
                    format!("{} is not allowed in {article} `{}`", m.describe(), def.kind.keyword()),
                )
                .label(m.span(), "not allowed here")
                .help(format!("this belongs in {home}")),
            );
        }
    }
}
