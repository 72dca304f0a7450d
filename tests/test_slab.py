"""Impurity layer between reservoirs (Sorbello Sec. III B, Eqs. 39-47b).

Transfer matrices against closed forms to 1e-10 relative; Monte Carlo against
theta-quadratures of the same R(theta) within 4 standard errors (fixed seeds).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import mc
from conftest import assert_thread_invariant
from mc import transfer_matrix as tm
from mc.errors import ConfigError
from observables.analytic import slab as analytic
from observables.statistics import z_score

EXAMPLE = "/work/shared/examples/slab_reservoirs.toml"
K_GRID = np.concatenate([np.linspace(0.05, 1.0, 97), [math.sqrt(0.6)]])  # includes q = 0 for V = 0.3


def _case(barrier, *, distribution="ballistic", histories=200_000, seed=7, thickness=2.0, **geometry):
    data = {
        "name": "slab-test",
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": {"kind": "slab", "thickness": thickness, "barrier": barrier, **geometry},
        "source": {"kind": "reservoirs", "distribution": distribution},
    }
    return mc.parse_case(data)


def _assert_agrees(frame):
    assert len(frame) > 0
    z = z_score(frame.value, frame.stderr, frame.reference)
    assert np.all(np.isfinite(z)), frame
    assert np.all(np.abs(z) < 4.0), frame[["observable", "value", "stderr", "reference"]].assign(z=z)


# ---------------------------------------------------------------- transfer matrices


@pytest.mark.parametrize("height,width", [(0.3, 2.0), (0.05, 7.0), (-0.4, 3.0), (0.45, 0.5)])
def test_rectangular_barrier_matches_closed_form(height, width):
    R = tm.reflection(K_GRID, tm.rectangular_elements(height, width, start=13.7))
    T_exact = analytic.rectangular_transmission(K_GRID, height, width)
    np.testing.assert_allclose(1.0 - R, T_exact, rtol=1e-10)
    np.testing.assert_allclose(R, 1.0 - T_exact, rtol=1e-10, atol=1e-15)


def test_delta_barrier_matches_closed_form():
    for g in (0.1, 0.8, 3.0):
        R = tm.reflection(K_GRID, [(tm.DELTA, -0.3, 0.0, g)])
        np.testing.assert_allclose(1.0 - R, analytic.delta_transmission(K_GRID, g), rtol=1e-10)


def test_piecewise_profile_of_equal_layers_is_one_barrier():
    layers = tm.piecewise_elements(np.linspace(-1.0, 1.0, 8), np.full(7, 0.3))
    np.testing.assert_allclose(tm.reflection(K_GRID, layers), tm.reflection(K_GRID, tm.rectangular_elements(0.3, 2.0, -1.0)), rtol=1e-10)


def test_sampled_profile_converges_to_poschl_teller():
    """Midpoint layers of V0/cosh^2(alpha z): O(h^2) bias, so halving h divides the error by ~4."""
    height, alpha = 0.4, 1.2
    z = np.linspace(-14.0, 14.0, 20001)
    v = height / np.cosh(alpha * z) ** 2
    ks = np.array([0.3, 0.6, 0.9, 1.0])
    exact = analytic.poschl_teller_transmission(ks, height, alpha)
    errors = []
    for cells in (700, 1400):
        errors.append(np.max(np.abs(1.0 - tm.reflection(ks, tm.sampled_elements(z, v, cells)) - exact)))
    assert errors[1] < 2e-5
    assert 3.0 < errors[0] / errors[1] < 5.0


# ---------------------------------------------------------------- quadrature references by hand


def test_constant_reflection_references_by_hand():
    """R = const: every theta integral is elementary; T = 1 gives the Sharvin current density 1/(4 pi^2)."""
    for r in (0.0, 0.37):
        refl = lambda mu, r=r: np.full_like(mu, r)
        b = analytic.ballistic_references(refl)
        assert b["potential_drop"] == pytest.approx(-r, rel=1e-13, abs=1e-15)
        assert b["current"] == pytest.approx((1 - r) / (4 * math.pi**2), rel=1e-13)
        assert b["wind_force"] == pytest.approx(r / (3 * math.pi**2), rel=1e-13, abs=1e-15)
        u = analytic.bulk_references(refl)
        assert u["potential_drop"] == pytest.approx(-r, rel=1e-13, abs=1e-15)
        assert u["wind_force"] == pytest.approx(r / (2 * math.pi**2), rel=1e-13, abs=1e-15)
        assert u["current"] == pytest.approx((1 - r) / (3 * math.pi**2), rel=1e-13)  # n0 = 1/(3 pi^2) at R = 0


# ---------------------------------------------------------------- Monte Carlo


def test_example_runs_unchanged_and_agrees():
    case = mc.load_case(EXAMPLE, histories=200_000)
    frame = mc.run(case)
    assert set(frame.observable) == {"potential_drop", "density", "current", "resistivity", "resistivity_reservoir", "wind_force"}
    _assert_agrees(frame)


def test_bulk_feed_reproduces_eqs_47a_47b():
    frame = mc.run(_case({"model": "rectangular", "height": 0.3}, distribution="bulk", seed=3))
    assert set(frame.equation) >= {"47a", "47b"}
    _assert_agrees(frame)


def test_symmetric_bias_mirror_process():
    """+-delta-mu/2 reservoirs: same drop, current, force as the left-raised convention; densities +-int R/2."""
    barrier = {"model": "rectangular", "height": 0.3}
    data = {
        "seed": 13, "histories": 200_000, "batches": 20,
        "geometry": {"kind": "slab", "thickness": 2.0, "barrier": barrier},
        "source": {"kind": "reservoirs", "distribution": "ballistic", "bias": "symmetric"},
    }
    frame = mc.run(mc.parse_case(data))
    left = mc.run(_case(barrier, seed=13))
    _assert_agrees(frame)
    same = ~frame.observable.isin(["density"])
    np.testing.assert_allclose(frame[same].reference, left[same].reference, rtol=1e-14)
    density = frame[frame.observable == "density"].reference.to_numpy()
    assert density[0] == pytest.approx(-density[1], rel=1e-14)
    assert density[0] == pytest.approx(-0.5 * frame[frame.observable == "potential_drop"].reference.iloc[0], rel=1e-14)


def test_table_reflection_against_hand_integrals():
    """A linear table R(mu) = 0.8 (1 - mu): drop -0.4, F/A = 0.8 (1/3 - 1/4)/pi^2 (ballistic)."""
    case = _case({"model": "table", "cos_theta": [0.0, 1.0], "reflection": [0.8, 0.0]}, seed=5)
    frame = mc.run(case).set_index("observable")
    assert frame.loc["potential_drop", "reference"] == pytest.approx(-0.4, rel=1e-13)
    assert frame.loc["wind_force", "reference"] == pytest.approx(0.8 / 12 / math.pi**2, rel=1e-13)
    _assert_agrees(frame.reset_index())


def test_piecewise_asymmetric_profile_and_length():
    case = _case(
        {"model": "piecewise", "edges": [-1.5, -0.5, 0.25, 1.5], "heights": [0.2, 0.45, 0.1]},
        thickness=3.0,
        length=30.0,
        seed=9,
    )
    frame = mc.run(case)
    _assert_agrees(frame)
    rho = frame[frame.observable == "resistivity"]
    assert rho.units.iloc[0] == "hbar / (e^2 k_F)"


def test_results_independent_of_thread_count():
    case = _case({"model": "rectangular", "height": 0.3}, histories=30_000, seed=2)
    assert_thread_invariant(mc.parse_case(case.data, batches=4))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "geometry,key",
    [
        ({"thickness": 0.0, "barrier": {"model": "rectangular", "height": 0.3}}, "geometry.thickness"),
        ({"thickness": -1.0, "barrier": {"model": "rectangular", "height": 0.3}}, "geometry.thickness"),
        ({"thickness": 2.0, "barrier": {"model": "rectangular", "height": float("inf")}}, "geometry.barrier.height"),
        ({"thickness": 2.0, "barrier": {"model": "rectangular", "height": float("nan")}}, "geometry.barrier.height"),
        ({"thickness": 2.0, "barrier": {"model": "rectangular", "heigth": 0.3}}, "geometry.barrier.height"),
        ({"thickness": 2.0, "barrier": {"model": "table", "cos_theta": [0, 1], "reflection": [0.2, 1.2]}},
         "geometry.barrier.reflection[1]"),
        ({"thickness": 2.0, "barrier": {"model": "table", "cos_theta": [0, 1], "reflection": [-0.1, 0.2]}},
         "geometry.barrier.reflection[0]"),
        ({"thickness": 2.0, "barrier": {"model": "table", "cos_theta": [0, 1], "reflection": [1.0, 1.0]}},
         "geometry.barrier.reflection"),
        ({"thickness": 2.0, "barrier": {"model": "piecewise", "edges": [-2, 0, 1], "heights": [0.1, 0.2]}},
         "geometry.barrier.edges"),
        ({"thickness": 2.0, "barrier": {"model": "rectangular", "height": 0.3}, "length": 1.0}, "geometry.length"),
        ({"thickness": 2.0, "barrier": {"model": "rectangular", "height": 0.3}, "colour": 1}, "geometry.colour"),
    ],
)
def test_bad_input_is_rejected(geometry, key):
    data = {"histories": 100, "batches": 2, "geometry": {"kind": "slab", **geometry}}
    with pytest.raises(ConfigError) as info:
        mc.parse_case(data)
    assert info.value.key == key


def test_cli_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[geometry]\nkind = "slab"\nthickness = -2.0\nbarrier = { model = "rectangular", height = 0.3 }\n')
    proc = subprocess.run([sys.executable, "-m", "mc", "run", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("emmc: error: geometry.thickness:")
    assert not (tmp_path / "o").exists()
