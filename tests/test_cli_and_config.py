"""The emmc command line and the config contract (SPEC §6, §7): tables, bad input, examples."""

import math
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import mc
from conftest import aperture_case, assert_agrees
from mc.cli import main
from observables.tables import OBSERVABLES, REQUIRED_COLUMNS

GOOD = aperture_case()


def write(tmp_path, text, name="case.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_cli_run_writes_csv_and_parquet_with_the_contract_columns(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path, GOOD)), "--out", str(out), "--quiet"]) == 0
    csv = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    parquet = pd.read_parquet(out / "results.parquet")
    assert list(csv.columns[: len(REQUIRED_COLUMNS)]) == REQUIRED_COLUMNS
    assert list(parquet.columns[: len(REQUIRED_COLUMNS)]) == REQUIRED_COLUMNS
    assert set(parquet.observable) <= OBSERVABLES
    assert {"current", "resistance", "density", "potential"} <= set(parquet.observable)
    assert len(csv) == len(parquet)
    # one run per directory: the tables, their timing, the case as run, its provenance, emmc's state
    assert {p.name for p in out.iterdir()} == {"results.csv", "results.parquet", "timing.csv", "case.toml",
                                              "provenance.json", ".emmc"}
    assert not {"seconds", "fom"} & set(csv.columns), "timing columns make equal runs differ"


def test_python_api_returns_the_same_table_as_the_cli(tmp_path):
    out = tmp_path / "out"
    main(["run", str(write(tmp_path, GOOD)), "--out", str(out), "--quiet"])
    api = mc.run(mc.load_case(write(tmp_path, GOOD)))
    disk = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_series_equal(api["value"], disk["value"], check_exact=True)


def test_command_line_overrides_histories_and_seed(tmp_path):
    case = mc.load_case(write(tmp_path, GOOD), histories=5000, seed=9)
    assert case.settings.histories == 5000 and case.settings.seed == 9


BAD = [
    ("radius = 10.0", "radius = -1.0", "geometry.radius: must be > 0"),
    ("radius = 10.0", "radius = nan", "geometry.radius: must be finite"),
    ("radius = 10.0", "radius = 10.0\ncolour = 3", "geometry.colour: unknown key"),
    ("histories = 20_000", "histories = 0", "histories: must be >= 1"),
    ("probes = [[0, 0, 5.0]]", "probes = [[20.0, 0, 0.2]]", "tallies[1].probes[0]: probe ball"),
    ("probes = [[0, 0, 5.0]]", "probes = [[0, 0]]", "tallies[1].probes[0]: must be a list of 3 numbers"),
    ('kind = "aperture"\n[[tallies]]', 'kind = "aperture"\nreservoir_radius = 5.0\n[[tallies]]', "source.reservoir_radius: must exceed"),
    ('kind = "current"', 'kind = "currant"', "tallies[0].kind: must be one of"),
    ('kind = "aperture"\nradius', 'kind = "torus"\nradius', "geometry.kind: must be one of"),
]


@pytest.mark.parametrize("old,new,message", BAD)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, capsys, old, new, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("emmc: error: ") and message in err, err
    assert not out.exists(), "nothing may be written for bad input"


def test_bad_command_line_values_are_rejected(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--histories", "0"]) == 2
    assert "histories: must be >= 1" in capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--histories", "many"]) == 2
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--threads", "0"]) == 2
    assert not (tmp_path / "o").exists()


def test_invalid_toml_syntax(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, "name = ")), "--out", str(tmp_path / "o")]) == 2
    assert "invalid TOML" in capsys.readouterr().err


def test_emmc_console_script_end_to_end(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mc", "run", str(write(tmp_path, GOOD)), "--out", str(out), "--plot"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "current" in proc.stdout
    assert (out / "results.parquet").exists()
    assert any(p.suffix == ".png" for p in out.iterdir())


def test_point_contact_example_runs_unchanged(examples_dir, tmp_path):
    # point_contact_ballistic.toml, shortened by the documented --histories override only
    case = mc.load_case(examples_dir / "point_contact_ballistic.toml", histories=200_000)
    frame = mc.run(case)
    # whichever source the example uses: an analog current within 4 sigma, or the
    # equivalent-source current, which is exact (stderr 0) and must equal a^2/4pi
    assert_agrees(frame)
    current = frame[frame.observable == "current"].iloc[0]
    assert current.reference == pytest.approx(100 / (4 * math.pi), rel=1e-12)
    assert len(frame[frame.observable == "density"]) == 6
    assert (frame.case == "point-contact-ballistic").all()


def test_material_preset_adds_si_columns(tmp_path):
    out = tmp_path / "si"
    assert main(["run", str(write(tmp_path, GOOD)), "--out", str(out), "--quiet", "--material", "Al", "--delta-mu-ev", "0.002"]) == 0
    frame = pd.read_parquet(out / "results.parquet")
    resistance = frame[frame.observable == "resistance"].iloc[0]
    assert resistance.value_si == pytest.approx(resistance.value * 4108.236, rel=1e-9) and resistance.units_si == "Ohm"
    current = frame[frame.observable == "current"].iloc[0]
    assert current.value_si == pytest.approx(current.value * 0.002 / 4108.236, rel=1e-9) and current.units_si == "A"
    probe = frame[frame.observable == "density"].iloc[0]
    assert probe.z_angstrom == pytest.approx(5.0 / 1.75)
    assert main(["run", str(write(tmp_path, GOOD)), "--out", str(tmp_path / "bad"), "--material", "Unobtainium"]) == 2
    assert not (tmp_path / "bad").exists()


def _one_line_error(capsys, message):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("emmc: error: ") and message in err, err
    return err


MESH_MEMORY = GOOD.replace("batches = 10", "batches = 100_000").replace("histories = 20_000", "histories = 200_000").replace(
    "probes = [[0, 0, 5.0]]", "mesh = { rho_max = 20.0, n_rho = 1000, z_min = -20.0, z_max = 20.0, n_z = 1000 }")

REVIEW = [
    (GOOD.replace("radius = 10.0", "radius = 1e300"), "geometry.radius: must be within +-1e+12"),
    (GOOD.replace("histories = 20_000", "histories = 1e20"), "histories: must be a 64-bit integer"),
    (GOOD.replace("histories = 20_000", "histories = 1_000_000_000_000_000_000"),
     "histories: 1e+18 histories take at least"),
    (MESH_MEMORY, "memory: 3,000,00"),
]


@pytest.mark.parametrize("text,message", REVIEW)
def test_reliability_review_inputs_are_one_line_and_write_nothing(tmp_path, capsys, text, message):
    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path, text)), "--out", str(out), "--quiet"]) == 2
    _one_line_error(capsys, message)
    assert not out.exists()


def test_a_case_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace('"cli-test"', '"caf\xe9"').encode("latin-1"))
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "is not UTF-8 text")
    assert not (tmp_path / "o").exists()


def test_command_line_counts_read_like_toml_numbers_and_threads_are_bounded(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--histories", "1e5", "--quiet"]) == 0
    assert pd.read_csv(tmp_path / "a" / "results.csv").histories.iloc[0] == 100_000
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--histories", "1.5e4", "--batches", "2.5"]) == 2
    _one_line_error(capsys, "batches: must be an integer, got 2.5")
    from mc.runner import available_threads

    too_many = available_threads() + 1
    assert main(["run", str(path), "--out", str(tmp_path / "c"), "--threads", str(too_many)]) == 2
    _one_line_error(capsys, f"--threads: {too_many} exceeds the {available_threads()} threads available")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_sweep_rejects_an_empty_array_and_a_repeated_key(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--set", "histories=[]", "--out", str(out)]) == 2
    _one_line_error(capsys, "--set histories: an empty array sweeps nothing")
    assert main(["sweep", str(path), "--set", "seed=[1, 2]", "--set", "seed=3", "--out", str(out)]) == 2
    _one_line_error(capsys, "--set seed: is given twice")
    assert not out.exists()


def test_a_square_well_too_deep_for_the_phase_shift_continuation_is_refused_at_once(capsys):
    import time

    start = time.perf_counter()
    assert main(["scatterer", "square_well", "--set", "radius=100", "--set", "depth=1e6"]) == 2
    _one_line_error(capsys, "scatterer.depth: radius 100 and depth 1e+06 (K R = 1.414e+05) need")
    assert time.perf_counter() - start < 30, "the refusal must come before the work"
    assert main(["scatterer", "square_well", "--set", "radius=1", "--set", "depth=1", "--set", "radius=2"]) == 2
    _one_line_error(capsys, "--set: 'radius' is given twice")
    # a step so high that e^(kappa R) overflows gave NaN phase shifts
    assert main(["scatterer", "square_well", "--set", "radius=10", "--set", "depth=-1e6"]) == 2
    _one_line_error(capsys, "scatterer.depth: a repulsive step of radius 10 and height 1e+06 has kappa R = 1.414e+04 > 600")


def test_ctrl_c_during_start_up_is_one_line_and_writes_nothing(tmp_path):
    import os
    import signal

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    path = write(tmp_path, GOOD.replace("histories = 20_000", "histories = 50_000_000"))
    # from just after the interpreter is up (before that, Python itself prints the traceback) to the
    # compile; the interpreter's own start-up time, measured here, grows on a loaded machine
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys"], check=True)
    interpreter = time.perf_counter() - start
    for delay in (interpreter + 0.1, interpreter + 0.35, interpreter + 0.9):
        out = tmp_path / f"out{delay}"
        proc = subprocess.Popen([sys.executable, "-m", "mc", "run", str(path), "--out", str(out)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and err.strip().count("\n") == 0 and err.startswith("emmc: "), err
        assert not out.exists() or not any(out.iterdir()) or (out / ".emmc" / "cases").exists()


def test_tables_are_clean_in_memory_and_on_disk(tmp_path, examples_dir):
    from observables.tables import UNITS, read_table, write_table

    frames = [mc.run(mc.load_case(examples_dir / name, histories=20_000))
              for name in ("point_contact_impurity.toml", "slab_reservoirs.toml", "chain_landauer.toml",
                           "bulk_boltzmann.toml")]
    for frame in frames:
        assert set(frame.units) <= set(UNITS), set(frame.units) - set(UNITS)
        assert str(frame.histories.dtype) in ("int64", "Int64") and str(frame.seed.dtype) in ("int64", "Int64")
        for column in frame.columns[len(REQUIRED_COLUMNS):]:
            assert not frame[column].isna().all(), f"{column} is empty in every row"
    impurity = frames[0]
    assert pd.api.types.is_integer_dtype(impurity.impurity)
    with_gaps = mc.run(mc.parse_case({**mc.load_case(examples_dir / "point_contact_impurity.toml").data,
                                      "histories": 20_000, "tallies": [{"kind": "current"}, {"kind": "wind_force"}]}))
    assert str(with_gaps.impurity.dtype) == "Int64"  # an index with gaps: nullable integers, not floats
    # a reference that vanishes by symmetry is exactly 0, not -3.9e-21
    on_axis = impurity[(impurity.observable == "wind_force") & (impurity.x == 0) & (impurity.component != "z")]
    assert len(on_axis) and (on_axis.reference == 0.0).all()
    write_table(impurity, tmp_path)
    csv, parquet = read_table(tmp_path / "results.csv"), read_table(tmp_path / "results.parquet")
    pd.testing.assert_series_equal(csv.component, parquet.component)
    assert (csv.component == "").sum() == (impurity.component == "").sum() > 0
    raw_csv, raw_parquet = pd.read_csv(tmp_path / "results.csv"), pd.read_parquet(tmp_path / "results.parquet")
    assert raw_csv.component.isna().equals(raw_parquet.component.isna())  # the same with plain pandas too
