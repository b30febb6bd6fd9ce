#!/usr/bin/env python3
"""hebb's benchmark models in NEST, for side-by-side timing.

    python nest_models.py --model {cuba,plastic,recurrent,brunel} [--neurons N]
                          --duration SECONDS [--threads T] [--seed S]

--threads T sets NEST's local_num_threads (0 counts as 1). Sizes and
connectivity as in brian2_models.py: cuba/plastic N neurons (default 4000),
80 % excitatory, p = 80 / N; brunel N (default 12500), 80 % E, in-degrees
1000 / 250. Autapses are excluded (hebb's default within a population),
fixed in-degrees pick distinct sources (allow_multapses False). NEST's
smallest delay is one step (0.1 ms), so the synapses without a delay in hebb
(cuba, plastic, brunel's external input) get 0.1 ms here.

cuba: iaf_psc_exp. Brian2's/hebb's CUBA neuron is
    dv/dt = (ge + gi - (v - El)) / taum,  dge/dt = -ge / taue,  ge += we (mV)
and iaf_psc_exp is
    dV/dt = -(V - E_L) / tau_m + I_syn / C_m,  dI_ex/dt = -I_ex / tau_syn_ex,
    I_ex += weight (pA).
They are the same system with I_syn = (C_m / tau_m) * ge, so a jump of
w mV in ge is a weight of C_m / tau_m * w pA: with C_m = 250 pF and
tau_m = 20 ms, 12.5 pA per mV (we = 1.62 mV -> 20.25 pA, wi = -9 mV ->
-112.5 pA, which goes to the inhibitory current with tau_syn_in = 10 ms).
C_m only sets the current scale. E_L = -49 mV, V_th = -50 mV, V_reset =
-60 mV, t_ref = 5 ms; both integrate exactly. Differences that remain: NEST
clamps V at V_reset during t_ref exactly as Brian2's `unless refractory`
does (the currents keep decaying and receiving spikes in both), NEST's
threshold is V >= V_th (Brian2/hebb: v > v_th), and the 0.1 ms minimal delay
means a spike reaches V one step later than in Brian2/hebb (which apply
zero-delay jumps in the step of the spike).

plastic: cuba with E->E stdp_synapse (all-to-all pair traces, Gütig et al.
form with mu_plus = mu_minus = 0, i.e. additive):
    pre spike:  w -= alpha * lambda * Wmax * K_minus(post trace), clipped at 0
    post spike: w += lambda * Wmax * K_plus(pre trace), clipped at Wmax
with K traces incremented by 1 and decaying with tau_plus / tau_minus.
Brian2/hebb: A_pre = 0.01 wmax, A_post = -1.05 A_pre (tau_pre = tau_post),
so lambda = 0.01, alpha = 1.05, Wmax = 2 we = 40.5 pA, tau_plus = 20 ms
(synapse) and tau_minus = 20 ms (a neuron parameter in NEST). NEST's STDP
delay is dendritic (pairs are timed at the soma plus the delay) where
hebb's/Brian2's is axonal; with 0.1 ms delays the difference is one step.

brunel: iaf_psc_delta (weights are jumps of V in mV: J = 0.1 mV,
-g J = -0.5 mV), tau_m = 20 ms, V_th = 20 mV, V_reset = 10 mV, E_L = 0,
t_ref = 2 ms, delay 1.5 ms, fixed_indegree 1000 / 250. External drive: ONE
poisson_generator at 20 kHz connected to all neurons; NEST's
poisson_generator sends every target its own independent Poisson train
(exact counts per step, as hebb's 20 kHz source per neuron). Refractoriness:
hebb and Brian2 apply synaptic jumps to v during the refractory period (only
the ODE is frozen), so inputs received then are kept; iaf_psc_delta
discards them by default, so refractory_input = True is set, which keeps
them (NEST discounts each by its decay until the end of the refractory
period, hebb/Brian2 do not decay them: a small remaining difference).

recurrent: not implemented. Its Exc neuron (conductance LIF with a
threshold state and a rate trace) has no built-in NEST model; it would need
NESTML. The script prints {"simulator": "nest", "model": "recurrent",
"unsupported": "needs NESTML"} and exits with status 3.

Timing. The kernel is reset, neurons created and connected, nest.Prepare()
called, then nest.Run(duration) and nest.Cleanup(). run_s is the wall time
of nest.Run: the simulation loop only, like Brian2's run_s. (NEST 3.10
builds the connection infrastructure, its "time_communicate_prepare",
during Prepare, reported as prepare_s; should a version do it inside Run,
that part is subtracted from run_s, and run_wall_s keeps the whole Run.) binary_s is everything from ResetKernel to Cleanup
(create, connect, prepare, run), the counterpart of Brian2's binary_s.
compile_s is 0 (NEST's models are precompiled).

Output: exactly one JSON line on stdout, the last one:
  {"simulator": "nest", "model", "neurons", "threads", "duration", "run_s",
   "compile_s", "binary_s", "spikes", "rate_hz", ...extra fields}
Everything else (NEST's banner and messages) goes to stderr.
"""
import argparse
import json
import os
import sys
import time

import anchor_args  # the checks both scripts share (same directory)

MODELS = ("cuba", "plastic", "recurrent", "brunel")
DT = 0.1  # ms


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--neurons", type=int, default=None,
                   help="cuba/plastic: N (default 4000, p = 80/N); brunel: N (default 12500, "
                        "80 %% E, in-degrees fixed)")
    p.add_argument("--duration", type=float, required=True, help="simulated time in seconds")
    p.add_argument("--threads", type=int, default=1, help="NEST local_num_threads (0 = 1)")
    p.add_argument("--seed", type=int, default=1)
    return anchor_args.check(p, p.parse_args())


# --------------------------------------------------------------------------- models
# Each builder returns (populations, extra): populations is a list of
# (name, spike_recorder, size) for the simulated neurons.

def build_cuba(nest, n, plastic):
    N = n or 4000
    Ne = int(round(0.8 * N))
    pconn = 80.0 / N
    C_m, tau_m = 250.0, 20.0
    pA_per_mV = C_m / tau_m
    we = 60 * 0.27 / 10 * pA_per_mV    # 1.62 mV -> 20.25 pA
    wi = -20 * 4.5 / 10 * pA_per_mV    # -9 mV -> -112.5 pA
    params = {"C_m": C_m, "tau_m": tau_m, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
              "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
    if plastic:
        params["tau_minus"] = 20.0
    P = nest.Create("iaf_psc_exp", N, params=params)
    P.V_m = nest.random.uniform(-60.0, -50.0)
    E, I = P[:Ne], P[Ne:]
    bern = {"rule": "pairwise_bernoulli", "p": pconn, "allow_autapses": False}
    if plastic:
        nest.CopyModel("stdp_synapse", "stdp_ee",
                       {"tau_plus": 20.0, "lambda": 0.01, "alpha": 1.05,
                        "mu_plus": 0.0, "mu_minus": 0.0, "Wmax": 2 * we})
        nest.Connect(E, E, bern, {"synapse_model": "stdp_ee", "weight": we, "delay": DT})
        nest.Connect(E, I, bern, {"synapse_model": "static_synapse", "weight": we, "delay": DT})
    else:
        nest.Connect(E, P, bern, {"synapse_model": "static_synapse", "weight": we, "delay": DT})
    nest.Connect(I, P, bern, {"synapse_model": "static_synapse", "weight": wi, "delay": DT})
    sr = nest.Create("spike_recorder")
    nest.Connect(P, sr)
    extra = {}
    if plastic:
        extra["ee"] = (E, 2 * we)
    return [("P", sr, N)], extra


def build_brunel(nest, n):
    N = n or 12500
    NE = int(round(0.8 * N))
    NI = N - NE
    J, g, CE, CI, delay = 0.1, 5.0, 1000, 250, 1.5
    params = {"C_m": 250.0, "tau_m": 20.0, "E_L": 0.0, "V_th": 20.0, "V_reset": 10.0,
              "t_ref": 2.0, "I_e": 0.0, "refractory_input": True}
    E = nest.Create("iaf_psc_delta", NE, params=params)
    I = nest.Create("iaf_psc_delta", NI, params=params)
    E.V_m = nest.random.uniform(0.0, 20.0)
    I.V_m = nest.random.uniform(0.0, 20.0)
    ext = nest.Create("poisson_generator", params={"rate": 20000.0})   # one train per target
    nest.Connect(ext, E + I, "all_to_all", {"synapse_model": "static_synapse", "weight": J, "delay": DT})
    for pre, post, K, w in ((E, E, CE, J), (E, I, CE, J), (I, E, CI, -g * J), (I, I, CI, -g * J)):
        nest.Connect(pre, post,
                     {"rule": "fixed_indegree", "indegree": K, "allow_autapses": False,
                      "allow_multapses": False},
                     {"synapse_model": "static_synapse", "weight": w, "delay": delay})
    pops = []
    for name, G, size in (("E", E, NE), ("I", I, NI)):
        sr = nest.Create("spike_recorder")
        nest.Connect(G, sr)
        pops.append((name, sr, size))
    return pops, {}


# --------------------------------------------------------------------------- main
def infrastructure_s(nest):
    """NEST's time_communicate_prepare (per thread in 3.x: the longest)."""
    v = nest.GetKernelStatus().get("time_communicate_prepare", 0.0)
    return float(max(v)) if hasattr(v, "__len__") else float(v)


def main():
    args = parse_args()
    if args.model == "recurrent":
        print(json.dumps({"simulator": "nest", "model": "recurrent", "unsupported": "needs NESTML"}),
              flush=True)
        sys.exit(3)

    # Keep stdout for the one JSON line: NEST's banner and messages go to stderr.
    json_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import nest

    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:
        nest.set_verbosity("M_ERROR")

    threads = max(1, args.threads)
    t_start = time.perf_counter()
    nest.ResetKernel()
    nest.SetKernelStatus({"local_num_threads": threads, "resolution": DT, "rng_seed": args.seed,
                          "print_time": False})
    if args.model in ("cuba", "plastic"):
        pops, extra = build_cuba(nest, args.neurons, args.model == "plastic")
    else:
        pops, extra = build_brunel(nest, args.neurons)
    build_s = time.perf_counter() - t_start

    t = time.perf_counter()
    nest.Prepare()
    prepare_s = time.perf_counter() - t
    infra_before = infrastructure_s(nest)
    t = time.perf_counter()
    nest.Run(args.duration * 1000.0)
    run_wall_s = time.perf_counter() - t
    nest.Cleanup()
    binary_s = time.perf_counter() - t_start
    infra_s = infrastructure_s(nest)
    # NEST 3.10 builds the connection infrastructure in Prepare; if a version
    # does it inside Run, take it out of the loop time.
    run_s = max(0.0, run_wall_s - (infra_s - infra_before))
    ks = nest.GetKernelStatus()

    neurons = sum(size for _, _, size in pops)
    per_pop = {name: int(sr.n_events) for name, sr, _ in pops}
    spikes = sum(per_pop.values())
    # Synapses, counted as hebb counts them: not the recorders' connections,
    # but brunel's generator -> neuron ones (hebb's one-to-one projections).
    n_dev = sum(len(nest.GetConnections(target=sr)) for _, sr, _ in pops)
    synapses = int(ks["num_connections"]) - n_dev

    result = {
        "simulator": "nest",
        "model": args.model,
        "neurons": neurons,
        "threads": args.threads,
        "duration": args.duration,
        "run_s": round(run_s, 6),
        "compile_s": 0,
        "binary_s": round(binary_s, 4),
        "spikes": spikes,
        "rate_hz": round(spikes / neurons / args.duration, 4),
        "rates_hz": {name: round(per_pop[name] / size / args.duration, 4) for name, _, size in pops},
        "synapses": synapses,
        "run_wall_s": round(run_wall_s, 6),
        "connection_infrastructure_s": round(infra_s, 6),
        "build_s": round(build_s, 4),
        "prepare_s": round(prepare_s, 4),
        "seed": args.seed,
        "version": nest.__version__,
    }
    if "ee" in extra:
        import numpy as np
        E, wmax = extra["ee"]
        w = np.asarray(nest.GetConnections(E, E).get("weight"), dtype=float)
        result["ee_w_mean_over_wmax"] = round(float(w.mean() / wmax), 6)

    sys.stderr.flush()
    os.dup2(json_fd, 1)
    os.close(json_fd)
    sys.stdout = sys.__stdout__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
