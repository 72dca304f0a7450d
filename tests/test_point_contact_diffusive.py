"""Point contact with a finite background mean free path: Sharvin to Maxwell (SPEC §2, beyond the papers)."""

import math

import numpy as np
import pytest

import mc
from observables.analytic import point_contact as cf


def diffusive_case(radius, mean_free_path, reservoir_radius, histories, seed=1, source="reservoir"):
    return mc.parse_case({
        "name": "diffusive", "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "aperture", "radius": radius},
        "background": {"mean_free_path": mean_free_path},
        "source": {"kind": source, "reservoir_radius": reservoir_radius},
        "tallies": [{"kind": "current"}],
    })


def test_background_far_longer_than_the_system_leaves_the_sharvin_resistance():
    frame = mc.run(diffusive_case(10.0, 1e7, 25.0, 200_000))
    row = frame[frame.observable == "resistance"].iloc[0]
    assert math.isnan(row.reference)  # the ballistic closed form is not claimed for l < inf ...
    assert abs(row.value - cf.sharvin_resistance(10.0)) < 4 * row.stderr  # ... but is the l -> inf limit


def test_short_mean_free_path_approaches_maxwell():
    # K = l/a = 0.1: Gamma = 1 - O(K) (Maxwell limit, Gamma(0) = 1); the O(K) term is below 0.1
    frame = mc.run(diffusive_case(20.0, 2.0, 200.0, 1_000_000))
    gamma = frame[frame.observable == "gamma_wexler"].iloc[0]
    assert gamma.knudsen == pytest.approx(0.1)
    assert gamma.stderr < 0.05
    assert 1.0 - 0.1 - 4 * gamma.stderr < gamma.value < 1.0 + 4 * gamma.stderr


def test_finite_mean_free_path_input_is_checked():
    with pytest.raises(mc.ConfigError, match="source.reservoir_radius: a background scatters on every flight"):
        diffusive_case(10.0, 10.0, math.inf, 1000, source="aperture")
    data = {"name": "neck", "histories": 1000, "geometry": {"kind": "constriction", "radius": 5.0, "length": 5.0,
                                                            "radius_exit": 3.0, "specularity": 0.0},
            "background": {"mean_free_path": 10.0, "estimator": "correlated"},
            "source": {"kind": "aperture", "reservoir_radius": 50.0}, "tallies": [{"kind": "current"}]}
    with pytest.raises(mc.ConfigError, match="background.estimator: \"correlated\" measures I\\(l\\) - I\\(ballistic\\)"):
        mc.parse_case(data)
    with pytest.raises(mc.ConfigError, match="background.mean_free_path: estimator = \"correlated\" measures"):
        mc.parse_case({**data, "background": {"estimator": "correlated"}})
    with pytest.raises(mc.ConfigError, match="background.estimator"):
        mc.parse_case({**data, "background": {"mean_free_path": 10.0, "estimator": "exact"}})
    specular_neck = {**data, "geometry": {"kind": "constriction", "radius": 5.0, "length": 5.0, "specularity": 1.0}}
    with pytest.raises(mc.ConfigError, match="background.estimator: \"correlated\" follows ballistic electrons"):
        mc.parse_case(specular_neck)
    diffuse_neck = {**data, "geometry": {"kind": "constriction", "radius": 5.0, "length": 5.0, "specularity": 0.0}}
    assert mc.parse_case(diffuse_neck).model.correlated
    with pytest.raises(mc.ConfigError, match="background.mean_free_path: must be > 0"):
        diffusive_case(10.0, -1.0, 200.0, 1000)
    with pytest.raises(mc.ConfigError, match="background.mean_free_path: l = 0.001 needs about"):
        diffusive_case(10.0, 1e-3, 200.0, 1000)


def test_impurity_in_a_diffusive_contact_analog_equals_next_event():
    # beyond the papers: the next-event estimator traces the occupation of each incoming
    # direction back through the background scattering; the analog one just collides
    data = {"name": "diffusive-impurity", "seed": 5, "histories": 100_000, "batches": 20,
            "geometry": {"kind": "aperture", "radius": 5.0}, "background": {"mean_free_path": 5.0},
            "source": {"kind": "reservoir", "reservoir_radius": 20.0},
            "impurities": [{"position": [1.0, 0, 3.0], "scatterer": {"model": "phase_shifts", "phase_shifts": [0.3, 0.2]}}],
            "tallies": [{"kind": "wind_force", "estimator": "both"}, {"kind": "backscatter_current", "estimator": "both"},
                        {"kind": "collision_rate", "estimator": "both"}]}
    frame = mc.run(mc.parse_case(data))
    keys = ["observable", "component"]
    analog = frame[frame.estimator == "analog"].set_index(keys)
    nxt = frame[frame.estimator == "next_event"].set_index(keys)
    z = (analog.value - nxt.value) / np.hypot(analog.stderr, nxt.stderr)
    assert len(z) == 6 and np.all(np.abs(z) < 4), z
    assert (nxt.loc[("wind_force", "z")].value > 0) and nxt.loc[("backscatter_current", "")].value < 0


def test_point_contact_diffusive_example_runs_unchanged(examples_dir):
    frame = mc.run(mc.load_case(examples_dir / "point_contact_diffusive.toml", histories=400_000))
    gamma = frame[frame.observable == "gamma_wexler"].iloc[0]
    assert gamma.knudsen == 1.0
    # between the Maxwell (1) and Knudsen (9 pi^2/128) limits, within the statistics of 4e5 histories
    assert 9 * math.pi**2 / 128 - 4 * gamma.stderr < gamma.value < 1.0 + 4 * gamma.stderr


def test_first_order_background_gives_gamma_at_infinite_knudsen_number():
    # the background to first order in 1/l: flights stay ballistic, every flight segment
    # scatters with weight length/l and the scattered electron is traced to its reservoir
    data = {"name": "first-order", "seed": 3, "histories": 200_000, "batches": 20,
            "geometry": {"kind": "aperture", "radius": 10.0},
            "source": {"kind": "aperture", "reservoir_radius": 100.0},
            "background": {"mean_free_path": 1000.0, "estimator": "first_order"},
            "tallies": [{"kind": "current"}]}
    gamma = mc.run(mc.parse_case(data)).query("observable == 'gamma_wexler'").iloc[0]
    reference = cf.gamma_wexler_limit()
    assert reference == pytest.approx(0.7205, abs=2e-4)  # not Wexler's 9 pi^2/128 = 0.694
    assert gamma.stderr < 0.01 and abs(gamma.value - reference) < 4 * gamma.stderr
    with pytest.raises(mc.ConfigError, match="source.reservoir_radius: a background scatters on every flight"):
        mc.parse_case({**data, "source": {"kind": "aperture"}})


def test_equivalent_source_is_exact_with_a_background():
    # the upstream occupation 1 is unchanged by collisions and walls, so the +-1 pair emitted by
    # the opening carries the whole deviation at any l: it must give the analog reservoir's
    # current, with far smaller error bars (K = 1, reservoirs at 5 a)
    equivalent = mc.run(diffusive_case(5.0, 5.0, 25.0, 60_000, seed=3, source="aperture"))
    analog = mc.run(diffusive_case(5.0, 5.0, 25.0, 600_000, seed=4))
    e, a = (f[f.observable == "current"].iloc[0] for f in (equivalent, analog))
    assert abs(e.value - a.value) < 4 * math.hypot(e.stderr, a.stderr), (e.value, a.value)
    assert e.stderr < 0.5 * a.stderr
    assert 0.3 * cf.sharvin_current(5.0) < e.value < 0.9 * cf.sharvin_current(5.0)  # the background matters


def gamma_rows(knudsen, histories, estimator, seed, wall="specular", reservoir=None):
    frame = mc.run(mc.parse_case({
        "name": "gamma", "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "aperture", "radius": 1.0, "wall": wall},
        "background": {"mean_free_path": knudsen, "estimator": estimator},
        "source": {"kind": "aperture", "reservoir_radius": reservoir or max(5.0, 10.0 * knudsen)},
        "tallies": [{"kind": "current"}]}))
    rows = frame[frame.observable == "gamma_wexler"]
    return {("analog" if e == "" or e != e else e): r for e, r in zip(rows.estimator, rows.itertuples())}


def test_correlated_estimator_agrees_with_analog_where_both_work():
    # one run, two estimates of Gamma(K = 3): the drain count and I_Sharvin + (G_l C G_0) / l
    rows = gamma_rows(3.0, 40_000, "correlated", seed=11)
    analog, correlated = rows["analog"], rows["correlated"]
    assert abs(analog.value - correlated.value) < 4 * math.hypot(analog.stderr, correlated.stderr)
    assert 0.7 < correlated.value < 0.9 and correlated.stderr < 0.03


def test_correlated_estimator_tends_to_the_first_order_derivation():
    # K = 1000: Gamma(K) - Gamma(inf) = O(1/K) is far below the error bar; the analog drain count
    # of the same run cannot resolve the 0.1 % resistance change (its error bar is ~10x larger)
    rows = gamma_rows(1000.0, 40_000, "correlated", seed=12)
    correlated, analog = rows["correlated"], rows["analog"]
    reference = cf.gamma_wexler_limit()
    assert correlated.stderr < 0.02 and abs(correlated.value - reference) < 4 * correlated.stderr
    assert analog.stderr > 5 * correlated.stderr


def test_first_order_limit_is_the_same_for_diffuse_screens():
    # a collision's electron that reaches the screen leaves it away from the hole, whatever the
    # wall law, so the first-order integral (the row's reference) holds for diffuse screens too
    row = gamma_rows(1000.0, 100_000, "first_order", seed=13, wall="diffuse", reservoir=50.0)["first_order"]
    assert row.reference == pytest.approx(cf.gamma_wexler_limit())
    assert row.stderr < 0.01 and abs(row.value - row.reference) < 4 * row.stderr
