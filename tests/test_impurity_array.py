"""Random impurity array between reservoirs (kind = "impurity_array"): limits of each result.

References are independent of the Monte Carlo: the Boltzmann slab (collocation of the
isotropic-scattering integral equation, itself checked against its thin and thick limits),
Drude's rho = 3 pi^2 n_i sigma_tr and Eq. 63's hbar k_F sigma_tr J.  Every batch draws its
own array, so the standard errors hold the sample-to-sample spread of the arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mc
from mc.errors import ConfigError
from observables.analytic import impurity_array as analytic


def _case(**geometry_overrides):
    geometry = {"kind": "impurity_array", "length": 100.0, "width": 16.0, "density": 0.01,
                "scatterer": {"model": "isotropic", "cross_section": 4.0}}
    geometry.update(geometry_overrides)
    return {"name": "array", "seed": 11, "histories": 12_000, "batches": 12, "geometry": geometry,
            "tallies": [{"kind": "current"}, {"kind": "resistivity"}, {"kind": "wind_force"}]}


def test_boltzmann_slab_limits():
    """Thin slab: T = 1 - tau + O(tau^2 ln tau) (Lambertian incidence, half the collisions go back);
    thick slab: the Milne law (4/3)/(tau + 2 z0); interior slope -rho J with rho = 3 pi^2 / l."""
    thin = analytic.solve_slab(1e-3).current_density / analytic.SHARVIN_CURRENT_DENSITY
    assert abs(thin - (1.0 - 1e-3)) < 2e-5
    thick = analytic.solve_slab(20.0, cells=1200)
    assert abs(thick.current_density / analytic.milne_current_density(20.0) - 1.0) < 2e-4
    z = np.linspace(8.0, 12.0, 5)
    slope = np.diff(thick.density(z)) / np.diff(z)
    assert np.allclose(slope, -3.0 * math.pi**2 * thick.current_density, rtol=1e-3)


@pytest.fixture(scope="module")
def dilute():
    """n_i sigma^{3/2} = 0.08 (disk radius / l = 0.045), L = 4 l: independent scatterers to first order."""
    case = mc.parse_case(_case())
    return case, mc.run(case, threads=1)


def _row(frame, observable, component=""):
    rows = frame[(frame.observable == observable) & (frame.component == component)]
    assert len(rows) == 1, (observable, component, len(rows))
    return rows.iloc[0]


def test_dilute_array_current_and_resistivity_against_first_order(dilute):
    case, frame = dilute
    assert case.model.count == round(0.01 * (16.0**2 * (100.0 - 2 * case.model.disk_radius)))
    for observable in ("current", "resistance", "resistivity"):
        row = _row(frame, observable)
        assert row.stderr > 0
        assert abs(row.value - row.reference) <= 4 * row.stderr, (observable, row.value, row.reference, row.stderr)
    rho = _row(frame, "resistivity")
    # the reference (the Boltzmann profile fitted like the tally) is Drude's first order to 1.1 % at L = 4 l
    assert rho.drude == pytest.approx(3 * math.pi**2 * case.model.effective_density * 4.0)
    assert abs(rho.reference / rho.drude - 1.0) < 0.015


def test_wind_force_mean_is_sigma_tr_j(dilute):
    _, frame = dilute
    z = _row(frame, "wind_force", "z")
    assert abs(z.value - z.reference) <= 4 * z.stderr
    ratio = _row(frame, "wind_force", "ratio")
    assert abs(ratio.value - 1.0) <= 4 * ratio.stderr
    for comp in "xy":
        row = _row(frame, "wind_force", comp)
        assert abs(row.value) <= 4 * row.stderr


def test_arrays_are_reproducible_and_differ_per_batch():
    case = mc.parse_case(_case())
    from mc.impurity_array import impurity_positions

    a = impurity_positions(case.model, 11, 0)
    assert np.array_equal(a, impurity_positions(case.model, 11, 0))
    assert not np.array_equal(a, impurity_positions(case.model, 11, 1))
    r = case.model.disk_radius
    assert np.all(np.abs(a[:, :2]) <= 8.0 - r) and np.all(np.abs(a[:, 2]) <= 50.0 - r)


def test_fixed_array_reports_each_impurity_without_ensemble_reference():
    data = _case(configurations="fixed", length=30.0, width=10.0, density=0.005)
    data.update(histories=2000, batches=4, tallies=[{"kind": "wind_force"}])
    frame = mc.run(mc.parse_case(data), threads=1)
    each = frame[(frame.observable == "wind_force") & frame.impurity.notna()]
    assert len(each) == mc.parse_case(data).model.count
    assert each.reference.isna().all() and np.isfinite(each.ensemble_reference).all()


@pytest.mark.parametrize("change, key", [
    ({"width": 3.0}, "geometry.width"),
    ({"density": 1e-9}, "geometry.density"),
    ({"cavity": 0.5}, "geometry.cavity"),
    ({"cavity": 9.0}, "geometry.cavity"),
    ({"configurations": "some"}, "geometry.configurations"),
    ({"scatterer": {"model": "isotropic", "cross_section": 0.0}}, "geometry.scatterer"),
])
def test_bad_input_is_refused(change, key):
    with pytest.raises(ConfigError) as err:
        mc.parse_case(_case(**change))
    assert key in str(err.value)


def test_tagged_tallies_need_a_cavity_and_shells_inside_it():
    data = _case()
    data["tallies"] = [{"kind": "tagged_dipole"}]
    with pytest.raises(ConfigError, match="geometry.cavity"):
        mc.parse_case(data)
    data["geometry"]["cavity"] = 4.0
    data["tallies"] = [{"kind": "tagged_dipole", "shells": [1.5, 2.5, 5.0]}]
    with pytest.raises(ConfigError, match="tallies"):
        mc.parse_case(data)
