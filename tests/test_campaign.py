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
