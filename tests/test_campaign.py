"""Campaigns (emmc sweep): key paths, validation before work, tables, and the N^-1/2 law."""

import numpy as np
import pandas as pd
import pytest

import mc
from mc.campaign import campaign_cases, parse_assignment, set_key
from mc.cli import main
from runs.convergence_study import CASE, slopes


def test_assignments_are_toml_values_and_arrays_sweep():
    assert parse_assignment("geometry.radius=[5.0, 10.0]") == ("geometry.radius", [5.0, 10.0])
    assert parse_assignment("seed=3") == ("seed", [3])
    assert parse_assignment('source.kind="reservoir"') == ("source.kind", ["reservoir"])
    key, values = parse_assignment("impurities[0].position=[[0, 0, 5], [0, 0, 9]]")
    assert values == [[0, 0, 5], [0, 0, 9]]
    with pytest.raises(mc.ConfigError, match="--set geometry.radius: value is not TOML"):
        parse_assignment("geometry.radius=five")
    with pytest.raises(mc.ConfigError, match="expected KEY=VALUE"):
        parse_assignment("geometry.radius")


def test_set_key_walks_tables_and_arrays_of_tables():
    data = {"geometry": {"radius": 1.0}, "impurities": [{"position": [0, 0, 1]}]}
    set_key(data, "impurities[0].position", [1, 2, 3])
    set_key(data, "source.kind", "reservoir")
    assert data["impurities"][0]["position"] == [1, 2, 3] and data["source"] == {"kind": "reservoir"}
    with pytest.raises(mc.ConfigError, match="index \\[3\\] is out of range"):
        set_key(data, "impurities[3].position", [0, 0, 1])


def test_every_point_is_validated_before_any_runs():
    with pytest.raises(mc.ConfigError, match="geometry.radius: must be > 0.0, got -2.0 \\(in the sweep point"):
        campaign_cases(CASE, {"geometry.radius": [5.0, -2.0], "histories": [1000]})
    with pytest.raises(mc.ConfigError, match="geometry.colour: unknown key"):
        campaign_cases(CASE, {"geometry.colour": ["red"], "histories": [1000]})


def test_sweep_table_has_a_column_per_swept_key_and_stderr_falls_as_inverse_sqrt():
    frame = mc.sweep(CASE, {"histories": [20_000, 80_000, 320_000], "geometry.radius": [10.0]})
    assert set(frame["geometry.radius"]) == {10.0}
    assert sorted(frame.histories.unique()) == [20_000, 80_000, 320_000]
    fits = slopes(frame)
    # batch stderrs scatter by ~16 % each; over a factor 16 in N the slope is known to about +-0.07
    assert np.all(np.abs(fits.slope + 0.5) < 0.1), fits


def test_cli_sweep_writes_one_table_and_rejects_bad_points(tmp_path, capsys, examples_dir):
    out = tmp_path / "sweep"
    args = ["sweep", str(examples_dir / "point_contact_ballistic.toml"), "--set", "histories=[20000, 40000]",
            "--set", 'source.kind="aperture"', "--out", str(out), "--quiet"]
    assert main(args) == 0
    frame = pd.read_parquet(out / "results.parquet")
    assert sorted(frame.histories.unique()) == [20_000, 40_000] and (frame["source.kind"] == "aperture").all()
    bad = tmp_path / "bad"
    assert main(["sweep", str(examples_dir / "point_contact_ballistic.toml"), "--set", "geometry.radius=[10.0, -1.0]",
                 "--out", str(bad)]) == 2
    assert "geometry.radius: must be > 0.0" in capsys.readouterr().err
    assert not bad.exists()


SMALL = {**CASE, "histories": 20_000, "batches": 10}


def _write_case(tmp_path, data=SMALL):
    from mc.config import dump_toml

    path = tmp_path / "case.toml"
    path.write_text(dump_toml(data))
    return path


def _failing_last_point(monkeypatch, radius):
    """Make the point with this hole radius fail when its table is made, after its batches ran."""
    import dataclasses

    import mc.point_contact as point_contact

    real = point_contact.prepare

    def prepare(case):
        simulation = real(case)
        if case.model.contact.radius != radius:
            return simulation

        def finalize(batches):
            raise FloatingPointError("the reference quadrature diverged")

        return dataclasses.replace(simulation, finalize=finalize)

    monkeypatch.setattr(point_contact, "prepare", prepare)


def test_a_failing_point_is_reported_and_the_finished_points_are_written_and_resumed(tmp_path, capsys, monkeypatch):
    import json

    _failing_last_point(monkeypatch, 12.0)
    out = tmp_path / "sweep"
    args = ["sweep", str(_write_case(tmp_path)), "--set", "geometry.radius=[10.0, 11.0, 12.0]", "--out", str(out),
            "--quiet"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "point 3 of 3 (geometry.radius=12.0) failed: FloatingPointError: the reference quadrature diverged" in err
    frame = pd.read_parquet(out / "results.parquet")
    assert sorted(frame["geometry.radius"].unique()) == [10.0, 11.0]
    record = json.loads((out / "provenance.json").read_text())
    assert record["points_failed"] == [{"point": {"geometry.radius": 12.0}, "error": "FloatingPointError: the reference quadrature diverged"}]
    before = (out / "results.csv").read_bytes()
    # --resume runs nothing again (every batch of the three points is kept) and writes the same table
    assert main(args + ["--resume"]) == 1
    assert json.loads((out / "provenance.json").read_text())["batches_resumed"] == 30
    assert (out / "results.csv").read_bytes() == before


def test_progress_lines_when_stderr_is_not_a_terminal_at_most_every_interval(tmp_path, capsys, monkeypatch):
    import mc.progress

    args = ["sweep", str(_write_case(tmp_path)), "--set", "seed=[1, 2]"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert "histories" not in capsys.readouterr().err  # a short campaign: no line within 10 s
    monkeypatch.setattr(mc.progress, "INTERVAL", 0.0)
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "histories" in line]
    assert lines and lines[-1].startswith("case: 100% of 40,000 histories, 2/2 points")


def test_converge_writes_the_table_the_fitted_slopes_and_a_log_log_figure(tmp_path, capsys):
    out = tmp_path / "converge"
    assert main(["converge", str(_write_case(tmp_path, {**CASE, "histories": 320_000})), "--out", str(out),
                 "--steps", "3"]) == 0
    assert "median fitted slope" in capsys.readouterr().out
    table = pd.read_csv(out / "results.csv")
    assert sorted(table.histories.unique()) == [20_000, 80_000, 320_000]
    slopes = pd.read_csv(out / "convergence_slopes.csv", keep_default_na=False, na_values=[""])
    density = slopes[slopes.observable == "density"].iloc[0]
    assert abs(density.slope_z) < 4 and density.slope < 0 and abs(density.slope + 0.5) < 4 * density.slope_stderr
    assert (out / "convergence.png").stat().st_size > 1000
