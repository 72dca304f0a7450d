"""Surfaces: plane, z-plane, z-cylinder, sphere and z-cone, with their sense, distance and normal.

A surface is the zero set of a function f(r): its positive side (sense +1) is
f > 0, its negative side f < 0.  In Python a surface is an object
(:class:`ZPlane`, :class:`Plane`, :class:`ZCylinder`, :class:`Sphere`,
:class:`ZCone`) whose half-spaces are ``+s`` and ``-s`` (as in OpenMC); inside
kernels it is one row of :data:`ROW` float64 numbers (type code, parameters)
and the njit functions below act on that row:

Kernel functions take the whole table of rows and an index (a row view would
cost reference counting in the hot loop):

* :func:`surface_value` f(r);
* :func:`surface_distance` the distance along a flight p + t u, t > 0, to the
  next crossing of the surface (``on_surface`` drops the root at t = 0 of a
  particle that sits on it: the one it has just hit or was born on);
* :func:`surface_normal` the unit gradient of f (pointing to the + side).

Lengths are in 1/k_F (any unit: nothing here is physics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geometry.jit import jit

ROW = 8
"""Floats per surface row: [type, parameters...]."""

Z_PLANE, PLANE, Z_CYLINDER, SPHERE, Z_CONE = 0, 1, 2, 3, 4


class Surface:
    """Base class: ``+surface`` and ``-surface`` are its half-spaces (regions)."""

    name: str = ""

    def row(self) -> np.ndarray:
        raise NotImplementedError

    def value(self, points) -> np.ndarray:
        """f at points of shape (..., 3), vectorised (the same function as :func:`surface_value`)."""
        p = np.asarray(points, dtype=float)
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        row = self.row()
        kind = int(row[0])
        if kind == Z_PLANE:
            return z - row[1]
        if kind == PLANE:
            return row[1] * x + row[2] * y + row[3] * z - row[4]
        if kind == Z_CYLINDER:
            return (x - row[1]) ** 2 + (y - row[2]) ** 2 - row[3] ** 2
        if kind == SPHERE:
            return (x - row[1]) ** 2 + (y - row[2]) ** 2 + (z - row[3]) ** 2 - row[4] ** 2
        return (x - row[1]) ** 2 + (y - row[2]) ** 2 - (row[4] + row[5] * (z - row[3])) ** 2

    def __pos__(self):
        from geometry.regions import Halfspace

        return Halfspace(self, True)

    def __neg__(self):
        from geometry.regions import Halfspace

        return Halfspace(self, False)


@dataclass(frozen=True, eq=False)
class ZPlane(Surface):
    """The plane z = z0; f = z - z0."""

    z0: float = 0.0
    name: str = ""

    def row(self) -> np.ndarray:
        return _row(Z_PLANE, self.z0)


@dataclass(frozen=True, eq=False)
class Plane(Surface):
    """The plane n.r = d (n normalised here); f = n.r - d."""

    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    offset: float = 0.0
    name: str = ""

    def row(self) -> np.ndarray:
        n = np.asarray(self.normal, float)
        norm = float(np.linalg.norm(n))
        if norm == 0.0:
            raise ValueError("a plane needs a non-zero normal")
        return _row(PLANE, *(n / norm), self.offset / norm)


@dataclass(frozen=True, eq=False)
class ZCylinder(Surface):
    """The cylinder (x - x0)^2 + (y - y0)^2 = radius^2 about a line parallel to z; f < 0 inside."""

    radius: float = 1.0
    x0: float = 0.0
    y0: float = 0.0
    name: str = ""

    def row(self) -> np.ndarray:
        return _row(Z_CYLINDER, self.x0, self.y0, self.radius)


@dataclass(frozen=True, eq=False)
class Sphere(Surface):
    """The sphere |r - centre| = radius; f < 0 inside."""

    radius: float = 1.0
    centre: tuple[float, float, float] = (0.0, 0.0, 0.0)
    name: str = ""

    def row(self) -> np.ndarray:
        return _row(SPHERE, *self.centre, self.radius)


@dataclass(frozen=True, eq=False)
class ZCone(Surface):
    """The cone rho = r0 + slope (z - z0) about the line (x0, y0, z) (a taper between two z-planes).

    f = rho^2 - (r0 + slope (z - z0))^2, negative inside.  The zero set is a
    double cone with its apex at z0 - r0/slope; a taper uses the nappe where
    r0 + slope (z - z0) > 0, between two planes that cut the apex off.
    """

    z0: float = 0.0
    r0: float = 1.0
    slope: float = 0.0
    x0: float = 0.0
    y0: float = 0.0
    name: str = ""

    def row(self) -> np.ndarray:
        return _row(Z_CONE, self.x0, self.y0, self.z0, self.r0, self.slope)

    def radius_at(self, z: float) -> float:
        return self.r0 + self.slope * (z - self.z0)


def _row(kind: int, *params: float) -> np.ndarray:
    row = np.zeros(ROW)
    row[0] = kind
    row[1 : 1 + len(params)] = params
    return row


# ------------------------------------------------------------------------------------ kernels


@jit()
def _quadric(rows, s, x, y, z, ux, uy, uz):
    """Coefficients of f(p + t u) = a t^2 + 2 b t + c for the curved surfaces."""
    kind = int(rows[s, 0])
    if kind == Z_CYLINDER:
        dx = x - rows[s, 1]
        dy = y - rows[s, 2]
        return ux * ux + uy * uy, dx * ux + dy * uy, dx * dx + dy * dy - rows[s, 3] * rows[s, 3]
    if kind == SPHERE:
        dx = x - rows[s, 1]
        dy = y - rows[s, 2]
        dz = z - rows[s, 3]
        return 1.0, dx * ux + dy * uy + dz * uz, dx * dx + dy * dy + dz * dz - rows[s, 4] * rows[s, 4]
    # Z_CONE: rho(z) = r0 + slope (z - z0) about the axis through (x0, y0)
    dx = x - rows[s, 1]
    dy = y - rows[s, 2]
    slope = rows[s, 5]
    rho = rows[s, 4] + slope * (z - rows[s, 3])
    return (ux * ux + uy * uy - slope * slope * uz * uz, dx * ux + dy * uy - slope * uz * rho,
            dx * dx + dy * dy - rho * rho)


@jit()
def surface_value(rows, s, x, y, z):
    """f(r) of surface s: negative on the - side, positive on the + side."""
    kind = int(rows[s, 0])
    if kind == Z_PLANE:
        return z - rows[s, 1]
    if kind == PLANE:
        return rows[s, 1] * x + rows[s, 2] * y + rows[s, 3] * z - rows[s, 4]
    a, b, c = _quadric(rows, s, x, y, z, 0.0, 0.0, 0.0)
    return c


@jit(inline="always")
def surface_distance(rows, s, x, y, z, ux, uy, uz, on_surface):
    """Distance t > 0 along p + t u to the next crossing of the surface (inf if none).

    ``on_surface``: the particle sits on this surface (it has just hit it or was born
    on it), so the root t = 0 is dropped exactly instead of by a tolerance."""
    kind = int(rows[s, 0])
    if kind == Z_PLANE or kind == PLANE:
        if on_surface:
            return math.inf
        if kind == Z_PLANE:
            f = z - rows[s, 1]
            slope = uz
        else:
            f = rows[s, 1] * x + rows[s, 2] * y + rows[s, 3] * z - rows[s, 4]
            slope = rows[s, 1] * ux + rows[s, 2] * uy + rows[s, 3] * uz
        if slope == 0.0:
            return math.inf
        t = -f / slope
        return t if t > 0.0 else math.inf
    a, b, c = _quadric(rows, s, x, y, z, ux, uy, uz)
    if on_surface:
        # roots 0 and -2b/a
        if a == 0.0:
            return math.inf
        t = -2.0 * b / a
        return t if t > 0.0 else math.inf
    if a == 0.0:
        # flight along a generator: f is linear in t
        if b == 0.0:
            return math.inf
        t = -c / (2.0 * b)
        return t if t > 0.0 else math.inf
    disc = b * b - a * c
    if disc < 0.0:
        return math.inf
    root = math.sqrt(disc)
    # the two roots without cancellation: q / a and c / q
    q = -(b + root) if b >= 0.0 else -(b - root)
    t1 = q / a
    t2 = c / q if q != 0.0 else t1
    lo = min(t1, t2)
    hi = max(t1, t2)
    if lo > 0.0:
        return lo
    if hi > 0.0:
        return hi
    return math.inf


@jit()
def surface_normal(rows, s, x, y, z):
    """Unit normal grad f / |grad f| of surface s at a point of it (towards the + side)."""
    kind = int(rows[s, 0])
    if kind == Z_PLANE:
        return 0.0, 0.0, 1.0
    if kind == PLANE:
        return rows[s, 1], rows[s, 2], rows[s, 3]
    if kind == Z_CYLINDER:
        gx = x - rows[s, 1]
        gy = y - rows[s, 2]
        gz = 0.0
    elif kind == SPHERE:
        gx = x - rows[s, 1]
        gy = y - rows[s, 2]
        gz = z - rows[s, 3]
    else:
        gx = x - rows[s, 1]
        gy = y - rows[s, 2]
        gz = -rows[s, 5] * (rows[s, 4] + rows[s, 5] * (z - rows[s, 3]))
    norm = math.sqrt(gx * gx + gy * gy + gz * gz)
    if norm == 0.0:
        return 0.0, 0.0, 1.0
    return gx / norm, gy / norm, gz / norm
