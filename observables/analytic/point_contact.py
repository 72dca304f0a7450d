"""Closed forms of the ballistic point contact (Sorbello 1989 Sec. III C).

A circular hole of radius ``a`` in an opaque plane z = 0; the left reservoir
is raised by delta-mu.  Reduced units (SPEC §1): hbar = m = e = k_F = 1,
delta-mu = 1, so v_F = 1 and dn/dE = 1/pi^2.  Densities are the excess over
the equilibrium of the right reservoir, in units of delta-mu dn/dE; the
particle current density is in k_F^2 delta-mu / hbar.

Everything here is computed independently of the Monte Carlo: the solid
angle of the disk by complete elliptic integrals (checked against a direct
boundary quadrature), the current density by differentiating a closed-form
area integral, and probe/mesh averages by Gauss-Legendre quadrature.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.integrate import quad
from scipy.special import elliprf, elliprj

DENSITY_OF_STATES = 1.0 / np.pi**2
"""Both-spin dn/dE at the Fermi level in reduced units (k_F^3 / eps_F ... = 1/pi^2)."""


def sharvin_current(radius: float) -> float:
    """Particle current through the hole, I = a^2 k_F^2 delta-mu / (4 pi hbar) (Sorbello Eqs. 48, 54)."""
    return radius**2 / (4.0 * np.pi)


def drude_resistivity(mean_free_path: float) -> float:
    """rho = m v_F / (n0 e^2 l) = 3 pi^2 / l in hbar/(e^2 k_F) (n0 = 1/(3 pi^2), v_F = 1)."""
    return 3.0 * np.pi**2 / mean_free_path


def maxwell_resistance(radius: float, mean_free_path: float) -> float:
    """R_Maxwell = rho / (2a), the diffusive spreading resistance of the hole (both half-spaces)."""
    return drude_resistivity(mean_free_path) / (2.0 * radius)


@functools.lru_cache(maxsize=None)
def gamma_wexler_limit(r_max: float = 200.0) -> float:
    """Gamma(K -> inf) of R = R_Sharvin + Gamma(K) R_Maxwell, first order in the background (1/l).

    A background collision at r scatters an electron of the ballistic solution into a random
    direction; on the right it came through the hole (the directions Omega0(r)) and it goes back
    with probability Omega0/(4 pi); on the left the same holds for the missing electrons.  So
    dI = -(2/l) (1/4 pi^3) (1/4 pi) int_{z>0} Omega0^2 dV, dR = -dI R_Sharvin^2 and, with
    R_Maxwell = 3 pi^2/(2 a l),  Gamma(inf) = (4 / (3 pi^4 a^3)) int_{z>0} Omega0^2 dV.
    Evaluated in spherical coordinates by adaptive quadrature up to ``r_max`` (a = 1) and the
    far field Omega0 = pi cos(theta)/r^2 beyond: 2 pi^3 / (3 r_max)."""
    def shell(r):
        value, _ = quad(lambda theta: disk_solid_angle(r * np.sin(theta), r * np.cos(theta), 1.0) ** 2 * np.sin(theta),
                        0.0, 0.5 * np.pi, limit=200, epsabs=1e-11, epsrel=1e-9)
        return 2.0 * np.pi * r * r * value

    inner, _ = quad(shell, 0.0, 1.0, limit=400, epsabs=1e-10, epsrel=1e-8)
    outer, _ = quad(shell, 1.0, r_max, limit=400, epsabs=1e-10, epsrel=1e-8)
    tail = 2.0 * np.pi**3 / (3.0 * r_max)
    return 4.0 / (3.0 * np.pi**4) * (inner + outer + tail)


def sharvin_resistance(radius: float) -> float:
    """R_Sharvin = 4 pi hbar / (e^2 k_F^2 a^2) (Sorbello Eq. 48), in hbar/e^2."""
    return 4.0 * np.pi / radius**2


def disk_solid_angle(rho, z, radius):
    """Solid angle Omega0 of the hole seen from (rho, z), by elliptic integrals.

    With L = |z|, R_max^2 = L^2 + (rho + a)^2, m = 4 a rho / R_max^2 and
    n = 4 a rho / (a + rho)^2:
    Omega0 = 2 pi Theta(a - rho) - (2 L / R_max) [K(m) - (rho - a)/(rho + a) Pi(n, m)],
    and pi - (2 L/R_max) K(m) on the rim rho = a; K and Pi via Carlson's R_F, R_J.  On the axis this is
    2 pi (1 - |z| / sqrt(a^2 + z^2)) (Sorbello, text after Eq. 49).
    """
    rho = np.abs(np.asarray(rho, dtype=float))
    z = np.asarray(z, dtype=float)
    a = float(radius)
    rho, z = np.broadcast_arrays(rho, z)
    L = np.abs(z)
    r_max = np.sqrt(L**2 + (rho + a) ** 2)
    # 1 - m and 1 - n are formed directly: near the rim 1 - n -> 0 and the
    # subtraction would cancel catastrophically
    one_minus_m = (L**2 + (rho - a) ** 2) / r_max**2
    one_minus_n = ((a - rho) / (a + rho)) ** 2
    n = 4.0 * a * rho / (a + rho) ** 2
    on_rim = one_minus_n == 0.0
    k_term = elliprf(0.0, one_minus_m, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        elliptic_pi = k_term + n / 3.0 * elliprj(0.0, one_minus_m, 1.0, np.where(on_rim, 1.0, one_minus_n))
        inside = np.where(rho < a, 2.0 * np.pi, 0.0)
        general = inside - 2.0 * L / r_max * (k_term - (rho - a) / (rho + a) * elliptic_pi)
        rim = np.pi - 2.0 * L / r_max * k_term
    omega = np.where(on_rim, rim, general)
    # on the plane itself the hole fills the half-space below (rho < a) or nothing
    return np.where(L == 0.0, np.where(rho < a, 2.0 * np.pi, np.where(on_rim, np.pi, 0.0)), omega)


def disk_solid_angle_by_quadrature(rho: float, z: float, radius: float) -> float:
    """Omega0 by adaptive quadrature of the boundary integral (independent check).

    Omega0 = 2 pi Theta(a - rho) - int_0^{2pi} |z| (a^2 - a rho cos psi) / (s^2 sqrt(z^2 + s^2)) dpsi,
    s^2 = a^2 + rho^2 - 2 a rho cos psi (Stokes' theorem on the disk).
    """
    a, L = float(radius), abs(float(z))

    def integrand(psi):
        s2 = a * a + rho * rho - 2.0 * a * rho * np.cos(psi)
        return L * (a * a - a * rho * np.cos(psi)) / (s2 * np.sqrt(L * L + s2))

    value = quad(integrand, 0.0, 2.0 * np.pi, limit=500, epsabs=1e-13, epsrel=1e-12)[0]
    # the boundary term jumps by 2 pi across the rim; on the rim itself it is pi
    enclosed = 2.0 * np.pi if rho < a else (np.pi if rho == a else 0.0)
    return enclosed - value


def on_axis_solid_angle(z, radius):
    """Omega0 = 2 pi (1 - |z| / sqrt(a^2 + z^2)) on the axis."""
    z = np.abs(np.asarray(z, dtype=float))
    return 2.0 * np.pi * (1.0 - z / np.sqrt(radius**2 + z**2))


def excess_density(rho, z, radius):
    """delta n / (delta-mu dn/dE) over the right reservoir's equilibrium (Sorbello Eq. 50).

    Omega0/(4 pi) for z > 0; on the left every direction is filled but the
    ones that came through the hole from the right, 1 - Omega0/(4 pi).
    """
    omega = disk_solid_angle(rho, z, radius) / (4.0 * np.pi)
    return np.where(np.asarray(z) > 0.0, omega, 1.0 - omega)


def potential(rho, z, radius):
    """e dPhi_tot / delta-mu = sgn(z) (1/2) (1 - Omega0 / 2 pi) (Sorbello Eqs. 51-52).

    Local screening (Eq. 5) gives e dPhi = -dn/(dn/dE) up to a constant, fixed
    so that the potential is odd: 1/2 - excess_density on both sides.
    """
    return 0.5 - excess_density(rho, z, radius)


def current_density(rho, z, radius):
    """Particle current density (j_rho, j_z) = (1/4 pi^3) int_{Omega0} khat dOmega (Sorbello Eq. 54).

    int khat dOmega over the hole = int_disk z (r - r') / |r - r'|^4 dA' = -(z/2) grad G,
    with G(rho, z) = int_disk dA' / |r - r'|^2 = pi ln[(2Q + 2a^2 + b) / (4 z^2)],
    b = 2(z^2 - rho^2), Q^2 = a^4 + a^2 b + (z^2 + rho^2)^2, differentiated here
    analytically.  On the axis j_z = sin^2(theta0) / (4 pi^2).  The current
    flows to +z on both sides of the plane.
    """
    rho = np.abs(np.asarray(rho, dtype=float))
    z = np.asarray(z, dtype=float)
    rho, z = np.broadcast_arrays(rho, z)
    a2 = float(radius) ** 2
    c = z**2 + rho**2
    b = 2.0 * (z**2 - rho**2)
    Q = np.sqrt(a2 * a2 + a2 * b + c**2)
    N = 2.0 * Q + 2.0 * a2 + b

    def dN(db, dc):
        dQ = (a2 * db + 2.0 * c * dc) / (2.0 * Q)
        return 2.0 * dQ + db

    dN_dz = dN(4.0 * z, 2.0 * z)
    dN_drho = dN(-4.0 * rho, 2.0 * rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        # z dG/dz = pi (z dN/dz / N - 2): finite on the plane
        z_dG_dz = np.pi * (z * dN_dz / N - 2.0)
        z_dG_drho = np.pi * z * dN_drho / N
    j_rho = -0.5 * z_dG_drho / (4.0 * np.pi**3)
    j_z = -0.5 * z_dG_dz / (4.0 * np.pi**3)
    return j_rho, j_z


def on_axis_current_density(z, radius):
    """j_z = sin^2(theta0) / (4 pi^2) on the axis, cos theta0 = |z| / sqrt(a^2 + z^2)."""
    z = np.asarray(z, dtype=float)
    return (radius**2 / (radius**2 + z**2)) / (4.0 * np.pi**2)


def _gauss(n: int, lo: float, hi: float):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (hi - lo) * x + 0.5 * (hi + lo), 0.5 * (hi - lo) * w


def ball_average(field, centre, ball_radius: float, order: int = 10):
    """Average of ``field(x, y, z) -> array (or tuple of arrays)`` over a ball, by product Gauss-Legendre.

    The Monte Carlo probe is a ball, so its reference is the ball average of the
    closed form (the point value at the centre differs by O(r^2 laplacian)).
    """
    r, wr = _gauss(order, 0.0, ball_radius)
    mu, wmu = _gauss(order, -1.0, 1.0)
    phi = (np.arange(2 * order) + 0.5) * np.pi / order
    wphi = np.full(2 * order, np.pi / order)
    R, MU, PHI = np.meshgrid(r, mu, phi, indexing="ij")
    W = (wr[:, None, None] * R**2) * wmu[None, :, None] * wphi[None, None, :]
    sin = np.sqrt(1.0 - MU**2)
    x = centre[0] + R * sin * np.cos(PHI)
    y = centre[1] + R * sin * np.sin(PHI)
    zz = centre[2] + R * MU
    values = field(x, y, zz)
    volume = 4.0 / 3.0 * np.pi * ball_radius**3
    if isinstance(values, tuple):
        return tuple(float(np.sum(W * v) / volume) for v in values)
    return float(np.sum(W * values) / volume)


def _cell_rule(order: int, subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in [0, 1] and weights (sum 1) of a composite Gauss-Legendre rule."""
    x, w = np.polynomial.legendre.leggauss(order)
    nodes = ((np.arange(subdivisions)[:, None] + 0.5 * (x[None, :] + 1.0)) / subdivisions).ravel()
    return nodes, np.tile(w / (2.0 * subdivisions), subdivisions)


ANNULUS_RULES = ((4.0, 3, 1), (1.5, 4, 1), (0.25, 4, 4), (0.0, 8, 8))
"""(cells with distance to the rim / cell diagonal above this, Gauss order, subdivisions): the
closed forms vary on the scale of the distance to the rim, so cells far from it need few nodes."""


def annulus_average(field, rho_edges, z_edges, radius: float | None = None, block: int = 20_000):
    """Averages of ``field(rho, z)`` over the annular cells of a cylindrical (rho, z) mesh.

    Volume weight rho d rho dz, product Gauss-Legendre in each cell.  With the hole
    ``radius`` given, a cell gets the rule of :data:`ANNULUS_RULES` its distance to the rim
    (rho = a, z = 0) calls for: 3 x 3 nodes far away, up to 64 x 64 touching it; without it
    every cell gets the finest rule.  Cells are evaluated ``block`` at a time, so the memory
    does not grow with the mesh.  Returns an array of shape (n_rho, n_z) (or a tuple of them).
    """
    rho_edges = np.asarray(rho_edges, float)
    z_edges = np.asarray(z_edges, float)
    r_lo, r_hi = rho_edges[:-1], rho_edges[1:]
    z_lo, z_hi = z_edges[:-1], z_edges[1:]
    R_LO, Z_LO = np.meshgrid(r_lo, z_lo, indexing="ij")
    R_HI, Z_HI = np.meshgrid(r_hi, z_hi, indexing="ij")
    if radius is None:
        level = np.full(R_LO.shape, len(ANNULUS_RULES) - 1)
    else:
        diagonal = np.hypot(R_HI - R_LO, Z_HI - Z_LO)
        gap_rho = np.maximum(np.maximum(R_LO - radius, radius - R_HI), 0.0)
        gap_z = np.maximum(np.maximum(Z_LO, -Z_HI), 0.0)
        ratio = np.hypot(gap_rho, gap_z) / diagonal
        level = np.select([ratio > r[0] for r in ANNULUS_RULES[:-1]], range(len(ANNULUS_RULES) - 1),
                          default=len(ANNULUS_RULES) - 1)
    outputs = None
    for k, (_, order, subdivisions) in enumerate(ANNULUS_RULES):
        cells = np.argwhere(level == k)
        if not len(cells):
            continue
        nodes, weights = _cell_rule(order, subdivisions)
        unit_w = weights[:, None] * weights[None, :]
        for start in range(0, len(cells), block):
            i, j = cells[start:start + block].T
            rho = R_LO[i, j][:, None] + (R_HI - R_LO)[i, j][:, None] * nodes[None, :]
            z = Z_LO[i, j][:, None] + (Z_HI - Z_LO)[i, j][:, None] * nodes[None, :]
            RHO = np.broadcast_to(rho[:, :, None], (len(i), nodes.size, nodes.size))
            Z = np.broadcast_to(z[:, None, :], RHO.shape)
            w = unit_w[None] * RHO
            values = field(RHO, Z)
            values = values if isinstance(values, tuple) else (values,)
            if outputs is None:
                outputs = [np.empty(R_LO.shape) for _ in values]
            norm = w.sum(axis=(1, 2))
            for out, v in zip(outputs, values):
                out[i, j] = np.sum(w * v, axis=(1, 2)) / norm
    return tuple(outputs) if len(outputs) > 1 else outputs[0]


BOX_RULES = ((4.0, 3, 1), (1.5, 4, 1), (0.25, 4, 2), (-np.inf, 8, 2))
"""As :data:`ANNULUS_RULES`, for box cells: (distance to the rim / cell diagonal above this, order,
subdivisions per axis)."""


def box_average(field, x_edges, y_edges, z_edges, radius: float, points_per_block: int = 2_000_000):
    """Averages of ``field(x, y, z)`` (an array or a tuple of arrays) over the cells of a box mesh.

    Product Gauss-Legendre per cell, with the rule of :data:`BOX_RULES` that the cell's distance
    to the rim of the hole (rho = ``radius``, z = 0) calls for, in blocks of about
    ``points_per_block`` nodes.  Returns arrays of shape (nx, ny, nz)."""
    x_edges, y_edges, z_edges = (np.asarray(e, float) for e in (x_edges, y_edges, z_edges))
    lo = np.stack(np.meshgrid(x_edges[:-1], y_edges[:-1], z_edges[:-1], indexing="ij"), axis=-1).reshape(-1, 3)
    width = np.stack(np.meshgrid(np.diff(x_edges), np.diff(y_edges), np.diff(z_edges), indexing="ij"),
                     axis=-1).reshape(-1, 3)
    centre = lo + 0.5 * width
    diagonal = np.linalg.norm(width, axis=1)
    ratio = (np.hypot(np.hypot(centre[:, 0], centre[:, 1]) - radius, centre[:, 2]) - 0.5 * diagonal) / diagonal
    level = np.select([ratio > r[0] for r in BOX_RULES[:-1]], range(len(BOX_RULES) - 1), default=len(BOX_RULES) - 1)
    outputs = None
    for k, (_, order, subdivisions) in enumerate(BOX_RULES):
        cells = np.nonzero(level == k)[0]
        if not len(cells):
            continue
        nodes, weights = _cell_rule(order, subdivisions)
        unit = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 3)
        w = (weights[:, None, None] * weights[None, :, None] * weights[None, None, :]).ravel()
        block = max(1, points_per_block // len(w))
        for start in range(0, len(cells), block):
            chosen = cells[start:start + block]
            points = lo[chosen, None, :] + width[chosen, None, :] * unit[None, :, :]
            values = field(points[..., 0], points[..., 1], points[..., 2])
            values = values if isinstance(values, tuple) else (values,)
            if outputs is None:
                outputs = [np.empty(len(lo)) for _ in values]
            for out, v in zip(outputs, values):
                out[chosen] = np.asarray(v) @ w
    shape = (len(x_edges) - 1, len(y_edges) - 1, len(z_edges) - 1)
    outputs = [out.reshape(shape) for out in outputs]
    return tuple(outputs) if len(outputs) > 1 else outputs[0]


# --- an impurity near the contact (Sorbello Eqs. 55-64) ------------------------------------

FLUX_PER_SOLID_ANGLE = 1.0 / (4.0 * np.pi**3)
"""Particle flux per unit solid angle of the excess distribution, (dn/dE) v_F delta-mu / 4 pi."""


def hole_directions(position, radius: float, n_phi: int = 96, n_beta: int = 48):
    """Quadrature over Omega0(r0): incoming unit vectors k (N, 3) and weights dOmega (N,).

    k points from a hole point to r0 (z0 >= 0).  Directions are written as the
    polar angle beta about -z seen from r0 and the azimuth phi of the foot-point
    ray s(cos phi, sin phi) in the plane; beta runs from atan(s1/z0) to
    atan(s2/z0) where the ray enters and leaves the hole, so the integrand is
    smooth and Gauss-Legendre in beta (dOmega = sin beta dbeta dphi) converges
    fast for any z0 >= 0.
    """
    x0, y0, z0 = (float(v) for v in position)
    rho0 = math.hypot(x0, y0)
    base = math.atan2(y0, x0) + np.pi  # azimuth from the foot towards the hole centre
    if rho0 < radius:
        phi = (np.arange(n_phi) + 0.5) * 2.0 * np.pi / n_phi
        w_phi = np.full(n_phi, 2.0 * np.pi / n_phi)
        half = np.sqrt(radius**2 - (rho0 * np.sin(phi)) ** 2)
        s_in, s_out = np.zeros(n_phi), rho0 * np.cos(phi) + half
    else:
        phi_max = math.asin(radius / rho0)
        t, w_t = np.polynomial.legendre.leggauss(n_phi)
        t, w_t = 0.5 * np.pi * t, 0.5 * np.pi * w_t
        # phi = phi_max sin t removes the square-root edge of the chord
        phi = phi_max * np.sin(t)
        w_phi = phi_max * np.cos(t) * w_t
        half = np.sqrt(np.clip(radius**2 - (rho0 * np.sin(phi)) ** 2, 0.0, None))
        s_in, s_out = rho0 * np.cos(phi) - half, rho0 * np.cos(phi) + half
    # beta from the foot direction (-z): atan(s / z0); pi/2 on the plane itself
    beta_in = np.arctan2(s_in, z0)
    beta_out = np.arctan2(s_out, z0)
    x, w_x = np.polynomial.legendre.leggauss(n_beta)
    beta = beta_in[:, None] + (beta_out - beta_in)[:, None] * 0.5 * (x[None, :] + 1.0)
    sin_beta = np.sin(beta)
    weights = w_phi[:, None] * (beta_out - beta_in)[:, None] * 0.5 * w_x[None, :] * sin_beta
    azimuth = (base + phi)[:, None]
    k = np.stack([-sin_beta * np.cos(azimuth), -sin_beta * np.sin(azimuth), np.cos(beta)], axis=-1)
    return k.reshape(-1, 3), weights.ravel()


def _spherical(scatterer) -> bool:
    return bool(getattr(scatterer, "spherical", True))


def _isotropic(scatterer) -> bool:
    """A pure s-wave scatterer: |f|^2 does not depend on the angle."""
    shifts = getattr(scatterer, "phase_shifts", None)
    return _spherical(scatterer) and shifts is not None and len(np.atleast_1d(shifts)) == 1


def collision_rate(scatterer, position, radius: float) -> float:
    """Collisions per unit time, (1/4 pi^3) int_{Omega0} sigma_tot(k) dOmega (units delta-mu/hbar)."""
    k, w = hole_directions(position, radius)
    if _spherical(scatterer):
        return FLUX_PER_SOLID_ANGLE * scatterer.sigma_tot * float(w.sum())
    sigma = np.array([scatterer.sigma_tot_along(kk) for kk in k])
    return FLUX_PER_SOLID_ANGLE * float(np.sum(w * sigma))


def wind_force(scatterer, position, radius: float) -> np.ndarray:
    """F_w = (1/4 pi^3) int_{Omega0} dOmega int dOmega' |f|^2 (k - k') (Sorbello Eq. 61, with hbar k_F).

    For a spherically symmetric scatterer the inner integral is sigma_tr k, so
    F_w = sigma_tr j(r0) (Eq. 63, along the electron flow) with j the closed form of Eq. 54;
    otherwise both integrals are done by quadrature.  Units k_F delta-mu.
    """
    x0, y0, z0 = position
    if _spherical(scatterer):
        return scatterer.sigma_tr * np.array(cartesian_current_density(x0, y0, z0, radius), dtype=float)
    k, w = hole_directions(position, radius, n_phi=48, n_beta=24)
    return FLUX_PER_SOLID_ANGLE * sum(ww * scatterer.momentum_transfer_along(kk) for kk, ww in zip(k, w))


def backscatter_current(scatterer, position, radius: float, n_phi: int = 64, n_beta: int = 32) -> float:
    """delta I = -(1/4 pi^3) int_{Omega0} dOmega int_{Omega0*} dOmega' |f(k -> k')|^2 (Sorbello Eq. 57).

    Omega0* (towards the hole) = -Omega0; a deterministic double quadrature of
    the same hole directions.  Units e delta-mu / hbar (negative: current lost).
    """
    k, w = hole_directions(position, radius, n_phi=n_phi, n_beta=n_beta)
    if _isotropic(scatterer):
        # |f|^2 = sigma / 4 pi: the double integral factorises into Omega0^2
        return -FLUX_PER_SOLID_ANGLE * scatterer.sigma_tot / (4.0 * np.pi) * float(w.sum()) ** 2
    total = 0.0
    for start in range(0, len(k), 256):
        block = slice(start, start + 256)
        k_in = np.broadcast_to(k[block, None, :], (len(k[block]), len(k), 3))
        k_out = np.broadcast_to(-k[None, :, :], k_in.shape)
        total += float(np.einsum("i,ij,j->", w[block], scatterer.differential_cross_section(k_in, k_out), w))
    return -FLUX_PER_SOLID_ANGLE * total


def delta_resistance(backscatter: float, radius: float) -> float:
    """delta R = -(delta I / Phi0) R_Sharvin^2 (Sorbello Eq. 58), Phi0 = delta-mu/e = 1."""
    return -backscatter * sharvin_resistance(radius) ** 2


def wind_force_over_backscatter_on_axis(z0, radius: float):
    """F_w/delta I on the axis for an isotropic scatterer, -(hbar k_F/e) sin^2 theta0/(1 - cos theta0)^2
    (Sorbello Eq. 62 with the momentum misprint of SPEC §4 corrected)."""
    cos0 = np.asarray(z0, float) / np.hypot(radius, z0)
    return -(1.0 - cos0**2) / (1.0 - cos0) ** 2


def density_gradient(position, radius: float, step: float = 1e-3) -> np.ndarray:
    """grad (delta n / (delta-mu dn/dE)) at r0 by Richardson-extrapolated central differences of Eq. 50."""
    r0 = np.asarray(position, float)

    def central(h):
        out = np.zeros(3)
        for i in range(3):
            e = np.zeros(3)
            e[i] = h
            plus, minus = r0 + e, r0 - e
            out[i] = (excess_density(math.hypot(*plus[:2]), plus[2], radius)
                      - excess_density(math.hypot(*minus[:2]), minus[2], radius)) / (2 * h)
        return out

    return (4.0 * central(step / 2) - central(step)) / 3.0


def direct_force(position, radius: float, valence: float) -> np.ndarray:
    """F_d = Z_d e (-grad dPhi_tot)(r0) = Z_d grad(delta n/(dn/dE)) (Sorbello Eqs. 59, 52, 5); units k_F delta-mu."""
    return valence * density_gradient(position, radius)


def cartesian_current_density(x, y, z, radius):
    """(j_x, j_y, j_z) of Eq. 54 at Cartesian points (arrays broadcast), from the (j_rho, j_z) closed form."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = np.hypot(x, y)
    j_rho, j_z = current_density(rho, z, radius)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_phi = np.where(rho > 0, x / rho, 0.0)
        sin_phi = np.where(rho > 0, y / rho, 0.0)
    return j_rho * cos_phi, j_rho * sin_phi, j_z
