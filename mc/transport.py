"""The point-contact transport kernel.

Each history emits electrons from the source and follows them along straight
flights (the ballistic regime of Sorbello Sec. III C): to the plane z = 0,
through the hole or off the wall, until they leave the simulated ball.  With
a finite background mean free path l, flights also end in elastic background
collisions (exponential free paths, isotropic by default), the crossover from
Sharvin to Maxwell resistance.  Every
flight segment is scored by the track-length tallies.  Weights are +-1 per
particle; the caller multiplies by (source strength / histories).

The aperture source emits two particles per history: a +1 electron to the
right (the left reservoir seen through the hole) and a -1 "missing electron"
to the left (the directions at the hole that come from the right reservoir
carry no excess; the +1 baseline on the left is added analytically).  The
reservoir source emits one +1 electron from the far left hemisphere.

Impurities (Sorbello Eqs. 55-64) are scored by two estimators:

* analog: a flight hits an impurity when it passes within the radius of its
  equivalent disk, sqrt(sigma_tot(k)/pi), facing the flight; the outgoing
  direction is drawn from |f|^2.  First order (independent impurities): the
  primary flies on unaffected and the scattered secondary is followed to
  the hole or away (wall reflections included).  Multiple scattering: the
  particle itself is deflected and may hit other impurities.  The -1
  particles of the aperture source correct the analytic left baseline and
  never collide (impurities sit at z >= 0).
* variance-reduced (next-event): each history samples for every impurity an
  incoming direction of Omega0(r0) (every draw lands in it, see
  _incoming_direction), scores the collision rate and the momentum transfer
  of a scattering drawn from |f|^2, and a second direction k_b scores the
  backscattered current with |f(k -> -k_b)|^2 (the directions towards the
  hole are -Omega0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from geometry.aperture import (
    ball_interval,
    distance_to_plane,
    distance_to_sphere_exit,
    reflect_from_wall,
)
from mc.batches import CHUNK
from mc.scattering.sampling import sample_outgoing, scattering_intensity, total_cross_section
from mc.legacy_sources import APERTURE_SOURCE, aperture_emission, reservoir_emission
from mc.streams import history_stream, uniform
from observables.legacy_tallies import ANALOG, IMPURITY_SCORES, MOMENT, NEXT_EVENT, score_mesh, score_probes

MAX_EVENTS = 100_000
"""Safety cap on surface and collision events per particle."""


@njit(cache=True, inline="always")
def _leaves_hole_plane(x, y, z, uz, hole_radius):
    """-1 if a particle scattered by an impurity sitting in the hole (z = 0, on the right
    side by convention) leaves to the left, i.e. is backscattered through the hole."""
    if z == 0.0 and uz < 0.0 and x * x + y * y < hole_radius * hole_radius:
        return -1.0
    return 0.0


@njit(cache=True, inline="always")
def _secondary_crossings(x, y, z, ux, uy, uz, hole_radius, wall_kind, domain_radius, state):
    """Follow a particle scattered at an impurity at r = (x, y, z), z >= 0, without further
    collisions, and return its signed hole crossings."""
    crossings = _leaves_hole_plane(x, y, z, uz, hole_radius)
    for _ in range(MAX_EVENTS):
        t_plane = distance_to_plane(z, uz)
        if t_plane == math.inf or distance_to_sphere_exit(x, y, z, ux, uy, uz, domain_radius) <= t_plane:
            break
        x += t_plane * ux
        y += t_plane * uy
        z = 0.0
        if x * x + y * y < hole_radius * hole_radius:
            crossings += 1.0 if uz > 0.0 else -1.0
        else:
            ux, uy, uz, state = reflect_from_wall(ux, uy, uz, wall_kind, state)
    return crossings, state


@njit(cache=True, inline="always")
def _score_moments(acc, offset, px, py, pz, ux, uy, uz, length, weight, centres, radii):
    """Track-length first moment about each impurity: sum w l and sum w l (midpoint - r0),
    whose ratio to R^2 V / 5 is the ball-averaged density gradient."""
    for i in range(centres.shape[0]):
        if radii[i] <= 0.0:
            continue
        t_in, t_out = ball_interval(px, py, pz, ux, uy, uz, length, centres[i, 0], centres[i, 1], centres[i, 2], radii[i])
        if t_out > t_in:
            k = offset + IMPURITY_SCORES * i + MOMENT
            wl = weight * (t_out - t_in)
            mid = 0.5 * (t_in + t_out)
            acc[k] += wl
            acc[k + 1] += wl * (px + mid * ux - centres[i, 0])
            acc[k + 2] += wl * (py + mid * uy - centres[i, 1])
            acc[k + 3] += wl * (pz + mid * uz - centres[i, 2])


@njit(cache=True, inline="always")
def _collision_distance(x, y, z, ux, uy, uz, length, cx, cy, cz, table):
    """Distance along the flight to the impurity at c if the flight passes through its
    equivalent disk (area sigma_tot(u), normal to u, centred on c) before ``length``,
    else NaN.  (With the aperture source the disk must lie above the plane, see
    mc.point_contact: flights start on it.)"""
    dx = cx - x
    dy = cy - y
    dz = cz - z
    t = dx * ux + dy * uy + dz * uz
    if t <= 0.0 or t >= length:
        return math.nan
    miss2 = dx * dx + dy * dy + dz * dz - t * t
    if miss2 * math.pi < total_cross_section(table, ux, uy, uz):
        return t
    return math.nan


@njit(cache=True, inline="always")
def _first_collision(x, y, z, ux, uy, uz, length, positions, tables, table_start, skip):
    """Earliest analog collision along the flight, skipping impurity ``skip``:
    (impurity index or -1, distance)."""
    hit = -1
    t_hit = length
    for i in range(positions.shape[0]):
        if i != skip:
            t = _collision_distance(x, y, z, ux, uy, uz, t_hit, positions[i, 0], positions[i, 1], positions[i, 2],
                                    tables[table_start[i]:table_start[i + 1]])
            if t == t:  # not NaN
                hit = i
                t_hit = t
    return hit, t_hit


@njit(cache=True, inline="always")
def _score_collision(acc, k, weight, ux, uy, uz, qx, qy, qz):
    """One scattering k -> q: a collision and the momentum transfer hbar (k - k') (Sorbello Eq. 20)."""
    acc[k] += weight
    acc[k + 1] += weight * (ux - qx)
    acc[k + 2] += weight * (uy - qy)
    acc[k + 3] += weight * (uz - qz)


@njit(cache=True, inline="always")
def _follow(acc, x, y, z, ux, uy, uz, weight, state, hole_radius, wall_kind, domain_radius,
            mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape, times,
            positions, tables, table_start, moment_radii, analog, multiple, impurity_offset):
    """Follow one particle to its death, scoring every segment; returns the stream state.

    With a finite ``mean_free_path`` the flight also ends at a background collision
    (exponential distance, direction from ``background_table``)."""
    hole_radius2 = hole_radius * hole_radius
    use_mesh = mesh_shape[0] > 0
    mesh_offset = 1 + 4 * probe_centres.shape[0]
    last_hit = -1
    for _ in range(MAX_EVENTS):
        t_plane = distance_to_plane(z, uz)
        t_exit = distance_to_sphere_exit(x, y, z, ux, uy, uz, domain_radius)
        t_background = math.inf
        if mean_free_path < math.inf:
            u, state = uniform(state)
            t_background = -mean_free_path * math.log(u)
        length = min(t_plane, t_exit, t_background)
        hit = -1
        if multiple and weight > 0.0:
            hit, length = _first_collision(x, y, z, ux, uy, uz, length, positions, tables, table_start, last_hit)
        score_probes(acc, 1, x, y, z, ux, uy, uz, length, weight, probe_centres, probe_radii)
        if use_mesh:
            score_mesh(acc, mesh_offset, x, y, z, ux, uy, uz, length, weight, mesh_bounds, mesh_shape, times)
        _score_moments(acc, impurity_offset, x, y, z, ux, uy, uz, length, weight, positions, moment_radii)
        if analog and not multiple and weight > 0.0:
            # first order: each impurity the primary passes scatters an independent
            # secondary; the primary flies on as if the impurity were absent
            for i in range(positions.shape[0]):
                table = tables[table_start[i]:table_start[i + 1]]
                t_c = _collision_distance(x, y, z, ux, uy, uz, length, positions[i, 0], positions[i, 1], positions[i, 2], table)
                if t_c != t_c:
                    continue
                qx, qy, qz, state = sample_outgoing(table, ux, uy, uz, state)
                k = impurity_offset + IMPURITY_SCORES * i + ANALOG
                _score_collision(acc, k, weight, ux, uy, uz, qx, qy, qz)
                # the point scatterer re-emits from its centre (as in Eqs. 55-61)
                crossings, state = _secondary_crossings(positions[i, 0], positions[i, 1], positions[i, 2], qx, qy, qz,
                                                        hole_radius, wall_kind, domain_radius, state)
                acc[k + 4] += weight * crossings
        if hit >= 0:
            # multiple scattering: the particle itself is deflected at the impurity
            table = tables[table_start[hit]:table_start[hit + 1]]
            qx, qy, qz, state = sample_outgoing(table, ux, uy, uz, state)
            _score_collision(acc, impurity_offset + IMPURITY_SCORES * hit + ANALOG, weight, ux, uy, uz, qx, qy, qz)
            x, y, z = positions[hit, 0], positions[hit, 1], positions[hit, 2]
            ux, uy, uz = qx, qy, qz
            acc[0] += weight * _leaves_hole_plane(x, y, z, uz, hole_radius)
            last_hit = hit
            continue
        if t_background < min(t_plane, t_exit):
            x += length * ux
            y += length * uy
            z += length * uz
            ux, uy, uz, state = sample_outgoing(background_table, ux, uy, uz, state)
            last_hit = -1
            continue
        if t_exit <= t_plane:
            return state
        x += length * ux
        y += length * uy
        z = 0.0
        last_hit = -1
        if x * x + y * y < hole_radius2:
            acc[0] += weight if uz > 0.0 else -weight
        else:
            ux, uy, uz, state = reflect_from_wall(ux, uy, uz, wall_kind, state)
    return state


@njit(cache=True, inline="always")
def _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state):
    """A direction k of Omega0(r0) and its weight 1/p(k) (Sorbello Eq. 49).

    Omega0 is parametrised as in the quadrature of observables.analytic:
    the azimuth phi of the ray from the foot point of r0 (measured from the
    direction to the hole centre, |phi| < phi_max) and the polar angle beta
    about -z, between atan(s_in/z0) and atan(s_out/z0) where that ray enters
    and leaves the hole.  phi is uniform, cos(beta) uniform in its range, so
    every draw lies in Omega0 and the weight 2 phi_max (cos b_in - cos b_out)
    varies only with phi (constant on the axis and in the hole)."""
    u, state = uniform(state)
    phi = phi_max * (2.0 * u - 1.0)
    cos_phi = math.cos(phi)
    sin_phi = math.sin(phi)
    half = math.sqrt(max(0.0, hole_radius * hole_radius - (rho0 * sin_phi) ** 2))
    s_out = rho0 * cos_phi + half
    s_in = max(0.0, rho0 * cos_phi - half) if rho0 > hole_radius else 0.0
    if s_out <= s_in:
        return 0.0, 0.0, 1.0, 0.0, state
    cos_in = z0 / math.sqrt(z0 * z0 + s_in * s_in) if s_in > 0.0 else 1.0
    cos_out = z0 / math.sqrt(z0 * z0 + s_out * s_out)
    v, state = uniform(state)
    cos_beta = cos_out + v * (cos_in - cos_out)
    sin_beta = math.sqrt(max(0.0, 1.0 - cos_beta * cos_beta))
    angle = toward_centre + phi
    weight = 2.0 * phi_max * (cos_in - cos_out)
    return -sin_beta * math.cos(angle), -sin_beta * math.sin(angle), cos_beta, weight, state


@njit(cache=True, inline="always")
def _next_event(acc, k, z0, rho0, toward_centre, phi_max, hole_radius, table, state):
    """Variance-reduced scores of one impurity for one history (before the 1/4 pi^3 flux factor).

    Incoming k ~ Omega0 with weight w: collision rate w sigma_tot(k), momentum
    transfer w sigma_tot(k) (k - k') with k' ~ |f|^2 (Sorbello Eq. 61);
    backscatter -w w_b |f(k -> -k_b)|^2 for a second draw k_b (Eq. 57: the
    directions towards the hole are -Omega0)."""
    kx, ky, kz, weight, state = _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state)
    bx, by, bz, weight_b, state = _incoming_direction(z0, rho0, toward_centre, phi_max, hole_radius, state)
    if weight > 0.0:
        sigma = total_cross_section(table, kx, ky, kz)
        qx, qy, qz, state = sample_outgoing(table, kx, ky, kz, state)
        _score_collision(acc, k, weight * sigma, kx, ky, kz, qx, qy, qz)
        if weight_b > 0.0:
            acc[k + 4] -= weight * weight_b * scattering_intensity(table, kx, ky, kz, -bx, -by, -bz)
    return state


@njit(nogil=True, parallel=True, cache=True)  # see mc.batches: serial loop, parallel passes
def point_contact_histories(seed, first, count, source_kind, hole_radius, wall_kind, domain_radius,
                            mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape,
                            positions, tables, table_start, moment_radii, hole_views,
                            analog, next_event, multiple, n_scores):
    """Run histories first .. first+count-1; returns per-chunk score sums (n_chunks, n_scores).

    Score layout: [0] signed hole crossings (+1 to the right), then 4 per probe,
    3 per mesh cell, IMPURITY_SCORES per impurity (see ScoreLayout).  ``hole_views`` holds per
    impurity (rho0, azimuth from its foot point to the hole centre, phi_max) for _incoming_direction."""
    n_chunks = (count + CHUNK - 1) // CHUNK
    acc = np.zeros((n_chunks, n_scores))
    impurity_offset = 1 + 4 * probe_centres.shape[0] + 3 * mesh_shape[0] * mesh_shape[1]
    n_impurities = positions.shape[0]
    for chunk in range(n_chunks):
        row = acc[chunk]
        times = np.empty(2 * mesh_shape[0] + mesh_shape[1] + 4)
        stop = min(count, (chunk + 1) * CHUNK)
        for h in range(chunk * CHUNK, stop):
            state = history_stream(seed, first + h)
            # one call site of the (inlined) follower keeps the compiled kernel small
            for particle in range(2 if source_kind == APERTURE_SOURCE else 1):
                if source_kind == APERTURE_SOURCE:
                    weight = 1.0 - 2.0 * particle  # +1 to the right, then -1 to the left
                    x, y, z, ux, uy, uz, state = aperture_emission(hole_radius, weight, state)
                else:
                    weight = 1.0
                    x, y, z, ux, uy, uz, state = reservoir_emission(domain_radius, state)
                state = _follow(row, x, y, z, ux, uy, uz, weight, state, hole_radius, wall_kind, domain_radius,
                                mean_free_path, background_table, probe_centres, probe_radii, mesh_bounds, mesh_shape, times,
                                positions, tables, table_start, moment_radii, analog, multiple, impurity_offset)
            if next_event:
                for i in range(n_impurities):
                    state = _next_event(row, impurity_offset + IMPURITY_SCORES * i + NEXT_EVENT, positions[i, 2],
                                        hole_views[i, 0], hole_views[i, 1], hole_views[i, 2], hole_radius,
                                        tables[table_start[i]:table_start[i + 1]], state)
    return acc
