"""The one engine's parts: surfaces, regions, boundary conditions, track-length scorers, the tally layout."""

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from geometry.model import (
    PROFILE_LAW,
    TABLE_LAW,
    Diffuse,
    Geometry,
    Medium,
    PartiallySpecular,
    QuantumInterface,
    Reservoir,
    Specular,
)
from geometry.regions import region_contains
from geometry.surfaces import Plane, Sphere, ZCone, ZCylinder, ZPlane, surface_distance, surface_normal
from mc.engine import ABSORBED, REFLECTED, TRANSMITTED, Features, _cross
from mc.model import ImpurityModel, TransportModel
from mc.sources import DiskEmitter
from mc.streams import history_stream
from observables.tallies import (
    BALL_SCORES,
    CARTESIAN_MESH_SCORES,
    CYLINDRICAL_MESH_SCORES,
    Ball,
    CartesianMesh,
    CylindricalMesh,
    BALL_SEARCH_MIN,
    TRACK_LENGTH,
    TallyLayout,
    score_balls,
    score_cartesian_mesh,
    score_cylindrical_mesh,
    tally_arrays,
)

SURFACES = [
    ZPlane(0.7),
    Plane((0.3, -0.4, 0.8), 0.5),
    ZCylinder(1.3, 0.2, -0.1),
    Sphere(2.0, (0.1, 0.3, -0.2)),
    ZCone(-1.0, 0.5, 0.4),
]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: type(s).__name__)
def test_distance_is_the_first_sign_change_along_the_flight(surface):
    rows = np.array([surface.row()])
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(300):
        p = rng.uniform(-3, 3, 3)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        t = surface_distance(rows, 0, *p, *u, False)
        samples = np.linspace(0.0, 8.0, 40_001)
        f = surface.value(p[None, :] + samples[:, None] * u[None, :])
        changes = np.nonzero(np.sign(f[1:]) != np.sign(f[:-1]))[0]
        if t == math.inf:
            assert len(changes) == 0
            continue
        hits += 1
        assert abs(surface.value(p + t * u)) < 1e-9 * max(1.0, t * t)
        if len(changes):
            assert t == pytest.approx(samples[changes[0]], abs=2e-4)
        # sitting on the surface after the hit, the next crossing is the far one (or none)
        q = p + t * u
        t_next = surface_distance(rows, 0, *q, *u, True)
        assert t_next > 1e-6
    assert hits > 50


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: type(s).__name__)
def test_normal_is_the_unit_gradient(surface):
    rows = np.array([surface.row()])
    rng = np.random.default_rng(2)
    for _ in range(20):
        r = rng.uniform(-2, 2, 3)
        n = np.array(surface_normal(rows, 0, *r))
        h = 1e-6
        gradient = np.array([(surface.value(r + h * e) - surface.value(r - h * e)) / (2 * h) for e in np.eye(3)])
        if np.linalg.norm(gradient) > 1e-6:
            np.testing.assert_allclose(n, gradient / np.linalg.norm(gradient), atol=1e-6)


def test_region_algebra_in_the_kernel_matches_python():
    plane, cylinder, sphere = ZPlane(0.0), ZCylinder(1.0), Sphere(2.0)
    region = (-sphere & (+plane | -cylinder)) | ~(+ZPlane(-1.5))
    surfaces = [plane, cylinder, sphere]
    index = {}

    def lookup(s):
        if id(s) not in index:
            index[id(s)] = len(surfaces) if s not in surfaces else surfaces.index(s)
            if s not in surfaces:
                surfaces.append(s)
        return index[id(s)]

    tokens = np.array(region.program(lookup), dtype=np.int64)
    rows = np.array([s.row() for s in surfaces])
    points = np.random.default_rng(3).uniform(-3, 3, (2000, 3))
    kernel = np.array([region_contains(tokens, 0, len(tokens), rows, *p, -1, 0) for p in points])
    np.testing.assert_array_equal(kernel, region.contains(points))
    assert 200 < kernel.sum() < 1800


# ------------------------------------------------------------------------------ boundary conditions


def _wall(condition):
    """The plane z = 0 with ``condition`` everywhere; cells below and above."""
    g = Geometry()
    plane = ZPlane(0.0)
    g.add_boundary(plane, condition)
    g.add_cell(-plane, escape="left")
    g.add_cell(+plane, escape="right")
    return g.arrays(), g.surface_index(plane)


def _hits(condition, u, n=20_000):
    arrays, s = _wall(condition)
    out = np.empty((n, 3))
    outcome = np.empty(n, dtype=np.int64)
    for i in range(n):
        vx, vy, vz, cell, outcome[i], _, _, _ = _cross(arrays, s, 0.3, -0.2, 0.0, *u, 0, np.uint64(history_stream(7, i)), True)
        out[i] = vx, vy, vz
    return out, outcome


INCOMING = np.array([0.48, -0.36, 0.8])  # moving up into the plane from below


def test_specular_mirrors_the_normal_component():
    out, outcome = _hits(Specular(), INCOMING, n=10)
    assert np.all(outcome == REFLECTED)
    np.testing.assert_allclose(out, np.tile(INCOMING * [1, 1, -1], (10, 1)), atol=1e-15)


def test_diffuse_reemission_is_lambertian_on_the_incoming_side():
    out, outcome = _hits(Diffuse(), INCOMING)
    assert np.all(outcome == REFLECTED)
    cos = -out[:, 2]  # about the normal back into the lower side
    assert np.all(cos > 0)
    n = len(cos)
    # Lambert: <cos> = 2/3, <cos^2> = 1/2, uniform azimuth
    assert abs(cos.mean() - 2 / 3) < 4 * cos.std() / math.sqrt(n)
    assert abs((cos**2).mean() - 0.5) < 4 * (cos**2).std() / math.sqrt(n)
    assert abs(out[:, 0].mean()) < 4 * out[:, 0].std() / math.sqrt(n)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-12)


def test_partial_specularity_mixes_the_two_laws():
    p = 0.3
    out, _ = _hits(PartiallySpecular(p), INCOMING)
    mirrored = np.all(np.abs(out - INCOMING * [1, 1, -1]) < 1e-12, axis=1).mean()
    n = len(out)
    assert abs(mirrored - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_quantum_interface_reflects_with_r_of_cos_theta():
    table = np.array([[0.0, 0.9], [1.0, 0.1]])  # R(mu) = 0.9 - 0.8 mu
    interface = QuantumInterface(TABLE_LAW, np.zeros((0, 4)), table, None)
    out, outcome = _hits(interface, INCOMING)
    reflected = (outcome == REFLECTED).mean()
    r = 0.9 - 0.8 * INCOMING[2]
    assert abs(reflected - r) < 4 * math.sqrt(r * (1 - r) / len(out))
    assert np.all((outcome == REFLECTED) | (outcome == TRANSMITTED))
    # a transfer-matrix profile: a delta barrier of strength g has R = g^2 / (g^2 + mu^2)
    delta = QuantumInterface(PROFILE_LAW, np.array([[0.0, 0.0, 0.0, 0.6]]), np.zeros((0, 2)), None)
    out, outcome = _hits(delta, INCOMING)
    r = 0.36 / (0.36 + INCOMING[2] ** 2)
    assert abs((outcome == REFLECTED).mean() - r) < 4 * math.sqrt(r * (1 - r) / len(out))


def test_reservoir_absorbs_and_transmit_changes_cell():
    arrays, s = _wall(Reservoir("drain"))
    *_, outcome, reservoir, _, _ = _cross(arrays, s, 0.0, 0.0, 0.0, *INCOMING, 0, np.uint64(history_stream(1, 1)), True)
    assert outcome == ABSORBED and reservoir == 0
    g = Geometry()
    plane, hole = ZPlane(0.0), ZCylinder(1.0)
    g.add_boundary(plane, Specular(), +hole)  # a screen with a hole: transmits inside the cylinder
    g.add_cell(-plane, escape="left")
    g.add_cell(+plane, escape="right")
    arrays = g.arrays()
    s = g.surface_index(plane)
    _, _, vz, cell, outcome, *_ = _cross(arrays, s, 0.5, 0.0, 0.0, *INCOMING, 0, np.uint64(history_stream(1, 2)), True)
    assert outcome == TRANSMITTED and cell == 1 and vz == INCOMING[2]
    _, _, vz, cell, outcome, *_ = _cross(arrays, s, 1.5, 0.0, 0.0, *INCOMING, 0, np.uint64(history_stream(1, 3)), True)
    assert outcome == REFLECTED and cell == 0 and vz == -INCOMING[2]


# ------------------------------------------------------------------------------ track-length scorers


def _brute_lengths(p, u, length, cell_of, n_cells, samples=400_000):
    t = (np.arange(samples) + 0.5) * length / samples
    cells = cell_of(p[None, :] + t[:, None] * u[None, :])
    inside = cells >= 0
    return np.bincount(cells[inside], minlength=n_cells) * length / samples


def test_cartesian_mesh_track_lengths():
    lower, upper, shape = np.array([-1.0, -2.0, 0.0]), np.array([3.0, 1.0, 2.0]), np.array([4, 3, 2])
    width = (upper - lower) / shape
    rng = np.random.default_rng(5)
    for _ in range(5):
        p = rng.uniform(-2, 4, 3)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        acc = np.zeros(len(CARTESIAN_MESH_SCORES) * shape.prod())
        score_cartesian_mesh(acc, 0, *p, *u, 6.0, 1.0, lower, upper, shape)

        def cell_of(points):
            index = np.floor((points - lower) / width).astype(int)
            ok = np.all((index >= 0) & (index < shape), axis=1)
            flat = (index[:, 0] * shape[1] + index[:, 1]) * shape[2] + index[:, 2]
            return np.where(ok, flat, -1)

        expected = _brute_lengths(p, u, 6.0, cell_of, shape.prod())
        lengths = acc.reshape(-1, len(CARTESIAN_MESH_SCORES))
        np.testing.assert_allclose(lengths[:, 0], expected, atol=1e-4)
        np.testing.assert_allclose(lengths[:, 3], expected * u[2], atol=1e-4)


def test_cylindrical_mesh_track_lengths():
    mesh = CylindricalMesh(2.0, 4, -1.0, 1.0, 3)
    rng = np.random.default_rng(6)
    times = np.empty(2 * mesh.n_rho + mesh.n_z + 4)
    for _ in range(5):
        p = rng.uniform(-2.5, 2.5, 3)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        acc = np.zeros(len(CYLINDRICAL_MESH_SCORES) * mesh.cells)
        score_cylindrical_mesh(acc, 0, *p, *u, 6.0, 1.0, mesh.rho_max, mesh.z_min, mesh.z_max, mesh.n_rho, mesh.n_z,
                               times)

        def cell_of(points):
            rho = np.hypot(points[:, 0], points[:, 1])
            i = np.floor(rho / (mesh.rho_max / mesh.n_rho)).astype(int)
            k = np.floor((points[:, 2] - mesh.z_min) / ((mesh.z_max - mesh.z_min) / mesh.n_z)).astype(int)
            ok = (i < mesh.n_rho) & (k >= 0) & (k < mesh.n_z)
            return np.where(ok, i * mesh.n_z + k, -1)

        expected = _brute_lengths(p, u, 6.0, cell_of, mesh.cells)
        np.testing.assert_allclose(acc.reshape(-1, 3)[:, 0], expected, atol=1e-4)


# ------------------------------------------------------------------------------ the layout


def _chord(p, u, length, centre, radius):
    """Length of the segment p + t u (0 <= t <= length) inside a ball, in plain numpy."""
    if radius == math.inf:
        return length
    d = np.asarray(p) - np.asarray(centre)
    b, c = float(d @ u), float(d @ d) - radius * radius
    if b * b - c <= 0.0:
        return 0.0
    root = math.sqrt(b * b - c)
    return max(0.0, min(-b + root, length) - max(-b - root, 0.0))


def test_the_z_sorted_ball_search_scores_every_ball_it_should():
    """With more than BALL_SEARCH_MIN balls score_balls tests only those centred near the flight's
    z range; the track lengths must be those of every ball (shells, whole-space balls, flights along
    and across z, an endless one), each in its own offset whatever the order tally_arrays gives."""
    rng = np.random.default_rng(5)
    balls = [Ball(tuple(rng.uniform(-20, 20, 3)), float(rng.uniform(0.5, 4.0))) for _ in range(3 * BALL_SEARCH_MIN)]
    balls += [Ball((1.0, 0.0, -3.0), 6.0, 2.5), Ball((0.0, 0.0, 0.0), math.inf), Ball((0.0, 2.0, 0.0), math.inf, 3.0)]
    layout = TallyLayout()
    layout.add("balls", [("ball", len(balls))], BALL_SCORES)
    tallies = tally_arrays(layout, balls=balls)
    assert tallies.ball_unbounded == 2 and tallies.ball_reach == 6.0
    assert np.all(np.diff(tallies.balls[2:, 2]) >= 0.0)
    acc = np.zeros(layout.size)
    expected = np.zeros(len(balls))
    flights = [(rng.uniform(-25, 25, 3), rng.normal(size=3), float(rng.exponential(15.0))) for _ in range(600)]
    flights += [((0.0, 0.0, -30.0), (0.0, 0.0, 1.0), 60.0), ((-30.0, 1.0, 2.0), (1.0, 0.0, 0.0), 60.0),
                ((0.5, 0.5, -40.0), (0.0, 0.6, 0.8), math.inf)]
    for p, u, length in flights:
        u = np.asarray(u) / np.linalg.norm(u)
        score_balls(acc, tallies.balls, tallies.ball_unbounded, tallies.ball_reach, *p, *u, length, 1.0)
        expected += [_chord(p, u, length, b.centre, b.outer) - _chord(p, u, length, b.centre, b.inner) for b in balls]
    measured = layout.read(acc, "balls")[:, TRACK_LENGTH]
    finite = np.isfinite(expected)
    np.testing.assert_allclose(measured[finite], expected[finite], rtol=1e-9, atol=1e-9)
    assert np.all(measured[~finite] == math.inf) and np.count_nonzero(expected[:-3]) > 40


def test_impurities_are_searched_by_z_within_a_disk_radius():
    """The analog search tests only the disks centred within the largest disk radius of a flight's
    z range: compile() sorts them by z, and the window and the binary search are exact."""
    from geometry.regions import Everywhere
    from geometry.shapes import first_not_below, z_window
    from mc.scattering import isotropic

    rng = np.random.default_rng(3)
    values = np.sort(rng.uniform(-5, 5, 40))
    for bound in [-9.0, -5.0, values[7], 0.1, values[-1], 9.0]:
        assert first_not_below(values, 0, 40, bound) == np.searchsorted(values, bound, side="left")
    assert first_not_below(values, 10, 40, -9.0) == 10
    assert z_window(1.0, -0.5, 4.0, 0.25) == (-1.25, 1.25)
    assert z_window(1.0, 0.0, math.inf, 0.25) == (-math.inf, math.inf)
    g = Geometry()
    g.add_cell(Everywhere(), escape="right")
    z = [4.0, -2.0, 7.0, 0.5]
    model = TransportModel(g, [DiskEmitter(-10.0, 1.0, +1)], drain="right", reservoir_excess={"left": 1.0},
                           impurities=[ImpurityModel((0.0, 0.0, zi), isotropic(0.1 * (k + 1))) for k, zi in enumerate(z)])
    imp = model.compile()[0].impurities
    np.testing.assert_array_equal(imp.z_order, [1, 3, 0, 2])
    np.testing.assert_array_equal(imp.z_sorted, sorted(z))
    assert imp.disk_reach == pytest.approx(math.sqrt(0.4 / math.pi)) == imp.disk_radius.max()


def test_every_block_holds_its_own_marker():
    """Write a marker into every bin of every block through the offsets the kernel receives and read
    each block back through the layout: no two tallies share a score, none is read from elsewhere."""
    g = Geometry()
    plane, hole = ZPlane(0.0), ZCylinder(3.0)
    g.add_boundary(plane, Specular(), +hole)
    g.add_cell(-plane, escape="left")
    g.add_cell(+plane, escape="right")
    from geometry.regions import Everywhere
    from mc.scattering import isotropic

    model = TransportModel(
        g, [DiskEmitter(0.0, 3.0, +1, surface=plane)], drain="right", reservoir_excess={"left": 1.0},
        impurities=[ImpurityModel((0, 0, 2.0), isotropic(0.1)), ImpurityModel((1, 0, 4.0), isotropic(0.1))],
        balls=[Ball((0, 0, 5.0), 1.0), Ball((0, 0, 9.0), 1.0, moments=True), Ball((0, 0, 0), math.inf, 2.0)],
        cylindrical_meshes=[CylindricalMesh(5.0, 3, -5.0, 5.0, 4)],
        cartesian_meshes=[CartesianMesh((-1, -1, 1), (1, 1, 3), (2, 1, 3))],
        surface_tallies=[(ZPlane(2.0), Everywhere())],
    )
    arrays, layout = model.compile()
    tallies = arrays.tallies
    row = np.zeros(layout.size)
    markers = {}

    def mark(name, offsets, n_scores):
        markers[name] = 1.0 + len(markers)
        for offset in np.atleast_1d(offsets).ravel():
            row[offset:offset + n_scores] += markers[name]

    mark("balls", tallies.balls[:, 5].astype(int), len(BALL_SCORES))
    mark("cylindrical_mesh_0", tallies.cylindrical_offset[0] + 3 * np.arange(12), 3)
    mark("cartesian_mesh_0", tallies.cartesian_offset[0] + 4 * np.arange(6), 4)
    mark("surfaces", tallies.surface_offset, 4)
    mark("impurities", tallies.impurity_offset, 5)
    mark("reservoirs", [tallies.reservoir_offset], len(g.reservoirs))
    mark("diagnostics", [tallies.diagnostic_offset], 2)
    assert set(markers) == set(layout.blocks)
    for name, value in markers.items():
        np.testing.assert_array_equal(layout.read(row, name), value)
    assert np.all(row > 0) and len(row) == sum(b.size for b in layout.blocks.values())


def test_layout_refuses_a_block_twice_and_reads_batches():
    layout = TallyLayout()
    layout.add("a", [("bin", 3)], ("x", "y"))
    with pytest.raises(ValueError):
        layout.add("a", [], ("x",))
    totals = np.arange(2 * layout.size).reshape(2, -1)
    assert layout.read(totals, "a").shape == (2, 3, 2)
    np.testing.assert_array_equal(layout.read(totals, "a")[1, 2], [10, 11])
    assert tally_arrays(layout).balls.shape == (0, 7)


# ------------------------------------------------------------------------------ engine features

_APERTURE = {"name": "f", "seed": 1, "histories": 1000, "batches": 2,
             "geometry": {"kind": "aperture", "radius": 10.0}, "source": {"kind": "aperture"}}
_IMPURITY = {"position": [0.0, 0.0, 10.0], "scatterer": {"model": "phase_shifts", "phase_shifts": [0.6, 0.25]}}
_CLUSTER = {"model": "cluster", "centres": [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]],
            "members": [{"model": "isotropic", "cross_section": 0.4}, {"model": "isotropic", "cross_section": 0.4}]}
FEATURE_CASES = {
    "ballistic point contact": (dict(_APERTURE, tallies=[{"kind": "current"}]), set()),
    "impurity, next event": (dict(_APERTURE, impurities=[_IMPURITY], tallies=[{"kind": "wind_force"}]),
                             {"impurities"}),
    "impurity, analog": (dict(_APERTURE, impurities=[_IMPURITY], tallies=[{"kind": "wind_force", "estimator": "analog"}]),
                         {"impurities"}),
    "cluster, next event": (dict(_APERTURE, impurities=[dict(_IMPURITY, scatterer=_CLUSTER)],
                                 tallies=[{"kind": "wind_force"}]), {"impurities", "clusters"}),
    "background to first order": (dict(_APERTURE, source={"kind": "aperture", "reservoir_radius": 50.0},
                                       background={"mean_free_path": 1000.0, "estimator": "first_order"},
                                       tallies=[{"kind": "current"}]), {"background_perturbation"}),
    "slab": ({"name": "f", "seed": 1, "histories": 1000, "batches": 2,
              "geometry": {"kind": "slab", "thickness": 2.0, "barrier": {"model": "rectangular", "height": 0.3}},
              "tallies": [{"kind": "current"}]}, {"quantum_interfaces"}),
    "bulk": ({"name": "f", "seed": 1, "histories": 1000, "batches": 2, "geometry": {"kind": "bulk"},
              "background": {"mean_free_path": 200.0}, "field": {"direction": [0.0, 0.0, 1.0]}, "impurities": [{"position": [0, 0, 0], "scatterer": _CLUSTER}],
              "tallies": [{"kind": "wind_force"}]}, {"bulk_incident", "clusters"}),
}


def _features_in_use(features) -> set[str]:
    return {name for name in Features._fields if getattr(features, name) is not None}


@pytest.mark.parametrize("name", FEATURE_CASES)
def test_engine_features_are_the_parts_the_model_uses(name, monkeypatch):
    """Each system's model switches on exactly the engine parts its arrays need (a part left off
    would silently do nothing: no collisions, no reflection, no cluster amplitude)."""
    import mc
    import mc.model
    from mc.engine import engine_features
    from mc.systems import system_module

    data, expected = FEATURE_CASES[name]
    seen = []
    monkeypatch.setattr(mc.model, "engine_features", lambda *parts: seen.append(engine_features(*parts)) or seen[-1])
    case = mc.parse_case(data)
    system_module(case.kind).prepare(case)
    assert seen and all(_features_in_use(f) == expected for f in seen)


def test_a_medium_with_a_scattering_law_switches_the_law_on():
    from geometry.regions import Everywhere
    from mc.scattering import isotropic

    for law, expected in [(None, set()), (isotropic(1.0), {"scattering_law"})]:
        g = Geometry()
        g.add_cell(Everywhere(), Medium(mean_free_path=5.0, law=law), escape="right")
        model = TransportModel(g, [DiskEmitter(-10.0, 1.0, +1)], drain="right", reservoir_excess={"left": 1.0})
        assert _features_in_use(model.compile()[0].features) == expected


def test_a_ballistic_case_compiles_none_of_the_parts_it_does_not_use(tmp_path):
    """In a fresh process with an empty numba cache, a ballistic point contact compiles neither the
    scattering library, the traces, nor the interface reflection; the helpers of the parts it does
    not use are compiled only for their flag None (which numba reduces to a return)."""
    code = textwrap.dedent("""
        import inspect, json, mc, mc.engine as engine, mc.scattering.sampling as sampling
        mc.run(mc.parse_case({"name": "c", "seed": 1, "histories": 2000, "batches": 2,
                              "geometry": {"kind": "aperture", "radius": 10.0},
                              "tallies": [{"kind": "current"}, {"kind": "density", "probes": [[0, 0, 5.0]]}]}))
        kernels = {"trace": engine.trace, "interface_reflection": engine.interface_reflection,
                   "sample_outgoing": sampling.sample_outgoing, "total_cross_section": sampling.total_cross_section,
                   "cluster_amplitude": sampling.cluster_amplitude, "next_events": engine.next_events,
                   "_background_collision": engine._background_collision, "_bulk_incident": engine._bulk_incident,
                   "_first_order_secondary": engine._first_order_secondary, "engine_histories": engine.engine_histories}
        print(json.dumps({name: {"parameters": list(inspect.signature(k.py_func).parameters),
                                 "signatures": [[str(t) for t in sig] for sig in k.signatures]}
                          for name, k in kernels.items()}))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    compiled = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(compiled["engine_histories"]["signatures"]) == 1  # compiled here, not loaded from a cache
    for name in ["trace", "interface_reflection", "sample_outgoing", "total_cross_section", "cluster_amplitude"]:
        assert compiled[name]["signatures"] == [], name
    flags = {"next_events": "impurities", "_background_collision": "background_perturbation",
             "_bulk_incident": "bulk_incident", "_first_order_secondary": "impurities"}
    for name, flag in flags.items():
        position = compiled[name]["parameters"].index(flag)
        assert compiled[name]["signatures"], name
        assert all(signature[position] == "none" for signature in compiled[name]["signatures"]), (name, compiled[name])
