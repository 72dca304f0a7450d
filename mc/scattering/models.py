"""Scatterer models on the Fermi shell and their config tables (SPEC §3).

Reduced units: hbar = m = k_F = 1; every electron scatters at k = k_F = 1,
cross sections are in 1/k_F^2, lengths in 1/k_F, potentials in
hbar^2 k_F^2 / m (= 2 eps_F).  Conventions:

* partial waves: f(gamma) = (1/k) sum_l (2l+1) e^{i delta_l} sin delta_l P_l(cos gamma),
  sigma_tot = (4 pi/k^2) sum (2l+1) sin^2 delta_l,
  sigma_tr = (4 pi/k^2) sum (l+1) sin^2(delta_l - delta_{l+1});
* optical theorem Im f(0) = k sigma_tot / (4 pi).  Schaich (1976) Eq. 6 reads
  Im f(0) = -(k/4pi) int |f|^2 because his amplitude is
  f_S = +(m/2 pi hbar^2) <k'|t|k> = -f (see :meth:`Scatterer.schaich_amplitude`);
* |<k'|T|k>|^2 Omega^2 = (2 pi hbar^2/m)^2 |f|^2.

Models (``model = ...`` in a config table, the same keys on the command line):

``isotropic``        cross_section (>= 0, at most the s-wave unitarity limit 4 pi):
                     a pure s wave with sin^2 delta_0 = sigma / 4 pi.
``phase_shifts``     phase_shifts = [delta_0, delta_1, ...] (radians).
``hard_sphere``      radius R: tan delta_l = j_l(kR)/y_l(kR).
``square_well``      radius R, depth V0: V = -V0 for r < R; depth > 0 is
                     ATTRACTIVE, depth < 0 a repulsive step.
``screened_coulomb`` valence Z (!= 0; Z > 0 attracts electrons),
                     screening = "thomas_fermi" | "lindhard" (Das Eqs. 1, 2, 5),
                     rs (electron-gas parameter, default 2.07 = Al) or
                     material (name, see mc.scatterer_input.MATERIAL_RS), screening_scale
                     (q_screen / q_TF, default 1) or friedel = true (fit the
                     scale so that Z = (2/pi) sum (2l+1) delta_l).
``born``             potential = { model = "square_well" | "screened_coulomb", ... }:
                     first Born approximation f_B(q) = -(m / 2 pi hbar^2) V(q),
                     q = 2 k sin(gamma/2) (not unitary: Im f_B = 0).
``cluster``          centres = [[x, y, z], ...], members = [ {model...}, ... ]:
                     exact multiple scattering of non-overlapping spherical
                     members (:mod:`mc.scattering.cluster`).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from geometry.sphere import sphere_quadrature
from mc.scattering import phase_shifts as ps
from mc.scattering.cluster import cluster_matrix, cluster_table
from mc.scattering.sampling import (
    HEADER,
    KIND_ISOTROPIC,
    KIND_SPHERICAL,
    RECORD,
    alias_table,
    cluster_amplitudes,
    intensity_grid,
    records_start,
)

MODELS = ("isotropic", "phase_shifts", "hard_sphere", "square_well", "screened_coulomb", "born", "cluster")


DEFAULT_RS = 2.07

SAMPLER_CELLS = 1024
"""Cells in cos(gamma) of the alias + rejection sampler (doubled while the squeeze accepts < 97 %)."""

MAX_SAMPLER_CELLS = 8192

_SUB_POINTS = 8
"""Grid intervals per cell at which |f|^2 is evaluated to bound it."""


def _legendre_series(coefficients: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """sum_l (2l+1) c_l P_l(mu) for complex c_l (upward recursion)."""
    mu = np.asarray(mu, dtype=float)
    p_prev = np.ones_like(mu)
    total = coefficients[0] * p_prev + 0j
    if len(coefficients) == 1:
        return total
    p = mu.copy()
    total = total + 3.0 * coefficients[1] * p
    for l in range(1, len(coefficients) - 1):
        p_prev, p = p, ((2 * l + 1) * mu * p - l * p_prev) / (l + 1)
        total = total + (2 * l + 3) * coefficients[l + 1] * p
    return total


def _cell_bounds(values: np.ndarray, n_cells: int):
    """Upper and lower bounds of |f(mu)|^2 on n_cells equal cells of [-1, 1].

    ``values`` is |f|^2 on a uniform grid of n_cells * _SUB_POINTS + 1 points
    (the same recursion as the kernel's exact evaluation).  The
    bounds are the extreme grid values in the cell widened by the largest
    change between neighbouring grid points in and next to the cell (for a
    smooth function the excursion between points, ~ f'' h^2 / 8, is far
    below that).  Checked on a 64x finer grid by the tests.
    """
    sub = (values.size - 1) // n_cells
    cells = values[:-1].reshape(n_cells, sub)
    right = values[sub::sub]
    cell_values = np.concatenate([cells, right[:, None]], axis=1)
    steps = np.abs(np.diff(values))
    padded = np.concatenate([[steps[0]], steps, [steps[-1]]])
    spread = np.lib.stride_tricks.sliding_window_view(padded, sub + 2)[::sub].max(axis=1)
    upper = cell_values.max(axis=1) + spread + 1e-15 * values.max()
    lower = np.maximum(cell_values.min(axis=1) - spread, 0.0)
    return upper, lower


def _cos_between(k_in, k_out) -> np.ndarray:
    k_in = np.asarray(k_in, dtype=float)
    k_out = np.asarray(k_out, dtype=float)
    return np.clip(np.sum(k_in * k_out, axis=-1), -1.0, 1.0)


class Scatterer:
    """A scatterer on the Fermi shell (k = k_F = 1).

    Attributes: ``model``, ``spherical``, ``phase_shifts`` (delta_l or None),
    ``friedel_sum`` ((2/pi) sum (2l+1) delta_l or None), ``sigma_tot`` and
    ``sigma_tr`` (1/k_F^2; for a non-spherical scatterer their averages over
    incoming directions), ``parameters`` (the parsed keys).
    """

    model: str = ""
    spherical: bool = True
    phase_shifts: np.ndarray | None = None
    friedel_sum: float | None = None

    def amplitude(self, k_in, k_out) -> np.ndarray:
        """Complex f(k_in -> k_out) in 1/k_F for unit vectors of shape (..., 3)."""
        raise NotImplementedError

    def differential_cross_section(self, k_in, k_out) -> np.ndarray:
        """|f(k_in -> k_out)|^2 in 1/k_F^2 per steradian."""
        f = self.amplitude(k_in, k_out)
        return f.real**2 + f.imag**2

    def sigma_tot_along(self, k_in) -> float:
        """sigma_tot for incoming direction k_in (1/k_F^2); a constant for spherical scatterers."""
        return float(self.sigma_tot)

    def sigma_tr_along(self, k_in) -> float:
        """int dOmega' (1 - k.k') |f(k, k')|^2 for incoming k_in (1/k_F^2)."""
        return float(self.sigma_tr)

    def momentum_transfer_along(self, k_in) -> np.ndarray:
        """int dOmega' |f(k, k')|^2 (k - k') (1/k_F^2): Schaich Eq. 35 / (hbar k_F); k sigma_tr if spherical."""
        return np.asarray(k_in, dtype=float) * self.sigma_tr

    def schaich_amplitude(self, k_in, k_out) -> np.ndarray:
        """Schaich's sign convention f_S = -f, for which Im f_S(0) = -(k/4pi) int |f|^2 (his Eq. 6)."""
        return -self.amplitude(k_in, k_out)

    def sampling_table(self) -> np.ndarray:
        """One flat float64 array for :func:`mc.scattering.sample_outgoing` (cached)."""
        raise NotImplementedError

    def summary(self, k_in=(0.0, 0.0, 1.0)) -> dict:
        """phase_shifts, sigma_tot, sigma_tr, friedel_sum (reduced units) for tables and JSON."""
        return {
            "model": self.model,
            "phase_shifts": None if self.phase_shifts is None else [float(d) for d in self.phase_shifts],
            "sigma_tot": float(self.sigma_tot),
            "sigma_tr": float(self.sigma_tr),
            "friedel_sum": None if self.friedel_sum is None else float(self.friedel_sum),
        }


class SphericalScatterer(Scatterer):
    """f(gamma) = sum_l (2l+1) a_l P_l(cos gamma) (k = 1).

    Unitary models have a_l = e^{i delta_l} sin delta_l; the Born model has real
    a_l = -(2m/hbar^2) int V(r) j_l(kr)^2 r^2 dr (its "Born phase shifts").
    ``closed_form(mu)``, when given, is the exact amplitude used by
    :meth:`dcs` (the Legendre series is what the sampler uses; they agree
    to < 1e-10).
    """

    def __init__(self, model, coefficients, *, phase_shifts=None, parameters=None, closed_form=None, unitary=True):
        self.model = model
        self.spherical = True
        self.coefficients = np.asarray(coefficients, dtype=complex)
        self.phase_shifts = None if phase_shifts is None else np.asarray(phase_shifts, dtype=float)
        self.friedel_sum = None if phase_shifts is None else ps.friedel_sum(phase_shifts)
        self.parameters = dict(parameters or {})
        self.closed_form = closed_form
        self.unitary = unitary
        a = self.coefficients
        ls = np.arange(a.size)
        if unitary:
            d = self.phase_shifts
            s2 = np.sin(d) ** 2
            self.sigma_tot = float(4.0 * math.pi * np.sum((2 * ls + 1) * s2))
            d_next = np.append(d[1:], 0.0)
            self.sigma_tr = float(4.0 * math.pi * np.sum((ls + 1) * np.sin(d - d_next) ** 2))
        else:
            # int |f|^2 dOmega = 4 pi sum (2l+1)|a_l|^2, int mu |f|^2 dOmega = 8 pi sum (l+1) Re a_l a*_{l+1}
            self.sigma_tot = float(4.0 * math.pi * np.sum((2 * ls + 1) * np.abs(a) ** 2))
            forward = 8.0 * math.pi * np.sum((ls[:-1] + 1) * (a[:-1] * np.conj(a[1:])).real)
            self.sigma_tr = float(self.sigma_tot - forward)

    def amplitude_cos(self, mu) -> np.ndarray:
        """Complex f as a function of cos(gamma), 1/k_F."""
        mu = np.clip(np.asarray(mu, dtype=float), -1.0, 1.0)
        if self.closed_form is not None:
            return np.asarray(self.closed_form(mu), dtype=complex)
        return _legendre_series(self.coefficients, mu)

    def dcs(self, mu) -> np.ndarray:
        """|f(cos gamma)|^2, 1/k_F^2 per steradian."""
        f = self.amplitude_cos(mu)
        return f.real**2 + f.imag**2

    def amplitude(self, k_in, k_out):
        return self.amplitude_cos(_cos_between(k_in, k_out))

    @cached_property
    def _table(self) -> np.ndarray:
        a = self.coefficients
        if (a.size == 1 and self.unitary) or not np.any(a):
            return np.array([KIND_ISOTROPIC, self.sigma_tot, self.sigma_tr, 1.0])
        a_re, a_im = np.ascontiguousarray(a.real), np.ascontiguousarray(a.imag)
        n_cells = SAMPLER_CELLS
        while True:
            values = intensity_grid(a_re, a_im, np.linspace(-1.0, 1.0, n_cells * _SUB_POINTS + 1))
            upper, lower = _cell_bounds(values, n_cells)
            if lower.sum() >= 0.97 * upper.sum() or n_cells >= MAX_SAMPLER_CELLS:
                break
            n_cells *= 2
        threshold, alias = alias_table(upper)
        width = 2.0 / n_cells
        alias_cell = alias.astype(np.int64)
        with np.errstate(divide="ignore"):
            ratio = np.where(upper > 0, lower / upper, 1.0)
            scale_self = np.where(threshold > 0, width / threshold, 0.0)
            scale_alias = np.where(threshold < 1, width / (1.0 - threshold), 0.0)
        records = np.stack(
            [
                threshold,
                -1.0 + alias_cell * width,
                scale_self,
                scale_alias,
                ratio,
                upper,
                ratio[alias_cell],
                upper[alias_cell],
            ],
            axis=1,
        )
        assert records.shape[1] == RECORD
        ls = np.arange(a.size)
        scaled = (2 * ls + 1) * a
        bonnet_alpha, bonnet_beta = (2 * ls + 1) / (ls + 1), ls / (ls + 1)
        head = np.concatenate(
            [[KIND_SPHERICAL, self.sigma_tot, self.sigma_tr, 1.0, a.size, n_cells, 0.0], scaled.real, scaled.imag, bonnet_alpha, bonnet_beta]
        )
        assert head.size == HEADER + 3 + 4 * a.size
        pad = np.zeros(records_start(a.size) - head.size)
        return np.concatenate([head, pad, records.ravel()])

    def sampling_table(self) -> np.ndarray:
        return self._table


class ClusterScatterer(Scatterer):
    """Several spherical members at ``centres`` scattering coherently (multiple scattering, k = 1).

    The members enter only through their phase shifts, i.e. as
    non-overlapping (muffin-tin) potentials; for members of infinite range
    (screened_coulomb) that is an approximation, exact for hard spheres,
    square wells and point-like isotropic / phase-shift members.
    ``sigma_tot`` and ``sigma_tr`` are averages over incoming directions; use
    the ``*_along(k_in)`` methods (or :func:`total_cross_section` in a kernel)
    for a given direction.
    """

    def __init__(self, centres, members, parameters=None):
        self.model = "cluster"
        self.spherical = False
        self.phase_shifts = None
        self.friedel_sum = None
        self.centres = np.asarray(centres, dtype=float)
        self.members = list(members)
        self.parameters = dict(parameters or {})
        shifts = []
        for member in self.members:
            d = np.asarray(member.phase_shifts, dtype=float)
            big = np.nonzero(np.abs(np.sin(d)) >= 1e-10)[0]
            shifts.append(d[: (big[-1] + 1) if big.size else 1])
        self.l_max = max(len(d) for d in shifts) - 1
        self.member_phase_shifts = shifts
        self.matrix = cluster_matrix(self.centres, shifts, self.l_max)
        self._table = cluster_table(self.centres, self.matrix, self.l_max)

    def sampling_table(self) -> np.ndarray:
        return self._table

    def amplitude(self, k_in, k_out):
        k_in, k_out = np.broadcast_arrays(np.asarray(k_in, dtype=float), np.asarray(k_out, dtype=float))
        flat_in = np.ascontiguousarray(k_in.reshape(-1, 3))
        flat_out = np.ascontiguousarray(k_out.reshape(-1, 3))
        return cluster_amplitudes(self._table, flat_in, flat_out).reshape(k_in.shape[:-1])

    def sigma_tot_along(self, k_in) -> float:
        """sigma_tot(k) = (4 pi / k) Im f(k, k) (optical theorem)."""
        return float(4.0 * math.pi * self.amplitude(k_in, k_in).imag)

    def momentum_transfer_along(self, k_in) -> np.ndarray:
        """int dOmega' |f(k, k')|^2 (k - k') (vector, 1/k_F^2), the Schaich Eq. 35 vertex / hbar k_F."""
        k_in = np.asarray(k_in, dtype=float)
        dirs, weights = sphere_quadrature()
        dcs = self.differential_cross_section(np.broadcast_to(k_in, dirs.shape), dirs)
        return np.sum((weights * dcs)[:, None] * (k_in[None, :] - dirs), axis=0)

    def sigma_tr_along(self, k_in) -> float:
        """int dOmega' (1 - k.k') |f(k, k')|^2 for incoming k."""
        return float(np.dot(self.momentum_transfer_along(k_in), np.asarray(k_in, dtype=float)))

    @cached_property
    def sigma_tot(self) -> float:
        dirs, weights = sphere_quadrature(16)
        return float(sum(w * self.sigma_tot_along(d) for d, w in zip(dirs, weights)) / (4 * math.pi))

    @cached_property
    def sigma_tr(self) -> float:
        dirs, weights = sphere_quadrature(8)
        return float(sum(w * self.sigma_tr_along(d) for d, w in zip(dirs, weights)) / (4 * math.pi))

    def summary(self, k_in=(0.0, 0.0, 1.0)) -> dict:
        k_in = np.asarray(k_in, dtype=float)
        return {
            "model": self.model,
            "phase_shifts": None,
            "sigma_tot": self.sigma_tot_along(k_in),
            "sigma_tr": self.sigma_tr_along(k_in),
            "friedel_sum": None,
            "incoming_direction": [float(v) for v in k_in],
            "sigma_tot_average": self.sigma_tot,
            "sigma_tr_average": self.sigma_tr,
        }


# ---------------------------------------------------------------- constructors (Python API)


def _unitary(model, deltas, parameters):
    deltas = np.asarray(deltas, dtype=float)
    coefficients = np.exp(1j * deltas) * np.sin(deltas)
    return SphericalScatterer(model, coefficients, phase_shifts=deltas, parameters=parameters)


def isotropic(cross_section: float) -> SphericalScatterer:
    """Pure s wave, sin^2 delta_0 = sigma / (4 pi), 0 <= delta_0 <= pi/2."""
    delta0 = math.asin(math.sqrt(cross_section / (4.0 * math.pi)))
    return _unitary("isotropic", [delta0], {"cross_section": cross_section})


def from_phase_shifts(phase_shifts) -> SphericalScatterer:
    return _unitary("phase_shifts", phase_shifts, {"phase_shifts": list(map(float, phase_shifts))})


def hard_sphere(radius: float) -> SphericalScatterer:
    return _unitary("hard_sphere", ps.hard_sphere_phase_shifts(radius), {"radius": radius})


def square_well(radius: float, depth: float) -> SphericalScatterer:
    """V = -depth for r < radius (depth > 0 attractive)."""
    return _unitary("square_well", ps.square_well_phase_shifts(radius, depth), {"radius": radius, "depth": depth})


def screened_coulomb(valence, screening="thomas_fermi", rs=DEFAULT_RS, *, friedel=False, screening_scale=1.0):
    """Screened ion of valence Z (Das Eqs. 1, 2, 5); exact phase shifts by the variable phase method."""
    if friedel:
        screening_scale, deltas = ps.fit_friedel_screening(valence, rs, screening)
    else:
        deltas = ps.screened_coulomb_phase_shifts(valence, rs, screening, screening_scale)
    scatterer = _unitary(
        "screened_coulomb",
        deltas,
        {"valence": valence, "screening": screening, "rs": rs, "friedel": friedel, "screening_scale": screening_scale},
    )
    scatterer.potential_q = lambda q: ps.screened_coulomb_q(
        q, valence, ps.coulomb_coupling(rs), screening_scale * ps.thomas_fermi_wavenumber(rs), screening
    )
    return scatterer


def square_well_q(q, radius, depth):
    """Fourier transform of the square well, V(q) = -4 pi depth (sin qR - qR cos qR)/q^3."""
    q = np.asarray(q, dtype=float)
    x = q * radius
    small = x < 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(small, radius**3 / 3.0 * (1 - x**2 / 10.0), (np.sin(x) - x * np.cos(x)) / np.where(small, 1, q) ** 3)
    return -4.0 * math.pi * depth * shape


def born(potential_q, parameters=None, *, l_cap: int = 200) -> SphericalScatterer:
    """First Born approximation f_B(q) = -V(q) / (2 pi) (hbar = m = 1), q^2 = 2 (1 - cos gamma).

    The Legendre coefficients c_l = (1/2) int f_B(mu) P_l(mu) dmu (Gauss–Legendre,
    400 nodes) are the Born phase shifts; the series is cut where the rest
    falls below 1e-13 of the largest (the quadrature's noise floor).
    """
    closed = lambda mu: -potential_q(np.sqrt(np.maximum(2.0 * (1.0 - mu), 0.0))) / (2.0 * math.pi)
    nodes, weights = np.polynomial.legendre.leggauss(400)
    values = closed(nodes)
    coefficients = []
    p_prev, p = np.ones_like(nodes), nodes.copy()
    for l in range(l_cap + 1):
        if l == 0:
            pl = p_prev
        elif l == 1:
            pl = p
        else:
            p_prev, p = p, ((2 * l - 1) * nodes * p - (l - 1) * p_prev) / l
            pl = p
        coefficients.append(0.5 * np.sum(weights * values * pl))
    c = np.array(coefficients)
    # Gauss–Legendre nodes/weights carry ~1e-14 relative noise: keep coefficients above it
    big = np.nonzero(np.abs(c) > 1e-13 * np.abs(c).max())[0] if np.abs(c).max() > 0 else np.array([0])
    c = c[: big[-1] + 1]
    scatterer = SphericalScatterer("born", c.astype(complex), parameters=parameters, closed_form=closed, unitary=False)
    scatterer.phase_shifts = c.real.copy()
    scatterer.friedel_sum = ps.friedel_sum(c.real)
    scatterer.potential_q = potential_q
    return scatterer


def cluster(centres, members) -> ClusterScatterer:
    return ClusterScatterer(centres, members, {"centres": [list(c) for c in centres]})
