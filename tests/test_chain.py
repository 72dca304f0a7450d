"""1D chain between reservoirs (Sorbello Sec. III A, Eqs. 27-38).

Coherent transfer matrices against closed forms and an independent S-matrix
composition (1e-10 relative); the identity F_tot = -n0 e L rho J0 (Eq. 38) to
machine precision for random chains; the phase-randomised Monte Carlo against
the incoherent composition (1 - T)/T = sum R_i/T_i within 4 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mc
from conftest import assert_thread_invariant
from mc.barriers import ChainPotential
from mc import chain as chain_system
from mc import transfer_matrix as tm
from mc.errors import ConfigError
from observables.analytic import chain as analytic
from observables.statistics import z_score

EXAMPLE = "/work/shared/examples/chain_landauer.toml"


def _random_chain(count, seed, length=None, squares=True):
    """Random delta and square barriers (some tunnelling: height > 1/2), non-overlapping."""
    rng = np.random.default_rng(seed)  # test data only; the simulator uses mc.streams
    length = length or 6.0 * count
    centres = np.linspace(3.0, length - 3.0, count) + rng.uniform(-1.0, 1.0, count)  # well separated
    out = []
    for i, z in enumerate(centres):
        if squares and i % 3 == 2:
            out.append(ChainPotential("square", float(z), height=float(rng.uniform(-0.3, 0.9)), width=float(rng.uniform(0.2, 1.5))))
        else:
            out.append(ChainPotential("delta", float(z), strength=float(rng.uniform(-1.0, 1.0))))
    return length, out


def test_single_delta_transmits_one_over_one_plus_g2():
    for g in (0.1, 0.8, 2.5):
        left, right, r, t = tm.amplitudes(1.0, [(tm.DELTA, 42.0, 0.0, g)])
        assert abs(t) ** 2 == pytest.approx(1.0 / (1.0 + g * g), rel=1e-12)
        assert abs(r) ** 2 + abs(t) ** 2 == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_transfer_matrix_matches_smatrix_composition(seed):
    length, pots = _random_chain(12, seed)
    chain = chain_system.sorted_chain(length, pots)
    exact = chain_system.coherent_results(chain)
    R_s, T_s = analytic.coherent_rt(1.0, chain.scatterers())
    assert exact["reflection"] == pytest.approx(R_s, rel=1e-10)
    assert exact["transmission"] == pytest.approx(T_s, rel=1e-10)
    forces = analytic.coherent_forces(1.0, chain.scatterers())
    np.testing.assert_allclose(exact["force"], forces, rtol=1e-10, atol=1e-10 * np.abs(forces).max())
    plus, minus = analytic.coherent_gap_fluxes(1.0, chain.scatterers())
    np.testing.assert_allclose(exact["potential"], 0.5 - 0.5 * (plus + minus), rtol=1e-10)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_total_force_identity_eq38_machine_precision(seed):
    """Sum of Eq. 35 over impurities = 2 R/pi (Eq. 36) = -n0 e L rho J0 (Eq. 38), random chains with R/T from ~4 to ~1e4."""
    length, pots = _random_chain(40, seed, squares=True)
    exact = chain_system.coherent_results(chain_system.sorted_chain(length, pots))
    R, T = exact["reflection"], exact["transmission"]
    assert R + T == pytest.approx(1.0, abs=1e-13)
    n0 = 2.0 / math.pi
    J0 = -T / math.pi
    rho = math.pi * R / (length * T)
    assert exact["force_total"] == pytest.approx(2.0 * R / math.pi, rel=1e-12)
    assert exact["force_total"] == pytest.approx(-n0 * length * rho * J0, rel=1e-12)


def test_coherent_phase_average_is_the_incoherent_composition():
    """Averaging the coherent T of two deltas over their separation phase gives T1 T2/(1 - R1 R2)."""
    g1, g2 = 0.8, 1.3
    T1, T2 = 1 / (1 + g1**2), 1 / (1 + g2**2)
    separations = 10.0 + np.arange(256) * (math.pi / 256)  # k_F = 1: phase 2 k d spans one period
    T = [1.0 - tm.reflection(1.0, [(tm.DELTA, 0.0, 0.0, g1), (tm.DELTA, d, 0.0, g2)]) for d in separations]
    incoherent = analytic.incoherent_chain([1 - T1, 1 - T2])["transmission"]
    assert np.mean(T) == pytest.approx(T1 * T2 / (1 - (1 - T1) * (1 - T2)), rel=1e-10)
    assert incoherent == pytest.approx(T1 * T2 / (1 - (1 - T1) * (1 - T2)), rel=1e-12)


def test_example_runs_unchanged_with_both_methods():
    frame = mc.run(mc.load_case(EXAMPLE))
    assert set(frame.method) == {"transfer_matrix", "semiclassical"}
    coherent = frame[frame.method == "transfer_matrix"]
    np.testing.assert_allclose(coherent.value, coherent.reference, rtol=1e-10, atol=1e-13)
    semi = frame[frame.method == "semiclassical"]
    z = z_score(semi.value, semi.stderr, semi.reference)
    assert np.all(np.abs(z) < 4.0), semi.assign(z=z)[["observable", "z", "value", "reference"]]
    assert {"potential_drop", "wind_force", "force_total", "resistivity", "resistivity_reservoir"} <= set(semi.observable)


def test_incoherent_random_chain_monte_carlo():
    data = {
        "seed": 17,
        "histories": 100_000,
        "batches": 20,
        "geometry": {"kind": "chain", "length": 200.0, "coherence": "incoherent",
                     "random": {"count": 8, "strength": [0.3, 0.9]},
                     "potentials": [{"position": 150.5, "model": "square", "height": 0.6, "width": 1.0}]},
    }
    case = mc.parse_case(data)
    frame = mc.run(case)
    assert set(frame.method) == {"semiclassical"}
    z = z_score(frame.value, frame.stderr, frame.reference)
    assert np.all(np.abs(z) < 4.0), frame.assign(z=z)[["observable", "z", "value", "reference"]]
    # the random chain is fixed by the seed alone
    again = mc.parse_case(data)
    assert again.model["chain"] == case.model["chain"]


@pytest.mark.parametrize(
    "potentials,key",
    [
        ([{"position": 10.0, "model": "delta", "strength": 0.5}, {"position": 10.0, "model": "delta", "strength": 0.3}],
         "geometry.potentials[1]"),
        ([{"position": 10.0, "model": "square", "height": 0.3, "width": 2.0}, {"position": 10.9, "model": "delta", "strength": 0.3}],
         "geometry.potentials[1]"),
        ([{"position": 99.5, "model": "square", "height": 0.3, "width": 2.0}], "geometry.potentials[0]"),
        ([{"position": -1.0, "model": "delta", "strength": 0.3}], "geometry.potentials[0]"),
        ([{"position": 5.0, "model": "square", "height": 0.3, "width": 0.0}], "geometry.potentials[0].width"),
        ([{"position": 5.0, "model": "delta", "strength": float("inf")}], "geometry.potentials[0].strength"),
        ([{"position": 5.0, "model": "lorentzian", "strength": 1.0}], "geometry.potentials[0].model"),
        ([{"position": 5.0, "model": "delta", "strength": 1.0, "width": 1.0}], "geometry.potentials[0].width"),
        ([], "geometry.potentials"),
    ],
)
def test_bad_chain_is_rejected(potentials, key):
    data = {"histories": 100, "batches": 2, "geometry": {"kind": "chain", "length": 100.0, "potentials": potentials}}
    with pytest.raises(ConfigError) as info:
        mc.parse_case(data)
    assert info.value.key == key


def test_coherent_localisation_rate_random_phase():
    """<ln(1 + R/T)> = N ln(1 + g^2) for uniformly random phases (Anderson et al. 1980): exponential growth."""
    from runs.chain_length_study import random_phase_chain

    n, g, realizations = 16, 0.6, 400
    logs = []
    for m in range(realizations):
        chain = chain_system.sorted_chain(n * 10.0, random_phase_chain(n, g, 10.0, 77 + m))
        exact = chain_system.coherent_results(chain)
        logs.append(math.log1p(exact["reflection"] / exact["transmission"]))
    logs = np.array(logs)
    z = (logs.mean() - n * math.log1p(g * g)) / (logs.std(ddof=1) / math.sqrt(realizations))
    assert abs(z) < 4.0


def test_walk_independent_of_thread_count():
    assert_thread_invariant(mc.load_case(EXAMPLE, histories=20_000, batches=4))
