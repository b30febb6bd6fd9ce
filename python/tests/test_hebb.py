"""The Python package against the command line: the same model and seed
give byte-identical spikes in-process and from `hebb run`; arrays are the
.npy files; a study loads one row per run; bad models raise with the CLI's
codes."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hebb

ROOT = Path(__file__).resolve().parents[2]
HEBB = os.environ.get("HEBB_BIN", str(ROOT / "target" / "release" / "hebb"))
CUBA = ROOT / "models" / "cuba.hebb"


def cli(*args, check=True):
    return subprocess.run([HEBB, *map(str, args)], capture_output=True, text=True, check=check,
                          env={**os.environ, "NO_COLOR": "1"})


def test_run_in_process_gives_the_cli_spikes_byte_for_byte(tmp_path):
    cli("run", CUBA, "--seed", "3", "--duration", "200 ms", "-o", tmp_path / "cli", "--quiet")
    run = hebb.run(CUBA, seed=3, duration=0.2, output=tmp_path / "py")
    assert run.status == "ok"
    for pop in ("P",):
        for part in ("t", "i"):
            a = (tmp_path / "cli" / "spikes" / f"{pop}.{part}.npy").read_bytes()
            b = (tmp_path / "py" / "spikes" / f"{pop}.{part}.npy").read_bytes()
            assert a == b, f"{pop}.{part} differs"
    t, i = run.spikes("P")
    assert t.dtype == np.float64 and i.dtype == np.uint32 and len(t) == len(i) > 0
    assert np.all(np.diff(t) >= 0) and t.max() < 0.2


def test_loaded_arrays_are_the_npy_files(tmp_path):
    out = tmp_path / "run"
    cli("run", CUBA, "--duration", "100 ms", "-o", out, "--quiet")
    run = hebb.load(out)
    t, i = run.spikes("P")
    assert np.array_equal(t, np.load(out / "spikes" / "P.t.npy"))
    assert np.array_equal(i, np.load(out / "spikes" / "P.i.npy"))
    assert "P" in run.populations
    rates = run.rates()
    assert rates["P"] == json.loads((out / "run.json").read_text())["populations"]["P"]["mean_rate_hz"]
    df = run.spikes_df()
    assert list(df.columns) == ["population", "neuron", "t"] and len(df) == len(t)
    html = run._repr_html_()
    assert "hebb run" in html and "<table>" in html


def test_state_is_a_dataarray_with_time_and_neuron_coordinates(tmp_path):
    model = ROOT / "models" / "neurons" / "lif.hebb"
    run = hebb.run(model, duration=0.05, output=tmp_path / "lif")
    recorded = run.recorded("state")
    assert recorded, "the LIF demo records a state"
    pop = recorded[0]
    var = next(p.name.split(".")[1] for p in (run.directory / "state").glob(f"{pop}.*.npy")
               if p.name.split(".")[1] not in ("t", "index"))
    values, t, index = run.state_arrays(pop, var)
    xr = pytest.importorskip("xarray")
    da = run.state(pop, var)
    assert isinstance(da, xr.DataArray) and da.dims == ("t", "neuron")
    assert np.array_equal(da.values, values) and np.array_equal(da["t"].values, t)
    assert np.array_equal(da["neuron"].values, index)


def test_a_bad_model_raises_with_the_cli_codes(tmp_path):
    bad = tmp_path / "bad.hebb"
    bad.write_text((ROOT / "models" / "cuba.hebb").read_text().replace("dv/dt   = (", "dv/dt   = (1 s + "))
    found = hebb.check(bad)
    codes = [d.code for d in found if d.severity == "error"]
    assert codes, "the broken model has errors"
    out = cli("check", bad, check=False)
    assert out.returncode == 1
    for code in codes:
        assert code in out.stdout + out.stderr
    with pytest.raises(hebb.HebbError) as e:
        hebb.run(bad, duration=0.01, output=tmp_path / "never")
    assert codes[0] in str(e.value)
    assert all(d.line > 0 and d.column > 0 for d in found)


def test_check_accepts_model_text_and_reports_nothing_for_a_good_model():
    assert [d for d in hebb.check(CUBA.read_text()) if d.severity == "error"] == []


def test_load_study_has_one_row_per_run_with_params(tmp_path):
    pd = pytest.importorskip("pandas")
    out = tmp_path / "study"
    model = ROOT / "models" / "tutorial" / "05_compare.hebb"
    cli("sweep", model, "--set", "AdaptiveLIF.eta=0mV,0.5mV", "--seeds", "1,2", "--duration", "1 s",
        "-o", out, "--quiet")
    study = hebb.load_study(out)
    assert isinstance(study, pd.DataFrame)
    assert len(study) == 4 and set(study["seed"]) == {1, 2}
    assert "AdaptiveLIF.eta" in study.columns
    assert set(study["AdaptiveLIF.eta"]) == {"0mV", "0.5mV"}
    assert "rates.exc.test" in study.columns or any(c.startswith("rates.exc") for c in study.columns)


def test_compare_in_process_matches_the_cli(tmp_path):
    pytest.importorskip("pandas")
    model = ROOT / "models" / "tutorial" / "05_compare.hebb"
    df = hebb.compare(model, variants=["no_ip"], seeds=[1, 2], duration=1.0, output=tmp_path / "py", jobs=2)
    assert list(df["variant"]) == ["base", "base", "no_ip", "no_ip"] and list(df["seed"]) == [1, 2, 1, 2]
    assert set(df["status"]) == {"ok"}
    cli("compare", model, "--variants", "no_ip", "--seeds", "1,2", "--duration", "1 s", "-o", tmp_path / "cli", "--quiet")
    for v in ("base", "no_ip"):
        for s in (1, 2):
            a = (tmp_path / "py" / v / f"seed-{s}" / "spikes" / "exc.t.npy").read_bytes()
            b = (tmp_path / "cli" / v / f"seed-{s}" / "spikes" / "exc.t.npy").read_bytes()
            assert a == b, f"{v} seed {s}"
    study = hebb.load_study(tmp_path / "cli")
    assert len(study) == len(df)
    with pytest.raises(hebb.HebbError):
        hebb.compare(model, variants=["nope"])


def test_the_quickstart_notebook_runs_top_to_bottom():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    path = ROOT / "python" / "examples" / "quickstart.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 2, "a raster and a comparison plot"
    html = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert any("hebb run" in o["data"]["text/html"] for o in html), "the Run's summary"


def test_a_recorded_population_rate_loads_in_hz(tmp_path):
    model = ROOT / "models" / "tutorial" / "02_network.hebb"
    run = hebb.run(model, duration=0.5, output=tmp_path / "rate")
    t, hz = run.rate("exc")
    assert np.array_equal(hz, np.load(tmp_path / "rate" / "rate" / "exc.npy"))
    assert len(t) == len(hz) == 100 and np.allclose(np.diff(t), 0.005)
    spikes, _ = run.spikes("exc")
    # The mean of the binned rate is the spike count over N and the time (N = 100).
    assert abs(hz.mean() - len(spikes) / 100 / 0.5) < 1e-9
