"""Bulk metal with uniform background scattering and one scattering complex (``kind = "bulk"``).

Sorbello Appendix (Eqs. A1-A7) and Eq. 26, by Monte Carlo.  Each history
draws an incoming Fermi-surface direction k uniformly on the sphere (weight
4 pi), the complex scatters it with probability sigma_tot(k) into k' ~ |f|^2
(the library's exact sampler), and two estimators score the collision for a
field along each axis j at once (the bulk distribution g0_j(k) = -(tau(k)/tau0) k_j):

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
from numba import njit

from geometry.aperture import lambert_disk_sample
from mc.batches import CHUNK, Simulation
from mc.config import RunSettings, Table
from mc.scattering import parse_scatterer
from mc.scattering.sampling import sample_outgoing, total_cross_section
from mc.streams import history_stream, uniform
from observables.analytic import bulk as analytic
from observables.statistics import batch_estimate, figure_of_merit
from observables.tables import ResultRows

TALLY_KINDS = ("wind_force", "conductivity_change", "density_dipole")
N_SCORES = 27  # force, current-change and shell-moment tensors (3 x 3 each, row-major i, j)
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


@njit(cache=True, inline="always")
def _relaxation_time(kx, ky, kz, tau0, anisotropy, nx, ny, nz):
    c = kx * nx + ky * ny + kz * nz
    return tau0 * (1.0 + anisotropy * c * c) / (1.0 + anisotropy / 3.0)


@njit(nogil=True, parallel=True, cache=True)  # see mc.batches: serial loop, parallel passes
def bulk_histories(seed, first, count, table, tau0, anisotropy, axis, shell_inner, shell_outer):
    """Per-chunk sums (n_chunks, 27) of the force, current-change and shell-moment tensors
    (before 1/4 pi^3).  The shell moment is the track length, inside the shell, of the
    scattered electron (+, along k') and of the shadow of the removed one (-, along k),
    both flying out from the complex until their next background collision."""
    n_chunks = (count + CHUNK - 1) // CHUNK
    acc = np.zeros((n_chunks, N_SCORES))
    nx, ny, nz = axis[0], axis[1], axis[2]
    for chunk in range(n_chunks):
        row = acc[chunk]
        stop = min(count, (chunk + 1) * CHUNK)
        for h in range(chunk * CHUNK, stop):
            state = history_stream(seed, first + h)
            x1, x2, state = lambert_disk_sample(state)  # Marsaglia: uniform on the sphere
            s = x1 * x1 + x2 * x2
            root = 2.0 * math.sqrt(1.0 - s)
            kx, ky, kz = x1 * root, x2 * root, 1.0 - 2.0 * s
            qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state)
            tau_k = _relaxation_time(kx, ky, kz, tau0, anisotropy, nx, ny, nz)
            tau_q = _relaxation_time(qx, qy, qz, tau0, anisotropy, nx, ny, nz)
            u1, state = uniform(state)
            u2, state = uniform(state)
            path_k = -tau_k * math.log(u1)
            path_q = -tau_q * math.log(u2)
            in_shell_k = max(0.0, min(path_k, shell_outer) - shell_inner)
            in_shell_q = max(0.0, min(path_q, shell_outer) - shell_inner)
            weight = 4.0 * math.pi * total_cross_section(table, kx, ky, kz)
            k = (kx, ky, kz)
            q = (qx, qy, qz)
            for j in range(3):
                g = -weight * (tau_k / tau0) * k[j]
                for i in range(3):
                    row[3 * i + j] += g * (k[i] - q[i])
                    row[9 + 3 * i + j] += g * (path_q * q[i] - path_k * k[i])
                    row[18 + 3 * i + j] += g * (in_shell_q * q[i] - in_shell_k * k[i])
    return acc


def prepare(case) -> Simulation:
    model: BulkModel = case.model
    settings: RunSettings = case.settings
    tau0 = model.mean_free_path  # v_F = 1
    table = model.scatterer.sampling_table()
    axis = np.asarray(model.axis, float)

    def kernel(first, count):
        return bulk_histories(settings.seed, first, count, table, tau0, model.anisotropy, axis, *model.shell)

    return Simulation(case.name, kernel, lambda batches: results(case, batches))


def results(case, batches) -> ResultRows:
    model: BulkModel = case.model
    tau0 = model.mean_free_path
    axis = np.asarray(model.axis, float)
    flux = analytic.FLUX_PER_SOLID_ANGLE
    e = np.asarray(model.field)
    totals = batches.totals
    force_tensor = totals[:, :9].reshape(-1, 3, 3)
    current_tensor = totals[:, 9:18].reshape(-1, 3, 3)
    force = batch_estimate(force_tensor @ e, batches.histories).scaled(flux)
    delta_sigma = batch_estimate(current_tensor.reshape(-1, 9), batches.histories).scaled(-tau0 * flux)
    eq26 = batch_estimate(current_tensor @ e, batches.histories).scaled(-flux / tau0)

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
                     estimator="momentum_transfer", eq26=ref_eq26[i], eq26_from_simulated_sigma=eq26.mean[i],
                     eq26_from_simulated_sigma_stderr=eq26.stderr[i], fom=float(figure_of_merit(force[i], seconds)))
    if "density_dipole" in model.tallies:
        # int_shell dn (r.e) dV = p (dn/dE) (4 pi/3) int e^{-r/l} dr for dn = (dn/dE) p cos(theta)/r^2
        # (Sorbello Eq. 6 with Eq. 5); a uniform l in the attenuation (alpha = 0 for the reference)
        r1, r2 = model.shell
        attenuation = tau0 * (math.exp(-r1 / tau0) - math.exp(-r2 / tau0))
        moments = totals[:, 18:27].reshape(-1, 3, 3)
        dipole = batch_estimate(np.einsum("i,bij,j->b", e, moments, e)[:, None], batches.histories).scaled(
            flux / ((4.0 * math.pi / 3.0) * attenuation * analytic.DENSITY_OF_STATES))
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
