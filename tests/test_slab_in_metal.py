"""The impurity layer in a real metal (Sorbello Eqs. 47a-c, 26): the deterministic Peierls solutions
against the closed forms, the deviational and analog Monte Carlo against them within 4 standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mc
from conftest import assert_agrees, assert_thread_invariant
from mc.errors import ConfigError
from observables.analytic import slab_in_metal as metal

L_FREE = 20.0


def _case(reflection=None, *, estimator="deviational", histories=20_000, seed=5, length=8.0 * L_FREE,
          barrier=None, background=None, source=None):
    barrier = barrier or {"model": "table", "cos_theta": [0.0, 1.0], "reflection": [reflection, reflection]}
    return mc.parse_case({
        "name": "metal-test", "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "slab", "thickness": 2.0, "length": length, "barrier": barrier},
        "source": source or {"distribution": "bulk"},
        "background": background or {"mean_free_path": L_FREE, "estimator": estimator}})


def _constant(r):
    return lambda mu: np.full(np.shape(mu), r)


def test_first_order_peierls_gives_eqs_47a_and_47c():
    """The Galerkin solution is independent of the closed forms: its far-field drop tends to -6 int mu^3 R
    as the reservoirs recede (Milne's z0) and the density beside the layer to -+int mu R (47a)."""
    mu_r = lambda mu: 0.1 * (1.0 - mu) ** 2  # noqa: E731  (any smooth R)
    closed = metal.closed_forms(mu_r)
    far = [metal.deviation_solution(mu_r, (0, 1), 1.0, h).far_field_drop() for h in (4.0, 8.0)]
    assert abs(far[1] / closed["far_field_drop"] - 1.0) < 1e-3
    assert abs(far[1] - closed["far_field_drop"]) < abs(far[0] - closed["far_field_drop"]) + 1e-6
    solution = metal.deviation_solution(mu_r, (0, 1), 1.0, 4.0, required_edges=[1e-3], finest=2.5e-4)
    close_in = -(solution.bin_average(-1e-3, 0.0) - solution.bin_average(0.0, 1e-3))
    assert close_in == pytest.approx(closed["potential_drop"], rel=2e-3)


def test_exact_peierls_reduces_to_first_order_and_obeys_momentum_balance():
    """An angle-independent R in the kernel: O(R) relative departures from first order, and the force
    equals n0 times the far-field jump at every R (Eq. 26 by momentum balance: the 1D current is uniform)."""
    for r in (1e-4, 0.3):
        first = metal.deviation_solution(_constant(r), (0, 1), 1.0, 4.0)
        exact = metal.deviation_solution(_constant(r), (0, 1), 1.0, 4.0, constant_reflection=r)
        departure = exact.current / first.current - 1.0
        assert 0.0 < departure < 2.0 * r
        force = metal.reflected_wind_force(_constant(r)) + exact.force
        jump = -exact.far_field_drop() * (metal.BULK_DENSITY + exact.current) / metal.BULK_DENSITY
        assert force == pytest.approx(metal.BULK_DENSITY * jump, rel=2e-4)


def test_deviational_monte_carlo_matches_exact_peierls_at_strong_reflection():
    frame = mc.run(_case(0.3))
    assert_agrees(frame)
    exact_rows = frame[np.isfinite(frame["reference"])]
    assert len(exact_rows) == len(frame)  # the exact reference covers every row
    far = frame[frame.observable == "far_field_drop"].iloc[0]
    # and R = 0.3 is far from first order: the departure is the result (>= 10 sigma here)
    assert (far.value - far.first_order) / far.stderr < -5.0


def test_analog_monte_carlo_checks_the_deviational_estimator():
    frame = mc.run(_case(0.3, estimator="analog", histories=20_000, seed=8))
    assert_agrees(frame)


def test_weak_layer_against_closed_forms_47a_47c_47b_26():
    """R -> 0: every row within 4 sigma of the paper's first-order closed forms (the deviational error
    bars shrink with R, so R = 1e-3 resolves them to ~1 %)."""
    frame = mc.run(_case(1e-3))
    rows = frame[frame.observable != "potential"]
    z = (rows["value"] - rows["first_order"]) / rows["stderr"]
    assert set(rows.observable) >= {"potential_drop", "far_field_drop", "wind_force", "force_resistivity_ratio"}
    assert z.abs().max() < 4.0, rows.assign(z=z)[["observable", "value", "stderr", "first_order", "z"]]
    closed = metal.closed_forms(_constant(1e-3))
    far = rows[rows.observable == "far_field_drop"].iloc[0]
    assert far.first_order == pytest.approx(closed["far_field_drop"])
    assert far.stderr < 0.05 * abs(far.value)


def test_rectangular_barrier_has_no_reference_beyond_first_order():
    frame = mc.run(_case(barrier={"model": "rectangular", "height": 0.3}, histories=4_000))
    assert frame["reference"].isna().all()
    assert np.isfinite(frame["first_order"]).all()


def test_results_independent_of_thread_count():
    assert_thread_invariant(mc.parse_case(_case(0.3, histories=20_000).data, batches=4))


@pytest.mark.parametrize("change, key", [
    ({"source": {"distribution": "ballistic"}}, "source.distribution"),
    ({"length": 4.0 * L_FREE}, "geometry.length"),
    ({"length": 1e5}, "geometry.length"),
    ({"background": {"mean_free_path": 3.0}}, "background.mean_free_path"),
    ({"background": {"mean_free_path": L_FREE, "estimator": "correlated"}}, "background.estimator"),
])
def test_bad_input_is_rejected(change, key):
    with pytest.raises(ConfigError) as info:
        _case(0.3, **change)
    assert key in str(info.value)


def test_missing_length_and_ballistic_tallies_are_refused():
    data = {"name": "x", "geometry": {"kind": "slab", "thickness": 2.0, "barrier": {"model": "rectangular",
                                                                                     "height": 0.3}},
            "source": {"distribution": "bulk"}, "background": {"mean_free_path": 20.0}}
    with pytest.raises(ConfigError, match="geometry.length"):
        mc.parse_case(data)
    data["geometry"]["length"] = 200.0
    data["tallies"] = [{"kind": "resistivity_reservoir"}]
    with pytest.raises(ConfigError, match="tallies"):
        mc.parse_case(data)
    assert math.isfinite(mc.parse_case({**data, "tallies": [{"kind": "current"}]}).model["metal"].length)
