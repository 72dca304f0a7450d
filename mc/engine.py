"""The one transport engine: a history loop shared by every 3D system.

A history emits particles from the source's emitters (:mod:`mc.sources`) and
follows each along straight flights to the nearest of {surface, background
collision, impurity (multiple scattering), escape}; every flight segment is
scored by the track-length tallies (:mod:`observables.tallies`), every surface
event by the surface tallies, and the particle ends in a reservoir (absorbing
boundary, or escape to infinity through a cell that leads to one), at a
background collision of a first-flight medium, or lost.  Geometry comes from
:class:`geometry.model.GeometryArrays`; all offsets into the score row come
from the tally layout.

Estimators of an impurity at r0 (Sorbello Eqs. 55-64):

* analog — a flight collides when it crosses the impurity's equivalent disk
  (area sigma_tot(k), facing the flight) and scatters into k' ~ |f|^2.  First
  order (independent impurities): the scattered electron is traced to its
  reservoir while the primary flies on unaffected; the change of the drain
  current is w ([k' ends in the drain] - [the primary ends in the drain]).
  Multiple scattering: the particle itself is deflected.
* next-event — every history samples an incoming direction k (uniformly, or
  exactly inside the view of an opening disk), its occupation by a backward
  trace to the reservoir it came from (or known exactly), scores sigma_tot(k)
  and the momentum transfer k - k' with k' ~ |f|^2, and the backscatter
  either from a second direction towards the opening weighted by
  |f(k -> k')|^2 or from forward traces of k' and k (any geometry).

Weights are particle currents (e delta-mu / hbar) per history; next-event
scores carry the flux per solid angle 1/(4 pi^3) of occupation-1 states.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from geometry.jit import jit
from geometry.model import (
    DIFFUSE,
    PARTIALLY_SPECULAR,
    PROFILE_LAW,
    QUANTUM_INTERFACE,
    RESERVOIR,
    SPECULAR,
    STOP,
    TRANSMIT,
)
from geometry.regions import region_contains
from geometry.shapes import first_not_below, z_window
from geometry.surfaces import surface_distance, surface_normal
from mc.borrowed import borrow
from mc.directions import isotropic_direction, lambert_about
from mc.scattering.sampling import KIND_CLUSTER, sample_outgoing, scattering_intensity, total_cross_section
from mc.sources import BIRTH_CELL, BULK_INCIDENT, FLUX_PER_SOLID_ANGLE, TABLE, emit
from mc.streams import history_stream, uniform
from mc.transfer_matrix import profile_reflection
from observables.tallies import (
    ANALOG,
    BACKSCATTER,
    COLLISIONS,
    CROSSINGS,
    DROPPED,
    IMPURITY_MOMENTUM_X,
    LOST,
    NEXT_EVENT,
    SURFACE_MOMENTUM_X,
    score_balls,
    score_cartesian_mesh,
    score_cylindrical_mesh,
)

kernel_only = jit(no_cpython_wrapper=True)
"""The decorator of helpers that only kernels call and that take the model's tuples: numba's
Python entry point would unbox every array in them (about 0.3 s of compilation each)."""

WITH_BACKGROUND, WITHOUT_BACKGROUND = np.int64(0), np.int64(1)
"""trace's ``ballistic`` flag (numpy integers: ``geometry.jit`` also types every kernel's calls by
type, so a literal 0 and 1 would no longer make two specialisations of trace either)."""
FATE_STOPPED, FATE_DROPPED, FATE_LOST = -1, -2, -3
"""How a particle ends when not in a reservoir (reservoir fates are their indices >= 0)."""
REFLECTED, TRANSMITTED, ABSORBED, LOST_AT_SURFACE = range(4)
VIEW_SPHERE, VIEW_DISK, VIEW_DISK_EXACT = range(3)
"""Next-event direction sampling: uniform with traces; inside an opening's view with traces;
inside the view of an opening every direction of which is known to come from its reservoir."""
BANK_COLUMNS = 9  # x, y, z, ux, uy, uz, weight, on_surface, cell (-2: find it)
FIND_CELL = -2

ImpurityArrays = namedtuple(
    "ImpurityArrays",
    [
        "position",      # (n, 3)
        "tables",        # packed sampling tables (mc.scattering.pack_tables)
        "table_start",   # (n + 1,)
        "disk_radius",   # (n,) sqrt(max sigma_tot / pi): no analog collision beyond it
        "cell",          # (n,) cell of the impurity (FIND_CELL if it sits on a tracked surface)
        "on_surface",    # (n,) the tracked surface it sits on, or -1
        "sampling",      # (n, 7): view kind, height over the disk, rho0, azimuth to centre, phi_max,
                         #         disk radius, upstream reservoir
        "next_event",    # (n,) int64 1 = scored by the next-event estimator
        "z_order",       # (n,) int64: the impurities by centre z
        "z_sorted",      # (n,) their centre z, ascending
        "disk_reach",    # float: the largest disk radius (0 if none)
    ],
)

Physics = namedtuple(
    "Physics",
    [
        "drain",              # reservoir whose incoming current is the current through the system
        "reservoir_excess",   # (n_reservoirs,) occupation excess delta-mu of each reservoir
        "analog",             # 1: analog impurity collisions
        "multiple_scattering",  # 1: the analog collisions deflect the particle itself
        "max_events",         # surface and collision events allowed per particle
        "n_scores",
        "background_focus",   # (4,) x, y, z, scale: background collision points are drawn near the
                              #   focus (the opening), density 1/(d^2 + scale^2) along a segment
    ],
)

Features = namedtuple(
    "Features",
    [
        "impurities",               # impurity estimators: analog collisions (first order or multiple
                                    #   scattering) and next-event scores
        "bulk_incident",            # an emitter of Sorbello Eq. 1 incident on an impurity
        "scattering_law",           # a medium whose collisions sample a tabulated law (else isotropic)
        "background_perturbation",  # a first-order or correlated background medium
        "quantum_interfaces",       # a boundary with a reflection law R(cos theta)
        "clusters",                 # a scatterer table (impurity or medium law) of a cluster
    ],
)
"""The parts of the engine a model uses, each True or None; :func:`engine_features` derives them
from the model's arrays.

numba compiles the engine once per pattern of them, and each part's helper takes its flag as an
argument and returns at once when it is None.  numba prunes that branch before type inference
(``flag is None`` on an argument typed none), so a part a model does not use is not compiled, nor
anything it calls: a ballistic point contact compiles neither the scattering library nor the
traces of the first-order and next-event estimators.  The parts are coarse on purpose: each
pattern compiles the engine's own body again (5-9 s), so the impurity estimators of a flight,
which one run often mixes, share one flag."""

EngineModel = namedtuple("EngineModel",
                         ["geometry", "tallies", "emitters", "impurities", "physics", "particles", "features"])
"""``particles``: (histories of the call, slots, 7) precomputed source particles of table emitters
(:class:`mc.sources.TableEmitter`), row h for the call's h-th history; (0, 0, 7) when there are none.
``features``: :class:`Features` of the other parts."""


def engine_features(geometry, impurities, physics, emitters) -> Features:
    """The :class:`Features` a model's arrays use (the only place that decides them)."""

    def used(condition) -> bool | None:
        return True if condition else None

    return Features(
        impurities=used(impurities.position.shape[0] > 0 and (physics.analog == 1 or physics.multiple_scattering == 1
                                                              or np.any(impurities.next_event == 1))),
        bulk_incident=used(emitters.shape[0] > 0 and np.any(emitters[:, 0].astype(np.int64) == BULK_INCIDENT)),
        scattering_law=used(np.any(np.diff(geometry.medium_law) > 0)),
        background_perturbation=used(np.any(geometry.medium_first_order != 0)),
        quantum_interfaces=used(np.any(geometry.boundary_kind == QUANTUM_INTERFACE)),
        clusters=used(np.any(impurities.tables[impurities.table_start[:-1]] == KIND_CLUSTER)
                      or any(geometry.medium_law_tables[a] == KIND_CLUSTER
                             for a, b in zip(geometry.medium_law[:-1], geometry.medium_law[1:]) if b > a)),
    )


# ------------------------------------------------------------------------------ geometry steps
# Helpers called per segment take the arrays they need, not the model's tuples: passing a
# tuple of arrays to a function copies every array in it.


@jit()
def _find_cell(tokens, cell_program, surfaces, x, y, z, on_surface, sense):
    for c in range(cell_program.shape[0]):
        if region_contains(tokens, cell_program[c, 0], cell_program[c, 1], surfaces, x, y, z, on_surface, sense):
            return c
    return -1


@jit()
def _cell_at_birth(tokens, cell_program, surfaces, x, y, z, ux, uy, uz, on_surface):
    """The cell a particle born at r moving along u enters (on a surface: the side it moves to)."""
    sense = 0
    if on_surface >= 0:
        nx, ny, nz = surface_normal(surfaces, on_surface, x, y, z)
        sense = 1 if ux * nx + uy * ny + uz * nz > 0.0 else -1
    return _find_cell(tokens, cell_program, surfaces, x, y, z, on_surface, sense)


@jit(inline="always")
def _nearest_surface(surfaces, tracked, x, y, z, ux, uy, uz, on_surface):
    t_min = math.inf
    hit = -1
    for i in range(tracked.shape[0]):
        s = tracked[i]
        t = surface_distance(surfaces, s, x, y, z, ux, uy, uz, s == on_surface)
        if t < t_min:
            t_min = t
            hit = s
    return t_min, hit


@jit()
def _free_path(mean_free_path, anisotropy, axis, medium, ux, uy, uz, state):
    """Distance to the next background collision: exponential with l(k) (inf if ballistic)."""
    length = mean_free_path[medium]
    if length == math.inf:
        return math.inf, state
    alpha = anisotropy[medium]
    if alpha != 0.0:
        c = ux * axis[medium, 0] + uy * axis[medium, 1] + uz * axis[medium, 2]
        length *= (1.0 + alpha * c * c) / (1.0 + alpha / 3.0)
    u, state = uniform(state)
    return -length * math.log(u), state


@jit()
def _background_direction(law_offsets, law_tables, medium, ux, uy, uz, state, scattering_law, clusters):
    """The direction after a background collision: the medium's law, or isotropic."""
    if scattering_law is None:
        return isotropic_direction(state)
    a, b = law_offsets[medium], law_offsets[medium + 1]
    if b > a:
        return sample_outgoing(law_tables[a:b], ux, uy, uz, state, clusters)
    return isotropic_direction(state)


@jit()
def interface_reflection(law, rows, kinds, starts, widths, values, table_cos, table_reflection, index, mu):
    """R(cos theta = mu) of quantum interface ``index``: transfer matrix of its profile, or its table."""
    a, b = rows[index, 0], rows[index, 1]
    if law[index] == PROFILE_LAW:
        return profile_reflection(mu, kinds[a:b], starts[a:b], widths[a:b], values[a:b])
    # the table is piecewise linear between its nodes, which start at 0 and end at 1
    j = a
    while j < b - 2 and table_cos[j + 1] < mu:
        j += 1
    t = (mu - table_cos[j]) / (table_cos[j + 1] - table_cos[j])
    return table_reflection[j] + t * (table_reflection[j + 1] - table_reflection[j])


@jit()
def _interface_reflects(law, rows, kinds, starts, widths, values, table_cos, table_reflection, index, mu, state,
                        quantum_interfaces):
    """Does quantum interface ``index`` reflect a particle with cos theta = mu: (yes, state)."""
    if quantum_interfaces is None:
        return False, state  # not reached: the model has no quantum interface (engine_features)
    reflection = interface_reflection(law, rows, kinds, starts, widths, values, table_cos, table_reflection, index, mu)
    u, state = uniform(state)
    return u < reflection, state


@jit()
def _boundary_at(surface_boundaries, boundary_program, tokens, surfaces, s, x, y, z):
    """The first boundary on surface s whose patch holds the point, or -1 (transmit)."""
    for b in range(surface_boundaries[s], surface_boundaries[s + 1]):
        if region_contains(tokens, boundary_program[b, 0], boundary_program[b, 1], surfaces, x, y, z, -1, 0):
            return b
    return -1


@jit()  # not inlined: one compiled copy serves trace and _transport (inlined: 2.5 s more, same speed)
def _cross(geo, s, x, y, z, ux, uy, uz, cell, state, quantum_interfaces):
    """What surface s does to a particle arriving at r: (u', cell', outcome, reservoir, u.n, state)."""
    b = _boundary_at(geo.surface_boundaries, geo.boundary_program, geo.tokens, geo.surfaces, s, x, y, z)
    kind = TRANSMIT if b < 0 else geo.boundary_kind[b]
    nx, ny, nz = surface_normal(geo.surfaces, s, x, y, z)
    un = ux * nx + uy * ny + uz * nz
    if kind == RESERVOIR:
        return ux, uy, uz, cell, ABSORBED, int(geo.boundary_parameter[b]), un, state
    if kind == PARTIALLY_SPECULAR:
        u, state = uniform(state)
        kind = SPECULAR if u < geo.boundary_parameter[b] else DIFFUSE
    elif kind == QUANTUM_INTERFACE:
        reflects, state = _interface_reflects(geo.interface_law, geo.interface_rows, geo.interface_kinds,
                                              geo.interface_starts, geo.interface_widths, geo.interface_values,
                                              geo.interface_cos, geo.interface_reflection,
                                              int(geo.boundary_parameter[b]), abs(un), state, quantum_interfaces)
        kind = SPECULAR if reflects else TRANSMIT
    if kind == SPECULAR:
        return ux - 2.0 * un * nx, uy - 2.0 * un * ny, uz - 2.0 * un * nz, cell, REFLECTED, -1, un, state
    if kind == DIFFUSE:
        back = -1.0 if un > 0.0 else 1.0
        vx, vy, vz, state = lambert_about(back * nx, back * ny, back * nz, state)
        return vx, vy, vz, cell, REFLECTED, -1, un, state
    new_cell = _find_cell(geo.tokens, geo.cell_program, geo.surfaces, x, y, z, s, 1 if un > 0.0 else -1)
    return ux, uy, uz, new_cell, TRANSMITTED if new_cell >= 0 else LOST_AT_SURFACE, -1, un, state


@kernel_only
def trace(geo, x, y, z, ux, uy, uz, cell, on_surface, max_events, ballistic, state, scattering_law,
          quantum_interfaces, clusters):
    """Follow a particle without scoring and return (its fate, state): the reservoir it ends in,
    FATE_STOPPED, FATE_DROPPED (event cap) or FATE_LOST (outside every cell).  ``ballistic`` = 1
    ignores the background (the propagator G_0 of the correlated background estimator); the last
    three are the model's :class:`Features` of those names."""
    if cell == FIND_CELL:
        cell = _cell_at_birth(geo.tokens, geo.cell_program, geo.surfaces, x, y, z, ux, uy, uz, on_surface)
    if cell < 0:
        return FATE_LOST, state
    for _ in range(max_events):
        t_surface, s = _nearest_surface(geo.surfaces, geo.tracked, x, y, z, ux, uy, uz, on_surface)
        medium = geo.cell_medium[cell]
        t_collision = math.inf
        if ballistic == 0:
            t_collision, state = _free_path(geo.medium_mean_free_path, geo.medium_anisotropy, geo.medium_axis,
                                            medium, ux, uy, uz, state)
        if t_collision < t_surface:
            x += t_collision * ux
            y += t_collision * uy
            z += t_collision * uz
            if geo.medium_after[medium] == STOP:
                return FATE_STOPPED, state
            ux, uy, uz, state = _background_direction(geo.medium_law, geo.medium_law_tables, medium, ux, uy, uz, state,
                                                      scattering_law, clusters)
            on_surface = -1
            continue
        if t_surface == math.inf:
            escape = geo.cell_escape[cell]
            return (escape if escape >= 0 else FATE_LOST), state
        x += t_surface * ux
        y += t_surface * uy
        z += t_surface * uz
        ux, uy, uz, cell, outcome, reservoir, un, state = _cross(geo, s, x, y, z, ux, uy, uz, cell, state,
                                                                 quantum_interfaces)
        if outcome == ABSORBED:
            return reservoir, state
        if outcome == LOST_AT_SURFACE:
            return FATE_LOST, state
        on_surface = s
    return FATE_DROPPED, state


# ------------------------------------------------------------------------------ impurities


@jit()
def _crossing_distance(position, tables, table_start, disk_radius, i, x, y, z, ux, uy, uz, length, clusters):
    """Distance to impurity i if the flight crosses its equivalent disk (area sigma_tot(u), normal
    to u) before ``length``, else NaN."""
    dx = position[i, 0] - x
    dy = position[i, 1] - y
    dz = position[i, 2] - z
    t = dx * ux + dy * uy + dz * uz
    if t <= 0.0 or t >= length:
        return math.nan
    miss2 = dx * dx + dy * dy + dz * dz - t * t
    radius = disk_radius[i]
    if miss2 >= radius * radius:
        return math.nan
    if miss2 * math.pi < total_cross_section(tables[table_start[i]:table_start[i + 1]], ux, uy, uz, clusters):
        return t
    return math.nan


@jit()
def _score_collision(acc, k, weight, ux, uy, uz, qx, qy, qz):
    """One scattering k -> q: a collision and the momentum transfer hbar (k - k') (Sorbello Eq. 20)."""
    acc[k + COLLISIONS] += weight
    acc[k + IMPURITY_MOMENTUM_X] += weight * (ux - qx)
    acc[k + IMPURITY_MOMENTUM_X + 1] += weight * (uy - qy)
    acc[k + IMPURITY_MOMENTUM_X + 2] += weight * (uz - qz)


@jit()
def _disk_direction(view, state):
    """An incoming direction k through an opening disk seen from r0, and its weight 1/p(k).

    The directions are parametrised as in the quadratures of observables.analytic:
    the azimuth phi of the ray from the foot point of r0 (|phi| < phi_max from the
    direction to the disk centre) and the polar angle beta about -z between the
    rays that enter and leave the disk; phi uniform and cos(beta) uniform in its
    range, so every draw lies in the view and the weight 2 phi_max (cos b_in -
    cos b_out) varies only with phi (constant on the axis and in the disk)."""
    height, rho0, toward_centre, phi_max, radius = view[1], view[2], view[3], view[4], view[5]
    u, state = uniform(state)
    phi = phi_max * (2.0 * u - 1.0)
    cos_phi = math.cos(phi)
    sin_phi = math.sin(phi)
    half = math.sqrt(max(0.0, radius * radius - (rho0 * sin_phi) ** 2))
    s_out = rho0 * cos_phi + half
    s_in = max(0.0, rho0 * cos_phi - half) if rho0 > radius else 0.0
    if s_out <= s_in:
        return 0.0, 0.0, 1.0, 0.0, state
    cos_in = height / math.sqrt(height * height + s_in * s_in) if s_in > 0.0 else 1.0
    cos_out = height / math.sqrt(height * height + s_out * s_out)
    v, state = uniform(state)
    cos_beta = cos_out + v * (cos_in - cos_out)
    sin_beta = math.sqrt(max(0.0, 1.0 - cos_beta * cos_beta))
    angle = toward_centre + phi
    weight = 2.0 * phi_max * (cos_in - cos_out)
    return -sin_beta * math.cos(angle), -sin_beta * math.sin(angle), cos_beta, weight, state


@kernel_only
def next_events(acc, geo, tal, imp, phys, state, impurities, scattering_law, quantum_interfaces, clusters):
    """Next-event scores of every impurity that asks for them, for one history; returns
    (1 if a trace hit the event cap, state).  One call per history: the model's arrays
    are reference-counted once per call, not once per impurity."""
    if impurities is None:
        return 0, state
    dropped = 0
    for i in range(imp.position.shape[0]):
        if imp.next_event[i] == 1:
            cut, state = _next_event(acc, geo, tal, imp, phys, i, state, scattering_law, quantum_interfaces, clusters)
            dropped = max(dropped, cut)
    return dropped, state


@kernel_only
def _next_event(acc, geo, tal, imp, phys, i, state, scattering_law, quantum_interfaces, clusters):
    """Next-event scores of impurity i (see the module docstring)."""
    view = imp.sampling[i]
    kind = int(view[0])
    x0, y0, z0 = imp.position[i, 0], imp.position[i, 1], imp.position[i, 2]
    cell, on_surface = imp.cell[i], imp.on_surface[i]
    table = imp.tables[imp.table_start[i]:imp.table_start[i + 1]]
    if kind == VIEW_SPHERE:
        kx, ky, kz, state = isotropic_direction(state)
        weight = 4.0 * math.pi
    else:
        kx, ky, kz, weight, state = _disk_direction(view, state)
        if weight == 0.0:
            return 0, state
    dropped = 0
    if kind == VIEW_DISK_EXACT:
        occupation = phys.reservoir_excess[int(view[6])]
    else:
        # the state k at r0 is filled from where the time-reversed flight -k ends
        fate, state = trace(geo, x0, y0, z0, -kx, -ky, -kz, cell, on_surface, phys.max_events, WITH_BACKGROUND, state,
                            scattering_law, quantum_interfaces, clusters)
        if fate == FATE_DROPPED:
            return 1, state
        occupation = phys.reservoir_excess[fate] if fate >= 0 else 0.0
    if occupation == 0.0:
        return 0, state
    sigma = total_cross_section(table, kx, ky, kz, clusters)
    qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state, clusters)
    base = weight * occupation * FLUX_PER_SOLID_ANGLE
    k = tal.impurity_offset[i, NEXT_EVENT]
    _score_collision(acc, k, base * sigma, kx, ky, kz, qx, qy, qz)
    if kind == VIEW_SPHERE:
        fate_q, state = trace(geo, x0, y0, z0, qx, qy, qz, cell, on_surface, phys.max_events, WITH_BACKGROUND,
                              state, scattering_law, quantum_interfaces, clusters)
        fate_k, state = trace(geo, x0, y0, z0, kx, ky, kz, cell, on_surface, phys.max_events, WITH_BACKGROUND,
                              state, scattering_law, quantum_interfaces, clusters)
        if fate_q == FATE_DROPPED or fate_k == FATE_DROPPED:
            dropped = 1
        drained = (1.0 if fate_q == phys.drain else 0.0) - (1.0 if fate_k == phys.drain else 0.0)
        acc[k + BACKSCATTER] += base * sigma * drained
        return dropped, state
    # the directions towards the opening are minus those of its view; every other direction
    # and the unscattered flight end in the drain (the builder checks this for the view)
    bx, by, bz, weight_b, state = _disk_direction(view, state)
    if weight_b > 0.0:
        returns = 1.0
        if kind == VIEW_DISK:
            fate_b, state = trace(geo, x0, y0, z0, -bx, -by, -bz, cell, on_surface, phys.max_events, WITH_BACKGROUND,
                                  state, scattering_law, quantum_interfaces, clusters)
            if fate_b == FATE_DROPPED:
                dropped = 1
            returns = 0.0 if fate_b == phys.drain else 1.0
        intensity = scattering_intensity(table, kx, ky, kz, -bx, -by, -bz, clusters)
        acc[k + BACKSCATTER] -= base * weight_b * returns * intensity
    return dropped, state


@jit()
def _nearest_impurity(z_sorted, z_order, position, tables, table_start, disk_radius, disk_reach, x, y, z, ux, uy, uz,
                      length, last_hit, impurities, clusters):
    """Multiple scattering: the impurity whose equivalent disk the flight crosses first within
    ``length``, other than the one it has just left; returns (its index or -1, the distance)."""
    if impurities is None:
        return -1, length
    hit = -1
    n_impurities = position.shape[0]
    # only disks centred within a disk radius of the flight's z range can meet it; the
    # nearest crossing is the same whatever order they are tested in
    z_low, z_high = z_window(z, uz, length, disk_reach)
    for j in range(first_not_below(z_sorted, 0, n_impurities, z_low), n_impurities):
        if z_sorted[j] > z_high:
            break
        i = z_order[j]
        if i != last_hit:
            t = _crossing_distance(position, tables, table_start, disk_radius, i, x, y, z, ux, uy, uz, length,
                                   clusters)
            if t == t:
                hit = i
                length = t
    return hit, length


@jit()
def _impurity_collision(acc, impurity_offset, tables, table_start, hit, weight, ux, uy, uz, state,
                        impurities, clusters):
    """An analog collision with impurity ``hit``: k' ~ |f|^2, the collision and its momentum transfer
    scored; returns (k', state).  Multiple scattering deflects the particle itself into k', first
    order starts a secondary along it."""
    if impurities is None:
        return ux, uy, uz, state  # not reached: a model without impurities has no impurity hit
    qx, qy, qz, state = sample_outgoing(tables[table_start[hit]:table_start[hit + 1]], ux, uy, uz, state, clusters)
    _score_collision(acc, impurity_offset[hit, ANALOG], weight, ux, uy, uz, qx, qy, qz)
    return qx, qy, qz, state


@jit()
def _next_crossing(position, tables, table_start, disk_radius, first, x, y, z, ux, uy, uz, length,
                   impurities, clusters):
    """First order: the first impurity from index ``first`` on whose equivalent disk the segment
    crosses, or -1."""
    if impurities is None:
        return -1
    for i in range(first, position.shape[0]):
        t = _crossing_distance(position, tables, table_start, disk_radius, i, x, y, z, ux, uy, uz, length, clusters)
        if t == t:  # not NaN: a crossing
            return i
    return -1


@kernel_only
def _first_order_secondary(acc, geo, tal, imp, phys, i, weight, ux, uy, uz, pending, touched, n_touched, state,
                           impurities, scattering_law, quantum_interfaces, clusters):
    """First order: the primary crossing impurity i scatters an independent secondary, traced to its
    reservoir, while the primary flies on as if the impurity were absent.  The secondary's drain
    score is added here, the primary's (subtracted) when it ends: ``pending`` and ``touched`` keep
    them; returns (impurities touched so far, state)."""
    if impurities is None:
        return n_touched, state  # not reached: a model without impurities has no crossings
    qx, qy, qz, state = _impurity_collision(acc, tal.impurity_offset, imp.tables, imp.table_start, i, weight,
                                            ux, uy, uz, state, impurities, clusters)
    fate_q, state = trace(geo, imp.position[i, 0], imp.position[i, 1], imp.position[i, 2], qx, qy, qz,
                          imp.cell[i], imp.on_surface[i], phys.max_events, WITH_BACKGROUND, state,
                          scattering_law, quantum_interfaces, clusters)
    if fate_q == phys.drain:
        acc[tal.impurity_offset[i, ANALOG] + BACKSCATTER] += weight
    if pending[i] == 0.0:
        touched[n_touched] = i
        n_touched += 1
    pending[i] += weight
    return n_touched, state


# ------------------------------------------------------------------------------ background to first order


@jit()
def _focused_point(focus, x, y, z, ux, uy, uz, length, state):
    """A point t on the segment [0, length] drawn with density proportional to 1/sqrt(d(t)^2 + s^2),
    d the distance to the focus c and s its scale (t = t0 + h sinh(v), v uniform); returns
    (t, 1/pdf(t), state).  A collision at distance d changes the current with probability
    p ~ (opening's solid angle) ~ s^2/d^2, and the density that minimises the second moment
    int p/pdf of such a rare yes/no score is proportional to sqrt(p)."""
    dx, dy, dz = focus[0] - x, focus[1] - y, focus[2] - z
    t0 = dx * ux + dy * uy + dz * uz
    h = math.sqrt(max(dx * dx + dy * dy + dz * dz - t0 * t0, 0.0) + focus[3] * focus[3])
    lower = math.asinh(-t0 / h)
    upper = math.asinh((length - t0) / h)
    u, state = uniform(state)
    t = min(max(t0 + h * math.sinh(lower + u * (upper - lower)), 0.0), length)
    return t, (upper - lower) * math.sqrt((t - t0) ** 2 + h * h), state


@kernel_only
def _background_collision(acc, geo, tal, phys, x, y, z, ux, uy, uz, length, weight, cell, start_surface, medium,
                          state, background_perturbation, scattering_law, quantum_interfaces, clusters):
    """The drain-current change of the background on one flight segment, per unit 1/l.

    First order (media with ``first_order``, ballistic flights): a collision anywhere on the
    segment, with probability dt / l, scatters the particle; the change of the drain current is
    [the scattered particle ends in the drain] - [the unscattered one does].  Correlated (media
    with ``correlated``, analog flights): the resolvent identity G_l - G_0 = G_l C G_0 makes the
    same score on every segment of the real (finite-l) flights, both branches followed
    ballistically (G_0), an exact estimate of I(l) - I(ballistic) at any l.  Both branches are
    scored at one point t drawn near the opening (:func:`_focused_point`), with weight 1/pdf(t):
    the unscattered branch does not depend on t (a ballistic particle goes on along the same
    line), so far from the opening the two branches cancel history by history instead of only on
    average.  For a correlated medium the unscattered branch is one ballistic trace from the
    segment's start, scored here; for a first-order one it is the primary's own fate, which the
    caller scores when the particle ends (returned: the weight 1/pdf(t) to charge it with)."""
    if background_perturbation is None:
        return False, 0.0, state
    t, inverse_pdf, state = _focused_point(phys.background_focus, x, y, z, ux, uy, uz, length, state)
    qx, qy, qz, state = _background_direction(geo.medium_law, geo.medium_law_tables, medium, ux, uy, uz, state,
                                              scattering_law, clusters)
    # still on the segment's start surface only if t = 0; an int64 either way, so that numba
    # compiles one trace for every caller (a literal -1 would make a second specialisation)
    on_surface = start_surface if t == 0.0 else -1
    fate, state = trace(geo, x + t * ux, y + t * uy, z + t * uz, qx, qy, qz, cell, on_surface, phys.max_events,
                        WITHOUT_BACKGROUND, state, scattering_law, quantum_interfaces, clusters)
    dropped = fate == FATE_DROPPED
    score = 1.0 if fate == phys.drain else 0.0
    if geo.medium_first_order[medium] == 2:
        fate, state = trace(geo, x, y, z, ux, uy, uz, cell, start_surface, phys.max_events, WITHOUT_BACKGROUND, state,
                            scattering_law, quantum_interfaces, clusters)
        dropped = dropped or fate == FATE_DROPPED
        if fate == phys.drain:
            score -= 1.0
    acc[tal.background_offset] += weight * inverse_pdf * score
    return dropped, inverse_pdf, state


# ------------------------------------------------------------------------------ the history loop


@jit(inline="always")
def _transport(acc, geo, tal, imp, phys, x, y, z, ux, uy, uz, weight, cell, on_surface, state, pending, touched,
               times, features):
    """Follow one particle to its end, scoring every segment and surface event; returns (fate, state).

    (The model's parts come in separately: unpacking a tuple of arrays per particle would
    reference-count every array in it.)"""
    law, interfaces, clusters = features.scattering_law, features.quantum_interfaces, features.clusters
    n_touched = 0
    fate = FATE_DROPPED
    last_hit = -1
    first_order = phys.analog == 1 and phys.multiple_scattering == 0 and weight != 0.0
    background_pending = 0.0
    for _ in range(phys.max_events):
        t_surface, s = _nearest_surface(geo.surfaces, geo.tracked, x, y, z, ux, uy, uz, on_surface)
        medium = geo.cell_medium[cell]
        t_collision, state = _free_path(geo.medium_mean_free_path, geo.medium_anisotropy, geo.medium_axis, medium,
                                        ux, uy, uz, state)
        length = min(t_surface, t_collision)
        hit = -1
        if phys.multiple_scattering == 1 and weight != 0.0:
            hit, length = _nearest_impurity(imp.z_sorted, imp.z_order, imp.position, imp.tables, imp.table_start,
                                            imp.disk_radius, imp.disk_reach, x, y, z, ux, uy, uz, length, last_hit,
                                            features.impurities, clusters)
        if weight != 0.0:
            score_balls(acc, tal.balls, tal.ball_unbounded, tal.ball_reach, x, y, z, ux, uy, uz, length,
                        weight)
            for m in range(tal.cylindrical_offset.shape[0]):
                score_cylindrical_mesh(acc, tal.cylindrical_offset[m], x, y, z, ux, uy, uz, length, weight,
                                       tal.cylindrical_bounds[m, 0], tal.cylindrical_bounds[m, 1],
                                       tal.cylindrical_bounds[m, 2], tal.cylindrical_shape[m, 0],
                                       tal.cylindrical_shape[m, 1], times)
            for m in range(tal.cartesian_offset.shape[0]):
                score_cartesian_mesh(acc, tal.cartesian_offset[m], x, y, z, ux, uy, uz, length, weight,
                                     tal.cartesian_lower[m], tal.cartesian_upper[m], tal.cartesian_shape[m])
        if geo.medium_first_order[medium] != 0 and weight != 0.0 and length < math.inf:
            cut, inverse_pdf, state = _background_collision(acc, geo, tal, phys, x, y, z, ux, uy, uz, length, weight,
                                                            cell, on_surface, medium, state,
                                                            features.background_perturbation, law, interfaces,
                                                            clusters)
            if cut:
                fate = FATE_DROPPED
                break
            if geo.medium_first_order[medium] == 1:
                background_pending += weight * inverse_pdf
        if first_order:
            # each impurity the primary crosses scatters an independent secondary
            i = _next_crossing(imp.position, imp.tables, imp.table_start, imp.disk_radius, 0, x, y, z, ux, uy, uz,
                               length, features.impurities, clusters)
            while i >= 0:
                n_touched, state = _first_order_secondary(acc, geo, tal, imp, phys, i, weight, ux, uy, uz, pending,
                                                          touched, n_touched, state, features.impurities,
                                                          law, interfaces, clusters)
                i = _next_crossing(imp.position, imp.tables, imp.table_start, imp.disk_radius, i + 1, x, y, z,
                                   ux, uy, uz, length, features.impurities, clusters)
        if hit >= 0:
            ux, uy, uz, state = _impurity_collision(acc, tal.impurity_offset, imp.tables, imp.table_start, hit, weight,
                                                    ux, uy, uz, state, features.impurities, clusters)
            x, y, z = imp.position[hit, 0], imp.position[hit, 1], imp.position[hit, 2]
            on_surface = imp.on_surface[hit]
            cell = imp.cell[hit]
            if cell == FIND_CELL:
                cell = _cell_at_birth(geo.tokens, geo.cell_program, geo.surfaces, x, y, z, ux, uy, uz, on_surface)
            last_hit = hit
            continue
        last_hit = -1
        if t_collision < t_surface:
            x += length * ux
            y += length * uy
            z += length * uz
            if geo.medium_after[medium] == STOP:
                fate = FATE_STOPPED
                break
            ux, uy, uz, state = _background_direction(geo.medium_law, geo.medium_law_tables, medium, ux, uy, uz, state,
                                                      law, clusters)
            on_surface = -1
            continue
        if t_surface == math.inf:
            fate = geo.cell_escape[cell] if geo.cell_escape[cell] >= 0 else FATE_LOST
            break
        x += length * ux
        y += length * uy
        z += length * uz
        vx, vy, vz, cell, outcome, reservoir, un, state = _cross(geo, s, x, y, z, ux, uy, uz, cell, state, interfaces)
        for t in range(tal.surface_index.shape[0]):
            if tal.surface_index[t] == s and region_contains(
                    tal.surface_tokens, tal.surface_program[t, 0], tal.surface_program[t, 1], geo.surfaces, x, y, z, -1, 0):
                k = tal.surface_offset[t]
                if outcome == REFLECTED:
                    acc[k + SURFACE_MOMENTUM_X] += weight * (ux - vx)
                    acc[k + SURFACE_MOMENTUM_X + 1] += weight * (uy - vy)
                    acc[k + SURFACE_MOMENTUM_X + 2] += weight * (uz - vz)
                else:
                    acc[k + CROSSINGS] += weight if un > 0.0 else -weight
        ux, uy, uz = vx, vy, vz
        if outcome == ABSORBED:
            fate = reservoir
            break
        if outcome == LOST_AT_SURFACE:
            fate = FATE_LOST
            break
        on_surface = s
    if fate >= 0:
        acc[tal.reservoir_offset + fate] += weight
    if background_pending != 0.0 and fate == phys.drain:
        acc[tal.background_offset] -= background_pending
    for j in range(n_touched):
        i = touched[j]
        if fate == phys.drain:
            acc[tal.impurity_offset[i, ANALOG] + BACKSCATTER] -= pending[i]
        pending[i] = 0.0
    return fate, state


@jit()
def _bank(bank, n, x, y, z, ux, uy, uz, weight, on_surface, cell):
    bank[n, 0], bank[n, 1], bank[n, 2] = x, y, z
    bank[n, 3], bank[n, 4], bank[n, 5] = ux, uy, uz
    bank[n, 6], bank[n, 7], bank[n, 8] = weight, on_surface, cell


@jit()
def _bulk_incident(acc, impurity_offset, position, tables, table_start, impurity_cell, impurity_on_surface, cell_medium,
                   anisotropy, axis, emitters, e, bank, n_bank, state, bulk_incident, clusters):
    """Sorbello Eq. 1 incident on the impurity of emitter e: score the collision, bank the scattered (+)
    and shadow (-) electrons leaving the complex."""
    if bulk_incident is None:
        return n_bank, state  # not reached: the model has no bulk-incident emitter
    i = int(emitters[e, 5])
    kx, ky, kz, state = isotropic_direction(state)
    table = tables[table_start[i]:table_start[i + 1]]
    medium = cell_medium[impurity_cell[i]] if impurity_cell[i] >= 0 else 0
    alpha = anisotropy[medium]
    c = kx * axis[medium, 0] + ky * axis[medium, 1] + kz * axis[medium, 2]
    tau_ratio = (1.0 + alpha * c * c) / (1.0 + alpha / 3.0)
    occupation = -tau_ratio * (kx * emitters[e, 6] + ky * emitters[e, 7] + kz * emitters[e, 8])
    weight = emitters[e, 1] * 4.0 * math.pi * total_cross_section(table, kx, ky, kz, clusters) * occupation
    qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state, clusters)
    _score_collision(acc, impurity_offset[i, NEXT_EVENT], weight, kx, ky, kz, qx, qy, qz)
    x, y, z = position[i, 0], position[i, 1], position[i, 2]
    _bank(bank, n_bank, x, y, z, qx, qy, qz, weight, impurity_on_surface[i], impurity_cell[i])
    _bank(bank, n_bank + 1, x, y, z, kx, ky, kz, -weight, impurity_on_surface[i], impurity_cell[i])
    return n_bank + 2, state


@jit(nogil=True)
def engine_histories(seed, first, count, chunk, model):
    """Scores (n_chunks, n_scores) of histories first .. first+count-1, one row per ``chunk`` histories."""
    model = borrow(model)
    geo, tal, imp, phys = model.geometry, model.tallies, model.impurities, model.physics
    emitters, particles, features = model.emitters, model.particles, model.features
    n_chunks = (count + chunk - 1) // chunk
    n_impurities = imp.position.shape[0]
    # the kernel's own arrays, borrowed too: the owners live until the return below uses them
    acc = np.zeros((n_chunks, phys.n_scores))
    pending_owner = np.zeros(n_impurities)
    touched_owner = np.zeros(n_impurities, dtype=np.int64)
    times_owner = np.empty(tal.scratch)
    bank_owner = np.empty((2 * emitters.shape[0], BANK_COLUMNS))
    rows = borrow(acc)
    pending, touched, times, bank = borrow((pending_owner, touched_owner, times_owner, bank_owner))
    any_next_event = False
    for i in range(n_impurities):
        if imp.next_event[i] == 1:
            any_next_event = True
    for c in range(n_chunks):
        row = rows[c]
        stop = min(count, (c + 1) * chunk)
        for h in range(c * chunk, stop):
            state = history_stream(seed, first + h)
            n_bank = 0
            for e in range(emitters.shape[0]):
                if int(emitters[e, 0]) == BULK_INCIDENT:
                    n_bank, state = _bulk_incident(row, tal.impurity_offset, imp.position, imp.tables, imp.table_start,
                                                   imp.cell, imp.on_surface, geo.cell_medium, geo.medium_anisotropy,
                                                   geo.medium_axis, emitters, e, bank, n_bank, state,
                                                   features.bulk_incident, features.clusters)
                    continue
                if int(emitters[e, 0]) == TABLE:
                    j = int(emitters[e, 5])
                    _bank(bank, n_bank, particles[h, j, 0], particles[h, j, 1], particles[h, j, 2], particles[h, j, 3],
                          particles[h, j, 4], particles[h, j, 5], particles[h, j, 6], -1, FIND_CELL)
                    n_bank += 1
                    continue
                x, y, z, ux, uy, uz, weight, state = emit(emitters, e, state)
                _bank(bank, n_bank, x, y, z, ux, uy, uz, weight, emitters[e, 3], emitters[e, BIRTH_CELL])
                n_bank += 1
                if emitters[e, 2] >= 0:
                    # what a reservoir emits is current out of it
                    row[tal.reservoir_offset + int(emitters[e, 2])] -= weight
            dropped = 0
            lost = 0
            for p in range(n_bank):
                x, y, z = bank[p, 0], bank[p, 1], bank[p, 2]
                ux, uy, uz = bank[p, 3], bank[p, 4], bank[p, 5]
                on_surface = int(bank[p, 7])
                cell = int(bank[p, 8])
                if cell == FIND_CELL:
                    cell = _cell_at_birth(geo.tokens, geo.cell_program, geo.surfaces, x, y, z, ux, uy, uz, on_surface)
                if cell < 0:
                    lost += 1
                    continue
                # the one call site of the (inlined) particle follower keeps the kernel small
                fate, state = _transport(row, geo, tal, imp, phys, x, y, z, ux, uy, uz, bank[p, 6], cell,
                                         on_surface, state, pending, touched, times, features)
                if fate == FATE_DROPPED:
                    dropped = 1
                elif fate == FATE_LOST:
                    lost += 1
            if any_next_event:  # (a call per history costs: it copies the model's tuples)
                cut, state = next_events(row, geo, tal, imp, phys, state, features.impurities,
                                         features.scattering_law, features.quantum_interfaces, features.clusters)
                dropped = max(dropped, cut)
            row[tal.diagnostic_offset + DROPPED] += dropped
            row[tal.diagnostic_offset + LOST] += lost
    if pending_owner.size + touched_owner.size + times_owner.size + bank_owner.size < 0:
        acc[0, 0] = 0.0  # never: the use keeps the borrowed arrays' owners alive to here
    return acc
