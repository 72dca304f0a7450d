"""Impurity layer (slab) between reservoirs on the one engine: Sorbello Eqs. 39-47b.

Physics (reduced units hbar = m = e = k_F = 1, v_F = 1, both-spin dn/dE = 1/pi^2).
The layer |z| < d/2 is a quantum interface in the plane z = 0 that reflects an
electron with the probability R(cos theta) of its 1D profile (exact transfer
matrix, :mod:`mc.barriers`) and transmits it otherwise; reservoir planes at
z = -+L_r absorb (L_r = 3d/2, or half the ``length`` L if given); nothing
bounds the layer laterally (tallies per unit area).

* ``distribution = "ballistic"`` (Eq. 39), ``bias = "left"`` (default): the
  left reservoir is raised by delta-mu = 1 and emits the excess states
  k_z > 0; ``bias = "symmetric"``: +-delta-mu/2 on the two sides (the mirror
  process from the right beside the left one).  Drop, current and force are
  the same; only the densities shift by a constant, to +-int R / 2.
* ``distribution = "bulk"`` (Eq. 1, e E0 tau = 1, E0 along -z): both planes
  emit the excess occupation cos theta of the bulk distribution, with
  opposite signs.

Tallies: the density on each side of the layer (track length in the layers
[-L_r, -d/2] and [d/2, L_r]; semiclassical, Friedel cross terms dropped:
|psi|^2 -> 1 + R on the incident side, Eq. 40), the drop
e(dPhi_L - dPhi_R) = -(dn_L - dn_R)/(dn/dE) (Eq. 5) -> Eqs. 41, 47a; the
current into the right reservoir -> Eq. 42; the momentum given to the
interface -> Eqs. 46, 47b.  Why states and not the Lambertian flux: with the
flux sampled, every density score would carry 1/cos theta, whose variance
diverges at grazing incidence; sampling the states (cos theta uniform, weight
2 cos theta) keeps every score bounded.

With ``[background]`` the layer sits in a real metal (Eqs. 47a-c, 26): :mod:`mc.slab_in_metal`.

Resistivities (Eqs. 43, 44) are ratios of tallies scored in the same histories
(delta method); they are reported as rho L in hbar / (e^2 k_F^2) unless
``[geometry] length`` (the reservoir separation L) is given.
"""

from __future__ import annotations

import math

import numpy as np

from geometry.model import PROFILE_LAW, TABLE_LAW, Geometry, QuantumInterface, Reservoir
from geometry.regions import Everywhere
from geometry.surfaces import ZPlane
from mc import barriers, slab_in_metal
from mc.model import TransportModel, engine_simulation
from mc.sources import BULK_LAW, STATES, PlaneEmitter
from mc.transfer_matrix import as_arrays
from observables.analytic.point_contact import DENSITY_OF_STATES
from observables.analytic.slab import ballistic_references, bulk_references
from observables.statistics import batch_estimate, figure_of_merit, function_estimate
from observables.tables import ResultRows
from observables.tallies import SURFACE_MOMENTUM_X, TRACK_LENGTH, CartesianMesh

TALLY_KINDS = ("potential_drop", "current", "wind_force", "resistivity", "resistivity_reservoir")
METAL_TALLY_KINDS = ("potential_drop", "current", "wind_force", "resistivity")
"""With ``[background]`` (mc.slab_in_metal): the close-in and far-field drops and the profile, the current,
the wind force and Eq. 26, the far-field and close-in resistances per area."""


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
        slab = barriers.rectangular(thickness, float(height))
    elif model == "piecewise":
        edges = barrier.numbers("edges")
        heights = barrier.numbers("heights")
        if len(edges) != len(heights) + 1:
            raise barrier.error("heights", f"needs len(edges) - 1 = {len(edges) - 1} values, got {len(heights)}")
        _increasing(barrier, "edges", edges)
        if edges[0] < -half or edges[-1] > half:
            raise barrier.error("edges", f"must lie inside the slab [-d/2, d/2] = [{-half:g}, {half:g}]")
        slab = barriers.piecewise(thickness, edges, heights)
    elif model == "sampled":
        z = barrier.numbers("z")
        heights = barrier.numbers("heights")
        cells = int(barrier.number("cells", 400, ge=1, integer=True))
        if len(z) < 2 or len(z) != len(heights):
            raise barrier.error("heights", f"needs one value per z sample (>= 2 samples), got {len(heights)} for {len(z)}")
        _increasing(barrier, "z", z)
        if z[0] < -half or z[-1] > half:
            raise barrier.error("z", f"must lie inside the slab [-d/2, d/2] = [{-half:g}, {half:g}]")
        slab = barriers.sampled(thickness, z, heights, cells)
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
        slab = barriers.table(thickness, cos_theta, reflection)
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
    metal = slab_in_metal.parse_background(root, geometry, source, slab, length, distribution)
    kinds = METAL_TALLY_KINDS if metal is not None else TALLY_KINDS
    tallies = []
    for tally in root.tables("tallies"):
        kind = tally.string("kind", choices=TALLY_KINDS)
        if kind not in kinds:
            raise tally.error("kind", f"\"{kind}\" is a tally of the ballistic layer; with a background the layer "
                              f"reports {', '.join(METAL_TALLY_KINDS)}")
        tallies.append(kind)
        tally.finish()
    if not tallies:
        tallies = list(kinds)
    return {"slab": slab, "length": length, "distribution": distribution, "bias": bias, "tallies": set(tallies),
            "metal": metal}


# ----------------------------------------------------------------------------------------------
# simulate


def interface(slab) -> QuantumInterface:
    """The layer as a quantum interface: R(cos theta) of its profile (exact) or its table."""
    if slab.uses_table:
        return QuantumInterface(TABLE_LAW, np.zeros((0, 4)), np.stack([slab.table_cos, slab.table_reflection], axis=1),
                                slab.reflection)
    kinds, starts, widths, values = as_arrays(list(slab.elements))
    return QuantumInterface(PROFILE_LAW, np.stack([kinds, starts, widths, values], axis=1).reshape(-1, 4),
                            np.zeros((0, 2)), slab.reflection)


def transport_model(model) -> tuple[TransportModel, dict]:
    slab = model["slab"]
    half = 0.5 * slab.thickness
    outer = 0.5 * model["length"] if model["length"] is not None else 3.0 * half
    left_end, layer, right_end = ZPlane(-outer, name="left reservoir"), ZPlane(0.0, name="layer"), ZPlane(outer, name="right reservoir")
    geometry = Geometry()
    geometry.add_boundary(left_end, Reservoir("left"))
    geometry.add_boundary(right_end, Reservoir("right"))
    geometry.add_boundary(layer, interface(slab))
    geometry.add_cell(+left_end & -layer, name="left")
    geometry.add_cell(+layer & -right_end, name="right")
    if model["distribution"] == "bulk":
        emitters = [PlaneEmitter(-outer, +1, 1.0, BULK_LAW, "left", surface=left_end),
                    PlaneEmitter(outer, -1, -1.0, BULK_LAW, "right", surface=right_end)]
    elif model["bias"] == "symmetric":
        emitters = [PlaneEmitter(-outer, +1, 0.5, STATES, "left", surface=left_end),
                    PlaneEmitter(outer, -1, -0.5, STATES, "right", surface=right_end)]
    else:
        emitters = [PlaneEmitter(-outer, +1, 1.0, STATES, "left", surface=left_end)]
    infinite = math.inf
    sides = [CartesianMesh((-infinite, -infinite, -outer), (infinite, infinite, -half), (1, 1, 1)),
             CartesianMesh((-infinite, -infinite, half), (infinite, infinite, outer), (1, 1, 1))]
    transport = TransportModel(geometry, emitters, drain="right", reservoir_excess={}, cartesian_meshes=sides,
                               surface_tallies=[(layer, Everywhere())])
    return transport, {"drain": geometry.reservoir_index("right"), "widths": [outer - half, outer - half]}


def prepare(case):
    if case.model["metal"] is not None:
        return slab_in_metal.prepare(case, interface(case.model["slab"]))
    transport, plan = transport_model(case.model)
    return engine_simulation(case.name, case.settings.seed, transport,
                             lambda batches, layout: results(case, plan, batches, layout))


def results(case, plan, batches, layout) -> ResultRows:
    model = case.model
    settings = case.settings
    slab = model["slab"]
    bulk = model["distribution"] == "bulk"
    totals, histories, seconds = batches.totals, batches.histories, batches.seconds
    # density / (dn/dE) on each side: track length per unit area and layer width
    sides = np.stack([layout.read(totals, f"cartesian_mesh_{k}")[:, 0, 0, 0, TRACK_LENGTH] / (plan["widths"][k] * DENSITY_OF_STATES)
                      for k in range(2)], axis=1)
    current_totals = layout.read(totals, "reservoirs")[:, plan["drain"], 0]
    force_totals = layout.read(totals, "surfaces")[:, 0, SURFACE_MOMENTUM_X + 2]
    drop_totals = -(sides[:, 0] - sides[:, 1])
    if bulk:
        refs = bulk_references(slab.reflection, slab.breakpoints())
    else:
        refs = ballistic_references(slab.reflection, slab.breakpoints(), symmetric=model["bias"] == "symmetric")

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
    drive = "E0 l" if bulk else "delta_mu / e"
    length = model["length"]
    if length is None:
        rho_units, rho_scale = "hbar / (e^2 k_F^2)", 1.0  # rho L: resistance times area
    else:
        rho_units, rho_scale = "hbar / (e^2 k_F)", 1.0 / length

    def add(observable, estimate, reference, units, eq, component=""):
        rows.add(observable, estimate.mean, estimate.stderr, reference, component=component, units=units, equation=eq,
                 fom=float(figure_of_merit(estimate, seconds)), **common)

    tallies = model["tallies"]
    if "potential_drop" in tallies:
        add("potential_drop", batch_estimate(drop_totals, histories), refs["potential_drop"], drive, "47a" if bulk else "41")
        half = 0.5 * slab.thickness
        density_units = "e E0 l dn/dE" if bulk else "delta_mu dn/dE"
        density = batch_estimate(sides, histories)
        for k, (side, z) in enumerate((("left", -half), ("right", half))):
            rows.add("density", density.mean[k], density.stderr[k], refs[f"density_{side}"], position=(np.nan, np.nan, z),
                     units=density_units, equation="3, 40", side=side, **common)
    if "current" in tallies or "resistivity" in tallies or "resistivity_reservoir" in tallies:
        current = batch_estimate(current_totals, histories)
        add("current", current, refs["current"], "k_F^2 e E0 l / hbar" if bulk else "k_F^2 delta_mu / hbar",
            "J0 through layer" if bulk else "42")
        rho = function_estimate(lambda drop, j: -drop / j, [drop_totals, current_totals], histories).scaled(rho_scale)
        add("resistivity", rho, refs["resistivity"] * rho_scale, rho_units, "43 with cos-weighted integrands" if bulk else "43")
        if not bulk:
            rho_res = current.reciprocal().scaled(rho_scale)
            add("resistivity_reservoir", rho_res, refs["resistivity_reservoir"] * rho_scale, rho_units, "44")
    if "wind_force" in tallies:
        add("wind_force", batch_estimate(force_totals, histories), refs["wind_force"],
            "k_F^3 e E0 l" if bulk else "k_F^3 delta_mu", "47b" if bulk else "46", component="z")
    return rows


def figures(case, frame) -> dict:
    """The layer's inputs: R(theta), T(theta) and the integrand weights of Eqs. 41-47b, and the profile V(z)
    (the Monte Carlo against Eqs. 41-47b is in the validation figure of every case)."""
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
    ax.set_title(f"{case.name}: the layer's reflection")
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
    drawn = {"slab_reflection": fig}
    metal = case.model["metal"]
    if metal is not None:
        from observables.plots import layer_profile

        profile = layer_profile(frame, metal.mean_free_path, metal.half_length, case.name)
        if profile is not None:
            drawn["slab_in_metal_profile"] = profile
    return drawn
