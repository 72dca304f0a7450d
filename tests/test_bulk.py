"""Bulk metal with background scattering and one complex: Sorbello Appendix A1-A7 and Eq. 26."""

import math

import numpy as np
import pytest

import mc
from conftest import assert_agrees, assert_thread_invariant
from mc.config import Table
from mc.scatterer_input import parse_scatterer
from observables.analytic import bulk as analytic

PHASE_SHIFTS = {"model": "phase_shifts", "phase_shifts": [0.5, 0.2, 0.1]}
CLUSTER = {"model": "cluster", "centres": [[0.0, 0.0, -1.2], [0.0, 0.9, 1.0]],
           "members": [{"model": "isotropic", "cross_section": 0.4}, {"model": "phase_shifts", "phase_shifts": [0.5, 0.2]}]}


def bulk_case(scatterer, histories=100_000, anisotropy=0.0, direction=(0.0, 0.6, -0.8), seed=3):
    return mc.parse_case({
        "name": "bulk", "seed": seed, "histories": histories, "batches": 20,
        "geometry": {"kind": "bulk"},
        "background": {"mean_free_path": 50.0, "anisotropy": anisotropy, "anisotropy_axis": [0.0, 0.0, 1.0]},
        "field": {"direction": list(direction)},
        "impurities": [{"position": [0.0, 0.0, 0.0], "scatterer": scatterer}],
        "tallies": [{"kind": "wind_force"}, {"kind": "conductivity_change"}],
    })


def test_spherical_scatterer_closed_forms():
    # F = -sigma_tr e / (3 pi^2) (along the electron flow); delta sigma = -tau0^2 sigma_tr / (3 pi^2) 1
    s = parse_scatterer(Table(PHASE_SHIFTS, "scatterer"))
    force, current = analytic.response_tensors(s, 50.0)
    np.testing.assert_allclose(force, -s.sigma_tr / (3 * math.pi**2) * np.eye(3), atol=1e-9 * s.sigma_tr)
    sigma = analytic.conductivity_change(current, 50.0)
    np.testing.assert_allclose(sigma, -(50.0**2) * s.sigma_tr / (3 * math.pi**2) * np.eye(3), rtol=1e-9, atol=1e-9)
    frame = mc.run(bulk_case(PHASE_SHIFTS))
    assert_agrees(frame)


def test_bulk_boltzmann_example_runs_unchanged_and_agrees(examples_dir):
    frame = mc.run(mc.load_case(examples_dir / "bulk_boltzmann.toml", histories=100_000))
    assert_agrees(frame)
    assert set(frame.observable) == {"wind_force", "conductivity_change"}


def test_cluster_onsager_symmetry_and_eq26():
    s = parse_scatterer(Table(CLUSTER, "scatterer"))
    _, current = analytic.response_tensors(s, 50.0)
    sigma = analytic.conductivity_change(current, 50.0)
    np.testing.assert_allclose(sigma, sigma.T, rtol=0, atol=1e-8 * np.abs(sigma).max())  # Onsager
    coarse = analytic.conductivity_change(analytic.response_tensors(s, 50.0, n_theta=16)[1], 50.0)
    np.testing.assert_allclose(coarse, sigma, rtol=0, atol=1e-6 * np.abs(sigma).max())  # quadrature converged
    frame = mc.run(bulk_case(CLUSTER, histories=60_000))
    assert_agrees(frame)
    dsig = frame[frame.observable == "conductivity_change"].set_index("component")
    for a, b in [("xy", "yx"), ("xz", "zx"), ("yz", "zy")]:
        z = (dsig.value[a] - dsig.value[b]) / math.hypot(dsig.stderr[a], dsig.stderr[b])
        assert abs(z) < 4, (a, b, z)
    force = frame[frame.observable == "wind_force"]
    np.testing.assert_allclose(force.reference, force.eq26, rtol=1e-9, atol=1e-12)  # Eq. 26 = Eq. A6 at alpha = 0
    z26 = (force.value - force.eq26_from_simulated_sigma) / np.hypot(force.stderr, force.eq26_from_simulated_sigma_stderr)
    assert np.all(np.abs(z26) < 4)


def test_anisotropic_background_breaks_eq26():
    frame = mc.run(bulk_case(PHASE_SHIFTS, histories=200_000, anisotropy=3.0, direction=(0.0, 0.6, -0.8)))
    assert_agrees(frame)  # the simulation still matches its own quadratures (Eqs. A2-A6 with tau(k))
    force = frame[(frame.observable == "wind_force") & (frame.component == "z")].iloc[0]
    broken = (force.value - force.eq26_from_simulated_sigma) / math.hypot(force.stderr, force.eq26_from_simulated_sigma_stderr)
    assert abs(broken) > 10, broken
    assert abs(force.reference - force.eq26) > 0.05 * abs(force.reference)


@pytest.mark.parametrize("change,message", [
    ({"field": {"direction": [0.0, 0.0, 0.0]}}, "field.direction: must not be the zero vector"),
    ({"background": {"mean_free_path": -5.0}}, "background.mean_free_path: must be > 0"),
    ({"background": {"mean_free_path": 5.0, "anisotropy": -1.0}}, "background.anisotropy: must be > -1"),
    ({"impurities": []}, "impurities: a bulk case has exactly one scattering complex, got 0"),
])
def test_bad_bulk_input(change, message):
    data = {"geometry": {"kind": "bulk"}, "background": {"mean_free_path": 5.0}, "field": {"direction": [0, 0, 1]},
            "impurities": [{"scatterer": PHASE_SHIFTS}], "tallies": [{"kind": "wind_force"}]}
    data.update(change)
    with pytest.raises(mc.ConfigError, match=message.replace("(", "\\(")):
        mc.parse_case(data)


class AsGeneral:
    """A spherical scatterer presented as a general one: forces the quadrature paths."""

    spherical = False

    def __init__(self, scatterer):
        self._s = scatterer

    def __getattr__(self, name):
        return getattr(self._s, name)


def test_landauer_dipole_strength_is_sigma_tr_over_4pi():
    # Sorbello Eq. 6 / Schaich Eq. 7: p = 3 pi hbar J0 S0 / (4 k_F^2 e^2) = S0 / (4 pi) in reduced units
    s = parse_scatterer(Table(PHASE_SHIFTS, "scatterer"))
    assert analytic.landauer_dipole(AsGeneral(s), (0.0, 0.6, -0.8)) == pytest.approx(s.sigma_tr / (4 * math.pi), rel=1e-9)
    data = {"name": "dipole", "seed": 5, "histories": 200_000, "batches": 20, "geometry": {"kind": "bulk"},
            "background": {"mean_free_path": 200.0}, "field": {"direction": [0.0, 0.6, -0.8]},
            "impurities": [{"scatterer": PHASE_SHIFTS}], "tallies": [{"kind": "density_dipole", "shell": [3.0, 30.0]}]}
    frame = mc.run(mc.parse_case(data))
    assert_agrees(frame)
    data["impurities"] = [{"scatterer": CLUSTER}]
    data["histories"] = 60_000
    assert_agrees(mc.run(mc.parse_case(data)))
    data["tallies"] = [{"kind": "density_dipole", "shell": [30.0, 3.0]}]
    with pytest.raises(mc.ConfigError, match="tallies\\[0\\].shell: must be \\[r_inner, r_outer\\]"):
        mc.parse_case(data)


def test_bulk_results_do_not_depend_on_thread_count(examples_dir):
    assert_thread_invariant(mc.load_case(examples_dir / "bulk_boltzmann.toml", histories=30_000, batches=4))
