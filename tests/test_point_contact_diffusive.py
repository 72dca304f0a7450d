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
    with pytest.raises(mc.ConfigError, match="source.kind: the equivalent source on the opening"):
        diffusive_case(10.0, 10.0, 200.0, 1000, source="aperture")
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
            "background": {"mean_free_path": 1000.0, "first_order": True},
            "tallies": [{"kind": "current"}]}
    gamma = mc.run(mc.parse_case(data)).query("observable == 'gamma_wexler'").iloc[0]
    reference = cf.gamma_wexler_limit()
    assert reference == pytest.approx(0.7205, abs=2e-4)  # not Wexler's 9 pi^2/128 = 0.694
    assert gamma.stderr < 0.01 and abs(gamma.value - reference) < 4 * gamma.stderr
    with pytest.raises(mc.ConfigError, match="source.reservoir_radius: the first-order background"):
        mc.parse_case({**data, "source": {"kind": "aperture"}})
