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


def test_mirror_cavity_correction_against_the_square_lattice_sum():
    """At the centre of the cross-section the image spheres form the square lattice W Z^2, whose
    sum of 1/|n|^3 is 4 zeta(3/2) beta(3/2) (Hardy's lattice sum; beta = Dirichlet's beta function):
    an independent closed form for the image sum and its continuum tail."""
    from scipy.special import zeta

    beta = 4.0**-1.5 * (zeta(1.5, 0.25) - zeta(1.5, 0.75))  # Dirichlet's beta from Hurwitz's zeta
    lattice = 4.0 * zeta(1.5) * beta
    width, radius = 20.0, 4.26
    centre = analytic.mirror_cavity_correction([[0.0, 0.0]], width, radius)[0]
    assert centre == pytest.approx(radius**3 / 3.0 * lattice / width**3, rel=2e-4)
    # nearer a wall the nearest image dominates: c^3 / (3 (2 s)^3) and more
    s = radius + 0.5
    near = analytic.mirror_cavity_correction([[0.5 * width - s, 0.0]], width, radius)[0]
    assert near > radius**3 / (3.0 * (2.0 * s) ** 3) + centre * 0.5


def test_gap_probes_sit_in_empty_spheres_away_from_the_walls():
    """Each probe's impurity-free sphere (radius c = R + clearance a) is a whole sphere: no impurity
    centre within c, and c + a from the side walls, so it touches neither its mirror images nor the
    impurity-free margins at the walls (probes a mere R from a wall measured 0.50 +- 0.03 of the
    macroscopic gradient, the field of a void elongated across E0, against the sphere's 0.62)."""
    from mc.impurity_array import impurity_positions, probe_centres

    data = _case(length=200.0, width=20.0, density=0.005)
    data["tallies"] = [{"kind": "gap_gradient", "probes": 200, "probe_radius": 2.0, "clearance": 2.0}]
    model = mc.parse_case(data).model
    c, a = model.probe_exclusion_radius, model.disk_radius
    positions = impurity_positions(model, 11, 0)
    centres = probe_centres(model, positions, 11, 0)
    assert len(centres) == 200
    gaps = np.linalg.norm(positions[None, :, :] - centres[:, None, :], axis=2).min(axis=1)
    assert np.all(gaps > c)
    assert np.all(np.abs(centres[:, :2]) <= 0.5 * 20.0 - c - a)
    assert np.all(np.abs(centres[:, 2]) <= 0.5 * model.interior * 200.0)
    data["tallies"][0]["clearance"] = 7.0  # c + a = 11.0 leaves no room in a half-width of 10
    with pytest.raises(ConfigError, match="tallies.*impurity-free sphere"):
        mc.parse_case(data)


def test_core_density_ratio_is_that_of_the_drawn_arrays():
    """The disk centres keep a disk radius from the side walls: in the core the density is
    f = W^2 / (W - 2a)^2 times the cross-section average that sets the macroscopic gradient."""
    from mc.impurity_array import impurity_positions

    model = mc.parse_case(_case(width=12.0, scatterer={"model": "isotropic", "cross_section": 12.0})).model
    a = model.disk_radius
    positions = np.concatenate([impurity_positions(model, 11, k) for k in range(40)])
    assert np.all(np.abs(positions[:, :2]) <= 0.5 * 12.0 - a)
    core = np.all(np.abs(positions[:, :2]) <= 0.5 * 12.0 - 2.0 * a, axis=1)  # inner square, away from the core's edge
    measured = core.mean() * 12.0**2 / (12.0 - 4.0 * a) ** 2
    assert measured == pytest.approx(model.core_density_ratio, rel=4.0 * math.sqrt(1.0 / core.sum()))
    assert model.core_density_ratio == pytest.approx((12.0 / (12.0 - 2.0 * a)) ** 2)


def test_gap_field_follows_the_local_impurity_density():
    """The field in the gaps is 1 - f/3 (less the images) of the macroscopic one, f the local density
    of the impurities around the empty sphere over the average: here the disks (sigma = 12, a = 1.95)
    fill only the core of a W = 16 box, f = 1.75, and the gaps carry 0.30 of -rho J, not the 0.60
    that the same images take off a uniform array's 2/3 (a column of dipoles along the field adds
    nothing, so the macroscopic gradient counts the average density, the missing dipoles the local)."""
    density = 1.0 / 600.0
    data = {"name": "gaps", "seed": 7, "histories": 800_000, "batches": 20,
            "geometry": {"kind": "impurity_array", "length": 2.0 / (density * 12.0), "width": 16.0,
                         "density": density, "scatterer": {"model": "isotropic", "cross_section": 12.0}},
            "tallies": [{"kind": "resistivity"},
                        {"kind": "gap_gradient", "probes": 200, "probe_radius": 2.5, "clearance": 1.0}]}
    frame = mc.run(mc.parse_case(data))
    row = frame[(frame.observable == "density_gradient") & (frame.component == "ratio")].iloc[0]
    f = row.core_density_ratio
    assert f == pytest.approx(1.75, abs=0.01)
    assert row.reference == pytest.approx(1.0 - f / 3.0 - row.mirror_correction)
    uniform_array = 2.0 / 3.0 - row.mirror_correction / f  # the same probes' prediction at f = 1
    assert abs(row.value - row.reference) < 4.0 * row.stderr
    assert uniform_array - row.value > 4.0 * row.stderr


def test_continuum_void_control_runs_and_refuses_a_probe_beyond_its_void(tmp_path, capsys):
    """runs.gap_field_continuum, the control of the gap probes (a Boltzmann medium with spherical
    voids), at a smoke-test size: one row per void and their mean, against 2/3 less the images."""
    from runs import gap_field_continuum

    frame = gap_field_continuum.measure(40_000, radius=4.13, probe=4.0, width=20.0, offset=0.0, batches=4)
    assert list(frame.void) == ["0", "1", "2", "3", "4", "mean"]
    assert np.all(np.isfinite(frame.value)) and np.all(frame.stderr > 0)
    assert frame.reference.iloc[0] == pytest.approx(2.0 / 3.0 - analytic.mirror_cavity_correction([[0, 0]], 20.0, 4.13)[0])
    with pytest.raises(SystemExit):
        gap_field_continuum.main(["--out", str(tmp_path), "--probe", "5"])
    assert "--probe must lie in" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
