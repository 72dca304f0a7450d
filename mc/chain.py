"""1D chain of localized potentials between reservoirs (Sorbello Sec. III A, Eqs. 27-38).

Two descriptions of the same chain, reported side by side (column ``method``):

* ``transfer_matrix`` -- coherent, exact: R, T and the plane-wave amplitudes
  a_L^+-, a_R^+- around every impurity from :mod:`mc.transfer_matrix`; the
  wind force on impurity i is Eq. 35,
  F_i = (1/pi) [|a_L^+|^2 + |a_L^-|^2 - |a_R^+|^2 - |a_R^-|^2]  (k_F delta-mu),
  the 1/pi being delta-mu (dn/dE)/2 states per length at m v_F^2 = 1; the
  gap potentials are e dPhi_j = 1/2 - (|a_j^+|^2 + |a_j^-|^2)/2 (Eq. 5 with the
  window average of Eq. 29, 1D dn/dE = 2/pi; the constant puts the left
  reservoir at -1/2 and the right one at +1/2, SPEC §1).  References: the same
  quantities from S-matrix composition (observables.analytic.chain).
* ``semiclassical`` -- phase-randomised Monte Carlo (run whenever histories
  are given; ``coherence = "incoherent"`` reports only this one): an electron
  enters from the left reservoir moving right and walks between the
  impurities, reflected by impurity i with its own exact single-impurity R_i
  at k_F, until it is absorbed by a reservoir.  Scores per history: 1 if
  transmitted; the number of traversals of every gap (the density there, in
  units of 1/pi per length); +-2 k_F for every reflection at impurity i
  (momentum transfer, direction of motion).  Reference: the incoherent
  composition (1 - T)/T = sum_i R_i/T_i and its closed-form gap fluxes.

Reduced units hbar = m = e = k_F = 1, delta-mu = 1; the 1D resistivities
(Eqs. 32, 33) are in hbar k_F / e^2 (resistance per length).
"""

from __future__ import annotations

import math

import numpy as np

from geometry.jit import jit
from mc.barriers import ChainPotential, placement_problem, sorted_chain
from mc.batches import CHUNK, Simulation
from mc.config import Table
from mc.streams import history_stream, uniform
from mc.transfer_matrix import amplitudes
from observables.analytic import chain as analytic
from observables.statistics import batch_estimate, figure_of_merit, ratio_estimate
from observables.tables import ResultRows

TALLY_KINDS = ("potential_drop", "wind_force", "resistivity", "resistivity_reservoir", "current", "transmission")
RHO_UNITS = "hbar k_F / e^2"
MAX_WALK_STEPS = 2e10
"""Refuse semiclassical runs whose expected total number of walk steps exceeds this."""
_RANDOM_SALT = 0x5EED_C4A1
"""Stream offset of the random-chain generator (distinct from the histories' streams)."""


@jit(nogil=True, parallel=True)  # see mc.batches: serial loop, parallel passes
def chain_walk_kernel(seed, first, count, reflections):
    """Phase-randomised walks of ``count`` histories: scores (n_chunks, 1 + (N+1) + N).

    Column 0: transmitted; 1..N+1: traversals of gap j; N+2..2N+1: momentum given to impurity i.
    """
    n = reflections.shape[0]
    n_chunk = (count + CHUNK - 1) // CHUNK
    out = np.zeros((n_chunk, 2 * n + 2))
    for c in range(n_chunk):
        lo = c * CHUNK
        hi = min(count, lo + CHUNK)
        for h in range(lo, hi):
            state = history_stream(seed, first + h)
            gap = 0
            direction = 1
            out[c, 1] += 1.0
            while True:
                if direction > 0:
                    if gap == n:
                        out[c, 0] += 1.0
                        break
                    impurity = gap
                else:
                    if gap == 0:
                        break
                    impurity = gap - 1
                u, state = uniform(state)
                if u < reflections[impurity]:
                    out[c, n + 2 + impurity] += 2.0 * direction
                    direction = -direction
                else:
                    gap += direction
                out[c, 1 + gap] += 1.0
    return out


# ----------------------------------------------------------------------------------------------
# parse


def _parse_potential(t: Table) -> ChainPotential:
    position = float(t.number("position"))
    model = t.string("model", choices=("delta", "square"))
    if model == "delta":
        strength = float(t.number("strength"))
        p = ChainPotential("delta", position, strength=strength)
    else:
        height = float(t.number("height"))
        width = float(t.number("width", gt=0.0))
        p = ChainPotential("square", position, height=height, width=width)
    t.finish()
    return p


def random_potentials(length: float, count: int, low: float, high: float, seed: int) -> list[ChainPotential]:
    """``count`` delta barriers at uniform random positions in (0, L), strengths uniform in [low, high].

    Drawn from the counter-based stream (seed + salt, 0), so a random chain is
    fixed by its seed alone.
    """
    state = history_stream(np.uint64((seed + _RANDOM_SALT) % 2**63), np.uint64(0))
    out = []
    for _ in range(count):
        u, state = uniform(np.uint64(state))
        v, state = uniform(np.uint64(state))
        out.append(ChainPotential("delta", float(u * length), strength=float(low + (high - low) * v)))
    return out


def parse(root, geometry, settings):
    """``[geometry]``: length, potentials and/or random, coherence; ``[[tallies]]``."""
    length = float(geometry.number("length", gt=0.0))
    potentials = [_parse_potential(t) for t in geometry.tables("potentials")]
    keys = [f"potentials[{i}]" for i in range(len(potentials))]
    rnd = geometry.table("random", None)
    if rnd is not None:
        count = int(rnd.number("count", ge=1, integer=True))
        rnd.string("model", "delta", choices=("delta",))
        strength = rnd.raw("strength")
        if isinstance(strength, list):
            bounds = rnd.numbers("strength")
            if len(bounds) != 2 or bounds[1] < bounds[0]:
                raise rnd.error("strength", f"must be a number or a range [low, high], got {strength!r}")
            low, high = bounds
        else:
            low = high = float(rnd.number("strength"))
        seed = int(rnd.number("seed", settings.seed, ge=0, lt=2**63, integer=True))
        rnd.finish()
        potentials += random_potentials(length, count, low, high, seed)
        keys += [f"random (impurity {i})" for i in range(count)]
    if not potentials:
        raise geometry.error("potentials", "the chain needs at least one potential (potentials or random)")
    problem = placement_problem(length, potentials)
    if problem is not None:
        index, reason = problem
        raise geometry.error(keys[index], reason)
    coherence = geometry.string("coherence", "coherent", choices=("coherent", "incoherent"))
    chain = sorted_chain(length, potentials)
    reflections = np.array([analytic.single_reflection(1.0, s) for s in chain.scatterers()])
    if not np.all(np.isfinite(reflections)) or np.any(reflections >= 1.0):
        raise geometry.error("potentials", "an impurity reflects with R = 1 in double precision; no current can pass")
    incoherent = analytic.incoherent_chain(reflections)
    steps = settings.histories * float(np.sum(incoherent["plus"] + incoherent["minus"]))
    if steps > MAX_WALK_STEPS:
        raise root.error(
            "histories",
            f"the semiclassical walk would take about {steps:.2g} steps (R/T of the chain is "
            f"{incoherent['reflection'] / incoherent['transmission']:.3g}); use fewer histories or weaker impurities",
        )
    tallies = []
    for tally in root.tables("tallies"):
        tallies.append(tally.string("kind", choices=TALLY_KINDS))
        tally.finish()
    return {
        "chain": chain,
        "coherence": coherence,
        "tallies": set(tallies or TALLY_KINDS),
        "reflections": reflections,
    }


# ----------------------------------------------------------------------------------------------
# simulate


def coherent_results(chain) -> dict:
    """Exact coherent quantities from the transfer matrices at k_F (Eqs. 29-38)."""
    left, right, r, t = amplitudes(1.0, chain.elements())
    R = abs(r) ** 2
    T = abs(t) ** 2
    out = analytic.landauer(R, T, chain.length)
    density_left = (np.abs(left) ** 2).sum(axis=1)
    density_right = (np.abs(right) ** 2).sum(axis=1)
    out["force"] = (density_left - density_right) / math.pi
    out["force_total"] = float(out["force"].sum())
    out["gap_density"] = np.concatenate([density_left[:1], density_right])  # gap j: left of 0, then right of each
    out["potential"] = 0.5 - 0.5 * out["gap_density"]  # SPEC §1: reservoirs at -1/2 (left) and +1/2
    return out


def gap_edges(chain) -> tuple[np.ndarray, np.ndarray]:
    """Left and right ends of the V = 0 gaps (gap 0 starts at the left reservoir, gap N ends at the right)."""
    edges = [0.0]
    for p in chain.potentials:
        edges += list(p.extent)
    edges.append(chain.length)
    edges = np.array(edges).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def gap_centres(chain) -> np.ndarray:
    lo, hi = gap_edges(chain)
    return 0.5 * (lo + hi)


def _add_common_rows(rows, results, refs, chain, tallies, stderr, method, fom=None):
    """Rows shared by both methods; ``results[key]`` values, ``stderr[key]`` errors (0 for exact)."""
    def extra(key):
        return {} if fom is None else {"fom": fom.get(key, np.nan)}

    L = chain.length
    if "transmission" in tallies or "resistivity" in tallies:
        rows.add("transmission", results["transmission"], stderr.get("transmission", 0.0), refs["transmission"],
                 method=method, equation="30", **extra("transmission"))
        rows.add("reflection", 1.0 - results["transmission"], stderr.get("transmission", 0.0), refs["reflection"],
                 method=method, equation="29", **extra("transmission"))
    if "potential_drop" in tallies:
        rows.add("potential_drop", results["potential_drop"], stderr.get("potential_drop", 0.0), refs["potential_drop"],
                 method=method, equation="29", **extra("potential_drop"))
        centres = gap_centres(chain)
        for j, z in enumerate(centres):
            rows.add("potential", results["potential"][j], stderr.get("potential", np.zeros(len(centres)))[j],
                     refs["potential"][j], position=(0.0, 0.0, z), method=method, gap=j, equation="5, 29")
    if "current" in tallies or "resistivity" in tallies:
        rows.add("current", results["current"], stderr.get("current", 0.0), refs["current"],
                 method=method, equation="30", **extra("current"))
    if "resistivity" in tallies or "resistivity_reservoir" in tallies:
        rows.add("resistivity", results["resistivity"], stderr.get("resistivity", 0.0), refs["resistivity"],
                 units=RHO_UNITS, method=method, equation="32", length=L, **extra("resistivity"))
        rows.add("resistivity_reservoir", results["resistivity_reservoir"], stderr.get("resistivity_reservoir", 0.0),
                 refs["resistivity_reservoir"], units=RHO_UNITS, method=method, equation="33", length=L,
                 **extra("resistivity_reservoir"))
    if "wind_force" in tallies:
        force_err = stderr.get("force", np.zeros(len(chain.potentials)))
        for i, p in enumerate(chain.potentials):
            rows.add("wind_force", results["force"][i], force_err[i], refs["force"][i], component="z",
                     position=(0.0, 0.0, p.position), method=method, impurity=i, equation="35")
        rows.add("force_total", results["force_total"], stderr.get("force_total", 0.0), refs["force_total"],
                 component="z", method=method, equation="36-38", **extra("force_total"))


def prepare(case) -> Simulation:
    model = case.model
    reflections = model["reflections"]

    def kernel(first, count):
        return chain_walk_kernel(case.settings.seed, first, count, reflections)

    return Simulation(case.name, kernel, lambda batches: results(case, batches))


def results(case, result) -> ResultRows:
    model = case.model
    settings = case.settings
    chain = model["chain"]
    tallies = model["tallies"]
    rows = ResultRows(settings.name, system="chain", coherence=model["coherence"], impurities=len(chain.potentials))

    if model["coherence"] == "coherent":
        exact = coherent_results(chain)
        R_s, T_s = analytic.coherent_rt(1.0, chain.scatterers())
        refs = analytic.landauer(R_s, T_s, chain.length)
        refs["force"] = analytic.coherent_forces(1.0, chain.scatterers())
        plus, minus = analytic.coherent_gap_fluxes(1.0, chain.scatterers())
        refs["potential"] = 0.5 - 0.5 * (plus + minus)
        refs["force_total"] = refs["force_identity"]  # -n0 e L rho J0 (Eq. 38) from the S-matrix R, T
        _add_common_rows(rows, exact, refs, chain, tallies, {}, "transfer_matrix")

    # semiclassical (phase-randomised) Monte Carlo
    reflections = model["reflections"]
    n = len(reflections)
    totals, histories, seconds = result.totals, result.histories, result.seconds
    transmitted = totals[:, 0]
    traversals = totals[:, 1 : n + 2]
    momentum = totals[:, n + 2 :] / math.pi
    drop_totals = -0.5 * (traversals[:, 0] - traversals[:, -1])
    current_totals = transmitted / math.pi
    estimates = {
        "transmission": batch_estimate(transmitted, histories),
        "potential_drop": batch_estimate(drop_totals, histories),
        "potential": batch_estimate(-0.5 * traversals, histories).shifted(0.5),
        "current": batch_estimate(current_totals, histories),
        "resistivity": ratio_estimate(-drop_totals, current_totals, histories).scaled(1.0 / chain.length),
        "resistivity_reservoir": ratio_estimate(histories.astype(float), current_totals, histories).scaled(
            1.0 / chain.length
        ),
        "force": batch_estimate(momentum, histories),
        "force_total": batch_estimate(momentum.sum(axis=1), histories),
    }
    values = {k: e.mean for k, e in estimates.items()}
    errors = {k: e.stderr for k, e in estimates.items()}
    fom = {k: float(np.ravel(figure_of_merit(e, seconds))[0]) for k, e in estimates.items() if np.ndim(e.mean) == 0}
    inc = analytic.incoherent_chain(reflections)
    refs = analytic.landauer(inc["reflection"], inc["transmission"], chain.length)
    refs["force"] = inc["force"]
    refs["potential"] = inc["potential"]
    semiclassical = ResultRows(settings.name, **rows.extra, seconds=seconds)
    _add_common_rows(semiclassical, values, refs, chain, tallies, errors, "semiclassical", fom=fom)
    rows.parts.extend(semiclassical.parts)
    return rows


def figures(case, frame) -> dict:
    """Gap potentials (coherent and semiclassical) along the chain and the force on every impurity."""
    from observables.plots import chain_figure

    chain = case.model["chain"]
    lo, hi = gap_edges(chain)
    return {"chain_profile": chain_figure(frame, lo, hi, [p.position for p in chain.potentials], case.name)}
