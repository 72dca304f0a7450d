"""Multiple scattering of a Fermi-surface electron by a cluster of spherical scatterers.

On-shell multiple-scattering (KKR) theory, k = k_F = 1, sites at R_j with
single-site phase shifts delta_l^j.  A regular wave j_l(kr) Y_L incident on
site j leaves it as a_l^j h_l(kr) Y_L with a_l = i e^{i delta_l} sin delta_l
(h_l = j_l + i y_l).  With c^i the regular-wave coefficients incident on site
i and b^i = a^i c^i its outgoing coefficients,

    c^i = p^i + sum_{j != i} g^{ij} b^j,   p^i_L = 4 pi i^l Y_L*(k) e^{i k.R_i},

where g^{ij}_{L'L} re-expands h_l(k|r - R_j|) Y_L(r - R_j) about R_i
as sum_L' g_{L'L} j_l'(k|r - R_i|) Y_L'(r - R_i).  Hence b = M p with
M = (1 - A G)^{-1} A and the far field gives

    f(k, k') = (1/k) sum_{j,L} e^{-i k k'.R_j} (-i)^(l+1) Y_L(k') b^j_L(k).

For one site this is f = (1/k) sum (2l+1) e^{i delta_l} sin delta_l P_l.
The optical theorem sigma_tot(k) = (4 pi/k) Im f(k, k) and reciprocity
f(k -> k') = f(-k' -> -k) hold exactly (tested).  The members are treated
as non-overlapping (muffin-tin) potentials; g is computed by projecting the
translated outgoing wave onto spherical harmonics on a sphere about R_i
(Gauss–Legendre x trapezoid), which is exact up to quadrature round-off and
needs no Gaunt-coefficient conventions.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import spherical_jn, spherical_yn

from geometry.jit import jit
from mc.scattering.sampling import HEADER, KIND_CLUSTER, spherical_harmonics

CLUSTER_L_MAX = 8
"""Largest partial wave a cluster member may carry (members are truncated at |sin delta_l| < 1e-10)."""


@jit()
def _harmonics_at(points, l_max):
    n_lm = (l_max + 1) * (l_max + 1)
    out = np.empty((points.shape[0], n_lm), dtype=np.complex128)
    row = np.empty(n_lm, dtype=np.complex128)
    for p in range(points.shape[0]):
        x, y, z = points[p, 0], points[p, 1], points[p, 2]
        norm = math.sqrt(x * x + y * y + z * z)
        spherical_harmonics(x / norm, y / norm, z / norm, l_max, row)
        out[p, :] = row
    return out


def _sphere_quadrature(n_theta: int = 60):
    mu, w = np.polynomial.legendre.leggauss(n_theta)
    n_phi = 2 * n_theta
    phi = 2.0 * math.pi * np.arange(n_phi) / n_phi
    s = np.sqrt(1.0 - mu**2)
    points = np.stack(
        [np.outer(s, np.cos(phi)).ravel(), np.outer(s, np.sin(phi)).ravel(), np.repeat(mu, n_phi)], axis=1
    )
    weights = np.repeat(w, n_phi) * (2.0 * math.pi / n_phi)
    return points, weights


def translation_matrix(separation: np.ndarray, l_max: int, k: float = 1.0) -> np.ndarray:
    """g_{L'L} with h_l(k|r - R_j|) Y_L(r - R_j) = sum_L' g_{L'L} j_l'(k|r - R_i|) Y_L'(r - R_i); separation = R_i - R_j."""
    separation = np.asarray(separation, dtype=float)
    d = float(np.linalg.norm(separation))
    rho = min(0.6 * d, 2.0 / k)
    points, weights = _sphere_quadrature()
    y_s = _harmonics_at(points, l_max)  # Y_L'(s)
    v = rho * points + separation[None, :]
    v_len = np.linalg.norm(v, axis=1)
    y_v = _harmonics_at(v, l_max)
    n_lm = (l_max + 1) ** 2
    ls = np.array([l for l in range(l_max + 1) for _ in range(2 * l + 1)])
    h = spherical_jn(ls[None, :], k * v_len[:, None]) + 1j * spherical_yn(ls[None, :], k * v_len[:, None])
    field = h * y_v  # F_L(s_p)
    proj = (np.conj(y_s) * weights[:, None]).T @ field  # (L', L)
    j_rho = spherical_jn(ls, k * rho)
    assert proj.shape == (n_lm, n_lm)
    return proj / j_rho[:, None]


def cluster_matrix(centres: np.ndarray, member_phase_shifts: list[np.ndarray], l_max: int, k: float = 1.0) -> np.ndarray:
    """M = (1 - A G)^{-1} A of the KKR equations above, shape (n_sites n_lm, n_sites n_lm)."""
    n_sites = len(centres)
    n_lm = (l_max + 1) ** 2
    n = n_sites * n_lm
    a_diag = np.zeros(n, dtype=complex)
    for s, deltas in enumerate(member_phase_shifts):
        for l in range(l_max + 1):
            delta = deltas[l] if l < len(deltas) else 0.0
            a_l = 1j * np.exp(1j * delta) * np.sin(delta)
            a_diag[s * n_lm + l * l : s * n_lm + (l + 1) * (l + 1)] = a_l
    g = np.zeros((n, n), dtype=complex)
    for i in range(n_sites):
        for j in range(n_sites):
            if i != j:
                g[i * n_lm : (i + 1) * n_lm, j * n_lm : (j + 1) * n_lm] = translation_matrix(
                    np.asarray(centres[i]) - np.asarray(centres[j]), l_max, k
                )
    a = np.diag(a_diag)
    return np.linalg.solve(np.eye(n) - a @ g, a)


def cluster_table(centres: np.ndarray, matrix: np.ndarray, l_max: int, k: float = 1.0) -> np.ndarray:
    """Flat sampling table of a cluster (layout in :mod:`mc.scattering.sampling`)."""
    centres = np.asarray(centres, dtype=float)
    header = np.array([KIND_CLUSTER, 0.0, 0.0, k, len(centres), l_max], dtype=float)
    assert header.size == HEADER + 2
    return np.concatenate([header, centres.ravel(), matrix.real.ravel(), matrix.imag.ravel()])
