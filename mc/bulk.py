"""Bulk metal with uniform background scattering and one scattering complex (``kind = "bulk"``).

Sorbello Appendix (Eqs. A1-A7) and Eq. 26, by Monte Carlo on the one engine:
an infinite cell whose medium has the background mean free path tau(k) v_F
and ends a flight at its first background collision (after it the electron's
current averages out), one impurity at the origin, and the source
:class:`mc.sources.BulkIncident`: each history draws an incoming Fermi-surface
direction k uniformly on the sphere (weight 4 pi), the complex scatters it
with rate sigma_tot(k) into k' ~ |f|^2 (the library's exact sampler), and the
scattered electron (+) and the shadow of the removed one (-) fly out.  The
field runs along x, y and z in turn on the same random numbers (three engine
calls per batch), so the response tensors come out whole, with the bulk
distribution g0_j(k) = -(tau(k)/tau0) k_j:

* wind force (Eq. A6): the momentum transfer (k - k') g0_j sigma(k);
* current change (Eqs. A2-A5), a track-length estimator: the scattered
  electron carries k' along an exponential free path of mean tau(k') (after
  its next isotropic background collision its current averages out), and the
  removed electron would have carried k along one of mean tau(k).

* induced density (Sorbello Eq. 6, Schaich Eq. 7): the same free paths,
  counted inside a shell r1 < r < r2 around the complex, give the cos(theta)/r^2
  dipole of the density of scattered electrons and of the shadow they leave.

Their tensors give F for the configured field direction and delta sigma_ij;
Eq. 26 (A7) links them, exactly for uniform background scattering, and
``[background] anisotropy`` (tau(k) = tau0 (1 + alpha (k.n)^2)/(1 + alpha/3))
breaks it by an amount the table shows.  Units: see observables.analytic.bulk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geometry.model import STOP, Geometry, Medium
from geometry.regions import Everywhere
from mc.batches import Simulation
from mc.config import RunSettings, Table
from mc.engine import engine_histories
from mc.model import ImpurityModel, TransportModel, chunk_histories
from mc.scatterer_input import parse_scatterer
from mc.sources import BulkIncident
from observables.analytic import bulk as analytic
from observables.statistics import batch_estimate, figure_of_merit
from observables.tables import ResultRows
from observables.tallies import CURRENT_X, IMPURITY_MOMENTUM_X, NEXT_EVENT, Ball

TALLY_KINDS = ("wind_force", "conductivity_change", "density_dipole")
DEFAULT_SHELL = (5.0, 20.0)


@dataclass
class BulkModel:
    """A validated bulk case: the complex, tau0 = l (v_F = 1), the anisotropy of tau(k), E0's direction."""

    scatterer: object
    mean_free_path: float
    anisotropy: float
    axis: np.ndarray
    field: np.ndarray
    tallies: set[str]
    shell: tuple[float, float]


def _unit(vector, table: Table, key: str) -> np.ndarray:
    v = np.asarray(vector, float)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        raise table.error(key, "must not be the zero vector")
    return v / norm


def parse(root: Table, geometry: Table, settings: RunSettings) -> BulkModel:
    background = root.table("background")
    mean_free_path = float(background.number("mean_free_path", gt=0.0))
    anisotropy = float(background.number("anisotropy", 0.0, gt=-1.0))
    axis = _unit(background.vector("anisotropy_axis", (0.0, 0.0, 1.0)), background, "anisotropy_axis")
    background.finish()
    field = root.table("field")
    direction = _unit(field.vector("direction"), field, "direction")
    field.finish()
    impurities = root.tables("impurities")
    if len(impurities) != 1:
        raise root.error("impurities", f"a bulk case has exactly one scattering complex, got {len(impurities)}")
    impurity = impurities[0]
    # a uniform bulk is translation invariant: the position only locates the row
    impurity.vector("position", (0.0, 0.0, 0.0))
    scatterer = parse_scatterer(impurity.table("scatterer"))
    impurity.finish()
    tallies = set()
    shell = DEFAULT_SHELL
    for tally in root.tables("tallies"):
        kind = tally.string("kind", choices=TALLY_KINDS)
        tallies.add(kind)
        if kind == "density_dipole":
            shell = tuple(tally.numbers("shell", list(DEFAULT_SHELL), gt=0.0))
            if len(shell) != 2 or not shell[1] > shell[0]:
                raise tally.error("shell", f"must be [r_inner, r_outer] with r_outer > r_inner > 0, got {list(shell)}")
        tally.finish()
    if not tallies:
        raise root.error("tallies", "at least one [[tallies]] table is required")
    return BulkModel(scatterer, mean_free_path, anisotropy, axis, direction, tallies, shell)


def transport_model(model: BulkModel, field) -> TransportModel:
    geometry = Geometry()
    medium = Medium(mean_free_path=model.mean_free_path, anisotropy=model.anisotropy, axis=tuple(model.axis),
                    after_collision=STOP)
    geometry.add_cell(Everywhere(), medium, name="metal")
    r1, r2 = model.shell
    balls = [Ball((0.0, 0.0, 0.0), math.inf), Ball((0.0, 0.0, 0.0), r2, r1)]
    return TransportModel(geometry, [BulkIncident(0, tuple(field))], drain=None, reservoir_excess={},
                          impurities=[ImpurityModel((0.0, 0.0, 0.0), model.scatterer)], balls=balls)


def prepare(case) -> Simulation:
    """One engine model per field axis; the kernel returns their score rows side by side."""
    model: BulkModel = case.model
    compiled = [transport_model(model, axis).compile() for axis in np.eye(3)]
    layout = compiled[0][1]
    chunk = chunk_histories(3 * layout.size)
    seed = case.settings.seed

    def kernel(first, count):
        return np.concatenate([engine_histories(seed, first, count, chunk, arrays) for arrays, _ in compiled], axis=1)

    return Simulation(case.name, kernel, lambda batches: results(case, batches, layout), chunk)


def _tensor(totals, layout, read) -> np.ndarray:
    """(B, 3 components, 3 field axes) from the three side-by-side score rows."""
    size = layout.size
    return np.stack([read(totals[:, j * size:(j + 1) * size]) for j in range(3)], axis=2)


def results(case, batches, layout) -> ResultRows:
    model: BulkModel = case.model
    tau0 = model.mean_free_path
    axis = np.asarray(model.axis, float)
    e = np.asarray(model.field)
    totals = batches.totals
    # weights carry the flux 1/(4 pi^3): scores are in reduced units per history
    force_tensor = _tensor(totals, layout, lambda t: layout.read(t, "impurities")[:, 0, NEXT_EVENT,
                                                                               IMPURITY_MOMENTUM_X:IMPURITY_MOMENTUM_X + 3])
    current_tensor = _tensor(totals, layout, lambda t: layout.read(t, "balls")[:, 0, CURRENT_X:CURRENT_X + 3])
    shell_tensor = _tensor(totals, layout, lambda t: layout.read(t, "balls")[:, 1, CURRENT_X:CURRENT_X + 3])
    force = batch_estimate(force_tensor @ e, batches.histories)
    delta_sigma = batch_estimate(current_tensor.reshape(-1, 9), batches.histories).scaled(-tau0)
    eq26 = batch_estimate(current_tensor @ e, batches.histories).scaled(-1.0 / tau0)

    ref_force_tensor, ref_current_tensor = analytic.response_tensors(model.scatterer, tau0, model.anisotropy, axis)
    ref_sigma = analytic.conductivity_change(ref_current_tensor, tau0)
    ref_eq26 = analytic.eq26_wind_force(ref_sigma, e, tau0)
    ref_force = ref_force_tensor @ e
    seconds = batches.seconds
    rows = ResultRows(case.name, mean_free_path=tau0, anisotropy=model.anisotropy, seconds=seconds)
    position = (0.0, 0.0, 0.0)
    if "wind_force" in model.tallies:
        for i, comp in enumerate("xyz"):
            # reference: Eq. A6 by quadrature, the same quantity; it equals Eq. 26 (A7) for uniform
            # background scattering.  Eq. 26 from the quadrature and from the simulated delta sigma
            # stand beside it and show how far an anisotropic tau(k) breaks it.
            rows.add("wind_force", force.mean[i], force.stderr[i], ref_force[i], component=comp, position=position,
                     units="k_F e E0 l",
                     estimator="momentum_transfer", eq26=ref_eq26[i], eq26_from_simulated_sigma=eq26.mean[i],
                     eq26_from_simulated_sigma_stderr=eq26.stderr[i], fom=float(figure_of_merit(force[i], seconds)))
    if "density_dipole" in model.tallies:
        # int_shell dn (r.e) dV = p (dn/dE) (4 pi/3) int e^{-r/l} dr for dn = (dn/dE) p cos(theta)/r^2
        # (Sorbello Eq. 6 with Eq. 5); a uniform l in the attenuation (alpha = 0 for the reference)
        r1, r2 = model.shell
        attenuation = tau0 * (math.exp(-r1 / tau0) - math.exp(-r2 / tau0))
        dipole = batch_estimate(np.einsum("i,bij,j->b", e, shell_tensor, e)[:, None], batches.histories).scaled(
            1.0 / ((4.0 * math.pi / 3.0) * attenuation * analytic.DENSITY_OF_STATES))
        ref = analytic.landauer_dipole(model.scatterer, e) if model.anisotropy == 0.0 else np.nan
        rows.add("density_dipole", dipole.mean[0], dipole.stderr[0], ref, position=position,
                 estimator="shell_track_length", shell_inner=r1, shell_outer=r2,
                 fom=float(figure_of_merit(dipole[0], seconds)))
    if "conductivity_change" in model.tallies:
        for n, comp in enumerate(["xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz"]):
            rows.add("conductivity_change", delta_sigma.mean[n], delta_sigma.stderr[n], ref_sigma.ravel()[n],
                     component=comp, position=position, estimator="track_length",
                     fom=float(figure_of_merit(delta_sigma[n], seconds)))
    return rows
