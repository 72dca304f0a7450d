"""Ballistic point contact (Sorbello Eqs. 48, 50-54): closed forms, Monte Carlo, sources, threads."""

import math

import numpy as np
import pytest

import mc
from conftest import assert_agrees, assert_thread_invariant
from observables.analytic import point_contact as cf

A = 10.0


def case_dict(source="aperture", histories=100_000, seed=11, tallies=None, wall="specular", reservoir_radius=None):
    source_table = {"kind": source}
    if reservoir_radius is not None:
        source_table["reservoir_radius"] = reservoir_radius
    return {
        "name": f"pc-{source}",
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": {"kind": "aperture", "radius": A, "wall": wall},
        "source": source_table,
        "tallies": tallies
        or [
            {"kind": "current"},
            {"kind": "density", "probes": PROBES, "probe_radius": 1.0},
            {"kind": "current_density", "probes": PROBES, "probe_radius": 1.0},
        ],
    }


PROBES = [[0, 0, 2.5], [0, 0, 10.0], [6.0, 0, 4.0], [12.0, 3.0, 5.0], [0, 0, -6.0], [5.0, -5.0, -3.0]]


# --- closed forms -------------------------------------------------------------------------

@pytest.mark.parametrize("rho,z", [(0.0, 3.0), (3.0, 2.0), (6.0, 4.0), (9.9, 0.3), (10.1, 0.3), (15.0, 5.0), (40.0, 2.0), (7.0, -8.0)])
def test_solid_angle_elliptic_matches_boundary_quadrature(rho, z):
    assert cf.disk_solid_angle(rho, z, A) == pytest.approx(cf.disk_solid_angle_by_quadrature(rho, z, A), rel=1e-9, abs=1e-12)


def test_solid_angle_on_axis_and_rim_limits():
    z = np.array([0.1, 1.0, 10.0, 100.0])
    np.testing.assert_allclose(cf.disk_solid_angle(0.0, z, A), cf.on_axis_solid_angle(z, A), rtol=1e-12)
    # continuity across the rim
    assert cf.disk_solid_angle(A, 0.5, A) == pytest.approx(0.5 * (cf.disk_solid_angle(A - 1e-7, 0.5, A) + cf.disk_solid_angle(A + 1e-7, 0.5, A)), rel=1e-6)


def test_current_density_closed_form_matches_direct_quadrature():
    from scipy.integrate import dblquad

    for rho, z in [(0.0, 5.0), (6.0, 4.0), (15.0, 5.0), (6.0, -4.0)]:
        def integrand(phi, r, comp):
            dx, dy = rho - r * math.cos(phi), -r * math.sin(phi)
            d2 = dx * dx + dy * dy + z * z
            return r * z * (dx if comp == 0 else z) / d2**2 / (4 * math.pi**3)

        expected = [dblquad(integrand, 0, A, 0, 2 * math.pi, args=(c,), epsabs=1e-13)[0] for c in (0, 1)]
        np.testing.assert_allclose(cf.current_density(rho, z, A), expected, rtol=1e-8, atol=1e-14)
    assert cf.current_density(0.0, 7.0, A)[1] == pytest.approx(float(cf.on_axis_current_density(7.0, A)), rel=1e-12)


def test_potential_is_odd_and_drops_by_delta_mu():
    rho, z = np.array([0.0, 4.0, 13.0]), np.array([3.0, 1.0, 8.0])
    np.testing.assert_allclose(cf.potential(rho, z, A), -cf.potential(rho, -z, A), atol=1e-15)
    assert cf.potential(0.0, 1e6, A) - cf.potential(0.0, -1e6, A) == pytest.approx(1.0, abs=1e-9)


# --- Monte Carlo --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def aperture_run():
    return mc.run(mc.parse_case(case_dict("aperture", histories=200_000)))


@pytest.fixture(scope="module")
def reservoir_run():
    # R = 25 keeps the analog source efficient enough for a test: a^2 / (2 R^2) = 8 % reach the hole
    return mc.run(mc.parse_case(case_dict("reservoir", histories=400_000, reservoir_radius=25.0, seed=12)))


def test_aperture_source_probes_agree_with_closed_forms(aperture_run):
    z = assert_agrees(aperture_run)
    assert len(z) >= 6 * 5  # density, potential and 3 current components at every probe
    current = aperture_run[aperture_run.observable == "resistance"].iloc[0]
    assert current.value == pytest.approx(4 * math.pi / A**2, rel=1e-12)


def test_reservoir_source_agrees_with_closed_forms(reservoir_run):
    assert_agrees(reservoir_run)
    row = reservoir_run[reservoir_run.observable == "current"].iloc[0]
    assert row.stderr / row.value < 0.02
    assert abs(row.value - A**2 / (4 * math.pi)) < 4 * row.stderr


def test_reservoir_and_aperture_sources_agree_on_every_tally(aperture_run, reservoir_run):
    keys = ["observable", "component", "x", "y", "z"]
    joined = aperture_run.merge(reservoir_run, on=keys, suffixes=("_ap", "_res"))
    assert len(joined) == len(aperture_run)
    sigma = np.sqrt(np.nan_to_num(joined.stderr_ap) ** 2 + joined.stderr_res**2)
    z = (joined.value_ap - joined.value_res) / sigma
    assert np.all(np.abs(z) < 4), joined.loc[np.abs(z).idxmax()]


def test_mesh_density_current_and_odd_potential():
    mesh = {"rho_max": 24.0, "n_rho": 4, "z_min": -24.0, "z_max": 24.0, "n_z": 8}
    tallies = [{"kind": "density", "mesh": mesh}, {"kind": "current_density", "mesh": mesh}]
    frame = mc.run(mc.parse_case(case_dict("aperture", histories=200_000, tallies=tallies, seed=3)))
    assert len(frame) == 4 * 8 * 4
    assert_agrees(frame)
    # odd symmetry of the simulated potential (the left side is an independent simulation)
    pot = frame[frame.observable == "potential"].set_index(["x", "z"])
    right = pot[pot.index.get_level_values("z") > 0]
    mirror = pot.loc[[(x, -z) for x, z in right.index]]
    z_odd = (right.value.values + mirror.value.values) / np.hypot(right.stderr.values, mirror.stderr.values)
    assert np.all(np.abs(z_odd) < 4)


def test_diffuse_wall_keeps_the_ballistic_solution():
    # Lambertian re-emission preserves the isotropic reservoir distribution on the left
    frame = mc.run(mc.parse_case(case_dict("reservoir", histories=200_000, reservoir_radius=25.0, wall="diffuse", seed=5)))
    assert_agrees(frame)


def test_results_do_not_depend_on_thread_count():
    assert_thread_invariant(mc.parse_case(case_dict("reservoir", histories=30_000, reservoir_radius=25.0), batches=4))


def test_stderr_shrinks_as_inverse_sqrt_histories():
    small = mc.run(mc.parse_case(case_dict("aperture", histories=40_000, seed=1)))
    large = mc.run(mc.parse_case(case_dict("aperture", histories=640_000, seed=1)))
    rows = small.observable == "density"
    ratio = (small[rows].stderr.values / large[rows].stderr.values)
    # sqrt(16) = 4; the batch estimate of a stderr scatters by ~1/sqrt(2 * 19) = 16 %
    assert 0.75 * 4 < np.median(ratio) < 1.25 * 4


def test_probes_straddling_the_opening_with_the_equivalent_source():
    # the +1 baseline of the left half-space fills only the part of each ball below the plane
    probes = [[0, 0, 0.0], [3.0, 0, 0.5], [0, 0, -0.8]]
    tallies = [{"kind": "density", "probes": probes, "probe_radius": 2.0}]
    frame = mc.run(mc.parse_case(case_dict("aperture", histories=40_000, tallies=tallies, seed=4)))
    assert_agrees(frame)
    centre = frame[(frame.observable == "density") & (frame.z == 0.0)].iloc[0]
    assert centre.reference == pytest.approx(0.5, abs=1e-6) and abs(centre.value - 0.5) < 4 * centre.stderr


def test_a_history_cut_by_the_event_cap_refuses_the_results():
    from mc.batches import run_batches
    from mc.model import engine_simulation
    from mc.point_contact import References, results, transport_model

    case = mc.parse_case(case_dict("reservoir", histories=2_000, reservoir_radius=25.0, wall="diffuse"))
    model, plan = transport_model(case.model)
    model.max_events = 1  # every particle needs two events: the screen (or the hole) and a reservoir
    simulation = engine_simulation("cap", 1, model, lambda b, layout: results(case, plan, References(case.model), b, layout))
    batches = run_batches(simulation.kernel, 2_000, 2, chunk=simulation.chunk)
    with pytest.raises(mc.ConfigError, match=r"histories: \d+ histories reached the cap on surface and collision events"):
        simulation.finalize(batches)


def test_cartesian_mesh_density_and_current_against_box_averages():
    mesh = {"kind": "cartesian", "lower": [-12.0, -12.0, -12.0], "upper": [12.0, 12.0, 12.0], "shape": [3, 2, 4]}
    tallies = [{"kind": "density", "mesh": mesh}, {"kind": "current_density", "mesh": mesh}]
    frame = mc.run(mc.parse_case(case_dict("aperture", histories=100_000, tallies=tallies, seed=6)))
    assert len(frame) == 3 * 2 * 4 * 5  # density, potential, three current components per cell
    assert_agrees(frame)
    with pytest.raises(mc.ConfigError, match="mesh.shape: the screen plane z = 0 must be a cell edge"):
        mc.parse_case(case_dict("aperture", tallies=[{"kind": "density", "mesh": dict(mesh, shape=[3, 2, 3])}]))
