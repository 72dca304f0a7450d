"""Gamma(K) of the point contact at small K by the Chapman–Enskog estimator (docs/systems/point-contact.md, "Small K").

The Maxwell solution and its derivatives against finite differences and the disk's charge, the residual
source's angular mean and the sampler's normalisation against a quadrature, the estimator against the
analog one, thread independence, and the refusals."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

import mc
from geometry.sphere import sphere_quadrature
from mc.chapman_enskog import source_particles
from observables.analytic import maxwell_orifice as mo
from observables.analytic import point_contact as cf

A = 10.0
# a scattered set, and points where cancellations would show: by the rim (d = 1e-4 a, both
# sides of the screen plane), just above the hole, on the axis, far away, on the left
POINTS = np.concatenate([
    np.random.default_rng(5).uniform(-2.5 * A, 2.5 * A, (40, 3)),
    np.array([[A * (1 + 1e-4), 0.0, 1e-4 * A], [A * (1 - 1e-4), 0.0, 1e-4 * A], [0.3 * A, 0.2 * A, 1e-3 * A],
              [0.0, 0.0, 0.5 * A], [1e-9, 0.0, 2.0 * A], [40.0 * A, 3.0 * A, 7.0 * A], [2.0 * A, -A, -0.7 * A],
              [0.95 * A, 0.1 * A, -2e-3 * A]]),
])


def n_at(p):
    p = np.asarray(p, float)
    return mo.density(np.hypot(p[..., 0], p[..., 1]), p[..., 2], A)


def scale_of(p):
    """A finite-difference step well inside the distance to the rim and to the screen plane."""
    rim = math.hypot(math.hypot(p[0], p[1]) - A, p[2])
    return 1e-3 * min(rim, max(abs(p[2]), 1e-3 * A), A)


def test_maxwell_solution_is_harmonic_and_its_derivatives_match_finite_differences():
    for p in POINTS:
        h = scale_of(p)
        grad, hessian = mo.gradient_and_hessian(*p, A)
        steps = h * np.eye(3)
        fd_grad = np.array([(n_at(p + e) - n_at(p - e)) / (2 * h) for e in steps])
        fd_hessian = np.array([(mo.gradient_and_hessian(*(p + e), A)[0] - mo.gradient_and_hessian(*(p - e), A)[0])
                               / (2 * h) for e in steps])
        laplacian = sum((n_at(p + e) - 2 * n_at(p) + n_at(p - e)) / h**2 for e in steps)
        size = np.max(np.abs(hessian))
        assert np.max(np.abs(fd_grad - grad)) < 1e-6 * np.max(np.abs(grad)), p
        assert np.max(np.abs(fd_hessian - hessian)) < 1e-5 * size, p
        assert abs(laplacian) < 1e-3 * size and abs(np.trace(hessian)) < 1e-12 * size, p
        assert np.allclose(hessian, np.swapaxes(hessian, -1, -2))
    # boundary values: 1/2 on the hole, dn/dz = 0 on the screen, n(-z) = 1 - n(z), 0 far right
    assert mo.density(np.array([0.0, 0.5, 0.99]) * A, 1e-12, A) == pytest.approx(0.5, abs=1e-10)
    for rho in (1.001 * A, 2 * A, 30 * A):
        assert mo.gradient_and_hessian(rho, 0.0, 1e-13 * A, A)[0][2] == pytest.approx(0.0, abs=1e-12 / A)
    p = POINTS[:10]
    assert np.allclose(n_at(p) + n_at(p * [1, 1, -1]), 1.0)
    assert mo.density(0.0, 1e8 * A, A) == pytest.approx(1.0 / (math.pi * 1e8), rel=1e-6)
    # on the axis, the closed form (1/2)(1 - (2/pi) arctan(z/a))
    z = np.array([0.1, 1.0, 7.0]) * A
    assert np.allclose(mo.density(0.0, z, A), 0.5 - np.arctan(z / A) / math.pi, rtol=0, atol=1e-14)


def test_maxwell_current_is_the_disk_charge_and_the_flux_normalisation_gives_sharvin():
    # int_hole dn/dz dA = -2a (a disk of capacitance 2a/pi held at 1, half its charge per face)
    flux, _ = quad(lambda r: mo.gradient_and_hessian(r, 0.0, 1e-12 * A, A)[0][2] * 2 * math.pi * r, 0.0, A, limit=200)
    assert flux == pytest.approx(-2 * A, rel=1e-9)
    l = 0.3
    directions, weights = sphere_quadrature(12)
    flux_per_solid_angle = 1.0 / (4 * math.pi**3)
    # the Chapman-Enskog occupation n - l k.g carries -(l / 3 pi^2) g ...
    g = np.array([0.2, -0.1, 0.7])
    j = flux_per_solid_angle * np.sum(weights[:, None] * directions * (-l * directions @ g)[:, None], axis=0)
    assert np.allclose(j, -l / (3 * math.pi**2) * g)
    # ... so through the hole I_M = 2 a l / (3 pi^2) = 1 / R_Maxwell
    assert -l / (3 * math.pi**2) * flux == pytest.approx(mo.maxwell_current(A, l), rel=1e-9)
    assert mo.maxwell_current(A, l) == pytest.approx(1.0 / cf.maxwell_resistance(A, l), rel=1e-12)
    # the same normalisation gives Sharvin's current for occupation 1 through the hole
    mu, w_mu = np.polynomial.legendre.leggauss(4)
    outgoing = 2 * math.pi * np.sum(0.5 * w_mu * 0.5 * (mu + 1))  # int over the hemisphere of cos(theta)
    sharvin = flux_per_solid_angle * math.pi * A**2 * outgoing
    assert sharvin == pytest.approx(cf.sharvin_current(A), rel=1e-9)


def test_residual_source_has_zero_angular_mean_and_the_sampler_integrates_it():
    directions, weights = sphere_quadrature(8)
    for p in POINTS[::5]:
        s = mo.residual_source(np.broadcast_to(p, directions.shape), directions, A, 1.0)
        assert abs(np.sum(weights * s)) < 1e-12 * np.sum(weights * np.abs(s))
    l, radius = 1.0, 2.0 * A
    table = source_particles(3, 0, 100_000, A, l, radius)
    w = table[:, :, 6]
    assert np.max(np.abs(w.sum(axis=1))) < 1e-12 * np.max(np.abs(w))  # the six-direction frame cancels
    # E[sum_i w_i k_z^2] = (1/4pi^3) int dV int dOmega S k_z^2 = (1/4pi^3) (8 pi/15) l int H_zz dV, and
    # int_{half-ball} H_zz dV = -int_hole n_z dA + int_hemisphere n_z cos(theta) dA = 2a + ...
    cap, _ = quad(lambda t: mo.gradient_and_hessian(radius * math.sin(t), 0.0, radius * math.cos(t), A)[0][2]
                  * math.cos(t) * 2 * math.pi * radius**2 * math.sin(t), 0.0, 0.5 * math.pi, limit=200)
    expected = (8 * math.pi / 15) * l * (2 * A + cap) / (4 * math.pi**3)
    scores = np.sum(w * table[:, :, 5] ** 2, axis=1)
    assert abs(scores.mean() - expected) < 4 * scores.std() / math.sqrt(len(scores))
    # a history's particles depend only on (seed, history): any split of the range gives the same rows
    assert np.array_equal(source_particles(3, 7, 5, A, l, radius), table[7:12])
    assert not np.array_equal(source_particles(4, 7, 5, A, l, radius), table[7:12])
    r = np.linalg.norm(table[:, 0, :3], axis=1)
    assert np.all(table[:, 0, 2] > 0.0) and np.all(r < radius)


def case(knudsen, estimator, histories, seed, reservoir=50.0, **changes):
    data = {"name": "small-k", "seed": seed, "histories": histories, "batches": 20,
            "geometry": {"kind": "aperture", "radius": A},
            "background": {"mean_free_path": knudsen * A, "estimator": estimator},
            "source": {"kind": "aperture", "reservoir_radius": reservoir},
            "tallies": [{"kind": "current"}]}
    for key, value in changes.items():
        data[key] = value
    return mc.parse_case(data)


def gamma_of(frame):
    return frame[frame.observable == "gamma_wexler"].iloc[0]


def test_chapman_enskog_agrees_with_the_analog_estimator():
    # K = 0.3: I_phi is a quarter of the current, so a wrong source normalisation or sign would
    # move Gamma by ~0.2; both with reservoirs at 5a (the truncation corrections differ)
    analog = gamma_of(mc.run(case(0.3, "analog", 40_000, seed=21)))
    ce = gamma_of(mc.run(case(0.3, "chapman_enskog", 12_000, seed=22)))
    assert ce.estimator == "chapman_enskog" and ce.knudsen == pytest.approx(0.3)
    assert abs(ce.value - analog.value) < 4 * math.hypot(ce.stderr, analog.stderr)
    assert ce.stderr < 0.03 and analog.stderr < 0.02
    assert 0.8 < ce.value < 1.0


def test_chapman_enskog_is_the_same_for_any_thread_count():
    one = mc.run(case(0.3, "chapman_enskog", 6000, seed=23, reservoir=20.0), threads=1)
    two = mc.run(case(0.3, "chapman_enskog", 6000, seed=23, reservoir=20.0), threads=2)
    assert np.array_equal(one.value.to_numpy(), two.value.to_numpy())
    assert np.array_equal(one.stderr.to_numpy(), two.stderr.to_numpy())


@pytest.mark.parametrize("changes, message", [
    ({"geometry": {"kind": "aperture", "radius": A, "wall": "diffuse"}}, "background.estimator: .* specular screen"),
    ({"geometry": {"kind": "aperture", "radius": A, "specularity": 0.5}}, "background.estimator: .* specular screen"),
    ({"geometry": {"kind": "constriction", "radius": A, "length": A}}, "background.estimator: .* thin aperture"),
    ({"geometry": {"kind": "aperture", "radius": A, "lead_radius": 2 * A, "lead_length": 5 * A}, "source": {}},
     "background.estimator: .* thin aperture"),
    ({"source": {"kind": "reservoir", "reservoir_radius": 50.0}}, "source.kind: \"chapman_enskog\" brings its own"),
    ({"tallies": [{"kind": "current"}, {"kind": "density", "probes": [[0.0, 0.0, 5.0]]}]},
     "background.estimator: .* the current through the contact only"),
    ({"tallies": [{"kind": "current"}, {"kind": "wind_force"}],
      "impurities": [{"position": [0.0, 0.0, 5.0], "scatterer": {"model": "phase_shifts", "phase_shifts": [0.3, 0.2]}}]},
     "background.estimator: .* the current through the contact only"),
])
def test_chapman_enskog_refuses_what_it_cannot_measure(changes, message):
    with pytest.raises(mc.ConfigError, match=message):
        case(0.1, "chapman_enskog", 1000, seed=1, **changes)


def test_chapman_enskog_needs_a_mean_free_path():
    data = {"name": "x", "histories": 100, "geometry": {"kind": "aperture", "radius": A},
            "background": {"estimator": "chapman_enskog"}, "source": {"reservoir_radius": 50.0},
            "tallies": [{"kind": "current"}]}
    with pytest.raises(mc.ConfigError, match="background.mean_free_path: estimator = \"chapman_enskog\" measures"):
        mc.parse_case(data)
