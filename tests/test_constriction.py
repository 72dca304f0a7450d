"""Constrictions and leads (issue 8 items 5, 6): a neck of length L between half-spaces, wires of radius W.

References: the aperture's closed forms (L -> 0), a^2/4 pi (specular), the Clausing factor
W(L/a, p) of observables.analytic.constriction (diffuse and partially specular walls)."""

import math

import numpy as np
import pytest

import mc
from conftest import assert_agrees
from observables.analytic import constriction as neck
from observables.analytic import point_contact as cf

A = 5.0
SHARVIN_CURRENT = A**2 / (4 * math.pi)


def case(geometry, *, source="aperture", histories=100_000, seed=31, tallies=None, background=None, **source_keys):
    data = {
        "name": "constriction",
        "seed": seed,
        "histories": histories,
        "batches": 20,
        "geometry": {"kind": "constriction", "radius": A} | geometry,
        "source": {"kind": source} | source_keys,
        "tallies": tallies or [{"kind": "current"}],
    }
    if background:
        data["background"] = background
    return mc.parse_case(data)


def row(frame, observable="current"):
    return frame[(frame.observable == observable) & frame.z.isna()].iloc[0]


# --- the reference ---------------------------------------------------------------------------

def test_clausing_factor_matches_published_values():
    # 4-digit tables of the Clausing factor (Berman, J. Appl. Phys. 36, 3356 (1965)); our own
    # Nystrom solution gives 0.671984, 0.514231, 0.190942
    for length, published in [(1.0, 0.6720), (2.0, 0.5142), (10.0, 0.1909)]:
        assert neck.transmission(length) == pytest.approx(published, abs=1e-4)


def test_clausing_solution_is_converged_and_obeys_its_identities():
    for length, p in [(0.3, 0.0), (4.0, 0.0), (4.0, 0.5)]:
        solution = neck.solve_wall_density(length, p)
        fine = neck.solve_wall_density(length, p, panel_length=0.2, order=16)
        assert solution.transmission == pytest.approx(fine.transmission, abs=1e-10)
        # every particle leaves by one end
        assert solution.transmission + solution.reflection == pytest.approx(1.0, abs=1e-10)
        # both ends fed alike = equilibrium: the wall sees an isotropic gas, diffuse events 1 - p
        np.testing.assert_allclose(solution.density + solution.density[::-1], 1.0 - p, atol=1e-10)
    # the disk-to-disk term is the integral of the wall's view of the entrance (p = 0 both ways)
    p0 = neck.solve_wall_density(3.0, 0.0)
    assert p0.direct == pytest.approx(1.0 - 2.0 * np.sum(p0.weights * neck.wall_to_disk(p0.nodes)), abs=1e-12)


def test_clausing_factor_limits():
    short = 0.01
    assert abs(neck.transmission(short) - neck.short_tube_limit(short)) < short**2
    ratios = [neck.transmission(x) / neck.long_tube_limit(x) for x in (10.0, 20.0, 50.0)]
    assert ratios[0] < ratios[1] < ratios[2] < 1.0 and ratios[2] > 0.9  # -> 1 from below, slowly
    assert neck.transmission(2.0, 1.0) == 1.0
    assert neck.transmission(2.0) < neck.transmission(2.0, 0.5) < neck.transmission(2.0, 0.9) < 1.0
    assert neck.resistance(A, 2 * A) == pytest.approx(cf.sharvin_resistance(A) / neck.transmission(2.0))


# --- L -> 0 and specular necks ----------------------------------------------------------------

PROBES = [[0, 0, 2.5], [0, 0, 6.0], [4.0, 0, 3.0], [7.0, 2.0, 3.0], [0, 0, -4.0], [4.0, -3.0, -2.0]]


@pytest.mark.parametrize("source,extra", [("aperture", {}), ("reservoir", {"reservoir_radius": 15.0})])
def test_a_very_short_diffuse_neck_is_the_aperture(source, extra):
    tallies = [{"kind": "current"}, {"kind": "density", "probes": PROBES, "probe_radius": 1.0}]
    frame = mc.run(case({"length": 1e-6 * A, "wall": "diffuse"}, source=source, tallies=tallies, **extra))
    assert row(frame).reference == pytest.approx(SHARVIN_CURRENT, rel=1e-6)  # W(1e-6) = 1 - 5e-7
    density = frame[frame.observable == "density"]
    reference = [cf.ball_average(lambda x, y, z: cf.excess_density(np.hypot(x, y), z, A), p, 1.0) for p in PROBES]
    z = (density.value.to_numpy() - reference) / density.stderr.to_numpy()
    assert len(z) == len(PROBES) and np.all(np.abs(z) < 4), z
    current = row(frame)
    # few histories meet the 1e-6 a wall: the current may come out exact (stderr 0)
    assert abs(current.value - SHARVIN_CURRENT) <= 4 * current.stderr + 1e-12 * SHARVIN_CURRENT


@pytest.mark.parametrize("geometry", [{"length": 2 * A}, {"length": 2 * A, "radius_exit": 1.5 * A}],
                         ids=["straight", "expanding"])
def test_a_specular_neck_that_does_not_narrow_transmits_everything(geometry):
    exact = mc.run(case(geometry | {"wall": "specular"}, histories=20_000))
    current = row(exact)
    # every particle through the opening leaves downstream: zero variance with the equivalent source
    assert current.stderr == 0.0 and current.value == pytest.approx(SHARVIN_CURRENT, rel=1e-12)
    analog = mc.run(case(geometry | {"wall": "specular"}, source="reservoir", reservoir_radius=15.0, histories=200_000))
    assert_agrees(analog)


# --- diffuse and partially specular necks ------------------------------------------------------

@pytest.mark.parametrize("length", [1.0 * A, 4.0 * A])
def test_diffuse_neck_current_is_the_clausing_current(length):
    frame = mc.run(case({"length": length, "wall": "diffuse"}, histories=100_000))
    current = row(frame)
    assert current.reference == pytest.approx(neck.current(A, length))
    assert current.stderr / current.value < 0.005
    assert_agrees(frame)


def test_diffuse_neck_with_the_reservoir_source_is_the_clausing_current():
    # independent of the equivalent source: analog emission from the reservoir hemisphere
    frame = mc.run(case({"length": 2 * A, "wall": "diffuse"}, source="reservoir", reservoir_radius=15.0,
                        histories=300_000, seed=32))
    assert_agrees(frame)


def test_partial_specularity_lies_between_diffuse_and_specular():
    currents = {}
    for p in (0.0, 0.5, 1.0):
        frame = mc.run(case({"length": 4 * A, "specularity": p}, histories=50_000, seed=33))
        currents[p] = row(frame)
        if p < 1.0:
            assert_agrees(frame)  # p = 0.5 against the partially specular Clausing solution
    assert currents[1.0].stderr == 0.0 and currents[1.0].value == pytest.approx(SHARVIN_CURRENT, rel=1e-12)
    low, mid, high = currents[0.0], currents[0.5], currents[1.0]
    assert (mid.value - low.value) / math.hypot(mid.stderr, low.stderr) > 10
    assert (high.value - mid.value) / math.hypot(high.stderr, mid.stderr) > 10


# --- current conservation through planes --------------------------------------------------------

@pytest.mark.parametrize("source,planes,extra", [("aperture", [-8.0, -3.0, 0.0, 4.0, 9.0], {}),
                                                 ("reservoir", [-4.0, 0.0, 4.5], {"reservoir_radius": 15.0})])
def test_every_whole_cross_section_carries_the_reservoir_current(source, planes, extra):
    frame = mc.run(case({"length": 2 * A, "wall": "diffuse"}, source=source, histories=50_000,
                        tallies=[{"kind": "current", "planes": planes}], **extra))
    drain = row(frame)
    through = frame[(frame.observable == "current") & frame.z.notna()]
    assert sorted(through.z) == sorted(planes)
    # history by history the net crossings of a plane between the reservoirs are [ended right]
    np.testing.assert_allclose(through.value, drain.value, rtol=1e-12)
    np.testing.assert_allclose(through.stderr, drain.stderr, rtol=1e-9)
    assert_agrees(frame)


@pytest.mark.parametrize("geometry,source,plane,message", [
    ({"length": 2 * A}, "aperture", 5.0, "lies on the screen plane z = 5"),
    ({"kind": "aperture"}, "aperture", 0.0, "lies on the screen plane z = 0"),
    ({"length": 2 * A}, "reservoir", 8.0, "is cut by the reservoir hemispheres of radius 200, .* only planes inside the neck"),
    ({"kind": "aperture"}, "reservoir", 3.0, "is cut by the reservoir hemispheres .* no plane is whole beside an aperture"),
    ({"length": 2 * A, "lead_radius": 2 * A, "lead_length": 10.0}, "reservoir", -16.0, "is not between the wire ends"),
])
def test_planes_that_are_not_whole_cross_sections_are_refused(geometry, source, plane, message):
    # a plane on a screen let particles slip through the wall (an aperture with R = 20 gave
    # I = 2.18 +- 0.02 for a^2/4pi = 1.99), and one cut by a reservoir hemisphere missed current
    with pytest.raises(mc.ConfigError, match=f"tallies\\[0\\].planes\\[0\\]: z = {plane:g} {message}"):
        case(geometry | {"wall": "diffuse"}, source=source, tallies=[{"kind": "current", "planes": [plane]}])


# --- leads ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["aperture", "constriction"])
def test_specular_leads_keep_the_sharvin_resistance(kind):
    geometry = {"kind": kind, "wall": "specular", "lead_radius": 2 * A, "lead_length": 3 * A}
    geometry |= {"length": A} if kind == "constriction" else {}
    exact = row(mc.run(case(geometry, histories=20_000)), "resistance")
    assert exact.stderr == 0.0 and exact.value == pytest.approx(cf.sharvin_resistance(A), rel=1e-12)
    assert_agrees(mc.run(case(geometry, source="reservoir", histories=100_000)))


def test_diffuse_leads_approach_sharvin_as_the_wires_widen():
    """R(W/a) for wires of length 2W with diffuse walls, against the series estimate
    R_Sharvin(a) + 2 R_Sharvin(W) (1/W_clausing(2) - 1) (each wire's own Knudsen resistance)."""
    sharvin = cf.sharvin_resistance(A)
    results = {}
    for ratio, histories in [(2, 100_000), (4, 400_000), (8, 800_000)]:
        lead = ratio * A
        frame = mc.run(case({"kind": "aperture", "wall": "diffuse", "lead_radius": lead, "lead_length": 2 * lead},
                            source="reservoir", histories=histories, seed=34))
        resistance = row(frame, "resistance")
        assert math.isnan(resistance.reference)
        estimate = sharvin + 2 * cf.sharvin_resistance(lead) * (1 / neck.transmission(2.0) - 1)
        results[ratio] = (resistance.value, resistance.stderr, estimate)
    for wide, narrow in [(4, 2), (8, 4)]:
        (r_wide, e_wide, _), (r_narrow, e_narrow, _) = results[wide], results[narrow]
        assert (r_narrow - r_wide) / math.hypot(e_wide, e_narrow) > 5
    value, stderr, _ = results[8]
    assert value + 4 * stderr < 1.07 * sharvin  # within a few percent of R_Sharvin at W = 8a
    # the series estimate gets the scale but overestimates the excess where W/a is smallest
    value, stderr, estimate = results[2]
    assert 0.7 * (estimate - sharvin) < value - sharvin < estimate - sharvin - 4 * stderr


# --- background scattering ---------------------------------------------------------------------

def test_background_scattering_in_a_constriction_raises_the_resistance():
    frame = mc.run(case({"length": 2 * A, "wall": "diffuse"}, source="reservoir", reservoir_radius=20.0,
                        background={"mean_free_path": A}, histories=50_000))
    resistance = row(frame, "resistance")
    assert math.isnan(resistance.reference)  # the ballistic Clausing value is not claimed ...
    ballistic = neck.resistance(A, 2 * A)
    assert resistance.value - ballistic > 6 * resistance.stderr  # ... and l = a adds to it


# --- bad input -----------------------------------------------------------------------------------

IMPURITY = {"scatterer": {"model": "isotropic", "cross_section": 0.1}}


@pytest.mark.parametrize("geometry,extra,message", [
    ({"length": 0.0}, {}, "geometry.length: must be > 0.0, got 0.0"),
    ({"length": -2.0}, {}, "geometry.length: must be > 0.0, got -2.0"),
    ({"radius_exit": 0.0}, {}, "geometry.radius_exit: must be > 0.0"),
    ({"radius_exit": -1.0}, {}, "geometry.radius_exit: must be > 0.0"),
    ({"lead_radius": A, "lead_length": 10.0}, {}, "geometry.lead_radius: must exceed the contact radius 5, got 5"),
    ({"radius_exit": 8.0, "lead_radius": 7.0, "lead_length": 10.0}, {}, "geometry.lead_radius: must exceed the contact radius 8"),
    ({"specularity": 1.5, "wall": None}, {}, "geometry.specularity: must be <= 1.0, got 1.5"),
    ({"specularity": -0.1, "wall": None}, {}, "geometry.specularity: must be >= 0.0"),
    ({"specularity": 0.5}, {}, "geometry.specularity: give either wall or specularity, not both"),
    ({}, {"tallies": [{"kind": "density", "probes": [[8.0, 0, 0]], "probe_radius": 1.0}]},
     r"tallies\[0\].probes\[0\]: probe ball of radius 1.0 at \[8.0, 0.0, 0.0\] is not inside the simulated region"),
    ({}, {"tallies": [{"kind": "density", "probes": [[4.5, 0, 0]], "probe_radius": 1.0}]},
     r"tallies\[0\].probes\[0\]: probe ball of radius 1.0 at \[4.5, 0.0, 0.0\] cuts a wall"),
    ({}, {"impurities": [IMPURITY | {"position": [8.0, 0, 1.0]}]},
     r"impurities\[0\].position: \[8.0, 0.0, 1.0\] is inside the wall beside the neck"),
    ({"radius_exit": 2 * A}, {"impurities": [IMPURITY | {"position": [9.8, 0, 3.0]}]},
     r"impurities\[0\].position: \[9.8, 0.0, 3.0\] is inside the wall beside the neck"),
    ({}, {"impurities": [IMPURITY | {"position": [0.0, 0, 1.0]}]},
     r"impurities\[0\].position: must have z >= 5 .* the inside of the neck is not supported"),
    ({}, {"tallies": [{"kind": "density", "mesh": {"rho_max": 10, "n_rho": 3, "z_min": -10, "z_max": 10, "n_z": 4}}]},
     r"tallies\[0\].mesh.n_rho: the mesh spans the neck \(z between -5 and 5\): the neck radius 5 must be a cell edge"),
    ({"radius_exit": 8.0}, {"tallies": [{"kind": "density", "mesh": {"rho_max": 6, "n_rho": 2, "z_min": -10, "z_max": 10, "n_z": 4}}]},
     r"tallies\[0\].mesh.rho_max: the mesh spans the neck .* must not exceed the narrowest neck radius 5"),
])
def test_bad_constriction_input_is_refused_naming_the_key(geometry, extra, message):
    base = {"length": 2 * A, "wall": "diffuse"} | geometry
    base = {k: v for k, v in base.items() if v is not None}
    data = {"name": "bad", "seed": 1, "histories": 1000, "batches": 10, "geometry": {"kind": "constriction", "radius": A} | base,
            "source": {"kind": "aperture"}, "tallies": [{"kind": "current"}]}
    if "impurities" in extra:
        data["tallies"] = [{"kind": "wind_force"}]
    data |= extra
    with pytest.raises(mc.ConfigError, match=message) as error:
        mc.parse_case(data)
    assert "\n" not in str(error.value)
