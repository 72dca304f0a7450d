"""Bulk electron gas with background scattering and one scattering complex (Sorbello Appendix, Eqs. A1-A7, 26).

Reduced units: hbar = m = e = k_F = 1, v_F = 1, dn/dE = 1/pi^2, n0 = 1/(3 pi^2),
e E0 tau0 = 1, one complex per unit volume.  The background relaxation time is
tau(k) = tau0 (1 + alpha (k.n)^2) / (1 + alpha/3) (alpha = 0: uniform, the
Appendix's assumption; its angular mean is tau0 for any alpha), so the bulk
distribution of Eq. 1 is g0(k) = -(tau(k)/tau0) (k.e) per unit dn/dE delta-mu.

With the in- and out-scattering written with |f(k -> k')|^2 (no symmetry of P
assumed), to first order in the complex:

* wind force (Eq. A6):  F = (1/4 pi^3) int dOmega g0(k) [sigma(k) k - int dOmega' |f|^2 k'];
* current change (Eqs. A2, A3): delta j = (1/4 pi^3) int dOmega g0(k) [int dOmega' |f|^2 tau(k') k' - sigma(k) tau(k) k]
  (particle current; the charge current is -delta j), hence the tensor of
  Eqs. A4, A5: delta sigma_ij = -tau0 delta j_i(E0 along j);
* Eq. A7 / 26: F_i = n0 e Omega sum_j (delta sigma_ij / sigma0) E0_j = sum_j delta sigma_ij e_j / tau0^2,
  sigma0 = n0 e^2 tau0 / m = tau0 / (3 pi^2).  It holds identically for alpha = 0
  and is broken by an anisotropic tau (the Discussion's claim).
"""

from __future__ import annotations

import numpy as np

from geometry.sphere import sphere_quadrature

FLUX_PER_SOLID_ANGLE = 1.0 / (4.0 * np.pi**3)
DENSITY_OF_STATES = 1.0 / np.pi**2


def landauer_dipole(scatterer, field_direction, n_theta: int = 24) -> float:
    """Strength p of the residual-resistivity dipole, dn(r) = (dn/dE) p cos(theta)/r^2 (Sorbello Eq. 6, Schaich Eq. 7).

    p = 3 pi hbar J0 S0 / (4 k_F^2 e^2) with J0 = sigma0 E0 = 1/(3 pi^2): p = S0/(4 pi)
    for a spherical scatterer (S0 = sigma_tr).  For any scatterer, by quadrature of the
    outgoing flux minus the shadow, projected on cos(theta) = r.e:
    p = (3 / (4 pi)) (1/(4 pi^3 dn/dE)) int dOmega_r (r.e) [int dOmega g0(k) |f(k -> r)|^2 - g0(r) sigma(r)].
    """
    e = np.asarray(field_direction, float)
    e = e / np.linalg.norm(e)
    if getattr(scatterer, "spherical", True):
        return scatterer.sigma_tr / (4.0 * np.pi)
    r, w = sphere_quadrature(n_theta)
    g0 = -(r @ e)
    total = 0.0
    for rr, wr in zip(r, w):
        inflow = np.sum(w * g0 * scatterer.differential_cross_section(r, np.broadcast_to(rr, r.shape)))
        g0_r = -(rr @ e)  # the beam along r loses electrons at g0(r) sigma(r): the shadow
        total += wr * (rr @ e) * (inflow - g0_r * scatterer.sigma_tot_along(rr))
    return 3.0 / (4.0 * np.pi) * FLUX_PER_SOLID_ANGLE / DENSITY_OF_STATES * total


def relaxation_time(k, tau0: float, anisotropy: float, axis) -> np.ndarray:
    """tau(k) = tau0 (1 + alpha (k.n)^2) / (1 + alpha / 3), mean tau0 over the Fermi sphere."""
    cos2 = (np.asarray(k) @ np.asarray(axis, float)) ** 2
    return tau0 * (1.0 + anisotropy * cos2) / (1.0 + anisotropy / 3.0)


def response_tensors(scatterer, tau0: float, anisotropy: float = 0.0, axis=(0.0, 0.0, 1.0), n_theta: int = 24):
    """(W_F, W_j): F_i = sum_j W_F[i, j] e_j and delta j_i = sum_j W_j[i, j] e_j, by quadrature.

    Both integrals over k and k' use the same Gauss x trapezoid sphere rule."""
    k, w = sphere_quadrature(n_theta)
    tau_k = relaxation_time(k, tau0, anisotropy, axis)
    force = np.zeros((3, 3))
    current = np.zeros((3, 3))
    for kk, wk, tk in zip(k, w, tau_k):
        dcs = w * scatterer.differential_cross_section(np.broadcast_to(kk, k.shape), k)
        sigma = dcs.sum()
        g_factor = -(tk / tau0) * kk  # g0 for E0 along each axis j
        out_momentum = dcs @ k
        out_current = (dcs * tau_k) @ k
        force += wk * np.outer(sigma * kk - out_momentum, g_factor)
        current += wk * np.outer(out_current - sigma * tk * kk, g_factor)
    return FLUX_PER_SOLID_ANGLE * force, FLUX_PER_SOLID_ANGLE * current


def conductivity_change(current_tensor, tau0: float) -> np.ndarray:
    """delta sigma_ij (units e^2 k_F / hbar per complex per unit volume) = -tau0 delta j_i(E0 along j)."""
    return -tau0 * np.asarray(current_tensor)


def eq26_wind_force(delta_sigma, field_direction, tau0: float) -> np.ndarray:
    """F = n0 e Omega (delta sigma / sigma0) E0 = delta sigma . e / tau0^2 (Sorbello Eqs. A7, 26)."""
    return np.asarray(delta_sigma) @ np.asarray(field_direction, float) / tau0**2
