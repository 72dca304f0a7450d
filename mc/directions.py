"""Random directions for the kernels: isotropic, Lambertian (cosine-weighted) and about a given axis.

Every function takes and returns the history's stream state (:mod:`mc.streams`).
"""

from __future__ import annotations

import math

from geometry.jit import jit
from mc.streams import uniform


@jit()
def unit_disk_point(state):
    """A point uniform on the unit disk by rejection; with z = sqrt(1 - x^2 - y^2) it is a
    cosine-weighted (Lambertian) direction about z (Malley's method)."""
    while True:
        u1, state = uniform(state)
        u2, state = uniform(state)
        x = 2.0 * u1 - 1.0
        y = 2.0 * u2 - 1.0
        if x * x + y * y < 1.0:
            return x, y, state


@jit()
def isotropic_direction(state):
    """A direction uniform on the unit sphere (Marsaglia 1972)."""
    x1, x2, state = unit_disk_point(state)
    s = x1 * x1 + x2 * x2
    root = 2.0 * math.sqrt(1.0 - s)
    return x1 * root, x2 * root, 1.0 - 2.0 * s, state


@jit()
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


@jit()
def lambert_about(nx, ny, nz, state):
    """A direction cosine-distributed about the unit vector n."""
    x, y, state = unit_disk_point(state)
    along = math.sqrt(max(0.0, 1.0 - x * x - y * y))
    ux, uy, uz = about_axis(nx, ny, nz, x, y, along)
    return ux, uy, uz, state


@jit()
def cone_about(nx, ny, nz, cos_polar, state):
    """A direction at polar cosine ``cos_polar`` about n with a uniform azimuth."""
    x, y, state = unit_disk_point(state)
    r = math.sqrt(x * x + y * y)
    sin_polar = math.sqrt(max(0.0, 1.0 - cos_polar * cos_polar))
    if r > 0.0:
        x *= sin_polar / r
        y *= sin_polar / r
    ux, uy, uz = about_axis(nx, ny, nz, x, y, cos_polar)
    return ux, uy, uz, state
