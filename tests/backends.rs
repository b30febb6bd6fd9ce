//! The JIT against the reference interpreter: every shipped model, and
//! random expressions. They must agree bit for bit, because both evaluate the
//! same operations in the same order with the same libm calls.

mod common;

use hebb::ir::{
    self, BinOp, Column, ColumnRole, Expr, Group, GroupId, GroupKind, Interpreted, Kernel, KernelArgs, KernelId,
    KernelKind, Kernels, Owner, Precision, Program, Slot, Stmt, UnOp,
};
use hebb::session::{Backend, Request};
use proptest::prelude::*;
use std::path::PathBuf;

fn shipped_models() -> Vec<PathBuf> {
    common::hebb_files(&common::models_dir())
}

#[test]
fn jit_matches_interpreter_on_every_shipped_model_in_both_precisions() {
    let models = shipped_models();
    assert!(models.len() >= 6, "expected the shipped models, found {models:?}");
    for (path, precision) in models.iter().flat_map(|p| [(p, Precision::F64), (p, Precision::F32)]) {
        // Short runs: the interpreter is slow, and divergence shows early.
        let request =
            |backend| Request { duration: Some(0.05), backend, precision: Some(precision), ..Request::file(path) };
        let jit = common::simulate(&request(Backend::Jit)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let interp = common::simulate(&request(Backend::Interpreter)).expect("interpreter run");
        assert_eq!(jit.result, interp.result, "{}", path.display());
        let (a, b) = (jit.recordings(), interp.recordings());
        assert_eq!(a.spike_counts, b.spike_counts, "{}: spike counts", path.display());
        for (x, y) in a.spikes.iter().zip(&b.spikes) {
            assert_eq!(x.indices, y.indices, "{}: spike indices", path.display());
            assert_eq!(x.times, y.times, "{}: spike times", path.display());
        }
        for (x, y) in a.states.iter().zip(&b.states) {
            for ((name, _, dx), (_, _, dy)) in x.vars.iter().zip(&y.vars) {
                let bits = |d: &Vec<f64>| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(dx), bits(dy), "{}: state `{name}`", path.display());
            }
        }
        for (x, y) in a.synapses.iter().zip(&b.synapses) {
            for ((name, _, dx), (_, _, dy)) in x.vars.iter().zip(&y.vars) {
                let bits = |d: &Vec<f64>| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(dx), bits(dy), "{}: synaptic `{name}`", path.display());
            }
        }
    }
}

/// A group of `n` elements with columns x, y, z, out, wide and one step
/// kernel `%0 = e; out := %0; wide := %0` (so both the vector loop and the
/// scalar tail run). Under `precision f32`, x, y and out are stored (and
/// computed) in f32, while z and wide are step counts, kept in f64.
fn program_for(e: Expr, n: usize, precision: Precision) -> Program {
    let col = |name: &str| Column { name: name.into(), role: ColumnRole::State, init: Expr::Const(0.0) };
    let step_count = |name: &str| Column { name: name.into(), role: ColumnRole::LastSpike, init: Expr::Const(0.0) };
    Program {
        dt: 1e-4,
        seed: 7,
        precision,
        n_steps: 1,
        groups: vec![Group {
            name: "g".into(),
            size: n,
            kind: GroupKind::Neurons { type_name: "T".into() },
            columns: vec![col("x"), col("y"), step_count("z"), col("out"), step_count("wide")],
            step: Some(KernelId(0)),
            reset: None,
            every: Vec::new(),
            frozen_step: None,
            frozen_every: Vec::new(),
            integrator: None,
            spikes: true,
            units: Vec::new(),
        }],
        projections: Vec::new(),
        kernels: vec![Kernel {
            name: "k".into(),
            kind: KernelKind::Step,
            owner: Owner::Group(GroupId(0)),
            prologue: Vec::new(),
            reductions: Vec::new(),
            body: vec![
                Stmt::Let(0, e),
                Stmt::Store(Slot::Own(3), Expr::Local(0)),
                Stmt::Store(Slot::Own(4), Expr::Local(0)),
                Stmt::Spike(Expr::bin(BinOp::Gt, Expr::Local(0), Expr::Const(0.5))),
            ],
            n_locals: 1,
            stream: 11,
        }],
        records: Vec::new(),
        phases: Vec::new(),
        stimuli: Vec::new(),
        aborts: Vec::new(),
        measures: Vec::new(),
    }
}

/// Runs the kernel once over the inputs with a backend; returns the output
/// columns (f32 ones widened) and the spikes.
fn run_kernel(program: Program, inputs: &[[f64; 3]], jit: bool) -> (Vec<u64>, Vec<u32>) {
    let (n, seed) = (inputs.len(), program.seed);
    let f32 = program.precision == Precision::F32;
    let mut cols: Vec<Vec<f64>> = (0..3).map(|c| inputs.iter().map(|r| r[c]).collect()).collect();
    cols.push(vec![0.0; n]);
    cols.push(vec![0.0; n]);
    // f32 columns: x, y and out (their f64 vectors stay unused).
    let mut narrow: Vec<Vec<f32>> = (0..4).map(|c| cols[c].iter().map(|v| *v as f32).collect()).collect();
    let ptrs: Vec<*mut f64> = cols
        .iter_mut()
        .zip(narrow.iter_mut().map(Some).chain([None]))
        .enumerate()
        .map(|(c, (wide, thin))| match thin {
            Some(thin) if f32 && c != 2 => thin.as_mut_ptr() as *mut f64,
            _ => wide.as_mut_ptr(),
        })
        .collect();
    let mut spikes = vec![0u32; n];
    let mut args = KernelArgs {
        own: ptrs.as_ptr(),
        t: 0.25,
        step: 2500.0,
        seed,
        start: 0,
        end: n as u64,
        spikes_out: spikes.as_mut_ptr(),
        ..KernelArgs::default()
    };
    let kernels: Box<dyn Kernels> = if jit {
        Box::new(hebb::jit::compile(program, &Default::default()).expect("compiles"))
    } else {
        Box::new(Interpreted::new(program))
    };
    // SAFETY: the program's one step kernel reads columns 0-2 and writes
    // column 3 of `n` elements, and `spikes` has room for n indices.
    unsafe { kernels.run(KernelId(0), &mut args) };
    spikes.truncate(args.n_spikes as usize);
    let out: Vec<f64> = if f32 { narrow[3].iter().map(|v| f64::from(*v)).collect() } else { cols[3].clone() };
    (out.iter().chain(&cols[4]).map(|v| v.to_bits()).collect(), spikes)
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (-3.0f64..3.0).prop_map(Expr::Const),
        Just(Expr::Load(Slot::Own(0))),
        Just(Expr::Load(Slot::Own(1))),
        Just(Expr::Load(Slot::Own(2))),
        Just(Expr::Builtin(ir::Builtin::T)),
        Just(Expr::Builtin(ir::Builtin::Index)),
        (0u32..3).prop_map(Expr::Rand),
        (0u32..3).prop_map(Expr::Randn),
    ]
}

fn number_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 3, |inner| {
        let cond = (inner.clone(), inner.clone(), 0usize..6).prop_map(|(a, b, k)| {
            let op = [BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge, BinOp::Eq, BinOp::Ne][k];
            Expr::bin(op, a, b)
        });
        prop_oneof![
            (inner.clone(), 0usize..9).prop_map(|(a, k)| {
                let op = [
                    UnOp::Neg,
                    UnOp::Exp,
                    UnOp::Log,
                    UnOp::Sqrt,
                    UnOp::Abs,
                    UnOp::Sin,
                    UnOp::Cos,
                    UnOp::Tanh,
                    UnOp::Floor,
                ][k];
                Expr::un(op, a)
            }),
            (inner.clone(), inner.clone(), 0usize..7).prop_map(|(a, b, k)| {
                let op = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Pow, BinOp::Min, BinOp::Max][k];
                Expr::bin(op, a, b)
            }),
            (cond.clone(), cond, 0usize..3, inner.clone(), inner).prop_map(|(c1, c2, k, a, b)| {
                let c = match k {
                    0 => Expr::bin(BinOp::And, c1, c2),
                    1 => Expr::bin(BinOp::Or, c1, c2),
                    _ => Expr::un(UnOp::Not, c1),
                };
                Expr::select(c, a, b)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Random expressions evaluate to the same bits (NaNs included) in the
    /// JIT's vector loop, its scalar tail and the interpreter.
    #[test]
    fn jit_matches_interpreter_on_random_expressions(
        e in number_expr(),
        inputs in proptest::collection::vec(proptest::array::uniform3(-5.0f64..5.0), 1..10),
    ) {
        // Up to 9 elements: the f32 kernel's four-lane loop runs twice.
        for precision in [Precision::F64, Precision::F32] {
            let program = program_for(e.clone(), inputs.len(), precision);
            ir::verify(&program).expect("valid IR");
            let (out_jit, spikes_jit) = run_kernel(program.clone(), &inputs, true);
            let (out_int, spikes_int) = run_kernel(program, &inputs, false);
            // NaN payloads may differ between libm paths and SSE; compare NaN-ness.
            let canon = |v: &Vec<u64>| v.iter().map(|b| if f64::from_bits(*b).is_nan() { u64::MAX } else { *b }).collect::<Vec<_>>();
            prop_assert_eq!(canon(&out_jit), canon(&out_int), "{}", precision.name());
            prop_assert_eq!(spikes_jit, spikes_int, "{}", precision.name());
        }
    }
}
