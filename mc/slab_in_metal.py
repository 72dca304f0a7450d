"""The impurity layer in a real metal on the one engine: Sorbello Eqs. 47a-c and 26, to all orders in R.

``[geometry] kind = "slab"`` with ``[background] mean_free_path = l`` and the bulk
feed (``[source] distribution = "bulk"``, e E0 l = 1, E0 along -z): isotropic
elastic background scattering fills the space between absorbing reservoir planes at
z = +-L/2 (``[geometry] length`` L >= 8 l), and the layer at z = 0 is the quantum
interface of its profile (R(cos theta), exact).  Without the layer the occupation is
f0(z, mu) = mu - z/l everywhere (Eq. 1 and its density gradient: an exact solution
of the Boltzmann equation, current J0 = 1/(3 pi^2)); the layer adds the deviation
delta f, whose far fields carry the layer's resistance.

Estimators (``[background] estimator``):

* ``deviational`` (default) — only delta f is simulated (deviational Monte Carlo:
  Baker & Hadjiconstantinou, Phys. Fluids 17, 051703 (2005); Peraud &
  Hadjiconstantinou, Phys. Rev. B 84, 205331 (2011)).  f0 fails the layer's
  boundary condition f(0+, mu) = T f(0-, mu) + R f(0+, -mu) by the sheet source
  delta f(0+, mu) = -2 mu R(mu), delta f(0-, -mu) = +2 mu R(mu): each history
  emits one particle of it on each side (mu drawn from 3 mu^2, weight
  -+R(mu)/(3 pi^2)), which then flies, is reflected or transmitted by the layer
  and collides with the background until a reservoir absorbs it (no inflow of
  delta f there: the reservoirs hold f0).  Every score carries R, so the relative
  error does not grow as R -> 0, and nothing is dropped: the result holds at any R.
* ``analog`` — the whole f: the reservoir planes emit f0's inflow (the bulk
  distribution's cos theta and the isotropic excess -+L/(2l) of the gradient) and
  the density and current are scored as they are.  Its variance is that of f, not
  of delta f; it checks the deviational estimator (the same tallies, to all orders).

Tallies and what they give (units of the bulk drive, e E0 l = 1):

* the deviation's density in bins beside the layer (|z| > d/2) -> the potential
  profile e dPhi = -(n0 + dn)/(dn/dE) (Eq. 5), its close-in drop at the layer's faces
  (Eq. 47a, the limit d/l -> 0; :func:`close_in`) and its build-up over a few l;
* the current through the layer J = J0 + dJ, and with it the far-field drop at
  fixed current (Eq. 47c): the deviation's far fields vanish at the Milne distance
  z0 = 0.7104 l beyond each reservoir, so the jump of their linear extrapolations
  is (L + 2 z0)/l * dJ / J at the current J (rescaled to J0);
* the layer's resistance per area r = -drop / J (far field) against the close-in
  Landauer value (Eq. 43 with cos-weighted integrands): they differ;
* the wind force per area (Eq. 47b): the momentum 2 k_z of every reflection, f0's
  own (analytic in the deviational estimator) and the deviation's, and the ratio
  F_w / (A n0 e r J) of Eq. 26 (1 at any R: momentum balance, see the Slab page).

The drops and the force are linear in the current through the layer, which the layer
itself lowers from J0 to J between reservoirs at fixed potentials: they are reported at
the drive's current J0 (times J0/J), as the paper's Eqs. 47a-c are.

The reference column holds the exact value where one exists: for an angle-independent R, the
Galerkin solution of the deviation's Peierls equation with the layer in its kernel
(:mod:`observables.analytic.slab_in_metal`).  The column ``first_order`` holds the paper's
first-order closed forms (Eqs. 47a-c, 26; the first-order Peierls profile for the bins) for
every layer; they are not the reference of any row, because their O(R) error exceeds the
error bars of a run already at 2 int mu R ~ 1e-3 (the deviational error is relative to R).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from geometry.model import Geometry, Medium, Reservoir
from geometry.regions import Everywhere
from geometry.surfaces import ZPlane
from mc.model import TransportModel, engine_simulation
from mc.sources import BULK_LAW, STATES, PlaneEmitter, TableEmitter
from mc.streams import uniforms
from observables.analytic import slab_in_metal as metal
from observables.analytic.point_contact import DENSITY_OF_STATES
from observables.analytic.slab import moment
from observables.statistics import figure_of_merit, function_estimate
from observables.tables import ResultRows
from observables.tallies import CROSSINGS, SURFACE_MOMENTUM_X, TRACK_LENGTH, CartesianMesh

ESTIMATORS = ("deviational", "analog")
MIN_LENGTH = 8.0
"""L / l below which the layer's transients reach the reservoirs (the Milne far field needs L >> l)."""
MAX_COLLISIONS = 2e5
"""Background collisions per history ~ 3 (L/2l)^2 above which a run is refused (mc.model.MAX_EVENTS)."""
NEAR_BINS, NEAR_WIDTH, FAR_WIDTH = 20, 0.025, 0.5
"""Density bins on each side: 20 of 0.025 l beside the layer (the close-in drop and its build-up),
then bins of about l/2 to the reservoir."""


SOURCE_SALT = 0x5A1B_D3F1
BIRTH_OFFSET = 1e-9
"""Deviation particles start this many l off the layer, on the side they move into."""


def close_in(bins, i: int, j: int):
    """The close-in drop -(n(-d/2) - n(d/2)) from the two bins beside the layer on each side (i, i - 1 left,
    j, j + 1 right), extrapolated linearly to the layer's faces: n(d/2) = (3 n_j - n_{j+1}) / 2.  The density
    varies on the scale l near the layer (the uncollided sheet ~ E3(z/l)), so the drop at the faces
    differs from Eq. 47a's limit by O(d/l)."""
    left = 1.5 * bins[..., i] - 0.5 * bins[..., i - 1]
    right = 1.5 * bins[..., j] - 0.5 * bins[..., j + 1]
    return -(left - right)


@dataclass(frozen=True)
class MetalModel:
    """The layer's settings with a background: mean free path l, estimator, reservoir separation L."""

    mean_free_path: float
    estimator: str
    length: float

    @property
    def half_length(self) -> float:
        return 0.5 * self.length


def parse_background(root, geometry, source, slab, length, distribution) -> MetalModel | None:
    """``[background]`` of a slab case: None without one."""
    background = root.table("background", None)
    if background is None:
        return None
    l = float(background.number("mean_free_path", gt=0.0))
    estimator = background.string("estimator", "deviational", choices=ESTIMATORS)
    background.finish()
    if distribution != "bulk":
        raise source.error("distribution", "a layer in a metal with background scattering is fed by the bulk "
                           "distribution (\"bulk\", Eqs. 47a-c): the reservoir feed of Eq. 39 holds only without one")
    if l < 2.0 * slab.thickness:
        raise background.error("mean_free_path", f"the layer is an interface of zero width in the transport, so "
                               f"l must be >= 2 d = {2.0 * slab.thickness:g} (got {l:g})")
    if length is None:
        raise geometry.error("length", f"is required with a background: the reservoir separation L >= {MIN_LENGTH:g} l "
                             f"= {MIN_LENGTH * l:g}")
    if length < MIN_LENGTH * l:
        raise geometry.error("length", f"must be >= {MIN_LENGTH:g} l = {MIN_LENGTH * l:g} so that the layer's "
                             f"transients die out before the reservoirs (got {length:g})")
    collisions = 3.0 * (0.5 * length / l) ** 2
    if collisions > MAX_COLLISIONS:
        raise geometry.error("length", f"L = {length:g} needs about 3 (L/2l)^2 = {collisions:.2g} collisions per "
                             f"history (limit {MAX_COLLISIONS:.0e}): take L nearer {MIN_LENGTH:g} l")
    return MetalModel(l, estimator, float(length))


def density_bins(thickness: float, metal_model: MetalModel) -> list[CartesianMesh]:
    """The four z-meshes: near and far on the left, near and far on the right (per unit area)."""
    l, h, half = metal_model.mean_free_path, metal_model.half_length, 0.5 * thickness
    near_end = half + NEAR_BINS * NEAR_WIDTH * l
    far_bins = max(1, int(math.ceil((h - near_end) / (FAR_WIDTH * l))))
    inf = math.inf
    return [CartesianMesh((-inf, -inf, -h), (inf, inf, -near_end), (1, 1, far_bins)),
            CartesianMesh((-inf, -inf, -near_end), (inf, inf, -half), (1, 1, NEAR_BINS)),
            CartesianMesh((-inf, -inf, half), (inf, inf, near_end), (1, 1, NEAR_BINS)),
            CartesianMesh((-inf, -inf, near_end), (inf, inf, h), (1, 1, far_bins))]


def deviation_particles(seed: int, first: int, count: int, reflection, mean_free_path: float) -> np.ndarray:
    """(count, 2, 7) rows x, y, z, ux, uy, uz, weight: the layer's sheet source of delta f, one particle
    per side; mu ~ 3 mu^2 (exact, mu = U^(1/3)), weight -+R(mu)/(3 pi^2) = the flux (1/2pi^2) mu delta f
    per unit mu over the density 3 mu^2."""
    u = uniforms(seed, np.arange(first, first + count, dtype=np.uint64), 4, salt=SOURCE_SALT)
    table = np.zeros((count, 2, 7))
    for side, (mu_u, phi_u), sign in ((0, (u[:, 0], u[:, 1]), +1.0), (1, (u[:, 2], u[:, 3]), -1.0)):
        mu = np.cbrt(mu_u)
        s = np.sqrt(np.maximum(0.0, 1.0 - mu * mu))
        phi = 2.0 * math.pi * phi_u
        table[:, side, 2] = sign * BIRTH_OFFSET * mean_free_path
        table[:, side, 3] = s * np.cos(phi)
        table[:, side, 4] = s * np.sin(phi)
        table[:, side, 5] = sign * mu
        table[:, side, 6] = -sign * reflection(mu) / (3.0 * math.pi**2)
    return table


def transport_model(seed: int, slab, interface, metal_model: MetalModel) -> TransportModel:
    l, h = metal_model.mean_free_path, metal_model.half_length
    left_end, layer, right_end = ZPlane(-h, name="left reservoir"), ZPlane(0.0, name="layer"), ZPlane(h, name="right reservoir")
    geometry = Geometry()
    geometry.add_boundary(left_end, Reservoir("left"))
    geometry.add_boundary(right_end, Reservoir("right"))
    geometry.add_boundary(layer, interface)
    medium = Medium(mean_free_path=l)
    geometry.add_cell(+left_end & -layer, medium, name="left")
    geometry.add_cell(+layer & -right_end, medium, name="right")
    table = None
    if metal_model.estimator == "deviational":
        emitters = [TableEmitter(0), TableEmitter(1)]
        table = functools.partial(deviation_particles, seed, reflection=slab.reflection, mean_free_path=l)
    else:
        # f0's inflow: the bulk distribution (excess cos theta) and the gradient's isotropic -+L/(2l)
        gradient = h / l
        emitters = [PlaneEmitter(-h, +1, 1.0, BULK_LAW, "left", surface=left_end),
                    PlaneEmitter(-h, +1, gradient, STATES, "left", surface=left_end),
                    PlaneEmitter(h, -1, -1.0, BULK_LAW, "right", surface=right_end),
                    PlaneEmitter(h, -1, -gradient, STATES, "right", surface=right_end)]
    return TransportModel(geometry, emitters, drain="right", reservoir_excess={},
                          cartesian_meshes=density_bins(slab.thickness, metal_model),
                          surface_tallies=[(layer, Everywhere())], particle_table=table)


def prepare(case, interface):
    model = case.model
    transport = transport_model(case.settings.seed, model["slab"], interface, model["metal"])
    refs = references(model["slab"], model["metal"])  # once, not per batch of the verdict
    return engine_simulation(case.name, case.settings.seed, transport,
                             lambda batches, layout: results(case, batches, layout, refs))


def bin_edges(thickness: float, metal_model: MetalModel) -> np.ndarray:
    """Every density bin's edges, left to right, (n_bins, 2)."""
    pairs = []
    for mesh in density_bins(thickness, metal_model):
        e = mesh.edges(2)
        pairs.append(np.stack([e[:-1], e[1:]], axis=1))
    return np.concatenate(pairs)


def constant_reflection(slab) -> float | None:
    """R of a layer given as a table with the same R at every angle (None otherwise)."""
    if slab.uses_table and np.all(slab.table_reflection == slab.table_reflection[0]):
        return float(slab.table_reflection[0])
    return None


@dataclass(frozen=True)
class References:
    """What each row is compared with: the first-order values (Eqs. 47a-c, 26 and the first-order profile)
    and, for an angle-independent R, the exact ones (the Galerkin solution with the layer in the kernel)."""

    first_order: dict
    exact: dict | None

    def reference(self, key: str):
        if self.exact is not None:
            return self.exact[key]
        return np.nan * np.asarray(self.first_order[key])


def references(slab, metal_model: MetalModel) -> References:
    """Both solutions' values of every row (the bins of the close-in drop: the two beside the layer)."""
    l, h = metal_model.mean_free_path, metal_model.half_length
    edges = bin_edges(slab.thickness, metal_model)
    i, j = inner_bins(slab.thickness, metal_model)
    centres = edges.mean(axis=1)
    closed = metal.closed_forms(slab.reflection, slab.breakpoints())
    f0_force = metal.reflected_wind_force(slab.reflection, slab.breakpoints())

    def values(solution, first_order: bool) -> dict:
        bins = np.array([solution.bin_average(a, b) for a, b in edges])
        current = metal.BULK_DENSITY + (0.0 if first_order else solution.current)
        far = closed["far_field_drop"] if first_order else solution.far_field_drop()
        force = f0_force + solution.force
        resistance = -far / metal.BULK_DENSITY
        return {"potential": -(bins + -centres / l), "potential_drop": close_in(bins, i, j) * metal.BULK_DENSITY / current,
                "far_field_drop": far, "current": metal.BULK_DENSITY + solution.current,
                "resistivity": resistance, "resistivity_close_in": -close_in(bins, i, j) / current,
                "wind_force": force * metal.BULK_DENSITY / current,
                "force_resistivity_ratio": force / (metal.BULK_DENSITY * resistance * current)}

    required = np.abs(edges).ravel()
    first = metal.deviation_solution(slab.reflection, slab.breakpoints(), l, h, required_edges=required)
    r = constant_reflection(slab)
    exact = None
    if r is not None:
        exact = values(metal.deviation_solution(slab.reflection, slab.breakpoints(), l, h, required_edges=required,
                                                constant_reflection=r), first_order=False)
    return References(values(first, first_order=True), exact)


def inner_bins(thickness: float, metal_model: MetalModel) -> tuple[int, int]:
    """Indices of the two density bins that touch the layer (left, right)."""
    far = density_bins(thickness, metal_model)[0].shape[2]
    return far + NEAR_BINS - 1, far + NEAR_BINS


def results(case, batches, layout, refs: References) -> ResultRows:
    model = case.model
    slab, mm = model["slab"], model["metal"]
    l, h = mm.mean_free_path, mm.half_length
    totals, histories, seconds = batches.totals, batches.histories, batches.seconds
    deviational = mm.estimator == "deviational"
    edges = bin_edges(slab.thickness, mm)
    centres, widths = edges.mean(axis=1), edges[:, 1] - edges[:, 0]
    # track length per unit area and bin width -> occupation; the analog's includes f0's -z/l
    occupation = np.concatenate([layout.read(totals, f"cartesian_mesh_{k}")[:, 0, 0, :, TRACK_LENGTH]
                                 for k in range(4)], axis=1) / (widths * DENSITY_OF_STATES)
    background_occupation = -centres / l
    if not deviational:
        occupation = occupation - histories[:, None] * background_occupation[None, :]
    layer = layout.read(totals, "surfaces")[:, 0]
    crossings, force = layer[:, CROSSINGS], layer[:, SURFACE_MOMENTUM_X + 2]
    if deviational:
        # the right-going sheet is born beside the layer, not across it: its current joins the crossings';
        # f0's own reflections give the layer the force of Eq. 47b
        right_birth = -moment(slab.reflection, 2, slab.breakpoints()) / math.pi**2
        current_change = crossings + histories * right_birth
        force = force + histories * metal.reflected_wind_force(slab.reflection, slab.breakpoints())
    else:
        current_change = crossings - histories * metal.BULK_DENSITY
    i, j = inner_bins(slab.thickness, mm)
    rows = ResultRows(case.settings.name, system="slab", method="monte_carlo", distribution="bulk",
                      barrier=slab.model, thickness=slab.thickness, mean_free_path=l, length=mm.length,
                      estimator=mm.estimator)

    def add(observable, estimate, units, eq, **extra):
        rows.add(observable, estimate.mean, estimate.stderr, refs.reference(observable), units=units, equation=eq,
                 first_order=refs.first_order[observable], fom=float(figure_of_merit(estimate, seconds)),
                 seconds=seconds, **extra)

    total_current = lambda dj: metal.BULK_DENSITY + dj  # noqa: E731
    tallies = model["tallies"]
    if "potential_drop" in tallies:
        # at the drive's current J0, like the far-field drop: the layer's drops are linear in the current
        add("potential_drop", function_estimate(lambda n, dj: close_in(n, i, j) * metal.BULK_DENSITY / total_current(dj),
                                                [occupation, current_change], histories), "E0 l",
            "47a (at the faces |z| = d/2, at fixed current)")
        far = function_estimate(lambda dj: metal.far_field_drop(dj, h, l), [current_change], histories)
        add("far_field_drop", far, "E0 l", "47c")
        potential = function_estimate(lambda n: -(n + background_occupation), [occupation], histories)
        rows.add_block("potential", potential.mean, potential.stderr, refs.reference("potential"),
                       positions=(np.nan, np.nan, centres), units="E0 l", equation="5 (profile)",
                       first_order=refs.first_order["potential"], bin_lower=edges[:, 0], bin_upper=edges[:, 1],
                       seconds=seconds)
    if "current" in tallies:
        add("current", function_estimate(total_current, [current_change], histories), "k_F^2 e E0 l / hbar",
            "J0 + dJ")
    if "resistivity" in tallies:
        add("resistivity", function_estimate(lambda dj: layer_resistance(dj, h, l), [current_change], histories),
            "hbar / (e^2 k_F^2)", "-47c / J0 (the layer, far field)")
        close_r = function_estimate(lambda n, dj: -close_in(n, i, j) / total_current(dj),
                                    [occupation, current_change], histories)
        add("resistivity_close_in", close_r, "hbar / (e^2 k_F^2)", "-47a / J (Eq. 43 with cos-weighted integrands)")
    if "wind_force" in tallies:
        add("wind_force", function_estimate(lambda f, dj: f * metal.BULK_DENSITY / total_current(dj),
                                            [force, current_change], histories),
            "k_F^3 e E0 l", "47b (at fixed current)", component="z")
        ratio = function_estimate(
            lambda f, dj: f / (metal.BULK_DENSITY * layer_resistance(dj, h, l) * total_current(dj)),
            [force, current_change], histories)
        add("force_resistivity_ratio", ratio, "1", "26: F_w / (A n0 e r J)")
    return rows


def layer_resistance(current_change, half_length: float, mean_free_path: float):
    """r = -drop / J, the layer's resistance per area (hbar/(e^2 k_F^2)): the drop at the current J is
    far_field_drop * J / J0, so r = -far_field_drop / J0 (-> 18 pi^2 int mu^3 R, Eq. 47c)."""
    return -metal.far_field_drop(current_change, half_length, mean_free_path) / metal.BULK_DENSITY
