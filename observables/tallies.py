"""Tallies as filters x scores, their layout in the score vector, and the track-length scorers.

Every history adds into one row of scores; :class:`TallyLayout` decides where
each tally lives in that row.  A tally is a :class:`Block`: a product of
filters (probe balls, mesh cells, surfaces, impurities, estimators, ...) times
a tuple of scores.  The layout computes every offset once; the kernel receives
them as arrays (:meth:`TallyLayout.arrays`) and the decoder reads blocks back
with the same object (:meth:`TallyLayout.read`), so no offset is ever written
twice.

Score tuples of the estimator families (the kernel indexes them by the named
constants below, never by literals):

* :data:`BALL_SCORES` — track length in a ball or spherical shell (probes,
  gradient balls of the direct force, the whole space): sum w l, sum w l u,
  sum w l (r - centre).  With v_F = 1 the track length is particle time, so
  density = sum w l / V and particle current density = sum w l u / V.
* :data:`CYLINDRICAL_MESH_SCORES` — per (rho, z) cell: sum w l, sum w d(rho)
  (= int u.rho_hat dl), sum w l u_z.
* :data:`CARTESIAN_MESH_SCORES` — per (x, y, z) cell: sum w l, sum w l u.
* :data:`SURFACE_SCORES` — per surface patch: net signed crossings sum w
  sign(u.n) and the momentum given to the surface, sum w (u_in - u_out).
* :data:`IMPURITY_SCORES` — per impurity and estimator: collisions, momentum
  transfer sum w (k - k'), and the change of the drain current (backscatter).
* :data:`RESERVOIR_SCORES` — per reservoir: the net particle current into it.
* :data:`BACKGROUND_SCORES` — the first-order change of the drain current per unit
  inverse background mean free path (media with ``first_order``).
* :data:`DIAGNOSTIC_SCORES` — histories cut by the event cap, particles lost.

Weights w are particle currents (e delta-mu / hbar per history), so a score
divided by the number of histories is already in reduced units.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from geometry.jit import jit
from geometry.shapes import ball_interval, first_not_below, z_window

BALL_COLUMNS = 7
BALL_SCORES = ("track_length", "current_x", "current_y", "current_z", "moment_x", "moment_y", "moment_z")
TRACK_LENGTH, CURRENT_X, MOMENT_X = 0, 1, 4
CYLINDRICAL_MESH_SCORES = ("track_length", "current_rho", "current_z")
CARTESIAN_MESH_SCORES = ("track_length", "current_x", "current_y", "current_z")
SURFACE_SCORES = ("crossings", "momentum_x", "momentum_y", "momentum_z")
CROSSINGS, SURFACE_MOMENTUM_X = 0, 1
IMPURITY_SCORES = ("collisions", "momentum_x", "momentum_y", "momentum_z", "backscatter")
COLLISIONS, IMPURITY_MOMENTUM_X, BACKSCATTER = 0, 1, 4
ESTIMATORS = ("analog", "next_event")
ANALOG, NEXT_EVENT = 0, 1
RESERVOIR_SCORES = ("current",)
BACKGROUND_SCORES = ("drain_current_per_inverse_mean_free_path",)
"""First order in the background scattering: d(drain current) / d(1/l) at 1/l -> 0."""
DIAGNOSTIC_SCORES = ("dropped_histories", "lost_particles")
DROPPED, LOST = 0, 1


# ------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class Ball:
    """A ball (inner = 0), a spherical shell, or the whole space (outer = inf) around ``centre``.

    ``moments``: also score the first moment sum w l (r - centre) (the density gradient)."""

    centre: tuple[float, float, float]
    outer: float
    inner: float = 0.0
    moments: bool = False

    @property
    def volume(self) -> float:
        return 4.0 / 3.0 * math.pi * (self.outer**3 - self.inner**3)


@dataclass(frozen=True)
class CylindricalMesh:
    """Uniform (rho, z) mesh about the z axis: rho in [0, rho_max] in n_rho bins, z in [z_min, z_max] in n_z."""

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
    def cells(self) -> int:
        return self.n_rho * self.n_z

    @property
    def cell_volumes(self) -> np.ndarray:
        r = self.rho_edges
        annulus = np.pi * (r[1:] ** 2 - r[:-1] ** 2)
        return annulus[:, None] * np.diff(self.z_edges)[None, :]

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        r, z = self.rho_edges, self.z_edges
        return 0.5 * (r[1:] + r[:-1]), 0.5 * (z[1:] + z[:-1])


@dataclass(frozen=True)
class CartesianMesh:
    """Uniform box mesh; an axis with one bin may extend to infinity (per unit area of a layer)."""

    lower: tuple[float, float, float]
    upper: tuple[float, float, float]
    shape: tuple[int, int, int]

    @property
    def cells(self) -> int:
        return int(np.prod(self.shape))

    def edges(self, axis: int) -> np.ndarray:
        return np.linspace(self.lower[axis], self.upper[axis], self.shape[axis] + 1)

    def centres(self, axis: int) -> np.ndarray:
        e = self.edges(axis)
        return 0.5 * (e[1:] + e[:-1])

    @property
    def cell_volume(self) -> float:
        """Volume of one cell; infinite axes count with unit length (per unit length or area)."""
        volume = 1.0
        for a in range(3):
            span = self.upper[a] - self.lower[a]
            volume *= 1.0 if math.isinf(span) else span / self.shape[a]
        return volume


# ------------------------------------------------------------------------------ layout


@dataclass(frozen=True)
class Block:
    """One tally: ``filters`` (name, bins) in row-major order, times ``scores``; starts at ``offset``."""

    name: str
    filters: tuple[tuple[str, int], ...]
    scores: tuple[str, ...]
    offset: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(n for _, n in self.filters) + (len(self.scores),)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def offsets(self) -> np.ndarray:
        """Offset of score 0 of every filter bin, shaped like the filters (int64)."""
        bins = tuple(n for _, n in self.filters)
        return (self.offset + len(self.scores) * np.arange(int(np.prod(bins)), dtype=np.int64)).reshape(bins)


class TallyLayout:
    """The score vector of a history: blocks appended in order, each read back by name."""

    def __init__(self):
        self.blocks: dict[str, Block] = {}
        self.size = 0

    def add(self, name: str, filters, scores) -> Block:
        if name in self.blocks:
            raise ValueError(f"tally block {name!r} exists already")
        block = Block(name, tuple((str(f), int(n)) for f, n in filters), tuple(scores), self.size)
        self.blocks[name] = block
        self.size += block.size
        return block

    def __contains__(self, name: str) -> bool:
        return name in self.blocks

    def __getitem__(self, name: str) -> Block:
        return self.blocks[name]

    def offsets(self, name: str, bins: tuple[int, ...] = (0,)) -> np.ndarray:
        """The block's per-bin offsets, or an int64 array of -1 of shape ``bins`` if it is absent."""
        if name not in self.blocks:
            return np.full(bins, -1, dtype=np.int64)
        return self.blocks[name].offsets()

    def offset(self, name: str) -> int:
        return self.blocks[name].offset if name in self.blocks else -1

    def read(self, totals: np.ndarray, name: str) -> np.ndarray:
        """The block's scores from rows of totals (..., size): shape (..., *filters, scores)."""
        block = self.blocks[name]
        totals = np.asarray(totals)
        return totals[..., block.offset : block.offset + block.size].reshape(totals.shape[:-1] + block.shape)


# ------------------------------------------------------------------------------ kernel side

TallyArrays = namedtuple(
    "TallyArrays",
    [
        "balls",              # (n, BALL_COLUMNS): centre x, y, z, inner, outer (inf: whole space), offset,
                              #   1 = score the first moment too; the unbounded ones first, then by centre z
        "ball_unbounded",     # int: how many rows lead with outer = inf
        "ball_reach",         # float: the largest finite outer radius (0 if none)
        "cylindrical_bounds", # (m, 3): rho_max, z_min, z_max
        "cylindrical_shape",  # (m, 2): n_rho, n_z
        "cylindrical_offset", # (m,)
        "cartesian_lower",    # (m, 3)
        "cartesian_upper",    # (m, 3)
        "cartesian_shape",    # (m, 3)
        "cartesian_offset",   # (m,)
        "surface_index",      # (k,) geometry surface of each surface tally
        "surface_program",    # (k, 2) patch program range in surface_tokens
        "surface_tokens",     # (t,)
        "surface_offset",     # (k,)
        "impurity_offset",    # (n_impurities, 2): analog, next-event block (-1 absent)
        "reservoir_offset",   # int: the reservoir-current block (one score per reservoir)
        "background_offset",  # int: the first-order background block (-1 absent)
        "diagnostic_offset",  # int
        "scratch",            # int: floats of scratch a mesh scorer needs per segment
    ],
)


def tally_arrays(layout: TallyLayout, balls=(), cylindrical=(), cartesian=(), surface_tallies=(),
                 n_impurities: int = 0) -> TallyArrays:
    """Kernel arrays for the layout's standard blocks ("balls", "cylindrical_mesh_i", "cartesian_mesh_i",
    "surfaces", "impurities", "reservoirs", "diagnostics"); ``surface_tallies`` are tuples
    (surface index, patch program)."""
    tokens: list[int] = []
    programs = []
    for _, program in surface_tallies:
        programs.append((len(tokens), len(tokens) + len(program)))
        tokens += list(program)
    scratch = 8
    for mesh in cylindrical:
        scratch = max(scratch, 2 * mesh.n_rho + mesh.n_z + 4)
    rows = np.array([[*b.centre, b.inner, b.outer, offset, 1.0 if b.moments else 0.0]
                     for b, offset in zip(balls, layout.offsets("balls", (len(balls),)).reshape(-1))],
                    dtype=np.float64).reshape(-1, BALL_COLUMNS)
    # each row carries its own offset, so the order is free: sorted by centre z, a segment tests only
    # the balls whose centre lies within the largest radius of its z range (score_balls)
    bounded = rows[:, 4] < math.inf
    rows = np.concatenate([rows[~bounded], rows[bounded][np.argsort(rows[bounded, 2], kind="stable")]])
    unbounded = int(np.count_nonzero(~bounded))
    return TallyArrays(
        balls=rows,
        ball_unbounded=unbounded,
        ball_reach=float(rows[unbounded:, 4].max(initial=0.0)),
        cylindrical_bounds=np.array([[m.rho_max, m.z_min, m.z_max] for m in cylindrical], dtype=np.float64).reshape(-1, 3),
        cylindrical_shape=np.array([[m.n_rho, m.n_z] for m in cylindrical], dtype=np.int64).reshape(-1, 2),
        cylindrical_offset=np.array([layout.offset(f"cylindrical_mesh_{i}") for i in range(len(cylindrical))], dtype=np.int64),
        cartesian_lower=np.array([m.lower for m in cartesian], dtype=np.float64).reshape(-1, 3),
        cartesian_upper=np.array([m.upper for m in cartesian], dtype=np.float64).reshape(-1, 3),
        cartesian_shape=np.array([m.shape for m in cartesian], dtype=np.int64).reshape(-1, 3),
        cartesian_offset=np.array([layout.offset(f"cartesian_mesh_{i}") for i in range(len(cartesian))], dtype=np.int64),
        surface_index=np.array([s for s, _ in surface_tallies], dtype=np.int64),
        surface_program=np.array(programs, dtype=np.int64).reshape(-1, 2),
        surface_tokens=np.array(tokens, dtype=np.int64),
        surface_offset=(layout.offsets("surfaces").reshape(-1) if surface_tallies else np.zeros(0, np.int64)),
        impurity_offset=layout.offsets("impurities", (n_impurities, 2)).reshape(n_impurities, 2).astype(np.int64)
        if n_impurities else np.zeros((0, 2), np.int64),
        reservoir_offset=layout.offset("reservoirs"),
        background_offset=layout.offset("background"),
        diagnostic_offset=layout.offset("diagnostics"),
        scratch=scratch,
    )


@jit(inline="always")
def _score_ball_piece(acc, k, moments, weight, px, py, pz, ux, uy, uz, t_a, t_b, cx, cy, cz):
    wl = weight * (t_b - t_a)
    acc[k + TRACK_LENGTH] += wl
    acc[k + CURRENT_X] += wl * ux
    acc[k + CURRENT_X + 1] += wl * uy
    acc[k + CURRENT_X + 2] += wl * uz
    if moments:
        mid = 0.5 * (t_a + t_b)
        acc[k + MOMENT_X] += wl * (px + mid * ux - cx)
        acc[k + MOMENT_X + 1] += wl * (py + mid * uy - cy)
        acc[k + MOMENT_X + 2] += wl * (pz + mid * uz - cz)


BALL_SEARCH_MIN = 32
"""Fewer bounded balls than this are all tested: the search would cost more than it saves."""


@jit(inline="always")
def _score_ball(acc, balls, i, px, py, pz, ux, uy, uz, length, weight):
    """Score the segment p + t u (0 <= t <= length) in ball row i: one piece, or two for a shell it crosses."""
    cx, cy, cz = balls[i, 0], balls[i, 1], balls[i, 2]
    k = int(balls[i, 5])
    outer = balls[i, 4]
    if outer == math.inf:
        t_a, t_b = 0.0, length
    else:
        t_a, t_b = ball_interval(px, py, pz, ux, uy, uz, length, cx, cy, cz, outer)
    if not t_b > t_a:
        return
    inner = balls[i, 3]
    moments = balls[i, 6] == 1.0
    if inner > 0.0:
        t_c, t_d = ball_interval(px, py, pz, ux, uy, uz, length, cx, cy, cz, inner)
        if t_d > t_c:
            # the shell is the ball minus the inner ball: up to two pieces
            if t_c > t_a:
                _score_ball_piece(acc, k, moments, weight, px, py, pz, ux, uy, uz, t_a, t_c, cx, cy, cz)
            if t_b > t_d:
                _score_ball_piece(acc, k, moments, weight, px, py, pz, ux, uy, uz, t_d, t_b, cx, cy, cz)
            return
    _score_ball_piece(acc, k, moments, weight, px, py, pz, ux, uy, uz, t_a, t_b, cx, cy, cz)


@jit(inline="always")
def score_balls(acc, balls, unbounded, reach, px, py, pz, ux, uy, uz, length, weight):
    """Track length, current and first moment of the segment p + t u (0 <= t <= length) in every ball/shell.

    ``balls`` as :func:`tally_arrays` orders them: the ``unbounded`` whole-space rows, then the rest by
    centre z, none wider than ``reach``; only those centred within ``reach`` of the segment's z range
    can meet it (two binary searches find them).  Each ball adds into its own offset, so the totals
    are those of testing every ball."""
    n = balls.shape[0]
    # rows [0, unbounded) then [first, stop), all of them when there are few; one loop, because each
    # inlined copy of the ball test costs ~3 s of compilation (three loops ran 6 % faster)
    first, stop = unbounded, n
    if n - unbounded > BALL_SEARCH_MIN:
        z_low, z_high = z_window(pz, uz, length, reach)
        first = first_not_below(balls[:, 2], unbounded, n, z_low)
        stop = first_not_below(balls[:, 2], first, n, math.nextafter(z_high, math.inf))
    for j in range(unbounded + stop - first):
        _score_ball(acc, balls, j if j < unbounded else first + j - unbounded, px, py, pz, ux, uy, uz, length, weight)


@jit()
def _radius_at(px, py, ux, uy, t):
    x = px + t * ux
    y = py + t * uy
    return math.sqrt(x * x + y * y)


@jit()
def score_cylindrical_mesh(acc, offset, px, py, pz, ux, uy, uz, length, weight, rho_max, z_min, z_max,
                           n_rho, n_z, times):
    """Split the segment at every cylinder rho = const and plane z = const it crosses and score each
    piece into the cell containing its midpoint.  ``times`` holds >= 2 n_rho + n_z + 4 floats."""
    t0, t1 = 0.0, length
    if uz != 0.0:
        ta = (z_min - pz) / uz
        tb = (z_max - pz) / uz
        t0 = max(t0, min(ta, tb))
        t1 = min(t1, max(ta, tb))
    elif pz < z_min or pz > z_max:
        return
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
    if not t1 > t0:
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
    # insertion sort: two sorted runs of cylinder crossings and one of planes
    for i in range(1, n):
        key = times[i]
        j = i - 1
        while j >= 0 and times[j] > key:
            times[j + 1] = times[j]
            j -= 1
        times[j + 1] = key
    n_scores = len(CYLINDRICAL_MESH_SCORES)
    rho_a = _radius_at(px, py, ux, uy, times[0])
    for k in range(n - 1):
        ta, tb = times[k], times[k + 1]
        rho_b = _radius_at(px, py, ux, uy, tb)
        if tb > ta:
            tm = 0.5 * (ta + tb)
            i_rho = min(int(_radius_at(px, py, ux, uy, tm) / drho), n_rho - 1)
            i_z = min(max(int((pz + tm * uz - z_min) / dz), 0), n_z - 1)
            cell = offset + n_scores * (i_rho * n_z + i_z)
            acc[cell] += weight * (tb - ta)
            acc[cell + 1] += weight * (rho_b - rho_a)
            acc[cell + 2] += weight * (tb - ta) * uz
        rho_a = rho_b


@jit()
def _axis_start(p, u, t0, lo, hi, n):
    """Voxel index at the entry point, parameter of the next plane crossing and its spacing."""
    if n == 1 or u == 0.0:
        return 0, math.inf, math.inf
    width = (hi - lo) / n
    i = min(max(int((p + t0 * u - lo) / width), 0), n - 1)
    plane = lo + (i + 1 if u > 0.0 else i) * width
    return i, max((plane - p) / u, t0), width / abs(u)


@jit()
def score_cartesian_mesh(acc, offset, px, py, pz, ux, uy, uz, length, weight, lower, upper, shape):
    """Walk the segment through the voxels it crosses (Amanatides-Woo) and score each piece."""
    t0, t1 = 0.0, length
    for a in range(3):
        p = px if a == 0 else (py if a == 1 else pz)
        u = ux if a == 0 else (uy if a == 1 else uz)
        if u != 0.0:
            ta = (lower[a] - p) / u
            tb = (upper[a] - p) / u
            t0 = max(t0, min(ta, tb))
            t1 = min(t1, max(ta, tb))
        elif p < lower[a] or p > upper[a]:
            return
    if not t1 > t0:
        return
    nx, ny, nz = shape[0], shape[1], shape[2]
    ix, tx, dx = _axis_start(px, ux, t0, lower[0], upper[0], nx)
    iy, ty, dy = _axis_start(py, uy, t0, lower[1], upper[1], ny)
    iz, tz, dz = _axis_start(pz, uz, t0, lower[2], upper[2], nz)
    n_scores = len(CARTESIAN_MESH_SCORES)
    t = t0
    while t < t1:
        t_end = min(tx, ty, tz, t1)
        if t_end > t:
            cell = offset + n_scores * ((ix * ny + iy) * nz + iz)
            wl = weight * (t_end - t)
            acc[cell] += wl
            acc[cell + 1] += wl * ux
            acc[cell + 2] += wl * uy
            acc[cell + 3] += wl * uz
        t = t_end
        if t >= t1:
            break
        if tx <= ty and tx <= tz:
            ix += 1 if ux > 0.0 else -1
            tx += dx
            if ix < 0 or ix >= nx:
                break
        elif ty <= tz:
            iy += 1 if uy > 0.0 else -1
            ty += dy
            if iy < 0 or iy >= ny:
                break
        else:
            iz += 1 if uz > 0.0 else -1
            tz += dz
            if iz < 0 or iz >= nz:
                break
