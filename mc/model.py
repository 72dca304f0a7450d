"""A transport model: geometry + source + impurities + tallies, compiled for the one engine.

A system builder (``mc/systems/*``) fills a :class:`TransportModel` with
objects — a :class:`geometry.model.Geometry`, emitters of :mod:`mc.sources`,
:class:`ImpurityModel` entries and tally filters of :mod:`observables.tallies`
— and :meth:`TransportModel.compile` turns them into the plain arrays of
:class:`mc.engine.EngineModel` and the :class:`observables.tallies.TallyLayout`
that the decoder reads the scores back with.  :func:`engine_simulation` wraps
the compiled model into the :class:`mc.batches.Simulation` that the runner
drives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from geometry.model import Geometry
from geometry.regions import Region
from geometry.shapes import disk_view
from geometry.sphere import sphere_quadrature
from geometry.surfaces import Surface
from mc.batches import CHUNK, Simulation
from mc.engine import (
    FIND_CELL,
    VIEW_DISK,
    VIEW_DISK_EXACT,
    VIEW_SPHERE,
    EngineModel,
    ImpurityArrays,
    Physics,
    engine_features,
    engine_histories,
)
from mc.scattering import pack_tables
from mc.sources import birth_points, emitter_rows
from observables.tallies import (
    BACKGROUND_SCORES,
    BALL_SCORES,
    CARTESIAN_MESH_SCORES,
    CYLINDRICAL_MESH_SCORES,
    DIAGNOSTIC_SCORES,
    ESTIMATORS,
    IMPURITY_SCORES,
    RESERVOIR_SCORES,
    SURFACE_SCORES,
    Ball,
    CartesianMesh,
    CylindricalMesh,
    TallyLayout,
    tally_arrays,
)

NO_PARTICLES = np.zeros((0, 0, 7))
"""The particle table of a model without table emitters."""
TABLE_CHUNKS = 8
"""Chunks of histories whose particle table one engine call holds."""
MAX_EVENTS = 1_000_000
"""Surface and collision events allowed per particle; a history that needs more is counted
as dropped and the run refuses to report results it could bias."""


@dataclass(frozen=True)
class OpeningView:
    """Next-event directions inside the view of the disk rho < radius, z = z, from above it.

    ``exact``: every direction of the view is known to come from (and every
    flight towards the disk to return to) the ``upstream`` reservoir, so no
    trace is needed (a ballistic point contact)."""

    z: float
    radius: float
    upstream: str
    exact: bool = False


@dataclass(eq=False)
class ImpurityModel:
    """A scatterer at ``position`` with the estimators that score it."""

    position: tuple[float, float, float]
    scatterer: object
    next_event: bool = False
    view: OpeningView | None = None

    def disk_radius(self) -> float:
        """Largest radius sqrt(sigma_tot(k)/pi) of the disk an analog flight must cross to collide."""
        if getattr(self.scatterer, "spherical", True):
            sigma = self.scatterer.sigma_tot
        else:
            directions, _ = sphere_quadrature(8)
            # the quadrature may miss the largest sigma_tot(k) by a little: 10 % margin (exactness
            # comes from comparing with sigma_tot(k) in the kernel, the radius only prunes)
            sigma = 1.1 * max(self.scatterer.sigma_tot_along(k) for k in directions)
        return math.sqrt(sigma / math.pi)


@dataclass(eq=False)
class TransportModel:
    geometry: Geometry
    emitters: list
    drain: str | None
    """The reservoir whose incoming current is the current through the system (None: no reservoirs)."""
    reservoir_excess: dict[str, float]
    impurities: list[ImpurityModel] = field(default_factory=list)
    balls: list[Ball] = field(default_factory=list)
    cylindrical_meshes: list[CylindricalMesh] = field(default_factory=list)
    cartesian_meshes: list[CartesianMesh] = field(default_factory=list)
    surface_tallies: list[tuple[Surface, Region]] = field(default_factory=list)
    analog: bool = False
    multiple_scattering: bool = False
    max_events: int = MAX_EVENTS
    background_focus: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    """Where a first-order or correlated background draws its collision points (x, y, z, scale > 0):
    the opening whose current it changes (see mc.engine._focused_point)."""
    particle_table: Callable[[int, int], np.ndarray] | None = None
    """``particle_table(first, count)`` -> (count, slots, 7): the precomputed particles of histories
    first .. first+count-1 for the model's :class:`mc.sources.TableEmitter` s (a function of the
    history indices alone, so that any call, thread or worker gets the same rows)."""

    def layout(self) -> TallyLayout:
        """Where every tally of this model lives in the score row."""
        layout = TallyLayout()
        reservoirs = self.geometry.reservoirs
        layout.add("reservoirs", [("reservoir", len(reservoirs))], RESERVOIR_SCORES)
        layout.add("diagnostics", [], DIAGNOSTIC_SCORES)
        if self.balls:
            layout.add("balls", [("ball", len(self.balls))], BALL_SCORES)
        for i, mesh in enumerate(self.cylindrical_meshes):
            layout.add(f"cylindrical_mesh_{i}", [("rho", mesh.n_rho), ("z", mesh.n_z)], CYLINDRICAL_MESH_SCORES)
        for i, mesh in enumerate(self.cartesian_meshes):
            layout.add(f"cartesian_mesh_{i}", [("x", mesh.shape[0]), ("y", mesh.shape[1]), ("z", mesh.shape[2])],
                       CARTESIAN_MESH_SCORES)
        if self.surface_tallies:
            layout.add("surfaces", [("surface", len(self.surface_tallies))], SURFACE_SCORES)
        if any(m.perturbation for m in self.geometry.media):
            layout.add("background", [], BACKGROUND_SCORES)
        if self.impurities:
            layout.add("impurities", [("impurity", len(self.impurities)), ("estimator", len(ESTIMATORS))],
                       IMPURITY_SCORES)
        return layout

    def compile(self) -> tuple[EngineModel, TallyLayout]:
        geometry = self.geometry
        extra = tuple(s for s, _ in self.surface_tallies)
        birth_surfaces = tuple(e.surface for e in self.emitters if getattr(e, "surface", None) is not None)
        arrays = geometry.arrays(extra_surfaces=birth_surfaces, tracked_extra=extra)
        surfaces = geometry.surfaces(birth_surfaces + extra)
        index = {id(s): i for i, s in enumerate(surfaces)}
        reservoirs = geometry.reservoirs
        layout = self.layout()

        def lookup(s):
            return index[id(s)]

        tallies = tally_arrays(
            layout,
            balls=self.balls,
            cylindrical=self.cylindrical_meshes,
            cartesian=self.cartesian_meshes,
            surface_tallies=[(lookup(s), patch.program(lookup)) for s, patch in self.surface_tallies],
            n_impurities=len(self.impurities),
        )
        emitters = emitter_rows(self.emitters, reservoirs.index, lookup, self._birth_cell)
        impurities = self._impurity_arrays(arrays, surfaces, reservoirs)
        physics = Physics(
            drain=-1 if self.drain is None else reservoirs.index(self.drain),
            reservoir_excess=np.array([float(self.reservoir_excess.get(r, 0.0)) for r in reservoirs]),
            analog=int(self.analog),
            multiple_scattering=int(self.multiple_scattering),
            max_events=int(self.max_events),
            n_scores=int(layout.size),
            background_focus=np.array(self.background_focus, dtype=np.float64),
        )
        features = engine_features(arrays, impurities, physics, emitters)
        return EngineModel(arrays, tallies, emitters, impurities, physics, NO_PARTICLES, features), layout

    def _birth_cell(self, emitter) -> int:
        """The one cell every particle of an emitter starts in (checked on sample points)."""
        points, _ = birth_points(emitter)
        cells = np.unique(self.geometry.find_cell(points))
        if len(cells) != 1 or cells[0] < 0:
            raise ValueError(f"{type(emitter).__name__} does not start its particles in one cell (cells {cells})")
        return int(cells[0])

    def _impurity_arrays(self, arrays, surfaces, reservoirs) -> ImpurityArrays:
        n = len(self.impurities)
        positions = np.array([imp.position for imp in self.impurities], dtype=np.float64).reshape(n, 3)
        packed, starts = pack_tables([imp.scatterer.sampling_table() for imp in self.impurities])
        disk_radius = np.array([imp.disk_radius() for imp in self.impurities], dtype=np.float64)
        z_order = np.argsort(positions[:, 2], kind="stable").astype(np.int64)
        on_surface = np.full(n, -1, dtype=np.int64)
        # all impurities at once: an array of a thousand paid ~0.1 s of Python per configuration here
        scale = np.maximum(1.0, np.max(np.abs(positions), axis=1, initial=0.0))
        for s in arrays.tracked:
            on_surface[np.abs(surfaces[s].value(positions)) <= 1e-12 * scale * scale] = s
        cells = np.where(on_surface >= 0, FIND_CELL, self.geometry.find_cell(positions)).astype(np.int64)
        views = np.zeros((n, 7))
        for i, imp in enumerate(self.impurities):
            if imp.view is None:
                views[i, 0] = VIEW_SPHERE
            else:
                height, rho0, toward, phi_max = disk_view(imp.position, imp.view.z, imp.view.radius)
                views[i] = (VIEW_DISK_EXACT if imp.view.exact else VIEW_DISK, height, rho0, toward, phi_max,
                            imp.view.radius, reservoirs.index(imp.view.upstream))
        return ImpurityArrays(
            position=positions,
            tables=np.asarray(packed, dtype=np.float64),
            table_start=np.asarray(starts, dtype=np.int64),
            disk_radius=disk_radius,
            cell=cells,
            on_surface=on_surface,
            sampling=views,
            next_event=np.array([1 if imp.next_event else 0 for imp in self.impurities], dtype=np.int64),
            z_order=z_order,
            z_sorted=positions[z_order, 2],
            disk_reach=float(disk_radius.max(initial=0.0)),
        )


def chunk_histories(n_scores: int) -> int:
    """Histories per accumulator row: enough that zeroing and summing a row (O(n_scores)) stays a
    small cost next to the transport of the chunk; a power of two times CHUNK."""
    chunk = CHUNK
    while chunk * 16 < n_scores:
        chunk *= 2
    return chunk


def engine_simulation(label: str, seed: int, model: TransportModel,
                      finalize: Callable[[object, TallyLayout], object]) -> Simulation:
    """The Simulation of a model: the engine kernel over histories and ``finalize(batches, layout)``.

    A model with a particle table gets its rows per call, in pieces of whole chunks (at most
    :data:`TABLE_CHUNKS` of them, to bound the table's memory); a chunk's scores do not depend
    on the pieces, so the rows are the same as in one call."""
    arrays, layout = model.compile()
    chunk = chunk_histories(layout.size)
    table = model.particle_table

    def kernel(first: int, count: int) -> np.ndarray:
        if table is None or count == 0:
            return engine_histories(seed, first, count, chunk, arrays)
        step = TABLE_CHUNKS * chunk
        return np.concatenate([
            engine_histories(seed, start, min(step, first + count - start), chunk,
                             arrays._replace(particles=table(start, min(step, first + count - start))))
            for start in range(first, first + count, step)], axis=0)

    return Simulation(label, kernel, lambda batches: finalize(batches, layout), chunk)
