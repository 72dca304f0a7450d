"""Where histories start: the reservoirs' emission of Fermi-surface electrons.

An ideal reservoir at the boundary of the simulated region injects the
inward half of an isotropic Fermi-surface distribution: the emitted flux per
unit area is Lambertian (cosine-weighted about the inward normal) with
strength (dn/dE) delta-mu v_F / 4 = 1/(4 pi^2) per unit area in reduced units.
"""

from __future__ import annotations

import math

from numba import njit

from geometry.aperture import lambert_disk_sample

APERTURE_SOURCE = 0
RESERVOIR_SOURCE = 1
SOURCE_KINDS = {"aperture": APERTURE_SOURCE, "reservoir": RESERVOIR_SOURCE}

EMISSION_PER_AREA = 1.0 / (4.0 * math.pi**2)
"""Emitted particle current per unit area of a reservoir boundary, (dn/dE) v_F delta-mu / 4."""


def source_strength(kind: int, hole_radius: float, reservoir_radius: float) -> float:
    """Particle current emitted by the source (e delta-mu / hbar), the weight of all histories.

    aperture: the Lambertian flux through the hole, a^2/4 pi (Liouville: the
    hole is seen full from the left, so this is the Sharvin current, Eq. 54);
    reservoir: the flux emitted inward by the far hemisphere, 2 pi R^2 / (4 pi^2).
    """
    if kind == APERTURE_SOURCE:
        return math.pi * hole_radius**2 * EMISSION_PER_AREA
    return 2.0 * math.pi * reservoir_radius**2 * EMISSION_PER_AREA


@njit(cache=True, inline="always")
def about_axis(nx, ny, nz, x, y, along):
    """The vector with components (x, y, along) in an orthonormal frame whose third axis is n
    (Duff et al. 2017, branch-free frame)."""
    sign = 1.0 if nz >= 0.0 else -1.0
    a = -1.0 / (sign + nz)
    b = nx * ny * a
    t1x, t1y, t1z = 1.0 + sign * nx * nx * a, sign * b, -sign * nx
    t2x, t2y, t2z = b, sign + ny * ny * a, -ny
    return (
        x * t1x + y * t2x + along * nx,
        x * t1y + y * t2y + along * ny,
        x * t1z + y * t2z + along * nz,
    )


@njit(cache=True, inline="always")
def lambert_about(nx, ny, nz, state):
    """A direction cosine-distributed about the unit normal n."""
    x, y, state = lambert_disk_sample(state)
    along = math.sqrt(max(0.0, 1.0 - x * x - y * y))
    ux, uy, uz = about_axis(nx, ny, nz, x, y, along)
    return ux, uy, uz, state


@njit(cache=True, inline="always")
def aperture_emission(hole_radius, side, state):
    """Equivalent source on the hole: uniform on the disk, Lambertian toward z * side > 0."""
    x, y, state = lambert_disk_sample(state)
    ux, uy, state = lambert_disk_sample(state)
    uz = side * math.sqrt(max(0.0, 1.0 - ux * ux - uy * uy))
    return hole_radius * x, hole_radius * y, 0.0, ux, uy, uz, state


@njit(cache=True, inline="always")
def reservoir_emission(reservoir_radius, state):
    """Analog source: uniform on the left hemisphere |r| = R, z < 0, Lambertian inward."""
    x1, x2, state = lambert_disk_sample(state)  # Marsaglia: uniform on the sphere
    s = x1 * x1 + x2 * x2
    root = 2.0 * math.sqrt(1.0 - s)
    nx, ny, nz = x1 * root, x2 * root, -abs(1.0 - 2.0 * s)
    ux, uy, uz, state = lambert_about(-nx, -ny, -nz, state)
    return reservoir_radius * nx, reservoir_radius * ny, reservoir_radius * nz, ux, uy, uz, state
