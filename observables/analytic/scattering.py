"""Independent quadratures for the scattering library (SPEC §3; Schaich 1976; Das 1976).

Reduced units hbar = m = k_F = 1 unless a function says otherwise.  Nothing
here uses the partial-wave formulas of :mod:`mc.scattering`: cross sections
are integrals of |f|^2 over the sphere, Schaich's relaxation rate is summed
in SI units with the t-matrix normalisation of SPEC §3, and Das's Eq. 12 is
integrated in q space.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from geometry.sphere import sphere_quadrature
from mc.scattering.phase_shifts import coulomb_coupling, lindhard_g, thomas_fermi_wavenumber

HBAR_SI = 1.054571817e-34
"""J s"""
ELECTRON_MASS_SI = 9.1093837015e-31
"""kg"""


def angular_moments(dcs, n_nodes: int = 400) -> dict:
    """sigma_tot = int |f|^2 dOmega, sigma_tr = int (1 - mu)|f|^2 dOmega, <mu>, <mu^2> of a spherical |f(mu)|^2.

    Gauss–Legendre in mu = cos(gamma) with ``n_nodes`` nodes (exact for the
    polynomial |f|^2 of a finite partial-wave series of degree < 2 n_nodes).
    """
    mu, w = np.polynomial.legendre.leggauss(n_nodes)
    values = np.asarray(dcs(mu), dtype=float)
    sigma = 2.0 * math.pi * np.sum(w * values)
    m1 = 2.0 * math.pi * np.sum(w * values * mu)
    m2 = 2.0 * math.pi * np.sum(w * values * mu**2)
    m4 = 2.0 * math.pi * np.sum(w * values * mu**4)
    return {
        "sigma_tot": sigma,
        "sigma_tr": sigma - m1,
        "mean_mu": m1 / sigma,
        "mean_mu2": m2 / sigma,
        "mean_mu4": m4 / sigma,
    }


def outgoing_moments(scatterer, k_in, n_theta: int = 48) -> dict:
    """For incoming k: sigma_tot = int |f|^2 dOmega', <k'> and <(k.k')^2> under |f|^2 / sigma_tot."""
    k_in = np.asarray(k_in, dtype=float)
    dirs, weights = sphere_quadrature(n_theta, phase=0.25)
    values = scatterer.differential_cross_section(np.broadcast_to(k_in, dirs.shape), dirs)
    sigma = float(np.sum(weights * values))
    mean_out = np.sum((weights * values)[:, None] * dirs, axis=0) / sigma
    mu = dirs @ k_in
    return {
        "sigma_tot": sigma,
        "mean_out": mean_out,
        "mean_mu": float(np.sum(weights * values * mu) / sigma),
        "mean_mu2": float(np.sum(weights * values * mu**2) / sigma),
        "mean_out2": np.sum((weights * values)[:, None] * dirs**2, axis=0) / sigma,
    }


def schaich_relaxation_rate(dcs, impurity_density, *, k_fermi=1.75e10, mass=ELECTRON_MASS_SI, hbar=HBAR_SI, n_nodes=400):
    """Schaich Eq. 8 in SI units: 1/tau_i = (2 pi/hbar) sum_k' |<k|t|k'>|^2 (1 - k.k') delta(eps_F - eps_k').

    One impurity per volume Omega = 1/n_i; |<k|t|k'>|^2 = (2 pi hbar^2/m)^2 |f|^2 / Omega^2
    with f = f_reduced / k_F (metres); sum_k' = Omega int d^3k' / (2 pi)^3 and the
    energy delta function integrated over |k'| gives m k_F / hbar^2.  ``dcs`` is
    the reduced |f(mu)|^2.  Returns 1/tau in 1/s.
    """
    volume = 1.0 / impurity_density
    mu, w = np.polynomial.legendre.leggauss(n_nodes)
    f2 = np.asarray(dcs(mu), dtype=float) / k_fermi**2
    t2 = (2.0 * math.pi * hbar**2 / mass) ** 2 * f2 / volume**2
    angular = 2.0 * math.pi * np.sum(w * t2 * (1.0 - mu))
    radial = mass * k_fermi / hbar**2
    return (2.0 * math.pi / hbar) * volume / (2.0 * math.pi) ** 3 * radial * angular


def schaich_vertex(scatterer, k_in, n_theta: int = 48) -> np.ndarray:
    """Schaich Eq. 35 (first line) / (hbar k_F): int dOmega' |f(k,k')|^2 (k - k'), reduced units.

    Equals k sigma_tr for a spherical scatterer (Eq. 35, second line); for a
    cluster it need not be parallel to k.
    """
    k_in = np.asarray(k_in, dtype=float)
    dirs, weights = sphere_quadrature(n_theta, phase=0.25)
    values = scatterer.differential_cross_section(np.broadcast_to(k_in, dirs.shape), dirs)
    return np.sum((weights * values)[:, None] * (k_in[None, :] - dirs), axis=0)


def lindhard_epsilon(q, rs: float, screening_scale: float = 1.0):
    """Static RPA dielectric function of Das Eqs. 2 and 5 at u = 0: 1 + alpha^2 G(q/2)/q^2 (k_F = 1).

    Das prints eps = 1 - X_1/q^2 with X_1 > 0; the static Lindhard function is
    eps = 1 + X_1/q^2 > 1 (the sum in his Eq. 2 is negative).
    """
    alpha = screening_scale * thomas_fermi_wavenumber(rs)
    q = np.asarray(q, dtype=float)
    return 1.0 + alpha**2 * lindhard_g(q / 2.0) / q**2


def das_wind_force(valence: float, rs: float, drift: float = 1.0, screening_scale: float = 1.0) -> float:
    """Das Eq. 12, |F_z| = (pi alpha^2 Z^2 e^2 / 2) (u / 2 pi^2) (1/v_F) int q_z^2 d^3q / (q^5 eps^2).

    Reduced units (hbar = m = k_F = v_F = 1, e^2 = 1/(k_F a_0), alpha^2 = 4 e^2/pi);
    the q integral runs over q < 2 k_F, where the imaginary part X_2 of Das
    Eq. 7 is non-zero (it vanishes beyond 2 k_F in the static limit).  It is
    done as a double integral over |q| and cos(theta_q) (azimuth 2 pi).
    The force is along the electron flow; the magnitude is returned, in
    hbar k_F * (k_F^2 per unit u), i.e. reduced force units.

    Printing slips in Das, checked by redoing the algebra from Eqs. 1, 7, 11:
    Eq. 8 should read -i (pi/2) alpha^2 (q_z/q^3)(u/v_F) V_0/eps^2 (its "pi"
    and "q_3" are pi/2 and q^3; Eq. B.4 has pi/2 but drops the 1/q^2), and
    Eq. 5's X_1 enters eps with a plus sign.  Eq. 12 itself is right: with
    alpha^2 = 4 e^2/pi it equals n_0 m v_F u sigma_tr^Born exactly.
    """
    e2 = coulomb_coupling(rs)
    alpha2 = (screening_scale * thomas_fermi_wavenumber(rs)) ** 2
    prefactor = math.pi * alpha2 * valence**2 * e2 / 2.0 * drift / (2.0 * math.pi**2)

    def radial(q):
        eps = float(lindhard_epsilon(np.array([q]), rs, screening_scale)[0])
        angular, _ = quad(lambda c: c * c, -1.0, 1.0)  # int d cos(theta) cos^2(theta)
        return 2.0 * math.pi * angular * q**2 * q**2 / (q**5 * eps**2)

    integral, _ = quad(radial, 0.0, 2.0, points=[1.0], limit=200, epsabs=0.0, epsrel=1e-12)
    return prefactor * integral


def born_wind_force(sigma_tr: float, drift: float = 1.0) -> float:
    """Wind force of a static scatterer in a Fermi sea drifting with u: n_0 m v_F u sigma_tr (= u sigma_tr / 3 pi^2 reduced)."""
    return drift * sigma_tr / (3.0 * math.pi**2)
