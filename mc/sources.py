"""Where histories start: emitters, each giving one particle (or one collision) per history.

An ideal reservoir at the boundary of the simulated region injects the inward
half of an isotropic Fermi-surface distribution: the emitted particle current
per unit area is Lambertian (cosine-weighted about the inward normal) with
strength (dn/dE) delta-mu v_F / 4 = 1/(4 pi^2) in reduced units
(:data:`EMISSION_PER_AREA`).  Every particle carries its share of that current
as its weight, so a tally divided by the number of histories is in reduced
units.  Emitters (plug-ins of the one engine):

* :class:`HemisphereEmitter` — a reservoir on the far hemisphere of a sphere
  (the analog source of a point contact);
* :class:`DiskEmitter` — a disk in a z-plane: a reservoir at the end of a
  wire, or the equivalent source on an opening that sees only ballistic
  reservoir electrons (a +1 particle downstream and a -1 "missing electron"
  upstream, the upstream +1 baseline being added analytically by the decoder);
* :class:`PlaneEmitter` — an infinite z-plane reservoir, per unit area (slabs), or the
  rectangle |x| < h_x, |y| < h_y of it (the end of a box with specular side walls);
* :class:`BulkIncident` — the bulk distribution of Sorbello Eq. 1 incident on
  one scattering complex: each history is a collision there (Appendix A);
* :class:`TableEmitter` — particle ``slot`` of a table of precomputed source
  particles (x, y, z, u, weight), one row per history, that the model's
  builder generates in numpy from counter-based deviates of the history
  (a volume source such as the Chapman–Enskog residual of
  :mod:`mc.chapman_enskog`).

Direction laws of the planar emitters: :data:`LAMBERT` (flux sampling), and
state sampling (cos theta uniform, weight 2 cos theta: :data:`STATES`), which
keeps track-length densities of planar layers bounded at grazing incidence;
:data:`BULK_LAW` is state sampling of the Eq. 1 distribution, whose excess
occupation is cos theta (e E0 tau = 1), weight 2 cos^2 theta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geometry.jit import jit
from mc.directions import lambert_about, unit_disk_point
from mc.streams import uniform

EMISSION_PER_AREA = 1.0 / (4.0 * math.pi**2)
"""Particle current per unit area emitted by a reservoir raised by delta-mu = 1: (dn/dE) v_F / 4."""

FLUX_PER_SOLID_ANGLE = 1.0 / (4.0 * math.pi**3)
"""Particle flux per unit solid angle of occupation-1 states, (dn/dE) v_F / 4 pi."""

HEMISPHERE, DISK, PLANE, BULK_INCIDENT, TABLE = range(5)
LAMBERT, STATES, BULK_LAW = range(3)
LAWS = {"lambert": LAMBERT, "states": STATES, "bulk": BULK_LAW}
ROW = 12
"""Floats per emitter row: kind, weight, birth reservoir, birth surface, law, parameters (5-9;
a plane: z, -, direction, half widths h_x, h_y, 0 for the whole plane), birth cell (11)."""
BIRTH_CELL = 11


@dataclass(frozen=True)
class HemisphereEmitter:
    """Lambertian emission inward from the hemisphere of a sphere on one side of z = centre_z."""

    centre: tuple[float, float, float]
    radius: float
    side: int  # -1: the half z < centre_z, +1: z > centre_z
    excess: float = 1.0
    reservoir: str | None = None
    surface: object = None
    """The geometry surface the particles are born on (their first cell is the side they move to)."""

    @property
    def strength(self) -> float:
        return self.excess * 2.0 * math.pi * self.radius**2 * EMISSION_PER_AREA


@dataclass(frozen=True)
class DiskEmitter:
    """Emission from the disk rho < radius of the plane z = z, towards +z (direction +1) or -z."""

    z: float
    radius: float
    direction: int
    excess: float = 1.0
    law: int = LAMBERT
    reservoir: str | None = None
    surface: object = None

    @property
    def strength(self) -> float:
        return self.excess * math.pi * self.radius**2 * EMISSION_PER_AREA


@dataclass(frozen=True)
class PlaneEmitter:
    """Emission from the whole plane z = z towards +z or -z, per unit area; with ``half_widths``
    (h_x, h_y) from the rectangle |x| < h_x, |y| < h_y of it, uniformly (the whole current of
    the rectangle, 4 h_x h_y / (4 pi^2))."""

    z: float
    direction: int
    excess: float = 1.0
    law: int = LAMBERT
    reservoir: str | None = None
    surface: object = None
    half_widths: tuple[float, float] | None = None

    @property
    def strength(self) -> float:
        area = 1.0 if self.half_widths is None else 4.0 * self.half_widths[0] * self.half_widths[1]
        return self.excess * EMISSION_PER_AREA * area


@dataclass(frozen=True)
class BulkIncident:
    """The distribution g0(k) = -(tau(k)/tau0) k.E0 (Sorbello Eq. 1, e E0 tau0 = 1) incident on impurity ``impurity``.

    Each history draws k uniformly on the sphere; the complex scatters it with
    rate 4 pi sigma_tot(k) g0(k) (1/4pi^3) into k' ~ |f|^2; the scattered
    electron (+) and the shadow of the removed one (-) fly out from the complex."""

    impurity: int
    field: tuple[float, float, float]


@dataclass(frozen=True)
class TableEmitter:
    """Particle ``slot`` of each history's row of the model's particle table (columns x, y, z, ux, uy, uz,
    weight; the weight is the particle current the particle carries).  Its cell is found at birth."""

    slot: int


TABLE_COLUMNS = 7


def emitter_rows(emitters, reservoir_index, surface_index, birth_cell) -> np.ndarray:
    """Kernel rows; ``reservoir_index(name)``, ``surface_index(surface)`` and ``birth_cell(emitter)``
    (the cell every particle of the emitter starts in) come from the geometry."""
    rows = np.zeros((len(emitters), ROW))
    for i, e in enumerate(emitters):
        row = rows[i]
        if isinstance(e, BulkIncident):
            field = np.asarray(e.field, float)
            row[:5] = (BULK_INCIDENT, FLUX_PER_SOLID_ANGLE, -1, -1, LAMBERT)
            row[5] = e.impurity
            row[6:9] = field / np.linalg.norm(field)
            row[BIRTH_CELL] = -1
            continue
        if isinstance(e, TableEmitter):
            row[:5] = (TABLE, 0.0, -1, -1, LAMBERT)
            row[5] = e.slot
            row[BIRTH_CELL] = -2  # mc.engine.FIND_CELL: table particles start anywhere
            continue
        row[1] = e.strength
        row[2] = -1 if e.reservoir is None else reservoir_index(e.reservoir)
        row[3] = -1 if e.surface is None else surface_index(e.surface)
        row[BIRTH_CELL] = birth_cell(e)
        if isinstance(e, HemisphereEmitter):
            row[0], row[4] = HEMISPHERE, LAMBERT
            row[5:8] = e.centre
            row[8], row[9] = e.radius, e.side
        elif isinstance(e, DiskEmitter):
            row[0], row[4] = DISK, e.law
            row[5], row[6], row[7] = e.z, e.radius, e.direction
        else:
            row[0], row[4] = PLANE, e.law
            row[5], row[7] = e.z, e.direction
            if e.half_widths is not None:
                row[8], row[9] = e.half_widths
    return rows


@jit()
def _planar_direction(law, direction, state):
    """Direction about +-z by the emitter's law and the factor its weight takes."""
    if law == LAMBERT:
        ux, uy, state = unit_disk_point(state)
        uz = direction * math.sqrt(max(0.0, 1.0 - ux * ux - uy * uy))
        return ux, uy, uz, 1.0, state
    mu, state = uniform(state)
    x, y, state = unit_disk_point(state)
    r = math.sqrt(x * x + y * y)
    s = math.sqrt(max(0.0, 1.0 - mu * mu)) / r if r > 0.0 else 0.0
    factor = 2.0 * mu if law == STATES else 2.0 * mu * mu
    return x * s, y * s, direction * mu, factor, state


@jit(inline="always")
def emit(rows, e, state):
    """One particle of reservoir or opening emitter e: position, direction, weight."""
    kind = int(rows[e, 0])
    weight = rows[e, 1]
    if kind == HEMISPHERE:
        x1, x2, state = unit_disk_point(state)  # Marsaglia: uniform on the sphere
        s = x1 * x1 + x2 * x2
        root = 2.0 * math.sqrt(1.0 - s)
        nx, ny, nz = x1 * root, x2 * root, rows[e, 9] * abs(1.0 - 2.0 * s)
        ux, uy, uz, state = lambert_about(-nx, -ny, -nz, state)
        radius = rows[e, 8]
        return rows[e, 5] + radius * nx, rows[e, 6] + radius * ny, rows[e, 7] + radius * nz, ux, uy, uz, weight, state
    ux, uy, uz, factor, state = _planar_direction(int(rows[e, 4]), rows[e, 7], state)
    if kind == DISK:
        x, y, state = unit_disk_point(state)
        return rows[e, 6] * x, rows[e, 6] * y, rows[e, 5], ux, uy, uz, weight * factor, state
    if rows[e, 8] > 0.0:
        # a rectangle of the plane; the whole plane (per unit area) draws no position, so
        # its streams stay those of the slab
        u, state = uniform(state)
        v, state = uniform(state)
        return rows[e, 8] * (2.0 * u - 1.0), rows[e, 9] * (2.0 * v - 1.0), rows[e, 5], ux, uy, uz, weight * factor, state
    return 0.0, 0.0, rows[e, 5], ux, uy, uz, weight * factor, state


def birth_points(emitter, samples: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Points just inside the region an emitter's particles start into, and their directions
    (to find and check the birth cell once, instead of per particle)."""
    u = (np.arange(samples) + 0.5) / samples
    phi = 2.0 * math.pi * u * 7.0
    if isinstance(emitter, HemisphereEmitter):
        mu = emitter.side * u
        s = np.sqrt(1.0 - mu**2)
        normal = np.stack([s * np.cos(phi), s * np.sin(phi), mu], axis=1)
        points = np.asarray(emitter.centre) + emitter.radius * normal
        return points - 1e-9 * emitter.radius * normal, -normal
    radius = emitter.radius if isinstance(emitter, DiskEmitter) else 1.0
    if getattr(emitter, "half_widths", None) is not None:
        radius = min(emitter.half_widths)
    r = radius * np.sqrt(u) * 0.999
    points = np.stack([r * np.cos(phi), r * np.sin(phi), np.full(samples, emitter.z)], axis=1)
    direction = np.array([0.0, 0.0, float(emitter.direction)])
    return points + 1e-9 * max(1.0, abs(emitter.z)) * direction, np.tile(direction, (samples, 1))
