"""The Chapman–Enskog source of the point contact at small K = l/a: precomputed particles per history.

Write the occupation of the diffusive contact as psi = psi_A + phi with
psi_A = n - l k.grad n, n the Maxwell (diffusive) solution of the orifice
(:mod:`observables.analytic.maxwell_orifice`).  phi obeys the same transport
(isotropic number-conserving collisions, the specular screen, absorbing
reservoirs) with the volume source S(r, k) = l k^T H(r) k (H the Hessian of
n), emitted at S / (4 pi^3) particles per unit volume and solid angle.  The
reservoirs of the simulation emit psi_A's incoming part, so phi has no
reservoir source, and the current is I_M + I_phi with I_M = 2 a l / (3 pi^2)
exact and I_phi the net phi current, O(K) of I_M.

S is odd under the mirror z -> -z (n(-z) = 1 - n(z)), and so is phi: a source
particle on the left is the negative mirror image of one on the right.  Only
the right half-ball r < R_res, z > 0 is sampled, and a history scores
[absorbed on the right] - [absorbed on the left] for each of its particles.

One history: a point r drawn in the oblate spheroidal coordinates of the hole
(eta uniform on (0, 1), xi given eta with density 1 / (A(eta) sqrt(xi^2 +
eta^2)) on (0, xi_R(eta)), A = asinh(xi_R / eta), azimuth uniform), which
follows |H| dV ~ dxi deta / sqrt(xi^2 + eta^2) both at the rim (|H| ~ d^-3/2,
d ~ a (xi^2 + eta^2)/2) and in the far field (|H| ~ a / r^3); xi_R(eta) =
sqrt(R^2/a^2 - 1 + eta^2) is the sphere r = R.  At r, the six directions +-e_i
of a uniformly random orthonormal frame (Shoemake's quaternion) each carry
the weight w = (4 pi / 6) S(r, k) / (4 pi^3 p(r)) = l k^T H k / (6 pi^2 p(r)),
p(r) the density per unit volume.  The frame is a spherical 3-design: the
six weights sum to l tr(H) / (3 pi^2 p) = 0 exactly, and any part of the
particles' fate that is constant or linear in k at r cancels history by
history (the fate of a particle far from the hole is almost certain, and
costs no variance).

The table is generated in numpy from counter-based deviates keyed by (seed,
history) (:func:`mc.streams.uniforms`), so a history's particles are the same
bits whichever call or thread generates them.
"""

from __future__ import annotations

import math

import numpy as np

from mc.streams import uniforms
from observables.analytic import maxwell_orifice

PARTICLES_PER_HISTORY = 6
SOURCE_SALT = 0x43484150  # keeps the table's deviates apart from the kernel's stream of the history
DRAWS = 6  # eta, xi, azimuth, three for the rotation
_INSIDE = 1.0 - 1e-12
"""xi stays below xi_R by this factor: a particle born on the reservoir sphere would be outside every cell."""


def source_particles(seed: int, first: int, count: int, radius: float, mean_free_path: float,
                     reservoir_radius: float) -> np.ndarray:
    """(count, 6, 7) rows x, y, z, ux, uy, uz, weight of histories first .. first+count-1."""
    a, l = float(radius), float(mean_free_path)
    u = uniforms(seed, np.arange(first, first + count, dtype=np.uint64), DRAWS, salt=SOURCE_SALT)
    eta = u[:, 0]
    xi_r = np.sqrt((reservoir_radius / a) ** 2 - 1.0 + eta * eta)
    spread = np.arcsinh(xi_r / eta)
    xi = np.minimum(eta * np.sinh(u[:, 1] * spread), _INSIDE * xi_r)
    azimuth = 2.0 * math.pi * u[:, 2]
    rho, z = maxwell_orifice.from_oblate(xi, eta, a)
    x, y = rho * np.cos(azimuth), rho * np.sin(azimuth)
    d = xi * xi + eta * eta
    # p(xi, eta) = 1 / (A sqrt(D)) on the unit eta range, dV = a^3 D dxi deta dphi
    pdf = 1.0 / (spread * np.sqrt(d) * 2.0 * math.pi * a**3 * d)
    _, hessian = maxwell_orifice.gradient_and_hessian(x, y, z, a, xi=xi, eta=eta)
    frame = random_frames(u[:, 3:6])  # (count, 3, 3), columns e_i
    quadratic = np.einsum("hji,hjk,hki->hi", frame, hessian, frame)  # e_i^T H e_i
    weight = l * quadratic / (6.0 * math.pi**2 * pdf[:, None])
    table = np.empty((count, PARTICLES_PER_HISTORY, 7))
    table[:, :, 0] = x[:, None]
    table[:, :, 1] = y[:, None]
    table[:, :, 2] = z[:, None]
    directions = np.concatenate([np.swapaxes(frame, 1, 2), -np.swapaxes(frame, 1, 2)], axis=1)  # (count, 6, 3)
    table[:, :, 3:6] = directions
    table[:, :, 6] = np.concatenate([weight, weight], axis=1)  # S(k) = S(-k)
    return table


def random_frames(u: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) uniform on SO(3) from three uniforms each (Shoemake 1992)."""
    r1, r2 = np.sqrt(1.0 - u[:, 0]), np.sqrt(u[:, 0])
    t1, t2 = 2.0 * math.pi * u[:, 1], 2.0 * math.pi * u[:, 2]
    qx, qy, qz, qw = r1 * np.sin(t1), r1 * np.cos(t1), r2 * np.sin(t2), r2 * np.cos(t2)
    m = np.empty((len(u), 3, 3))
    m[:, 0, 0] = 1.0 - 2.0 * (qy * qy + qz * qz)
    m[:, 0, 1] = 2.0 * (qx * qy - qz * qw)
    m[:, 0, 2] = 2.0 * (qx * qz + qy * qw)
    m[:, 1, 0] = 2.0 * (qx * qy + qz * qw)
    m[:, 1, 1] = 1.0 - 2.0 * (qx * qx + qz * qz)
    m[:, 1, 2] = 2.0 * (qy * qz - qx * qw)
    m[:, 2, 0] = 2.0 * (qx * qz - qy * qw)
    m[:, 2, 1] = 2.0 * (qy * qz + qx * qw)
    m[:, 2, 2] = 1.0 - 2.0 * (qx * qx + qy * qy)
    return m


def sampling_density(position, radius: float, reservoir_radius: float):
    """p(r) per unit volume of the source points (for the tests: it must integrate to 1 over the half-ball)."""
    position = np.asarray(position, float)
    a = float(radius)
    xi, eta = maxwell_orifice.oblate_coordinates(np.hypot(position[..., 0], position[..., 1]), position[..., 2], a)
    xi_r = np.sqrt((reservoir_radius / a) ** 2 - 1.0 + eta * eta)
    d = xi * xi + eta * eta
    inside = (position[..., 2] > 0.0) & (np.sum(position**2, axis=-1) < reservoir_radius**2)
    return np.where(inside, 1.0 / (np.arcsinh(xi_r / eta) * np.sqrt(d) * 2.0 * math.pi * a**3 * d), 0.0)
