"""Track-length tallies scored along straight flight segments (inside numba kernels).

A segment p + t u, 0 <= t <= L, of a particle of signed weight w contributes
w * (length inside a volume) to the particle-time spent there (v_F = 1), so
density = (weight per history) * sum(w l) / V and particle current density =
sum(w l u) / V.  Every function adds into a row ``acc`` of per-chunk scores at
the given offset; the layout is described by :class:`ScoreLayout`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from geometry.aperture import chord_in_ball

PROBE_SCORES = 4
"""Per probe: sum w l, sum w l ux, sum w l uy, sum w l uz."""

MESH_SCORES = 3
"""Per cylindrical-mesh cell: sum w l, sum w d(rho) (= int u.rho_hat dl), sum w l uz."""

IMPURITY_SCORES = 14
"""Per impurity: analog [collisions, Px, Py, Pz, backscatter], next-event [the same five],
density-moment ball [sum w l, sum w l (mid - r0)_x, _y, _z]; offsets below."""
ANALOG, NEXT_EVENT, MOMENT = 0, 5, 10


@dataclass(frozen=True)
class CylindricalMesh:
    """Uniform (rho, z) mesh: rho in [0, rho_max] in n_rho bins, z in [z_min, z_max] in n_z bins."""

    rho_max: float
    n_rho: int
    z_min: float
    z_max: float
    n_z: int

    @property
    def rho_edges(self) -> np.ndarray:
        return np.linspace(0.0, self.rho_max, self.n_rho + 1)

    @property
    def z_edges(self) -> np.ndarray:
        return np.linspace(self.z_min, self.z_max, self.n_z + 1)

    @property
    def cell_volumes(self) -> np.ndarray:
        r = self.rho_edges
        annulus = np.pi * (r[1:] ** 2 - r[:-1] ** 2)
        return annulus[:, None] * np.diff(self.z_edges)[None, :]

    def as_arrays(self):
        return (
            np.array([self.rho_max, self.z_min, self.z_max], dtype=np.float64),
            np.array([self.n_rho, self.n_z], dtype=np.int64),
        )


@dataclass(frozen=True)
class ScoreLayout:
    """Where each tally lives in the score vector of a point-contact history."""

    n_probes: int
    n_mesh_cells: int
    n_impurities: int = 0

    current: int = 0

    @property
    def probes(self) -> int:
        return 1

    @property
    def mesh(self) -> int:
        return self.probes + PROBE_SCORES * self.n_probes

    @property
    def impurities(self) -> int:
        return self.mesh + MESH_SCORES * self.n_mesh_cells

    @property
    def size(self) -> int:
        return self.impurities + IMPURITY_SCORES * self.n_impurities


@njit(cache=True, inline="always")
def score_probes(acc, offset, px, py, pz, ux, uy, uz, length, weight, centres, radii):
    for i in range(centres.shape[0]):
        chord = chord_in_ball(px, py, pz, ux, uy, uz, length, centres[i, 0], centres[i, 1], centres[i, 2], radii[i])
        if chord > 0.0:
            k = offset + PROBE_SCORES * i
            wl = weight * chord
            acc[k] += wl
            acc[k + 1] += wl * ux
            acc[k + 2] += wl * uy
            acc[k + 3] += wl * uz


@njit(cache=True, inline="always")
def _radius_at(px, py, ux, uy, t):
    x = px + t * ux
    y = py + t * uy
    return math.sqrt(x * x + y * y)


@njit(cache=True)
def score_mesh(acc, offset, px, py, pz, ux, uy, uz, length, weight, bounds, shape, times):
    """Split the segment at every cylinder rho = const and plane z = const it crosses and
    score each piece into the cell that contains its midpoint.  ``times`` is scratch
    space of at least 2 n_rho + n_z + 3 entries."""
    rho_max, z_min, z_max = bounds[0], bounds[1], bounds[2]
    n_rho, n_z = shape[0], shape[1]
    t0, t1 = 0.0, length
    # clip to the z slab of the mesh
    if uz != 0.0:
        ta = (z_min - pz) / uz
        tb = (z_max - pz) / uz
        t0 = max(t0, min(ta, tb))
        t1 = min(t1, max(ta, tb))
    elif pz < z_min or pz > z_max:
        return
    # clip to the cylinder rho < rho_max
    a = ux * ux + uy * uy
    b = px * ux + py * uy
    c = px * px + py * py
    if a > 0.0:
        disc = b * b - a * (c - rho_max * rho_max)
        if disc <= 0.0:
            return
        root = math.sqrt(disc)
        t0 = max(t0, (-b - root) / a)
        t1 = min(t1, (-b + root) / a)
    elif c >= rho_max * rho_max:
        return
    if t1 <= t0:
        return
    n = 0
    times[n] = t0
    n += 1
    dz = (z_max - z_min) / n_z
    if uz != 0.0:
        for j in range(1, n_z):
            t = (z_min + j * dz - pz) / uz
            if t0 < t < t1:
                times[n] = t
                n += 1
    drho = rho_max / n_rho
    if a > 0.0:
        for i in range(1, n_rho):
            r = i * drho
            disc = b * b - a * (c - r * r)
            if disc > 0.0:
                root = math.sqrt(disc)
                t = (-b - root) / a
                if t0 < t < t1:
                    times[n] = t
                    n += 1
                t = (-b + root) / a
                if t0 < t < t1:
                    times[n] = t
                    n += 1
    times[n] = t1
    n += 1
    # insertion sort: the lists are short and nearly ordered
    for i in range(1, n):
        key = times[i]
        j = i - 1
        while j >= 0 and times[j] > key:
            times[j + 1] = times[j]
            j -= 1
        times[j + 1] = key
    rho_a = _radius_at(px, py, ux, uy, times[0])
    for k in range(n - 1):
        ta, tb = times[k], times[k + 1]
        rho_b = _radius_at(px, py, ux, uy, tb)
        if tb > ta:
            tm = 0.5 * (ta + tb)
            i_rho = min(int(_radius_at(px, py, ux, uy, tm) / drho), n_rho - 1)
            i_z = min(max(int((pz + tm * uz - z_min) / dz), 0), n_z - 1)
            cell = offset + MESH_SCORES * (i_rho * n_z + i_z)
            acc[cell] += weight * (tb - ta)
            acc[cell + 1] += weight * (rho_b - rho_a)
            acc[cell + 2] += weight * (tb - ta) * uz
        rho_a = rho_b
