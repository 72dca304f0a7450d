"""The point-contact transport kernel.

Each history emits electrons from the source and follows them along straight
flights (the ballistic regime of Sorbello Sec. III C): to the plane z = 0,
through the hole or off the wall, until they leave the simulated ball.  Every
flight segment is scored by the track-length tallies.  Weights are +-1 per
particle; the caller multiplies by (source strength / histories).

The aperture source emits two particles per history: a +1 electron to the
right (the left reservoir seen through the hole) and a -1 "missing electron"
to the left (the directions at the hole that come from the right reservoir
carry no excess; the +1 baseline on the left is added analytically).  The
reservoir source emits one +1 electron from the far left hemisphere.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from geometry.aperture import distance_to_plane, distance_to_sphere_exit, reflect_from_wall
from mc.batches import CHUNK
from mc.sources import APERTURE_SOURCE, aperture_emission, reservoir_emission
from mc.streams import history_stream
from observables.tallies import score_mesh, score_probes

MAX_EVENTS = 100_000
"""Safety cap on surface events per particle (a ballistic particle has at most two)."""


@njit(cache=True, inline="always")
def _follow(acc, x, y, z, ux, uy, uz, weight, state, hole_radius, wall_kind, domain_radius,
            probe_centres, probe_radii, probe_offset, mesh_bounds, mesh_shape, mesh_offset, times):
    """Follow one particle to its death, scoring every segment; returns the stream state."""
    hole_radius2 = hole_radius * hole_radius
    use_mesh = mesh_shape[0] > 0
    for _ in range(MAX_EVENTS):
        t_plane = distance_to_plane(z, uz)
        t_exit = distance_to_sphere_exit(x, y, z, ux, uy, uz, domain_radius)
        length = min(t_plane, t_exit)
        score_probes(acc, probe_offset, x, y, z, ux, uy, uz, length, weight, probe_centres, probe_radii)
        if use_mesh:
            score_mesh(acc, mesh_offset, x, y, z, ux, uy, uz, length, weight, mesh_bounds, mesh_shape, times)
        if t_exit <= t_plane:
            return state
        x += length * ux
        y += length * uy
        z = 0.0
        if x * x + y * y < hole_radius2:
            acc[0] += weight if uz > 0.0 else -weight
        else:
            ux, uy, uz, state = reflect_from_wall(ux, uy, uz, wall_kind, state)
    return state


@njit(parallel=True, cache=True)
def point_contact_histories(seed, first, count, source_kind, hole_radius, wall_kind, domain_radius,
                            probe_centres, probe_radii, mesh_bounds, mesh_shape, n_scores):
    """Run histories first .. first+count-1; returns per-chunk score sums (n_chunks, n_scores).

    Score layout: [0] signed hole crossings (+1 to the right), then 4 per probe,
    then 3 per mesh cell (see observables.tallies.ScoreLayout)."""
    n_chunks = (count + CHUNK - 1) // CHUNK
    acc = np.zeros((n_chunks, n_scores))
    probe_offset = 1
    mesh_offset = 1 + 4 * probe_centres.shape[0]
    for chunk in prange(n_chunks):
        row = acc[chunk]
        times = np.empty(2 * mesh_shape[0] + mesh_shape[1] + 4)
        stop = min(count, (chunk + 1) * CHUNK)
        for h in range(chunk * CHUNK, stop):
            state = history_stream(seed, first + h)
            if source_kind == APERTURE_SOURCE:
                for side in (1.0, -1.0):
                    x, y, z, ux, uy, uz, state = aperture_emission(hole_radius, side, state)
                    state = _follow(row, x, y, z, ux, uy, uz, side, state, hole_radius, wall_kind, domain_radius,
                                    probe_centres, probe_radii, probe_offset, mesh_bounds, mesh_shape, mesh_offset, times)
            else:
                x, y, z, ux, uy, uz, state = reservoir_emission(domain_radius, state)
                state = _follow(row, x, y, z, ux, uy, uz, 1.0, state, hole_radius, wall_kind, domain_radius,
                                probe_centres, probe_radii, probe_offset, mesh_bounds, mesh_shape, mesh_offset, times)
    return acc
