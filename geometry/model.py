"""A geometry composed from surfaces: cells with a medium, boundaries with a condition.

* A :class:`Cell` is a region (half-space algebra, :mod:`geometry.regions`)
  filled with a :class:`Medium` (background mean free path, its anisotropy and
  angular law) and, where it extends to infinity, the reservoir that a
  particle escaping through it joins.
* A :class:`Boundary` puts a condition on a surface, optionally only on the
  patch of it that lies in a region: the opaque screen of a point contact is
  the plane z = 0 with a specular condition on the patch outside the hole
  cylinder.  Conditions: :class:`Transmit`, :class:`Reservoir` (absorbing: the
  particle leaves to that reservoir), :class:`Specular`, :class:`Diffuse`
  (Lambertian re-emission), :class:`PartiallySpecular` (Fuchs specularity p)
  and :class:`QuantumInterface` (reflected with probability R(cos theta) of a
  1D barrier, else transmitted).  Where no boundary patch holds, a surface
  transmits.

:meth:`Geometry.arrays` flattens everything into :class:`GeometryArrays`, the
plain arrays the transport kernel reads.  Nothing here moves particles or
draws random numbers (that is :mod:`mc.engine`); the medium's angular law is
any object with a ``sampling_table()`` (a scatterer of :mod:`mc.scattering`).
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from geometry.regions import MAX_DEPTH, Everywhere, Region, stack_depth
from geometry.surfaces import PLANE, SPHERE, Z_CYLINDER, Z_PLANE, Surface

# boundary condition codes of the kernel
TRANSMIT, RESERVOIR, SPECULAR, DIFFUSE, PARTIALLY_SPECULAR, QUANTUM_INTERFACE = range(6)
# what happens at a background collision
SCATTER, STOP = 0, 1
# how a quantum interface gives R(cos theta)
PROFILE_LAW, TABLE_LAW = 0, 1


@dataclass(frozen=True)
class Transmit:
    """The surface is not there for the particle (the default)."""

    code = TRANSMIT


@dataclass(frozen=True)
class Reservoir:
    """An ideal reservoir: every particle that reaches it is absorbed into ``name``."""

    name: str
    code = RESERVOIR


@dataclass(frozen=True)
class Specular:
    code = SPECULAR


@dataclass(frozen=True)
class Diffuse:
    """Lambertian re-emission about the normal, back to the side the particle came from."""

    code = DIFFUSE


@dataclass(frozen=True)
class PartiallySpecular:
    """Specular with probability ``specularity`` (Fuchs' p), diffuse otherwise."""

    specularity: float
    code = PARTIALLY_SPECULAR


@dataclass(frozen=True, eq=False)
class QuantumInterface:
    """Reflection with probability R(cos theta) of a 1D potential across the surface, else transmission.

    ``law`` is :data:`PROFILE_LAW` with ``elements`` (rows kind, start, width,
    value of :mod:`mc.transfer_matrix`, R evaluated exactly in the kernel) or
    :data:`TABLE_LAW` with ``table`` (rows cos theta, R; linear between nodes).
    ``reflection`` is the same R(cos theta) as a Python callable."""

    law: int
    elements: np.ndarray
    table: np.ndarray
    reflection: object
    code = QUANTUM_INTERFACE


CONDITIONS = {"specular": Specular(), "diffuse": Diffuse()}


def wall_condition(specularity: float):
    """The wall of specularity p: Specular at p = 1, Diffuse at p = 0, PartiallySpecular between."""
    if specularity >= 1.0:
        return Specular()
    if specularity <= 0.0:
        return Diffuse()
    return PartiallySpecular(specularity)


@dataclass(frozen=True, eq=False)
class Medium:
    """Uniform elastic background scattering: mean free path l (1/k_F; inf = ballistic).

    ``anisotropy`` alpha and ``axis`` n make the free path depend on the
    direction, l(k) = l (1 + alpha (k.n)^2) / (1 + alpha/3) (tau(k) of Sorbello's
    Discussion); ``law`` is the angular distribution of a background collision
    (None = isotropic); ``after_collision`` is SCATTER (the particle goes on) or
    STOP (its history ends there: first-flight estimators whose later flights
    average out).  ``first_order``: the background is a perturbation (Sorbello's
    ballistic limit l -> inf); flights stay ballistic and the first-order change of
    the drain current per unit 1/l is scored (see mc.engine).  ``correlated``:
    flights collide for real (analog), and every segment also scores the exact
    change of the drain current that the background makes against the ballistic
    system, G_l - G_0 = G_l C G_0 (see mc.engine)."""

    mean_free_path: float = math.inf
    anisotropy: float = 0.0
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    law: object = None
    after_collision: int = SCATTER
    first_order: bool = False
    correlated: bool = False

    def __post_init__(self):
        if self.first_order and self.correlated:
            raise ValueError("a background is taken either to first order or to all orders (correlated)")

    @property
    def perturbation(self) -> int:
        """The kernel's code of the background estimator: 0 none, 1 first order, 2 correlated."""
        return 1 if self.first_order else (2 if self.correlated else 0)

    @property
    def ballistic(self) -> bool:
        return self.mean_free_path == math.inf


BALLISTIC = Medium()


@dataclass(eq=False)
class Cell:
    region: Region
    medium: Medium = BALLISTIC
    escape: str | None = None
    """The reservoir a particle joins when it flies to infinity inside this cell (None: it cannot)."""
    name: str = ""


@dataclass(eq=False)
class Boundary:
    surface: Surface
    condition: object
    patch: Region = field(default_factory=Everywhere)
    name: str = ""


GeometryArrays = namedtuple(
    "GeometryArrays",
    [
        "surfaces",           # (n_surfaces, ROW) float64 rows of geometry.surfaces
        "tracked",            # (n_tracked,) int64: surfaces a flight must be intersected with
        "tokens",             # (n_tokens,) int64: every region program, concatenated
        "cell_program",       # (n_cells, 2) int64: [start, end) of each cell's program in tokens
        "cell_medium",        # (n_cells,) int64
        "cell_escape",        # (n_cells,) int64: reservoir index of a flight to infinity, -1 none
        "surface_boundaries", # (n_surfaces + 1,) int64: boundaries of surface s are [sb[s], sb[s+1])
        "boundary_kind",      # (n_boundaries,) int64 condition code
        "boundary_program",   # (n_boundaries, 2) int64 patch program range (empty = whole surface)
        "boundary_parameter", # (n_boundaries,) float64: specularity, reservoir index or interface index
        "interface_law",      # (n_interfaces,) int64 PROFILE_LAW / TABLE_LAW
        "interface_rows",     # (n_interfaces, 2) int64 [start, end) in the element or the table arrays
        "interface_kinds",    # (n,) int64 transfer-matrix element kinds (mc.transfer_matrix)
        "interface_starts",   # (n,) float64 element starts
        "interface_widths",   # (n,) float64
        "interface_values",   # (n,) float64 strengths or heights
        "interface_cos",      # (n,) float64 table nodes cos theta
        "interface_reflection",  # (n,) float64 table values R
        "medium_mean_free_path",  # (n_media,) float64
        "medium_anisotropy",  # (n_media,) float64
        "medium_axis",        # (n_media, 3) float64
        "medium_after",       # (n_media,) int64 SCATTER / STOP
        "medium_law",         # (n_media + 1,) int64 offsets into medium_law_tables (empty range = isotropic)
        "medium_law_tables",  # (n,) float64 packed sampling tables
        "medium_first_order", # (n_media,) int64 1 = background to first order (flights stay ballistic),
                              #   2 = correlated (analog flights that also score G_l C G_0)
    ],
)


class Geometry:
    """Cells and boundaries; reservoirs are named by the conditions and cells that use them."""

    def __init__(self):
        self.cells: list[Cell] = []
        self.boundaries: list[Boundary] = []

    def add_cell(self, region: Region, medium: Medium = BALLISTIC, *, escape: str | None = None, name: str = "") -> Cell:
        cell = Cell(region, medium, escape, name)
        self.cells.append(cell)
        return cell

    def add_boundary(self, surface: Surface, condition, patch: Region | None = None, *, name: str = "") -> Boundary:
        boundary = Boundary(surface, condition, patch if patch is not None else Everywhere(), name)
        self.boundaries.append(boundary)
        return boundary

    # ------------------------------------------------------------------ bookkeeping

    @property
    def reservoirs(self) -> list[str]:
        """Reservoir names in order of first use (their index is the kernel's label)."""
        names: list[str] = []
        for b in self.boundaries:
            if isinstance(b.condition, Reservoir) and b.condition.name not in names:
                names.append(b.condition.name)
        for c in self.cells:
            if c.escape is not None and c.escape not in names:
                names.append(c.escape)
        return names

    def reservoir_index(self, name: str) -> int:
        return self.reservoirs.index(name)

    @property
    def media(self) -> list[Medium]:
        media: list[Medium] = []
        for c in self.cells:
            if not any(m is c.medium for m in media):
                media.append(c.medium)
        return media

    def surfaces(self, extra: tuple[Surface, ...] = ()) -> list[Surface]:
        """Every surface referenced (cells, boundaries and their patches, then ``extra``), once each."""
        found: list[Surface] = []
        regions = [c.region for c in self.cells] + [b.patch for b in self.boundaries]
        candidates = [s for r in regions for s in r.surfaces()] + [b.surface for b in self.boundaries] + list(extra)
        for s in candidates:
            if not any(s is f for f in found):
                found.append(s)
        return found

    def surface_index(self, surface: Surface, extra: tuple[Surface, ...] = ()) -> int:
        for i, s in enumerate(self.surfaces(extra)):
            if s is surface:
                return i
        raise KeyError(f"surface {surface!r} is not part of the geometry")

    def find_cell(self, points) -> np.ndarray:
        """Index of the first cell containing each point (-1: none), as the kernel decides it."""
        points = np.asarray(points, float)
        found = np.full(points.shape[:-1], -1, dtype=np.int64)
        for i, cell in reversed(list(enumerate(self.cells))):
            found[cell.region.contains(points)] = i
        return found

    def medium_at(self, point) -> Medium | None:
        index = int(self.find_cell(np.asarray(point, float)[None, :])[0])
        return None if index < 0 else self.cells[index].medium

    def wall_points_within(self, centre, radius: float, samples: int = 48) -> bool:
        """Does any reflecting or absorbing boundary patch come within ``radius`` of ``centre``?

        Points on each boundary surface inside the ball are sampled on a grid of
        ``samples`` x ``samples`` and tested against the patch (so a patch smaller
        than about radius/samples can be missed)."""
        centre = np.asarray(centre, float)
        for b in self.boundaries:
            if isinstance(b.condition, Transmit):
                continue
            points = _surface_points_near(b.surface, centre, radius, samples)
            if len(points) and np.any(b.patch.contains(points)):
                return True
        return False

    # ------------------------------------------------------------------ kernel arrays

    def arrays(self, extra_surfaces: tuple[Surface, ...] = (), tracked_extra: tuple[Surface, ...] = ()) -> GeometryArrays:
        """Flatten for the kernel; ``extra_surfaces`` (e.g. of surface tallies) get indices too,
        ``tracked_extra`` are also intersected with every flight."""
        surfaces = self.surfaces(tuple(extra_surfaces) + tuple(tracked_extra))
        index = {id(s): i for i, s in enumerate(surfaces)}

        def lookup(s):
            return index[id(s)]

        tokens: list[int] = []
        cell_program = []
        for cell in self.cells:
            program = cell.region.program(lookup)
            _check_depth(program, cell.name or "cell")
            cell_program.append((len(tokens), len(tokens) + len(program)))
            tokens += program
        media = self.media
        reservoirs = self.reservoirs
        cell_medium = [next(i for i, m in enumerate(media) if m is c.medium) for c in self.cells]
        cell_escape = [-1 if c.escape is None else reservoirs.index(c.escape) for c in self.cells]

        order = sorted(range(len(self.boundaries)), key=lambda i: lookup(self.boundaries[i].surface))
        boundaries = [self.boundaries[i] for i in order]
        surface_boundaries = np.zeros(len(surfaces) + 1, dtype=np.int64)
        for b in boundaries:
            surface_boundaries[lookup(b.surface) + 1] += 1
        surface_boundaries = np.cumsum(surface_boundaries)
        kinds, programs, parameters = [], [], []
        interface_law, interface_rows, elements, table = [], [], [], []  # element rows (kind, start, width, value)
        for b in boundaries:
            program = b.patch.program(lookup)
            _check_depth(program, b.name or "boundary patch")
            programs.append((len(tokens), len(tokens) + len(program)))
            tokens += program
            condition = b.condition
            kinds.append(condition.code)
            if isinstance(condition, Reservoir):
                parameters.append(float(reservoirs.index(condition.name)))
            elif isinstance(condition, PartiallySpecular):
                parameters.append(float(condition.specularity))
            elif isinstance(condition, QuantumInterface):
                parameters.append(float(len(interface_law)))
                interface_law.append(condition.law)
                if condition.law == PROFILE_LAW:
                    rows, target = np.asarray(condition.elements, float).reshape(-1, 4), elements
                else:
                    rows, target = np.asarray(condition.table, float).reshape(-1, 2), table
                interface_rows.append((len(target), len(target) + len(rows)))
                target.extend(rows.tolist())
            else:
                parameters.append(0.0)

        tracked = {lookup(b.surface) for b in self.boundaries}
        tracked |= {lookup(s) for c in self.cells for s in c.region.surfaces()}
        tracked |= {lookup(s) for s in tracked_extra}

        law_offsets = [0]
        law_tables: list[np.ndarray] = []
        for m in media:
            if m.law is not None:
                law_tables.append(np.asarray(m.law.sampling_table(), float))
            law_offsets.append(law_offsets[-1] + (len(law_tables[-1]) if m.law is not None else 0))

        return GeometryArrays(
            surfaces=np.ascontiguousarray(np.array([s.row() for s in surfaces], dtype=np.float64).reshape(-1, 8)),
            tracked=np.array(sorted(tracked), dtype=np.int64),
            tokens=np.array(tokens, dtype=np.int64),
            cell_program=np.array(cell_program, dtype=np.int64).reshape(-1, 2),
            cell_medium=np.array(cell_medium, dtype=np.int64),
            cell_escape=np.array(cell_escape, dtype=np.int64),
            surface_boundaries=surface_boundaries.astype(np.int64),
            boundary_kind=np.array(kinds, dtype=np.int64),
            boundary_program=np.array(programs, dtype=np.int64).reshape(-1, 2),
            boundary_parameter=np.array(parameters, dtype=np.float64),
            interface_law=np.array(interface_law, dtype=np.int64),
            interface_rows=np.array(interface_rows, dtype=np.int64).reshape(-1, 2),
            interface_kinds=np.array([e[0] for e in elements], dtype=np.int64),
            interface_starts=np.array([e[1] for e in elements], dtype=np.float64),
            interface_widths=np.array([e[2] for e in elements], dtype=np.float64),
            interface_values=np.array([e[3] for e in elements], dtype=np.float64),
            interface_cos=np.array([t[0] for t in table], dtype=np.float64),
            interface_reflection=np.array([t[1] for t in table], dtype=np.float64),
            # a first-order background never collides for real: its flights are the ballistic ones
            medium_mean_free_path=np.array([math.inf if m.first_order else m.mean_free_path for m in media],
                                           dtype=np.float64),
            medium_anisotropy=np.array([m.anisotropy for m in media], dtype=np.float64),
            medium_axis=np.array([_unit(m.axis) for m in media], dtype=np.float64).reshape(-1, 3),
            medium_after=np.array([m.after_collision for m in media], dtype=np.int64),
            medium_law=np.array(law_offsets, dtype=np.int64),
            medium_law_tables=(np.concatenate(law_tables) if law_tables else np.zeros(0)).astype(np.float64),
            medium_first_order=np.array([m.perturbation for m in media], dtype=np.int64),
        )


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _check_depth(program: list[int], what: str) -> None:
    if stack_depth(program) > MAX_DEPTH:
        raise ValueError(f"{what}: region expression nested deeper than {MAX_DEPTH}")


def _surface_points_near(surface: Surface, centre: np.ndarray, radius: float, samples: int) -> np.ndarray:
    """Points of the surface inside the ball (centre, radius), on a parameter grid."""
    row = surface.row()
    kind = int(row[0])
    u = (np.arange(samples) + 0.5) / samples
    if kind in (Z_PLANE, PLANE):
        normal = np.array([0.0, 0.0, 1.0]) if kind == Z_PLANE else row[1:4]
        offset = row[1] if kind == Z_PLANE else row[4]
        height = float(centre @ normal - offset)
        if abs(height) > radius:
            return np.zeros((0, 3))
        reach = math.sqrt(radius**2 - height**2)
        foot = centre - height * normal
        e1 = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(normal, e1)
        r = reach * np.sqrt(np.concatenate([[0.0], u]))
        phi = 2 * math.pi * u
        R, PHI = np.meshgrid(r, phi, indexing="ij")
        points = foot + (R * np.cos(PHI))[..., None] * e1 + (R * np.sin(PHI))[..., None] * e2
        return points.reshape(-1, 3)
    phi = 2 * math.pi * u
    if kind == SPHERE:
        mu = 2 * u - 1
        MU, PHI = np.meshgrid(mu, phi, indexing="ij")
        s = np.sqrt(1 - MU**2)
        points = row[1:4] + row[4] * np.stack([s * np.cos(PHI), s * np.sin(PHI), MU], axis=-1)
    else:
        z = centre[2] + radius * (2 * np.concatenate([[0.0], u, [1.0]]) - 1)
        Z, PHI = np.meshgrid(z, phi, indexing="ij")
        rho = row[3] if kind == Z_CYLINDER else np.maximum(row[4] + row[5] * (Z - row[3]), 0.0)
        points = np.stack([row[1] + rho * np.cos(PHI), row[2] + rho * np.sin(PHI), Z], axis=-1)
    points = points.reshape(-1, 3)
    return points[np.linalg.norm(points - centre, axis=1) <= radius]
