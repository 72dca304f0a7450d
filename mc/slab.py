"""Impurity layer (slab) between reservoirs: Monte Carlo of Sorbello Eqs. 39-47b.

Physics (reduced units hbar = m = e = k_F = 1, v_F = 1, both-spin dn/dE = 1/pi^2):

* ``distribution = "ballistic"`` (Eq. 39), ``bias = "left"`` (default): the
  left reservoir is raised by delta-mu = 1, the right one is the reference,
  so the mirror process from the right carries no excess.  The excess
  electrons fill the hemisphere k_z > 0 uniformly: 1/(2 pi^2) states per
  volume.  Each history draws one such state, mu = cos(theta) uniform in
  (0, 1) (state sampling, see below), and the layer reflects it with
  probability R(mu) (analog Bernoulli draw), else transmits it.
  ``bias = "symmetric"``: mu_L = +delta-mu/2, mu_R = -delta-mu/2, i.e. the
  mirror process from the right with weight -1/2 beside the left one with
  +1/2.  Drop, current and force are the same (R(theta) is the same from
  both sides of a real 1D potential); only the densities shift by a
  constant, to +-int R / 2 (the potential becomes odd).
* ``distribution = "bulk"`` (Eq. 1, e E0 tau = 1, E0 along -z): each history
  draws mu uniform in (0, 1) and sends one electron from the left with
  signed weight +mu and one from the right (k_z = -mu) with weight -mu.

Scores per history (state weight w = 1/(2 pi^2) applied afterwards):

* density left / right of the layer (rows ``density`` at z = -+d/2, the
  persistent values between the layer and each reservoir) with the Friedel cross terms dropped
  (|psi|^2 -> 1 + R on the incident side, T on the other, Eq. 40): the
  drop is e(dPhi_L - dPhi_R) = -(dn_L - dn_R)/(dn/dE) (Eq. 5) -> Eqs. 41, 47a;
* transmitted particle flux mu (v_z of a transmitted electron) -> Eq. 42;
* momentum flux into the layer: flux mu times 2 mu per reflection -> Eqs. 46, 47b.

Why states and not the Lambertian flux: with mu = sqrt(u) (flux sampling)
every density score would carry 1/mu, whose variance diverges
logarithmically at grazing incidence; sampling the states of Eq. 39 and
weighting fluxes by v_z = mu keeps every score bounded.

Resistivities (Eqs. 43, 44) are ratios of batch tallies (delta method);
they are reported as rho L in hbar / (e^2 k_F^2) unless ``[geometry] length``
(the reservoir separation L) is given.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numba import njit

from geometry import slab as slab_geometry
from mc.batches import CHUNK, Simulation
from mc.streams import history_stream, uniform
from mc.transfer_matrix import profile_reflection
from observables.analytic.slab import ballistic_references, bulk_references
from observables.statistics import batch_estimate, figure_of_merit, ratio_estimate
from observables.tables import ResultRows

TALLY_KINDS = ("potential_drop", "current", "wind_force", "resistivity", "resistivity_reservoir")
N_SCORES = 4  # density left, density right, transmitted flux, momentum transfer


@njit(cache=True)
def _reflection(mu, kinds, starts, widths, values, table_cos, table_reflection, use_table):
    if use_table:
        return np.interp(mu, table_cos, table_reflection)
    return profile_reflection(mu, kinds, starts, widths, values)


MODE_LEFT = 0
"""Eq. 39 with the left reservoir raised by delta-mu: one electron from the left, weight 1."""
MODE_SYMMETRIC = 1
"""Eq. 39 with mu_L = +delta-mu/2, mu_R = -delta-mu/2: weight +1/2 from the left and -1/2 from the right."""
MODE_BULK = 2
"""Eq. 1 from both sides: weight +mu from the left and -mu from the right."""


@njit(nogil=True, parallel=True, cache=True)  # see mc.batches: serial loop, parallel passes
def slab_kernel(seed, first, count, mode, kinds, starts, widths, values, table_cos, table_reflection, use_table):
    """Scores (n_chunks, 4) of ``count`` histories from ``first``: dn_L, dn_R, j_t, F/A (unnormalised).

    Each history draws mu = cos(theta) uniform in (0, 1) and sends an electron
    from the left with weight w_L and (unless w_R = 0) one from the right with
    weight w_R, each reflected with probability R(mu).  Per electron of weight w:
    density +w on its incident side (+2w if reflected, else +w on both sides),
    transmitted flux w v_z, momentum given to the layer w |v_z| 2 k_z per reflection.
    """
    n_chunk = (count + CHUNK - 1) // CHUNK
    out = np.zeros((n_chunk, 4))
    for c in range(n_chunk):
        lo = c * CHUNK
        hi = min(count, lo + CHUNK)
        n_left = 0.0
        n_right = 0.0
        flux = 0.0
        momentum = 0.0
        for j in range(lo, hi):
            state = history_stream(seed, first + j)
            mu, state = uniform(state)
            R = _reflection(mu, kinds, starts, widths, values, table_cos, table_reflection, use_table)
            if mode == MODE_LEFT:
                w_left, w_right = 1.0, 0.0
            elif mode == MODE_SYMMETRIC:
                w_left, w_right = 0.5, -0.5
            else:
                w_left, w_right = mu, -mu
            # from the left, moving +z
            u, state = uniform(state)
            if u < R:
                n_left += 2.0 * w_left
                momentum += 2.0 * w_left * mu * mu
            else:
                n_left += w_left
                n_right += w_left
                flux += w_left * mu
            # from the right, moving -z: flux w (-mu), momentum w mu (-2 mu) per reflection
            if w_right != 0.0:
                u, state = uniform(state)
                if u < R:
                    n_right += 2.0 * w_right
                    momentum -= 2.0 * w_right * mu * mu
                else:
                    n_right += w_right
                    n_left += w_right
                    flux -= w_right * mu
        out[c, 0] = n_left
        out[c, 1] = n_right
        out[c, 2] = flux
        out[c, 3] = momentum
    return out


# ----------------------------------------------------------------------------------------------
# parse


def _increasing(t, key, values):
    if any(b <= a for a, b in zip(values[:-1], values[1:])):
        raise t.error(key, f"must be strictly increasing, got {values}")


def _parse_barrier(geometry, thickness):
    barrier = geometry.table("barrier")
    model = barrier.string("model", choices=("rectangular", "piecewise", "sampled", "table"))
    half = 0.5 * thickness
    if model == "rectangular":
        height = barrier.number("height")
        slab = slab_geometry.rectangular(thickness, float(height))
    elif model == "piecewise":
        edges = barrier.numbers("edges")
        heights = barrier.numbers("heights")
        if len(edges) != len(heights) + 1:
            raise barrier.error("heights", f"needs len(edges) - 1 = {len(edges) - 1} values, got {len(heights)}")
        _increasing(barrier, "edges", edges)
        if edges[0] < -half or edges[-1] > half:
            raise barrier.error("edges", f"must lie inside the slab [-d/2, d/2] = [{-half:g}, {half:g}]")
        slab = slab_geometry.piecewise(thickness, edges, heights)
    elif model == "sampled":
        z = barrier.numbers("z")
        heights = barrier.numbers("heights")
        cells = int(barrier.number("cells", 400, ge=1, integer=True))
        if len(z) < 2 or len(z) != len(heights):
            raise barrier.error("heights", f"needs one value per z sample (>= 2 samples), got {len(heights)} for {len(z)}")
        _increasing(barrier, "z", z)
        if z[0] < -half or z[-1] > half:
            raise barrier.error("z", f"must lie inside the slab [-d/2, d/2] = [{-half:g}, {half:g}]")
        slab = slab_geometry.sampled(thickness, z, heights, cells)
    else:
        cos_theta = barrier.numbers("cos_theta", ge=0.0, le=1.0)
        reflection = barrier.numbers("reflection")
        for i, r in enumerate(reflection):
            if not 0.0 <= r <= 1.0:
                raise barrier.error(f"reflection[{i}]", f"is a probability and must lie in [0, 1], got {r!r}")
        if len(cos_theta) != len(reflection) or len(cos_theta) < 2:
            raise barrier.error("reflection", f"needs one value per cos_theta node (>= 2), got {len(reflection)} for {len(cos_theta)}")
        _increasing(barrier, "cos_theta", cos_theta)
        if min(reflection) >= 1.0:
            raise barrier.error("reflection", "R = 1 at every angle: no current can pass and the resistivities are infinite")
        if cos_theta[0] != 0.0 or cos_theta[-1] != 1.0:
            raise barrier.error("cos_theta", "must run from 0 to 1 so that R is defined at every angle")
        slab = slab_geometry.table(thickness, cos_theta, reflection)
    barrier.finish()
    if not slab.uses_table:
        probe = slab.reflection(np.linspace(1e-3, 1.0, 64))
        if not np.all(np.isfinite(probe)):
            raise geometry.error("barrier", "R(theta) overflows (barrier far too thick or high for double precision)")
    return slab


def parse(root, geometry, settings):
    """Read ``[geometry]`` (thickness, barrier, optional length), ``[source]`` and ``[[tallies]]``."""
    thickness = float(geometry.number("thickness", gt=0.0))
    slab = _parse_barrier(geometry, thickness)
    length = geometry.number("length", None, gt=0.0)
    if length is not None and length < thickness:
        raise geometry.error("length", f"the reservoir separation must be >= thickness = {thickness:g}, got {length!r}")
    source = root.table("source", {})
    source.string("kind", "reservoirs", choices=("reservoirs",))
    distribution = source.string("distribution", "ballistic", choices=("ballistic", "bulk"))
    bias = source.string("bias", "left", choices=("left", "symmetric"))
    if distribution == "bulk" and "bias" in source:
        raise source.error("bias", "applies to the reservoir (ballistic) feed only; the bulk feed of Eq. 1 is already symmetric")
    source.finish()
    tallies = []
    for tally in root.tables("tallies"):
        tallies.append(tally.string("kind", choices=TALLY_KINDS))
        tally.finish()
    if not tallies:
        tallies = list(TALLY_KINDS)
    return {"slab": slab, "length": length, "distribution": distribution, "bias": bias, "tallies": set(tallies)}


# ----------------------------------------------------------------------------------------------
# simulate


def _mean_err(estimate):
    return estimate.mean, estimate.stderr


def prepare(case) -> Simulation:
    model = case.model
    settings = case.settings
    slab = model["slab"]
    bulk = model["distribution"] == "bulk"
    mode = MODE_BULK if bulk else (MODE_SYMMETRIC if model["bias"] == "symmetric" else MODE_LEFT)
    arrays = slab.kernel_arrays()
    use_table = slab.uses_table

    def kernel(first, count):
        return slab_kernel(settings.seed, first, count, mode, *arrays, use_table)

    return Simulation(case.name, kernel, lambda batches: results(case, batches))


def results(case, result) -> ResultRows:
    model = case.model
    settings = case.settings
    slab = model["slab"]
    bulk = model["distribution"] == "bulk"
    mode = MODE_BULK if bulk else (MODE_SYMMETRIC if model["bias"] == "symmetric" else MODE_LEFT)
    totals, histories, seconds = result.totals, result.histories, result.seconds
    weight = 1.0 / (2.0 * math.pi**2)  # states per volume in the sampled hemisphere (per unit drive)
    drop_totals = -0.5 * (totals[:, 0] - totals[:, 1])  # -(pi^2)(w)(dn_L - dn_R)
    current_totals = weight * totals[:, 2]
    force_totals = weight * totals[:, 3]
    if bulk:
        refs = bulk_references(slab.reflection, slab.breakpoints())
    else:
        refs = ballistic_references(slab.reflection, slab.breakpoints(), symmetric=mode == MODE_SYMMETRIC)

    rows = ResultRows(
        settings.name,
        system="slab",
        method="monte_carlo",
        distribution=model["distribution"],
        bias="" if bulk else model["bias"],
        barrier=slab.model,
        thickness=slab.thickness,
    )
    common = {"seconds": seconds}
    drive = "tau v_F E0" if bulk else "delta_mu / e"
    length = model["length"]
    if length is None:
        rho_units, rho_scale = "hbar / (e^2 k_F^2) [rho * L]", 1.0
    else:
        rho_units, rho_scale = "hbar / (e^2 k_F)", 1.0 / length

    def add(observable, estimate, reference, units, eq, component=""):
        rows.add(
            observable,
            estimate.mean,
            estimate.stderr,
            reference,
            component=component,
            units=units,
            equation=eq,
            fom=float(figure_of_merit(estimate, seconds)),
            **common,
        )

    tallies = model["tallies"]
    if "potential_drop" in tallies:
        add("potential_drop", batch_estimate(drop_totals, histories), refs["potential_drop"], drive, "47a" if bulk else "41")
        # dn / (dn/dE) = pi^2 w n = n / 2 on each side; e dPhi = -dn/(dn/dE) (Eq. 5)
        half = 0.5 * slab.thickness
        density_units = "tau v_F E0 e dn/dE" if bulk else "delta_mu dn/dE"
        for side, column, z in (("left", 0, -half), ("right", 1, half)):
            rows.add(
                "density",
                *_mean_err(batch_estimate(0.5 * totals[:, column], histories)),
                refs[f"density_{side}"],
                position=(np.nan, np.nan, z),
                units=density_units,
                equation="3, 40",
                side=side,
                **common,
            )
    if "current" in tallies or "resistivity" in tallies or "resistivity_reservoir" in tallies:
        current = batch_estimate(current_totals, histories)
        add(
            "current",
            current,
            refs["current"],
            "k_F^3 e E0 tau / m per area" if bulk else "k_F^2 delta_mu / hbar per area",
            "J0 through layer" if bulk else "42",
        )
        rho = ratio_estimate(-drop_totals, current_totals, histories).scaled(rho_scale)
        add("resistivity", rho, refs["resistivity"] * rho_scale, rho_units, "43 with cos-weighted integrands" if bulk else "43")
        if not bulk:
            rho_res = ratio_estimate(histories.astype(float), current_totals, histories).scaled(rho_scale)
            add("resistivity_reservoir", rho_res, refs["resistivity_reservoir"] * rho_scale, rho_units, "44")
    if "wind_force" in tallies:
        add(
            "wind_force",
            batch_estimate(force_totals, histories),
            refs["wind_force"],
            "k_F^3 e tau v_F E0 per area" if bulk else "k_F^3 delta_mu per area",
            "47b" if bulk else "46",
            component="z",
        )
    return rows


def plot(case, frame, out_dir) -> list[Path]:
    """R(theta), T(theta) and the integrand weights of Eqs. 41-47b against cos(theta); the profile V(z)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slab = case.model["slab"]
    mu = np.linspace(1e-4, 1.0, 600)
    R = slab.reflection(mu)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    ax.plot(mu, R, label="R(cos θ)")
    ax.plot(mu, 1 - R, label="T(cos θ)")
    ax.plot(mu, mu**2 * R, "--", label="cos²θ R (Eq. 46)")
    ax.plot(mu, mu**3 * R, ":", label="cos³θ R (Eq. 47b)")
    ax.set_xlabel("cos θ = k_z / k_F")
    ax.legend()
    ax.set_title(case.name)
    ax = axes[1]
    if slab.uses_table:
        ax.text(0.5, 0.5, "R given as a table", ha="center", transform=ax.transAxes)
    else:
        z, v = slab.profile()
        ax.plot(z, v)
        ax.axhline(0.5, color="grey", lw=0.5, ls="--", label="ε_F")
        ax.set_xlabel("z (1/k_F)")
        ax.set_ylabel("V(z) (ħ²k_F²/m)")
        ax.legend()
    fig.tight_layout()
    out = Path(out_dir) / "slab_reflection.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return [out]
