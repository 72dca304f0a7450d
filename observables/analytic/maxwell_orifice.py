"""The diffusive (Maxwell) solution of the point contact and its Chapman–Enskog residual.

A hole of radius a in a thin screen z = 0, isotropic background scattering of
mean free path l << a, the left reservoir raised by delta-mu = 1.  In the
diffusive limit the excess occupation n(r) (units of delta-mu) is harmonic,
1 at left infinity, 0 at right infinity, 1/2 on the hole by symmetry, and
dn/dz = 0 on the screen.  On the right it is half the potential of a
conducting disk held at 1,

    n(r) = (1/pi) arcsin(2a / (d1 + d2)) = 1/2 - (1/pi) arctan(xi),    z >= 0,

d1,2 = sqrt((rho -+ a)^2 + z^2) the distances to the rim in the meridian plane,
and n(-z) = 1 - n(z) on the left (the same formula with xi -> -xi).  The
potential of SPEC §1 (zero midway, right reservoir at +1/2) is 1/2 - n.

Oblate spheroidal coordinates of the hole (xi >= 0, 0 <= eta <= 1):
rho = a sqrt((1 + xi^2)(1 - eta^2)), z = a xi eta, d1 + d2 = 2a sqrt(1 + xi^2),
volume element a^3 (xi^2 + eta^2) dxi deta dphi; xi = 0 is the hole, eta = 0
the screen, xi = eta = 0 the rim.  Every derivative below is written in them,
so nothing cancels near the hole or the rim (they are checked against finite
differences of :func:`density` in the tests).

The current: the particle current density of the Chapman–Enskog occupation
n - l k.grad n is -(l / 3 pi^2) grad n (flux 1/(4 pi^3) per unit solid angle
of occupation-1 states), and int_hole dn/dz dA = -2a (the charge of the disk,
capacitance 2a/pi, half on each face), so I_M = 2 a l / (3 pi^2) = 1/R_Maxwell,
R_Maxwell = rho / 2a with rho = 3 pi^2 / l.

Chapman–Enskog trial occupation psi_A(r, k) = n(r) - l k.grad n(r): it satisfies the
Boltzmann equation k.grad psi + (psi - psibar)/l = 0 up to the residual
-l (k.grad)^2 n = -l k^T H k (H the Hessian of n; its angular mean vanishes
because n is harmonic), it is continuous through the hole (n is analytic
there) and even in k_z on the screen (dn/dz = 0 there), so a specular screen
reflects it into itself.  See docs/systems/point-contact.md, "Small K".
"""

from __future__ import annotations

import math

import numpy as np


def maxwell_current(radius: float, mean_free_path: float) -> float:
    """I_M = 2 a l / (3 pi^2) = 1 / R_Maxwell: the particle current of the diffusive orifice, delta-mu = 1."""
    return 2.0 * radius * mean_free_path / (3.0 * math.pi**2)


def oblate_coordinates(rho, z, radius):
    """(xi, eta) >= 0 of the point (rho, |z|): d1 + d2 = 2a sqrt(1 + xi^2), z = a xi eta."""
    xi, eta, _ = _oblate(rho, z, radius)
    return xi, eta


def _oblate(rho, z, radius):
    """(xi, eta, sqrt(1 - eta^2)) of (rho, |z|).

    d1 + d2 - 2a is formed without cancellation (inside the hole, near z = 0, d1 -> a - rho
    and d2 -> a + rho), eta from rho = a sqrt(1 + xi^2) sqrt(1 - eta^2) or z = a xi eta,
    whichever is better conditioned, and sqrt(1 - eta^2) = rho / (a sqrt(1 + xi^2)) directly
    (from eta it would lose every digit near the axis)."""
    rho = np.abs(np.asarray(rho, dtype=float))
    z = np.abs(np.asarray(z, dtype=float))
    a = float(radius)
    d1 = np.hypot(rho - a, z)
    d2 = np.hypot(rho + a, z)
    inner = a - rho
    with np.errstate(divide="ignore", invalid="ignore"):
        excess1 = np.where(inner > 0.0, z * z / (d1 + inner), d1 - inner)  # d1 - (a - rho) >= 0
    excess2 = z * z / (d2 + a + rho)  # d2 - (a + rho) >= 0
    excess = excess1 + excess2  # d1 + d2 - 2a
    s = d1 + d2
    xi = np.sqrt(excess * (s + 2.0 * a)) / (2.0 * a)
    cosh = s / (2.0 * a)  # sqrt(1 + xi^2)
    sin_eta = np.clip(rho / (a * cosh), 0.0, 1.0)  # sqrt(1 - eta^2)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta_from_z = np.where(xi > 0.0, z / (a * xi), 1.0)
    eta = np.where(sin_eta > 0.7, np.sqrt(np.clip(1.0 - sin_eta**2, 0.0, 1.0)), np.clip(eta_from_z, 0.0, 1.0))
    return xi, eta, sin_eta


def from_oblate(xi, eta, radius):
    """(rho, z) of the oblate coordinates (xi, eta) (z >= 0)."""
    xi, eta = np.asarray(xi, dtype=float), np.asarray(eta, dtype=float)
    return radius * np.sqrt((1.0 + xi * xi) * (1.0 - eta * eta)), radius * xi * eta


def density(rho, z, radius):
    """The diffusive excess occupation n(r) = 1/2 - sign(z) (1/pi) arctan(xi) (units of delta-mu)."""
    xi, _ = oblate_coordinates(rho, z, radius)
    return 0.5 - np.sign(np.asarray(z, dtype=float)) * np.arctan(xi) / math.pi


def potential(rho, z, radius):
    """e dPhi / delta-mu of the diffusive contact on SPEC §1's zero: 1/2 - n = sign(z) arctan(xi) / pi."""
    return 0.5 - density(rho, z, radius)


def _cylindrical_derivatives(xi, eta, sin_eta, radius):
    """n_rho, n_z, n_rho_rho, n_rho_z, n_zz and n_rho / rho on the right (z >= 0) at (xi, eta).

    With D = xi^2 + eta^2, c = sqrt(1 + xi^2), s = sqrt(1 - eta^2):
    n_rho = -xi s / (pi a c D), n_z = -eta / (pi a D), and the chain rule through
    xi_rho = xi c s / (a D), xi_z = c^2 eta / (a D), eta_rho = -eta c s / (a D), eta_z = xi s^2 / (a D)."""
    a = float(radius)
    d = xi * xi + eta * eta
    c2 = 1.0 + xi * xi
    c = np.sqrt(c2)
    s = sin_eta
    s2 = s * s
    scale = 1.0 / (math.pi * a * a * d**3)
    n_rho = -xi * s / (math.pi * a * c * d)
    n_z = -eta / (math.pi * a * d)
    n_zz = xi * (3.0 * eta**2 + 3.0 * xi**2 * eta**2 - xi**2 - eta**4) * scale
    n_rho_z = eta * c * s * (3.0 * xi**2 - eta**2) * scale
    n_rho_rho = -xi * (s2 * (d - 2.0 * xi**2 * c2) / c2 + eta**2 * (d + 2.0 * s2)) * scale
    n_rho_over_rho = -xi / (math.pi * a * a * c2 * d)
    return n_rho, n_z, n_rho_rho, n_rho_z, n_zz, n_rho_over_rho


def _frame(x, y):
    rho = np.hypot(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_phi = np.where(rho > 0.0, x / rho, 1.0)
        sin_phi = np.where(rho > 0.0, y / rho, 0.0)
    return rho, cos_phi, sin_phi


def gradient_and_hessian(x, y, z, radius, xi=None, eta=None):
    """grad n (..., 3) and its Hessian H (..., 3, 3) at Cartesian points (any sign of z).

    H = n_rho_rho rho^rho^ + (n_rho/rho) phi^phi^ + n_rho_z (rho^z^ + z^rho^) + n_zz z^z^ on the
    right; on the left n(r) = 1 - n(M r), M = diag(1, 1, -1), so grad n = -M grad n(Mr) and
    H = -M H(Mr) M.  ``xi``, ``eta`` may be given where the caller has them (sampled points)."""
    x, y, z = (np.asarray(v, dtype=float) for v in (x, y, z))
    x, y, z = np.broadcast_arrays(x, y, z)
    rho, cos_phi, sin_phi = _frame(x, y)
    if xi is None or eta is None:
        xi, eta, sin_eta = _oblate(rho, z, radius)
    else:
        xi, eta = np.asarray(xi, float), np.asarray(eta, float)
        sin_eta = np.sqrt((1.0 - eta) * (1.0 + eta))
    n_rho, n_z, n_rr, n_rz, n_zz, n_r_over_r = _cylindrical_derivatives(xi, eta, sin_eta, radius)
    # the left half: n = 1 - n(Mr) flips the in-plane gradient and the in-plane/zz Hessian
    # blocks, and keeps n_z and the mixed rho-z terms
    side = np.where(z < 0.0, -1.0, 1.0)
    grad = np.stack([side * n_rho * cos_phi, side * n_rho * sin_phi, n_z + 0.0 * side], axis=-1)
    hessian = np.empty(x.shape + (3, 3))
    c2, s2, cs = cos_phi * cos_phi, sin_phi * sin_phi, cos_phi * sin_phi
    hessian[..., 0, 0] = side * (n_rr * c2 + n_r_over_r * s2)
    hessian[..., 1, 1] = side * (n_rr * s2 + n_r_over_r * c2)
    hessian[..., 0, 1] = hessian[..., 1, 0] = side * (n_rr - n_r_over_r) * cs
    hessian[..., 0, 2] = hessian[..., 2, 0] = n_rz * cos_phi
    hessian[..., 1, 2] = hessian[..., 2, 1] = n_rz * sin_phi
    hessian[..., 2, 2] = side * n_zz
    return grad, hessian


def chapman_enskog_occupation(position, direction, radius, mean_free_path):
    """psi_A(r, k) = n(r) - l k.grad n(r), the first-order Chapman–Enskog occupation of the diffusive contact."""
    position, direction = np.asarray(position, float), np.asarray(direction, float)
    x, y, z = position[..., 0], position[..., 1], position[..., 2]
    grad, _ = gradient_and_hessian(x, y, z, radius)
    return density(np.hypot(x, y), z, radius) - mean_free_path * np.sum(direction * grad, axis=-1)


def residual_source(position, direction, radius, mean_free_path):
    """S(r, k) = l k^T H(r) k: the source of phi = psi - psi_A, k.grad phi + (phi - phibar)/l = S.

    Particles are emitted at S / (4 pi^3) per unit volume and solid angle (the flux per solid
    angle of occupation-1 states); its angular mean is l tr(H)/3 = 0."""
    position, direction = np.asarray(position, float), np.asarray(direction, float)
    _, hessian = gradient_and_hessian(position[..., 0], position[..., 1], position[..., 2], radius)
    return mean_free_path * np.einsum("...i,...ij,...j->...", direction, hessian, direction)
