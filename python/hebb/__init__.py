"""hebb from Python: check and run models in-process, and load what runs
and studies wrote, as NumPy arrays in SI units.

    import hebb
    run = hebb.run("models/cuba.hebb", seed=1, duration=0.5)
    t, i = run.spikes("E")                  # spike times (s) and neuron indices
    run.metrics                             # dict: column -> {"value", "unit", "details"}
    study = hebb.load_study("runs/...")     # pandas DataFrame, one row per run

A run directory is read the same whether hebb.run wrote it or the command
line did (docs/language.md, "The run directory").
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _hebb
from ._hebb import HebbError

__all__ = ["check", "run", "compare", "load", "load_study", "Run", "Diagnostic", "HebbError"]
__version__ = _hebb.__version__


@dataclass(frozen=True)
class Diagnostic:
    """One finding of the checker, as `hebb check` prints it."""

    code: str
    severity: str
    message: str
    line: int
    column: int
    help: Optional[str]
    file: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        return text + (f"\n  help: {self.help}" if self.help else "")


def _source(model: Union[str, os.PathLike]) -> Tuple[str, bool]:
    """A path (existing file, or a name ending in .hebb) or a model's text."""
    text = os.fspath(model)
    is_path = "\n" not in text and (text.endswith(".hebb") or Path(text).is_file())
    return text, is_path


def check(model: Union[str, os.PathLike]) -> List[Diagnostic]:
    """Checks a model (a path or its text) as `hebb check` does and returns
    its diagnostics, warnings included; a model with errors is not an
    exception here (see `run`)."""
    text, is_path = _source(model)
    found, _rendered = _hebb.check(text, is_path)
    return [Diagnostic(*d) for d in found]


def _setting(name: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{name}={value!r}"
    return f"{name}={value}"


def run(
    model: Union[str, os.PathLike],
    set: Optional[Dict[str, Any]] = None,  # noqa: A002 - the CLI's name
    seed: Optional[int] = None,
    duration: Optional[float] = None,
    variant: Optional[str] = None,
    output: Optional[Union[str, os.PathLike]] = None,
    threads: int = 1,
) -> "Run":
    """Runs a model in-process, as `hebb run` does, and loads the result.

    `set` maps `Type.param` to a value (a number in SI units, or a string
    in the language's syntax such as "15 ms"); `duration` is in seconds.
    Without `output` the run goes to a new temporary directory. Raises
    HebbError with hebb's rendered diagnostics when the model has errors.
    """
    text, is_path = _source(model)
    settings = [_setting(k, v) for k, v in (set or {}).items()]
    out = os.fspath(output) if output is not None else tempfile.mkdtemp(prefix="hebb-run-")
    directory = _hebb.run(text, is_path, out, settings, seed, duration, variant, threads)
    return load(directory)


class Run:
    """A run directory: run.json, spikes, states, weights, rates, metrics."""

    def __init__(self, directory: Union[str, os.PathLike]):
        self.directory = Path(directory)
        path = self.directory / "run.json"
        if not path.is_file():
            raise FileNotFoundError(f"{self.directory} is not a run directory (no run.json)")
        self.info: Dict[str, Any] = json.loads(path.read_text())
        metrics = self.directory / "metrics.json"
        entries = json.loads(metrics.read_text()) if metrics.is_file() else []
        self.metrics: Dict[str, Dict[str, Any]] = {
            m["column"]: {"value": m["value"], "unit": m["unit"], "details": m["details"]} for m in entries
        }

    @property
    def status(self) -> str:
        return self.info.get("status", "")

    @property
    def populations(self) -> List[str]:
        return list(self.info.get("populations", {}))

    def _npy(self, *parts: str) -> np.ndarray:
        path = self.directory.joinpath(*parts)
        if not path.is_file():
            raise KeyError(f"{path.relative_to(self.directory)} was not recorded")
        return np.load(path)

    def spikes(self, population: str) -> Tuple[np.ndarray, np.ndarray]:
        """Spike times (s, float64) and neuron indices (uint32) in time order."""
        return self._npy("spikes", f"{population}.t.npy"), self._npy("spikes", f"{population}.i.npy")

    def spikes_df(self, population: Optional[str] = None):
        """Spikes in long format (pandas): population, neuron, t."""
        import pandas as pd

        frames = []
        for pop in [population] if population else self.recorded("spikes"):
            t, i = self.spikes(pop)
            frames.append(pd.DataFrame({"population": pop, "neuron": i.astype(np.int64), "t": t}))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["population", "neuron", "t"])

    def recorded(self, kind: str) -> List[str]:
        """Populations (or projections) with a record of `kind`: spikes, state, weights, rate."""
        folder = self.directory / kind
        if not folder.is_dir():
            return []
        names = {p.name.split(".")[0] for p in folder.glob("*.npy")}
        return sorted(names)

    def state(self, population: str, variable: str):
        """A recorded state variable, samples × neurons in SI units: an
        xarray.DataArray with `t` and `neuron` coordinates when xarray is
        installed, else a NumPy array (see `state_arrays`)."""
        values, t, index = self.state_arrays(population, variable)
        try:
            import xarray as xr
        except ImportError:
            return values
        unit = self._unit("state", population, variable)
        return xr.DataArray(
            values, coords={"t": t, "neuron": index}, dims=("t", "neuron"), name=variable, attrs={"units": unit}
        )

    def state_arrays(self, population: str, variable: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values samples × neurons, sample times, neuron indices)."""
        values = self._npy("state", f"{population}.{variable}.npy")
        return values, self._npy("state", f"{population}.t.npy"), self._npy("state", f"{population}.index.npy")

    def weights(self, projection: str, variable: str = "w") -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A recorded synaptic variable of projection `pre-post`: (values
        samples × synapses, sample times, pre indices, post indices)."""
        return (
            self._npy("weights", f"{projection}.{variable}.npy"),
            self._npy("weights", f"{projection}.t.npy"),
            self._npy("weights", f"{projection}.pre.npy"),
            self._npy("weights", f"{projection}.post.npy"),
        )

    def rate(self, population: str) -> Tuple[np.ndarray, np.ndarray]:
        """A recorded population rate (`record rate of P bin D`): bin start
        times (s) and the rate in each bin (Hz)."""
        return self._npy("rate", f"{population}.t.npy"), self._npy("rate", f"{population}.npy")

    def rates(self) -> Dict[str, float]:
        """Mean rate of every population over the run (Hz)."""
        return {k: v.get("mean_rate_hz") for k, v in self.info.get("populations", {}).items()}

    def _unit(self, kind: str, of: str, variable: str) -> str:
        for f in self.info.get("manifest", []):
            if f.get("kind") == kind and f.get("of") == of and f.get("variable") == variable:
                return f.get("unit", "")
        return ""

    def __repr__(self) -> str:
        return f"<hebb.Run {self.directory} status={self.status!r}>"

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(p)}</td><td>{v.get('size')}</td><td>{v.get('spikes')}</td>"
            f"<td>{(v.get('mean_rate_hz') or 0):.3g}</td></tr>"
            for p, v in self.info.get("populations", {}).items()
        )
        def number(x: Any) -> str:
            return "–" if x is None else f"{x:.4g}"

        metrics = "".join(
            f"<tr><td>{escape(c)}</td><td>{number(m['value'])}</td><td>{escape(m['unit'])}</td></tr>"
            for c, m in self.metrics.items()
        )
        info = self.info
        head = (
            f"<b>hebb run</b> {escape(str(self.directory))}: {escape(self.status)}, "
            f"{info.get('simulated', 0):.4g} s simulated, seed {info.get('seed')}, variant {escape(str(info.get('variant')))}"
        )
        table = "<table><tr><th>population</th><th>size</th><th>spikes</th><th>rate (Hz)</th></tr>" + rows + "</table>"
        if metrics:
            table += "<table><tr><th>metric</th><th>value</th><th>unit</th></tr>" + metrics + "</table>"
        return f"<div>{head}{table}</div>"


def compare(
    model: Union[str, os.PathLike],
    variants: Optional[List[str]] = None,
    seeds: Optional[List[int]] = None,
    duration: Optional[float] = None,
    output: Optional[Union[str, os.PathLike]] = None,
    jobs: Optional[int] = None,
):
    """Runs the base model and its experiment's variants (all, or those
    named) once per seed (the experiment's `seeds`, or those given), in
    parallel in-process (`jobs` threads, default the number of cores: the
    runs release the GIL), each into `output/<variant>/seed-<s>/` as
    `hebb compare` lays them out, and returns a pandas DataFrame with one
    row per run: variant, seed, status and every metric's value. The runs
    are identical to those of `hebb compare` with the same seeds; for its
    confidence intervals and paired tests, use `hebb compare` (or `hebb
    collect` on a `hebb plan`)."""
    import pandas as pd
    from concurrent.futures import ThreadPoolExecutor

    text, is_path = _source(model)
    names, default_seeds = _hebb.experiment(text, is_path)
    unknown = [v for v in (variants or []) if v not in names]
    if unknown:
        raise HebbError(f"unknown variant(s) {unknown}; the experiment has {names}")
    out = Path(os.fspath(output)) if output is not None else Path(tempfile.mkdtemp(prefix="hebb-compare-"))
    runs = [(v, s) for v in ["base", *(variants if variants is not None else names)] for s in (seeds or default_seeds)]

    def one(vs: Tuple[str, int]) -> Dict[str, Any]:
        v, s = vs
        directory = out / v / f"seed-{s}"
        _hebb.run(text, is_path, str(directory), [], s, duration, None if v == "base" else v, 1)
        r = load(directory)
        return {"variant": v, "seed": s, "status": r.status, **{c: m["value"] for c, m in r.metrics.items()}}

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        rows = list(pool.map(one, runs))
    return pd.DataFrame(rows)


def load(directory: Union[str, os.PathLike]) -> Run:
    """The run a directory holds (written by `hebb run`, or `hebb.run`)."""
    return Run(directory)


def load_study(directory: Union[str, os.PathLike]):
    """A study (`hebb compare`/`sweep`/`plan` + `collect`) as a pandas
    DataFrame with one row per run: variant (or point), seed, status, the
    params the run changed (one column each), and every metric."""
    import pandas as pd

    directory = Path(directory)
    table = pd.read_csv(directory / "compare.csv")
    plan = directory / "plan.jsonl"
    if plan.is_file():
        entries = [json.loads(line) for line in plan.read_text().splitlines()[1:] if line.strip()]
        params: Dict[Tuple[str, int], Dict[str, Any]] = {}
        for e in entries:
            key = (e.get("label"), e.get("seed"))
            params[key] = {k: v for k, v in _overrides(e).items()}
        first = table.columns[0]
        names = sorted({k for p in params.values() for k in p})
        for name in names:
            table[name] = [params.get((row[first], row["seed"]), {}).get(name) for _, row in table.iterrows()]
    return table


def _overrides(entry: Dict[str, Any]) -> Dict[str, Any]:
    """The `Type.param=value` settings of a plan entry, as a dict."""
    out: Dict[str, Any] = {}
    for text in entry.get("settings", []) or []:
        name, _, value = str(text).partition("=")
        out[name.strip()] = value.strip()
    return out
