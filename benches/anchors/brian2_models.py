#!/usr/bin/env python3
"""hebb's benchmark models in Brian2 (C++ standalone), for side-by-side timing.

    python brian2_models.py --model {cuba,plastic,recurrent,brunel} [--neurons N]
                            --duration SECONDS [--threads T] [--build-dir DIR] [--seed S]
                            [--brunel-input {synapses,poissoninput}]

The models are written to do what the hebb files do, step for step:

  cuba       models/cuba.hebb: Vogels & Abbott (2005) CUBA as Brian2's
             examples/CUBA.py, exact integration, dt 0.1 ms. N neurons (default
             4000), the first 80 % excitatory; connection probability
             p = 80 / N (p = 0.02 at N = 4000, in-degree 80 at every size).
  plastic    benches/models/plastic.hebb: cuba with additive pair STDP on all
             E->E synapses (event-driven traces, w clipped to [0, 2 we]).
  recurrent  benches/models/recurrent.hebb with the Exc, Inh and STDP types of
             models/experiments/stdp_vs_homeostasis.hebb: 800 conductance LIF
             Exc (threshold state theta, rate trace r) + 200 Inh, 400 Poisson
             inputs at 10 Hz, E->E pair STDP with delays uniform in 1-3 ms,
             exponential Euler (what hebb's `method auto` picks for these
             neurons, see `hebb explain`). Fixed size (--neurons must be 1000).
  brunel     models/brunel.hebb: Brunel (2000) state C, N neurons (default
             12500 = 10000 E + 2500 I), delta-synapse LIF, fixed in-degree
             C_E = 1000 / C_I = 250 at every size, J = 0.1 mV, g = 5, delay
             1.5 ms; each neuron driven by its own 20 kHz Poisson train.

As in hebb: autapses are excluded within a population (hebb's default,
`autapses = false`), fixed in-degrees pick distinct presynaptic neurons, and
synaptic jumps onto `v` are applied during the refractory period too (only
the ODE is frozen, `unless refractory`).

brunel's external drive. hebb's model is a population of 20 kHz Poisson
sources connected one-to-one, and hebb delivers exact Poisson counts per
step (2 spikes per step on average at dt = 0.1 ms). Brian2's PoissonGroup
cannot do that: it emits at most one spike per neuron and step (spike when
rand() < rate * dt, and rate * dt = 2 here), so it would drive every neuron
with a regular 10 kHz train. The default (--brunel-input synapses) keeps
the structure of hebb's model — a source group connected one-to-one by
Synapses — with a source that draws n = poisson(20 kHz * dt) every step,
"spikes" when n > 0 and delivers `v += J * n`. --brunel-input poissoninput
uses Brian2's PoissonInput (a binomial(1000, 20 Hz * dt) count added to v
each step, no synapses), the usual Brian2 way.

Left out: hebb's STDP type in `recurrent` has an `every 1 s` synaptic
scaling block that is a no-op there (beta = 0); it is not reproduced. The
`record rate` lines of cuba.hebb / brunel.hebb are not reproduced either
(spikes are recorded, with one SpikeMonitor per population, as hebb does).

Timing. The network is built with set_device('cpp_standalone',
build_on_run=False); then the project is generated and compiled
(compile_s = wall time of device.build: code generation + make; make_s is
the make step alone), then the binary is run (binary_s = its wall time,
which includes synapse creation, initialisation, the main loop and writing
the results). run_s is the main loop only, as the binary measures it itself
(results/last_run_info.txt). --threads 0 or 1: no OpenMP; T >= 2: OpenMP
with T threads. Without --build-dir the project is built in a new
temporary directory (a cold build) that is removed afterwards; with
--build-dir DIR it is kept, and a second build there only recompiles what
changed (a warm build: usually main.cpp when only --duration changed).

Output: exactly one JSON line on stdout, the last one:
  {"simulator": "brian2", "model", "neurons", "threads", "duration", "run_s",
   "compile_s", "binary_s", "spikes", "rate_hz", ...extra fields}
where neurons counts the simulated neurons (not the Poisson sources), spikes
is their total spike count and rate_hz = spikes / neurons / duration.
Everything else (Brian2's messages, compiler output) goes to stderr.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import anchor_args  # the checks both scripts share (same directory)

MODELS = ("cuba", "plastic", "recurrent", "brunel")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--neurons", type=int, default=None,
                   help="cuba/plastic: N (default 4000, p = 80/N); brunel: N (default 12500, "
                        "80 %% E, in-degrees fixed); recurrent: 1000 only")
    p.add_argument("--duration", type=float, required=True, help="simulated time in seconds")
    p.add_argument("--threads", type=int, default=0, help="0/1: no OpenMP; T >= 2: OpenMP with T threads")
    p.add_argument("--build-dir", default=None, help="standalone project directory (kept; default: a temporary one)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--brunel-input", choices=("synapses", "poissoninput"), default="synapses",
                   help="brunel's external drive (see the docstring)")
    a = p.parse_args()
    if a.model == "recurrent" and a.neurons not in (None, 1000):
        p.error("recurrent has a fixed size (800 Exc + 200 Inh): --neurons must be 1000")
    return anchor_args.check(p, a)


# --------------------------------------------------------------------------- models
# Each builder returns (populations, synapses, objects): populations is a
# list of (name, SpikeMonitor, size) for the simulated neurons, synapses a
# list of Synapses objects (for the synapse count), objects everything that
# goes into the Network.

def build_cuba(b, n, plastic):
    ms, mV = b.ms, b.mV
    N = n or 4000
    Ne = int(round(0.8 * N))
    ns = dict(
        taum=20 * ms, taue=5 * ms, taui=10 * ms,
        Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
        we=(60 * 0.27 / 10) * mV,   # 1.62 mV
        wi=(-20 * 4.5 / 10) * mV,   # -9 mV
        pconn=80.0 / N, Ne=Ne,
    )
    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    P = b.NeuronGroup(N, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                      method="exact", namespace=ns, name="P")
    P.v = "Vr + rand() * (Vt - Vr)"   # uniform(-60 mV, -50 mV)
    PE, PI = P[:Ne], P[Ne:]
    # Bernoulli(p) over every target but the neuron itself (no autapses, as hebb
    # within one population). The generator syntax samples the targets with
    # geometric jumps, O(synapses) and not O(N^2). `i` is the index in the
    # source subgroup, so the inhibitory neuron i is P[Ne + i].
    syns = []
    if plastic:
        ns.update(taupre=20 * ms, taupost=20 * ms, wmax=2 * ns["we"])
        ns["Apre"] = 0.01 * ns["wmax"]
        ns["Apost"] = -ns["Apre"] * ns["taupre"] / ns["taupost"] * 1.05
        Cee = b.Synapses(PE, PE,
                         """w : volt
                            dapre/dt  = -apre / taupre : volt (event-driven)
                            dapost/dt = -apost / taupost : volt (event-driven)""",
                         on_pre="""ge_post += w
                                   apre += Apre
                                   w = clip(w + apost, 0*mV, wmax)""",
                         on_post="""apost += Apost
                                    w = clip(w + apre, 0*mV, wmax)""",
                         namespace=ns, name="Cee")
        Cee.connect(j="k for k in sample(N_post, p=pconn) if k != i")
        Cee.w = "we"
        Cei = b.Synapses(PE, PI, on_pre="ge_post += we", namespace=ns, name="Cei")
        Cei.connect(j="k for k in sample(N_post, p=pconn)")
        syns += [Cee, Cei]
    else:
        Ce = b.Synapses(PE, P, on_pre="ge_post += we", namespace=ns, name="Ce")
        Ce.connect(j="k for k in sample(N_post, p=pconn) if k != i")
        syns.append(Ce)
    Ci = b.Synapses(PI, P, on_pre="gi_post += wi", namespace=ns, name="Ci")
    Ci.connect(j="k for k in sample(N_post, p=pconn) if k != i + Ne")
    syns.append(Ci)
    mon = b.SpikeMonitor(P, name="spikes_P")
    return [("P", mon, N)], syns, [P, mon] + syns


def build_recurrent(b):
    ms, mV, Hz, second = b.ms, b.mV, b.Hz, b.second
    exc_ns = dict(tau_m=20 * ms, E_l=-70 * mV, E_e=0 * mV, E_i=-80 * mV, v_reset=-60 * mV,
                  tau_e=5 * ms, tau_i=10 * ms, tau_r=1 * second, r_target=5 * Hz, eta_ip=0 * mV)
    exc_eqs = """
    dv/dt     = (E_l - v + g_e * (E_e - v) + g_i * (E_i - v)) / tau_m : volt (unless refractory)
    dg_e/dt   = -g_e / tau_e : 1
    dg_i/dt   = -g_i / tau_i : 1
    dr/dt     = -r / tau_r : Hz
    dtheta/dt = eta_ip * (r - r_target) / (second * Hz) : volt
    """
    inh_ns = dict(tau_m=10 * ms, E_l=-70 * mV, E_e=0 * mV, v_th=-52 * mV, v_reset=-60 * mV,
                  tau_e=5 * ms)
    inh_eqs = """
    dv/dt   = (E_l - v + g_e * (E_e - v)) / tau_m : volt (unless refractory)
    dg_e/dt = -g_e / tau_e : 1
    """
    inp = b.PoissonGroup(400, rates=10 * Hz, name="input")
    exc = b.NeuronGroup(800, exc_eqs, threshold="v > theta", reset="v = v_reset; r += 1 / tau_r",
                        refractory=2 * ms, method="exponential_euler", namespace=exc_ns, name="exc")
    inh = b.NeuronGroup(200, inh_eqs, threshold="v > v_th", reset="v = v_reset",
                        refractory=2 * ms, method="exponential_euler", namespace=inh_ns, name="inh")
    exc.v = "-70*mV + rand() * 15*mV"   # uniform(-70 mV, -55 mV)
    exc.theta = -52 * mV
    inh.v = "-70*mV + rand() * 15*mV"

    def static(pre, post, target, w, p, name, no_autapses=False):
        s = b.Synapses(pre, post, on_pre=f"{target}_post += {w!r}", name=name)
        cond = " if k != i" if no_autapses else ""
        s.connect(j=f"k for k in sample(N_post, p={p!r}){cond}")
        return s

    stdp_ns = dict(tau=20 * ms, w_max=0.3)
    stdp_ns["A_pre"] = 0.01 * stdp_ns["w_max"]
    stdp_ns["A_post"] = -0.95 * stdp_ns["A_pre"]
    # hebb's STDP type also has `every 1 s { w = clip(w * (1 + beta * ...)) }`,
    # synaptic scaling with beta = 0 in this model: a no-op, left out here.
    # hebb's traces x_pre / x_post are apre / apost here (Brian2 reserves the
    # _pre / _post suffixes).
    ee = b.Synapses(exc, exc,
                    """w : 1
                       dapre/dt  = -apre / tau : 1 (event-driven)
                       dapost/dt = -apost / tau : 1 (event-driven)""",
                    on_pre="""g_e_post += w
                              apre += A_pre
                              w = clip(w + apost, 0, w_max)""",
                    on_post="""apost += A_post
                               w = clip(w + apre, 0, w_max)""",
                    namespace=stdp_ns, name="exc_exc")
    ee.connect(j="k for k in sample(N_post, p=0.1) if k != i")
    ee.w = "rand() * 0.03"                    # uniform(0.0, 0.03)
    ee.delay = "1*ms + rand() * 2*ms"         # uniform(1 ms, 3 ms), per synapse
    syns = [
        static(inp, exc, "g_e", 0.075, 0.2, "input_exc"),
        static(inp, inh, "g_e", 0.03, 0.2, "input_inh"),
        ee,
        static(exc, inh, "g_e", 0.02, 0.1, "exc_inh"),
        static(inh, exc, "g_i", 0.3, 0.1, "inh_exc"),
    ]
    mons = [("exc", b.SpikeMonitor(exc, name="spikes_exc"), 800),
            ("inh", b.SpikeMonitor(inh, name="spikes_inh"), 200)]
    return mons, syns, [inp, exc, inh] + syns + [m for _, m, _ in mons]


def build_brunel(b, n, ext_mode):
    ms, mV, Hz, kHz = b.ms, b.mV, b.Hz, b.kHz
    N = n or 12500
    NE = int(round(0.8 * N))
    NI = N - NE
    ns = dict(tau=20 * ms, theta=20 * mV, V_r=10 * mV, J=0.1 * mV, g=5.0, CE=1000, CI=250,
              nu_ext=20 * kHz)   # C_E external synapses at 20 Hz = one 20 kHz train
    eqs = "dv/dt = -v / tau : volt (unless refractory)"
    groups = {}
    for name, size in (("E", NE), ("I", NI)):
        G = b.NeuronGroup(size, eqs, threshold="v > theta", reset="v = V_r", refractory=2 * ms,
                          method="exact", namespace=ns, name=name)
        G.v = "rand() * theta"            # uniform(0 mV, 20 mV)
        groups[name] = G
    syns = []
    objs = list(groups.values())
    for name, G in groups.items():
        if ext_mode == "poissoninput":
            objs.append(b.PoissonInput(G, "v", N=1000, rate=20 * Hz, weight="J"))
        else:
            src = b.NeuronGroup(len(G), "n : integer", threshold="n > 0", namespace=ns,
                                name=f"ext_{name}")
            src.run_regularly("n = poisson(nu_ext * dt)", when="start")
            objs.append(src)
            s = b.Synapses(src, G, on_pre="v_post += J * n_pre", namespace=ns, name=f"ext_{name}_{name}")
            s.connect(j="i")
            syns.append(s)
    # Fixed in-degree: for every target j, K distinct sources; within one
    # population the source j itself is skipped (sample K of the N-1 others).
    for pre, post, K, w in (("E", "E", "CE", "J"), ("E", "I", "CE", "J"),
                            ("I", "E", "CI", "-g * J"), ("I", "I", "CI", "-g * J")):
        s = b.Synapses(groups[pre], groups[post], on_pre=f"v_post += {w}", delay=1.5 * ms,
                       namespace=ns, name=f"{pre}_{post}")
        if pre == post:
            s.connect(i=f"k + int(k >= j) for k in sample(N_pre - 1, size={K})")
        else:
            s.connect(i=f"k for k in sample(N_pre, size={K})")
        syns.append(s)
    mons = [(name, b.SpikeMonitor(G, name=f"spikes_{name}"), len(G)) for name, G in groups.items()]
    return mons, syns, objs + syns + [m for _, m, _ in mons]


# --------------------------------------------------------------------------- main
def main():
    args = parse_args()
    # Keep stdout for the one JSON line: send everything else to stderr.
    json_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    import brian2 as b

    threads = args.threads if args.threads >= 2 else 0
    own_dir = args.build_dir is None
    build_dir = tempfile.mkdtemp(prefix=f"hebb-anchors-brian2-{args.model}-") if own_dir \
        else os.path.abspath(args.build_dir)
    b.set_device("cpp_standalone", build_on_run=False, directory=build_dir)
    b.prefs.devices.cpp_standalone.openmp_threads = threads
    b.seed(args.seed)
    b.defaultclock.dt = 0.1 * b.ms

    if args.model in ("cuba", "plastic"):
        pops, syns, objs = build_cuba(b, args.neurons, args.model == "plastic")
    elif args.model == "recurrent":
        pops, syns, objs = build_recurrent(b)
    else:
        pops, syns, objs = build_brunel(b, args.neurons, args.brunel_input)

    net = b.Network(objs)
    net.run(args.duration * b.second)
    t = time.perf_counter()
    b.device.build(directory=build_dir, compile=True, run=False, with_output=False)
    compile_s = time.perf_counter() - t
    make_s = b.device.timers.get("compile", {}).get("make")
    t = time.perf_counter()
    b.device.run(directory=build_dir, with_output=False)
    binary_s = time.perf_counter() - t
    run_s = getattr(b.device, "_last_run_time", None)
    if run_s is None:   # read what the binary wrote: "<main loop seconds> <completed fraction>"
        with open(os.path.join(b.device.results_dir, "last_run_info.txt")) as f:
            run_s = float(f.read().split()[0])

    neurons = sum(size for _, _, size in pops)
    per_pop = {name: int(mon.num_spikes) for name, mon, _ in pops}
    spikes = sum(per_pop.values())
    synapses = int(sum(len(s) for s in syns))
    result = {
        "simulator": "brian2",
        "model": args.model,
        "neurons": neurons,
        "threads": args.threads,
        "duration": args.duration,
        "run_s": round(float(run_s), 6),
        "compile_s": round(compile_s, 4),
        "binary_s": round(binary_s, 4),
        "spikes": spikes,
        "rate_hz": round(spikes / neurons / args.duration, 4),
        "rates_hz": {name: round(per_pop[name] / size / args.duration, 4) for name, _, size in pops},
        "synapses": synapses,
        "make_s": None if make_s is None else round(make_s, 4),
        "seed": args.seed,
        "version": b.__version__,
    }
    if args.model == "brunel":
        result["brunel_input"] = args.brunel_input
    if own_dir:
        shutil.rmtree(build_dir, ignore_errors=True)
    else:
        result["build_dir"] = build_dir

    sys.stderr.flush()
    os.dup2(json_fd, 1)
    os.close(json_fd)
    sys.stdout = sys.__stdout__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
